"""neuralnet/search.py: random draws, the trial loop and the sorted CSV table."""

import csv

import data
import numpy as np
import pytest
import search
from fake_cifar10 import write_fake_cifar10


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
