"""neuralnet/optim.py, utils.py, train.py and test.py on generated CIFAR-10 data;
training_step against neuralnet-data.pkl.

From train.py these tests need only training_step, the one function the homework defines
there; config_settings is checked when train.py has it (the kit's). The script itself runs
only when it takes the kit's flags (SCRIPT_FLAGS): a train.py written for the original
starter keeps its own flags and settings in main(), and is not run here.
"""

import json

import numpy as np
import pytest
from checks import load_data
from fake_cifar10 import write_fake_cifar10
from gradient_check import compare, dtype_name, gradient_problem
from kit import NEURALNET_DIR, ROOT, model_with_weights, run_script
from net_contract import BIASES, PARAM_NAMES, WEIGHTS, as_shape
from optim import SGD, one_cycle_lr
from two_layer_net import TwoLayerNet
from utils import check_accuracy

TRAIN = NEURALNET_DIR / "train.py"
TEST = NEURALNET_DIR / "test.py"
TINY = ["--num-train", 400, "--num-val", 100, "--num-epochs", 4, "--no-progress"]
SCRIPT_FLAGS = ("--data-dir", "--no-progress", "--smoke")  # written out in the kit's train.py
STEP = load_data()["training_step"][0]


@pytest.fixture(scope="module")
def train_module():
    """train.py as a module; the test fails saying why when it cannot be imported."""
    try:
        import train
    except Exception as err:  # a missing package, a SyntaxError, ...: the test says which
        pytest.fail(f"cannot import train.py: {type(err).__name__}: {err}", pytrace=False)
    return train


@pytest.fixture(scope="module")
def training_step(train_module):
    """train.training_step, the function the homework asks for."""
    return train_module.training_step


def step_model():
    """Your TwoLayerNet with the weights of the training_step case (nonzero biases)."""
    return model_with_weights(TwoLayerNet, STEP, PARAM_NAMES)


def step_kind(model):
    kinds = {dtype_name(p) for p in model.parameters().values()}
    return "float32" if "float32" in kinds else "float64"


def test_training_step_values(training_step):
    model, mapping = step_model()
    inputs = STEP["inputs"]
    loss, grads = training_step(model, inputs["X"].copy(), inputs["y"].copy(), inputs["reg"])
    problem = compare("loss (softmax loss + reg / 2 * sum(W**2) over W1 and W2)",
                      STEP["outputs"]["loss"], loss, kind=step_kind(model))
    assert problem is None, problem
    assert set(grads) == set(model.parameters())
    for name, key in mapping.items():
        problem = compare(f"gradient of {name} ({key})", STEP["outputs"][name],
                          as_shape(grads[key], STEP["inputs"][name].shape), kind=step_kind(model))
        assert problem is None, problem


def test_training_step_gradients_match_numeric(training_step):
    model, mapping = step_model()
    X, y, reg = STEP["inputs"]["X"].copy(), STEP["inputs"]["y"].copy(), STEP["inputs"]["reg"]
    _, grads = training_step(model, X, y, reg)
    for name, key in mapping.items():
        param = model.parameters()[key]
        _, problem = gradient_problem(name, np.reshape(grads[key], param.shape),
                                      lambda: training_step(model, X, y, reg)[0], param,
                                      kind=step_kind(model))
        assert problem is None, problem


def test_biases_are_not_regularized(training_step):
    model, mapping = step_model()
    X, y = STEP["inputs"]["X"].copy(), STEP["inputs"]["y"].copy()
    _, without = training_step(model, X, y, 0.0)
    _, with_reg = training_step(model, X, y, 2.0)
    for name in BIASES:
        key = mapping[name]
        np.testing.assert_allclose(with_reg[key], without[key], rtol=1e-5, atol=1e-7,
                                   err_msg=f"reg changed the gradient of {name}")
    for name in WEIGHTS:
        assert not np.allclose(with_reg[mapping[name]], without[mapping[name]]), \
            f"reg did not change the gradient of {name}"


