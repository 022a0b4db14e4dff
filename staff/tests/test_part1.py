"""Part 1 (Fashion-MNIST CNN): the notebook, its jupytext backup script and the fake data.

The notebook and the script run in smoke mode (HW4_SMOKE=1: a few hundred images, two
epochs) on synthetic idx files written into tmp_path, so no real data set is needed.
"""

import json

import pytest
from kit import ROOT, run_script

torch = pytest.importorskip("torch")
nbformat = pytest.importorskip("nbformat")
jupytext = pytest.importorskip("jupytext")
torchvision = pytest.importorskip("torchvision")

from staff.reference.fake_fashion_mnist import write_fake_fashion_mnist  # noqa: E402
from staff.reference.notebook_code import run_tagged_cells  # noqa: E402

NOTEBOOK = ROOT / "part1.ipynb"
SCRIPT = ROOT / "python_backup" / "part1.py"
PLOTS = ("samples.png", "curves.png", "confusion.png", "misclassified.png")
# FashionCNN(widths=(32, 64, 128)): convs (no bias) + BatchNorm (2 per channel) + linear.
EXPECTED_PARAMS = (
    (1 * 9 * 32 + 2 * 32)
    + (32 * 9 * 64 + 2 * 64) + (64 * 9 * 64 + 2 * 64)
    + (64 * 9 * 128 + 2 * 128) + (128 * 9 * 128 + 2 * 128)
    + (128 * 3 * 3 * 10 + 10)
)

pytestmark = pytest.mark.torch


@pytest.fixture(scope="module")
def fashion_cnn():
    """The FashionCNN class, defined by executing the notebook's model cell."""
    namespace = run_tagged_cells(NOTEBOOK, ["model"], {"nn": torch.nn, "torch": torch})
    return namespace["FashionCNN"]


@pytest.fixture
def fake_root(tmp_path):
    """A torchvision root holding a small synthetic Fashion-MNIST (2,000 train, 500 test)."""
    root = tmp_path / "data"
    write_fake_fashion_mnist(root, num_train=2000, num_test=500, seed=0)
    return root


def smoke_env(data_root, results_dir):
    """Environment of a smoke run (the notebook's parameters cell reads these variables)."""
    return {"HW4_SMOKE": "1", "HW4_DATA": str(data_root), "HW4_DOWNLOAD": "0",
            "HW4_PART1_RESULTS_DIR": str(results_dir)}


def check_results(results_dir):
    for name in PLOTS:
        path = results_dir / name
        assert path.is_file() and path.stat().st_size > 1000, f"missing plot {path}"
    summary = json.loads((results_dir / "summary.json").read_text())
    assert summary["smoke"] is True
    assert summary["num_parameters"] == EXPECTED_PARAMS
    assert summary["architecture"][0] == ["Conv2d-1", [-1, 32, 28, 28], 288]
    assert summary["architecture"][-1] == ["Linear-21", [-1, 10], 11530]
    assert len(summary["val_accuracy"]) == summary["hyperparameters"]["epochs"] == 2
    assert summary["train_seconds"] > 0
    # Chance is 10%; the fake classes are easy, so two short epochs get far above it.
    assert summary["test_accuracy"] > 0.5, summary["test_accuracy"]


def test_fake_data_loads_with_torchvision_offline(tmp_path):
    raw = write_fake_fashion_mnist(tmp_path, num_train=30, num_test=20, seed=3)
    train = torchvision.datasets.FashionMNIST(tmp_path, train=True, download=False)
    test = torchvision.datasets.FashionMNIST(tmp_path, train=False, download=False)
    assert train.data.shape == (30, 28, 28) and train.data.dtype == torch.uint8
    assert test.data.shape == (20, 28, 28)
    assert sorted(train.targets.unique().tolist()) == list(range(10))
    first = {p.name: p.read_bytes() for p in raw.iterdir()}
    write_fake_fashion_mnist(tmp_path, num_train=30, num_test=20, seed=3)
    assert first == {p.name: p.read_bytes() for p in raw.iterdir()}, "same seed, other bytes"


def test_fake_data_rejects_too_few_images(tmp_path):
    with pytest.raises(ValueError, match="num_train"):
        write_fake_fashion_mnist(tmp_path, num_train=5, num_test=20)


def test_model_forward_shape_and_parameter_count(fashion_cnn):
    torch.manual_seed(0)
    model = fashion_cnn()
    assert sum(p.numel() for p in model.parameters()) == EXPECTED_PARAMS
    x = torch.randn(5, 1, 28, 28)
    assert model(x).shape == (5, 10)
    model = model.to(memory_format=torch.channels_last).eval()
    with torch.inference_mode():
        out = model(x.contiguous(memory_format=torch.channels_last))
    assert out.shape == (5, 10) and torch.isfinite(out).all()
    assert fashion_cnn(widths=(8, 16, 24), num_classes=3)(x).shape == (5, 3)


def test_solution_markers_are_balanced_per_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    regions = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        begins = cell.source.count("# BEGIN SOLUTION")
        assert begins == cell.source.count("# END SOLUTION"), cell.source[:80]
        regions += begins
    assert regions >= 4  # hyperparameters, model (2), optimizer, training step


def test_backup_script_is_in_sync_with_notebook():
    notebook = jupytext.read(NOTEBOOK)
    expected = jupytext.writes(notebook, fmt="py:percent")
    assert SCRIPT.read_text() == expected, (
        "python_backup/part1.py differs from part1.ipynb; regenerate it with "
        "`jupytext --to py:percent -o python_backup/part1.py part1.ipynb`"
    )


def test_committed_notebook_has_outputs_of_a_full_run():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    text = "".join(
        out.get("text", "") for c in nb.cells if c.cell_type == "code" for out in c.outputs
    )
    assert "smoke=False" in text, "the committed notebook must carry a real (non-smoke) run"
    assert "TEST ACCURACY: " in text
    assert not any(out.output_type == "error" for c in nb.cells if c.cell_type == "code"
                   for out in c.outputs)


def test_missing_data_gives_one_clear_message(tmp_path):
    env = smoke_env(tmp_path / "nothing-here", tmp_path / "results")
    result = run_script(SCRIPT, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode != 0
    assert "Fashion-MNIST not found" in result.stderr
    assert str((tmp_path / "nothing-here" / "FashionMNIST" / "raw").resolve()) in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_backup_script_smoke_run(tmp_path, fake_root):
    results = tmp_path / "results"
    result = run_script(SCRIPT, env=smoke_env(fake_root, results), cwd=tmp_path, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "TEST ACCURACY:" in result.stdout
    check_results(results)


@pytest.mark.slow
def test_notebook_smoke_run(tmp_path, fake_root, monkeypatch):
    from nbclient import NotebookClient

    for key, value in smoke_env(fake_root, tmp_path / "results").items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel uses its inline backend
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=240, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    check_results(tmp_path / "results")
    printed = "".join(out.get("text", "") for c in nb.cells if c.cell_type == "code"
                      for out in c.outputs)
    assert "smoke=True" in printed and "TEST ACCURACY:" in printed
    images = [out for c in nb.cells if c.cell_type == "code" for out in c.outputs
              if "image/png" in out.get("data", {})]
    assert len(images) == len(PLOTS), "each plot is shown inline once"
