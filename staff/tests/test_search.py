"""neuralnet/search.py: random draws, the trial loop and the sorted CSV table."""

import csv
import shutil

import data
import numpy as np
import pytest
import search
import train
from fake_cifar10 import write_fake_cifar10
from kit import NEURALNET_DIR, run_script

from staff.tests.corpus import original_solution


def test_draws_stay_in_the_space():
    rng = np.random.default_rng(0)
    draws = [search.sample_hyperparameters(rng) for _ in range(50)]
    for hp in draws:
        assert search.SPACE["learning_rate"][0] <= hp["learning_rate"] <= \
            search.SPACE["learning_rate"][1]
        assert hp["hidden_dim"] in search.SPACE["hidden_dim"]
    assert len({hp["learning_rate"] for hp in draws}) == 50
    assert search.sample_hyperparameters(np.random.default_rng(0)) == draws[0]


def test_search_writes_table_sorted_by_val_accuracy(tmp_path, monkeypatch, capsys):
    write_fake_cifar10(tmp_path, num_train_per_batch=80, num_test=20)
    monkeypatch.setattr(search, "SPACE", {
        "learning_rate": (1e-3, 10.0), "reg": (1e-5, 1e-3), "hidden_dim": [16, 32],
        "batch_size": [50, 100], "num_epochs": [1, 2]})
    csv_file = tmp_path / "out" / "search.csv"
    search.main(["--trials", "4", "--num-train", "300", "--num-val", "100",
                 "--data-dir", str(tmp_path), "--csv-file", str(csv_file)])
    with open(csv_file) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and list(rows[0]) == search.COLUMNS
    accs = [float(r["val_accuracy"]) for r in rows]
    assert accs == sorted(accs, reverse=True)
    assert {r["status"] for r in rows} <= {"ok", "diverged"}
    assert "best val acc" in capsys.readouterr().out


def test_search_reports_missing_data(tmp_path, monkeypatch):
    monkeypatch.delenv("HW4_DATA", raising=False)
    monkeypatch.setattr(data, "HERE", tmp_path)  # no data next to the scripts either
    with pytest.raises(SystemExit, match="not found"):
        search.main(["--data-dir", str(tmp_path / "nowhere"), "--trials", "1"])


@pytest.fixture
def tiny_data(tmp_path):
    write_fake_cifar10(tmp_path, num_train_per_batch=40, num_test=10)
    return ["--trials", "1", "--num-train", "100", "--num-val", "50", "--data-dir",
            str(tmp_path), "--csv-file", str(tmp_path / "s.csv")]


def test_search_runs_before_config_settings_is_written(tiny_data, monkeypatch, capsys):
    """No --config and a config_settings("best") still to write: the defaults, said so
    (the search is how a student finds the best settings)."""
    seen = []

    def stub(name):
        if name != "default":
            raise NotImplementedError("config_settings: not implemented yet")
        return {}

    monkeypatch.setattr(search, "config_settings", stub)
    monkeypatch.setattr(train, "config_settings", stub)
    monkeypatch.setattr(search, "run_trial",
                        lambda data, base, sampled, seed: seen.append(base) or dict(
                            sampled, val_accuracy=0.5, train_accuracy=0.5,
                            train_seconds=0.1, status="ok"))
    search.main(tiny_data)
    assert "config_settings('best') in train.py is not written yet" in capsys.readouterr().out
    assert seen[0]["momentum"] == search.EXTRA_DEFAULTS["momentum"]
    with pytest.raises(SystemExit, match="--config best: config_settings"):
        search.main([*tiny_data, "--config", "best"])  # asked for: refused with the fix


def test_search_names_a_stub_without_a_traceback(tiny_data, monkeypatch):
    def fit(*args, **kwargs):
        raise NotImplementedError("TwoLayerNet.__init__: not implemented yet (write this part)")

    monkeypatch.setattr(search, "fit", fit)
    with pytest.raises(SystemExit, match=r"^error: TwoLayerNet.__init__: not implemented yet "
                                         r".* make check-code"):
        search.main([*tiny_data, "--config", "default"])


def test_search_says_what_it_needs_from_an_original_train_py(tmp_path):
    """A train.py written for the original starter has no fit or config_settings."""
    for path in NEURALNET_DIR.glob("*.py"):
        shutil.copy(path, tmp_path)
    (tmp_path / "train.py").write_text(original_solution("dict_W1")["train.py"])
    run = run_script(tmp_path / "search.py", "--trials", "1", cwd=tmp_path, timeout=60)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert "search.py runs the kit's training loop from train.py (cannot import name" \
           in run.stderr and "keeps its settings in main()" in run.stderr