def test_sgd_step_is_plain_gradient_descent():
    params = {"w": np.array([[1.0, -2.0], [0.5, 3.0]]), "b": np.array([0.25, -0.5])}
    grads = {"w": np.array([[0.5, 1.0], [-2.0, 0.0]]), "b": np.array([1.0, -1.0])}
    w = params["w"]
    SGD(params, learning_rate=0.1).step(grads)
    np.testing.assert_allclose(params["w"], [[0.95, -2.1], [0.7, 3.0]])
    np.testing.assert_allclose(params["b"], [0.15, -0.4])
    assert params["w"] is w  # updated in place: the model sees it
    with pytest.raises(ValueError, match="keys"):
        SGD(params, 0.1).step({"w": grads["w"]})
    with pytest.raises(ValueError, match="learning_rate"):
        SGD(params, 0.0)


def test_one_cycle_schedule_shape():
    lrs = [one_cycle_lr(s, 100, 0.5) for s in range(100)]
    assert lrs[0] == pytest.approx(0.5 / 25)
    assert max(lrs) == pytest.approx(0.5) and int(np.argmax(lrs)) == 20
    assert lrs[-1] < 0.01 and all(a >= b for a, b in zip(lrs[20:], lrs[21:], strict=False))


def test_check_accuracy_counts_over_all_batches():
    class Fixed:
        def predict(self, X):
            return X[:, 0].astype(int)

    batches = [(np.array([[1], [2]]), np.array([1, 0])), (np.array([[3]]), np.array([3]))]
    assert check_accuracy(Fixed(), batches) == pytest.approx(2 / 3)


@pytest.fixture(scope="module")
def fake_data(tmp_path_factory):
    """Generated CIFAR-10 files for the script tests, which need train.py to take the kit's
    flags (a train.py written for the original starter has its own: it is skipped)."""
    source = TRAIN.read_text(errors="replace")
    missing = [flag for flag in SCRIPT_FLAGS if flag not in source]
    if missing:
        pytest.skip(f"train.py does not take the kit's flags {', '.join(missing)}: its "
                    "script is not run (training_step is tested above)")
    dest = tmp_path_factory.mktemp("cifar")
    write_fake_cifar10(dest, num_train_per_batch=100, num_test=100, seed=0)
    return dest


@pytest.fixture(scope="module")
def trained(fake_data, tmp_path_factory):
    """One short training run from the repository root: the homework's plain SGD, 4 epochs."""
    out = tmp_path_factory.mktemp("run")
    result = run_script(TRAIN, "--data-dir", fake_data, "--hidden-dim", 16,
                        "--learning-rate", 0.15, "--reg", 0.001, *TINY,
                        "--checkpoint-file", out / "ckpt.npz", "--plot-file", out / "plot.png",
                        env={"HW4_DATA": ""})
    assert result.returncode == 0, result.stderr
    return out, result


def test_training_lowers_loss_and_writes_outputs(trained):
    out, result = trained
    summary = json.loads((out / "ckpt.json").read_text())
    for key in ("config", "hyperparameters", "train_accuracy", "val_accuracy", "loss_history",
                "train_seconds", "final_train_accuracy", "final_val_accuracy"):
        assert key in summary
    assert summary["hyperparameters"]["hidden_dim"] == 16
    loss = summary["loss_history"]
    assert len(loss) == 4 * 4 and np.mean(loss[-4:]) < 0.7 * loss[0]
    assert len(summary["val_accuracy"]) == 4 and summary["final_val_accuracy"] > 0.3
    assert (out / "plot.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "ckpt.npz").is_file() and (out / "ckpt.preprocessing.npz").is_file()
    assert "train acc" in result.stdout and "val acc" in result.stdout


def test_test_script_evaluates_checkpoint(trained, fake_data):
    out, _ = trained
    result = run_script(TEST, "--checkpoint-file", out / "ckpt.npz", "--data-dir", fake_data,
                        "--json-file", out / "test.json")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "test.json").read_text())
    assert report["num_test"] == 100 and report["test_accuracy"] > 0.3
    assert report["checkpoint"] == str(out / "ckpt.npz")
    assert f"{report['test_accuracy']:.4f}" in result.stdout


def test_refuses_to_overwrite_checkpoint(trained, fake_data):
    out, _ = trained
    before = (out / "ckpt.npz").read_bytes()
    result = run_script(TRAIN, "--data-dir", fake_data, *TINY,
                        "--checkpoint-file", out / "ckpt.npz")
    assert result.returncode != 0 and "--overwrite" in result.stderr
    assert (out / "ckpt.npz").read_bytes() == before


