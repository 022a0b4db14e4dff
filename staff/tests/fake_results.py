"""Small fake `make homework` outputs (the results/ contract) for the report/runner tests."""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

F4_SOURCE = '''"""Fake staff/f4_graph.py for the report tests."""
F4_GRAPH = [
    ("a", "mul", ["x", "w"]),
    ("s", "add", ["a", "b"]),
    ("e", "exp", ["s"]),
    ("q", "square", ["s"]),
    ("L", "add", ["e", "q"]),
]
'''

# Distinctive numbers, so the tests can check the report shows the run's own values.
BEST_TEST_ACCURACY = 0.4817
PART1_TEST_ACCURACY = 0.9123
OVERFIT_TRAIN_ACCURACY = 0.9731


def _plot(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot(np.cumsum(rng.standard_normal(20)))
    fig.savefig(path)
    plt.close(fig)


def _summary(config: str, final_train: float, final_val: float) -> dict:
    return {
        "config": config,
        "hyperparameters": {"num_train": 1000, "hidden_dim": 64, "batch_size": 32,
                            "num_epochs": 3, "learning_rate": 0.05, "reg": 0.001},
        "train_accuracy": [0.2, 0.3, final_train], "val_accuracy": [0.2, 0.25, final_val],
        "loss_history": [2.3, 2.0, 1.8], "train_seconds": 1.5,
        "final_train_accuracy": final_train, "final_val_accuracy": final_val,
    }


def write_fake_results(results: Path) -> Path:
    """Write every file staff/report.py reads under `results`; returns `results`."""
    for sub in ("best", "overfit", "part1", "part2"):
        (results / sub).mkdir(parents=True, exist_ok=True)
    (results / "best/summary.json").write_text(json.dumps(_summary("best", 0.55, 0.47)))
    (results / "best/test.json").write_text(json.dumps(
        {"test_accuracy": BEST_TEST_ACCURACY, "num_test": 10000, "checkpoint": "x.npz"}))
    (results / "overfit/summary.json").write_text(
        json.dumps(_summary("overfit", OVERFIT_TRAIN_ACCURACY, 0.21)))
    (results / "part1/summary.json").write_text(json.dumps({
        "hyperparameters": {"batch_size": 64, "epochs": 2, "learning_rate": 0.001,
                            "optimizer": "Adam"},
        "architecture": [["Conv2d-1", [-1, 16, 28, 28], 160], ["ReLU-2", [-1, 16, 28, 28], 0],
                         ["Linear-3", [-1, 10], 125450]],
        "num_parameters": 125610, "test_accuracy": PART1_TEST_ACCURACY, "train_seconds": 9.0,
        "val_accuracy": [0.8, 0.9],
    }))
    (results / "part2/predictions.json").write_text(json.dumps({
        "model": "efficientnet-lite0", "preprocessing": "resize 224, normalize",
        "images": [
            {"name": "img1", "source": "img1.jpg",
             "top5": [["tabby cat", 0.8], ["tiger cat", 0.1]]},
            {"name": "img2", "source": "img2.jpg", "top5": [["golden retriever", 0.7]]},
        ],
    }))
    for seed, rel in enumerate(("best/plot.png", "overfit/plot.png", "part1/curves.png",
                                "part2/img1.png", "part2/img2.png")):
        _plot(results / rel, seed)
    return results


def write_fake_code(root: Path) -> Path:
    """A fake repository root with the code files the report appends."""
    (root / "backprop").mkdir(parents=True, exist_ok=True)
    (root / "neuralnet").mkdir(parents=True, exist_ok=True)
    (root / "staff").mkdir(parents=True, exist_ok=True)
    (root / "staff/f4_graph.py").write_text(F4_SOURCE)
    (root / "backprop/functions.py").write_text('"""Fake functions.py."""\n')
    for rel in ("neuralnet/layers.py", "neuralnet/two_layer_net.py", "neuralnet/train.py"):
        long_line = "x = '" + "y" * 150 + "'  # a long line that must wrap, and $math$ text"
        (root / rel).write_text(f'"""{rel}"""\n' + "\n".join([long_line] * 100) + "\n")
    for name in ("part1.ipynb", "part2.ipynb"):
        nb = {"cells": [{"cell_type": "markdown", "source": ["# title"]},
                        {"cell_type": "code", "source": ["import torch\n", f"print('{name}')"]}],
              "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        (root / name).write_text(json.dumps(nb))
    return root
