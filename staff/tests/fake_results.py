"""Small fake `make homework` run outputs (the results/ contract) for the report tests:
what train.py --config best / overfit and test.py write."""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# Distinctive numbers, so the tests can check the report shows the run's own values.
BEST_TEST_ACCURACY = 0.4817
BEST_VAL_ACCURACY = 0.4723
OVERFIT_TRAIN_ACCURACY = 0.9731


def _plot(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot(np.cumsum(rng.standard_normal(20)))
    fig.savefig(path)
    plt.close(fig)


def _summary(config: str, final_train: float, final_val: float) -> dict:
    return {
        "config": config, "smoke": False,
        "hyperparameters": {"num_train": 1000, "hidden_dim": 64, "batch_size": 32,
                            "num_epochs": 3, "learning_rate": 0.05, "reg": 0.001},
        "train_accuracy": [0.2, 0.3, final_train], "val_accuracy": [0.2, 0.25, final_val],
        "loss_history": [2.3, 2.0, 1.8], "train_seconds": 1.5,
        "final_train_accuracy": final_train, "final_val_accuracy": final_val,
    }


def write_fake_results(results: Path) -> Path:
    """Write the run outputs staff/reference/report.py reads under `results`; returns `results`."""
    for sub in ("best", "overfit"):
        (results / sub).mkdir(parents=True, exist_ok=True)
    (results / "best/summary.json").write_text(
        json.dumps(_summary("best", 0.55, BEST_VAL_ACCURACY)))
    (results / "best/test.json").write_text(json.dumps(
        {"test_accuracy": BEST_TEST_ACCURACY, "num_test": 10000, "checkpoint": "x.npz"}))
    (results / "overfit/summary.json").write_text(
        json.dumps(_summary("overfit", OVERFIT_TRAIN_ACCURACY, 0.21)))
    for seed, rel in enumerate(("best/plot.png", "overfit/plot.png")):
        _plot(results / rel, seed)
    return results