def test_nan_loss_stops_with_learning_rate_and_step(fake_data, tmp_path):
    result = run_script(TRAIN, "--data-dir", fake_data, *TINY, "--learning-rate", 1e200,
                        "--hidden-dim", 32, "--checkpoint-file", tmp_path / "c.npz",
                        "--plot-file", tmp_path / "p.pdf")
    assert result.returncode != 0
    assert "learning rate 1e+200" in result.stderr and "at step" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "c.npz").exists()


def test_runs_from_its_own_folder_with_smoke_and_pdf(fake_data, tmp_path):
    result = run_script("train.py", "--smoke", "--no-progress",
                        "--data-dir", fake_data, "--checkpoint-file", tmp_path / "c.npz",
                        "--plot-file", tmp_path / "p.pdf", "--summary-file", tmp_path / "s.json",
                        cwd=NEURALNET_DIR)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "p.pdf").read_bytes()[:5] == b"%PDF-"
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["config"] == "default" and summary["hyperparameters"]["num_train"] == 400


@pytest.mark.parametrize("name", ["best", "overfit"])
def test_tuned_configs_set_known_hyperparameters(train_module, name):
    config_settings = getattr(train_module, "config_settings", None)
    if config_settings is None:  # the original starter keeps its settings in main()
        pytest.skip("train.py has no config_settings(): the hyperparameters in main() are "
                    "the settings")
    settings = config_settings(name)
    known = {"num_train", "hidden_dim", "batch_size", "num_epochs", "learning_rate", "reg",
             *getattr(train_module, "EXTRA_DEFAULTS", {})}
    assert settings and set(settings) <= known
    assert settings.get("learning_rate", 1e-4) > 0 and settings.get("reg", 1.0) >= 0


def test_test_script_errors_are_clear(trained, fake_data, tmp_path):
    out, _ = trained
    missing = run_script(TEST, "--checkpoint-file", tmp_path / "nope.npz", cwd=ROOT)
    assert missing.returncode != 0 and "nope.npz not found" in missing.stderr
    garbage = tmp_path / "bad.npz"
    garbage.write_bytes(b"not an npz")
    bad = run_script(TEST, "--checkpoint-file", garbage)
    assert bad.returncode != 0 and "bad.npz" in bad.stderr and "Traceback" not in bad.stderr
    # a checkpoint without its preprocessing statistics (the original starter's train.py):
    # they are computed again from the run's first --num-train training images
    (tmp_path / "lonely.npz").write_bytes((out / "ckpt.npz").read_bytes())
    lonely = run_script(TEST, "--checkpoint-file", tmp_path / "lonely.npz",
                        "--data-dir", fake_data)  # the default 49000 > the 500 images here
    assert lonely.returncode != 0 and "--num-train N" in lonely.stderr
    assert "lonely.preprocessing.npz not found" in lonely.stdout
    lonely = run_script(TEST, "--checkpoint-file", tmp_path / "lonely.npz",
                        "--data-dir", fake_data, "--num-train", TINY[1])
    assert lonely.returncode == 0, lonely.stderr
    report = json.loads((tmp_path / "test.json").read_text())
    assert report["statistics"] == f"recomputed from the first {TINY[1]} training images"
    saved = run_script(TEST, "--checkpoint-file", out / "ckpt.npz", "--data-dir", fake_data,
                       "--json-file", tmp_path / "saved.json")
    assert saved.returncode == 0, saved.stderr
    same = json.loads((tmp_path / "saved.json").read_text())["test_accuracy"]
    assert report["test_accuracy"] == same  # the same statistics as those train.py saved
    # a model of the wrong size for CIFAR-10
    TwoLayerNet(input_dim=12, num_classes=10, hidden_dim=4).save(tmp_path / "small.npz")
    np.savez(tmp_path / "small.preprocessing.npz", mean=np.zeros(3072, np.float32), std=1.0)
    small = run_script(TEST, "--checkpoint-file", tmp_path / "small.npz",
                       "--data-dir", fake_data)
    assert small.returncode != 0 and "small.preprocessing.npz" in small.stderr
