"""A starter kit filled as a student fills it, for the write-up's test and benchmark: the
reference solution and its executed notebooks (the kit laid out with the solutions kept),
the runs of train.py --config best / overfit and test.py on a small generated CIFAR-10,
a name and an answer in writeup.md, and a drawing of f4's graph."""

import os
import subprocess
import sys

import matplotlib

from staff.grading.student_view import student_module
from staff.starter.build import ROOT, build

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

NAME = "Ada Lovelace"
ANSWER_42 = "I tried three learning rates and kept the one with the best validation accuracy."
TINY_RUN = ("--num-train", "300", "--num-val", "100", "--num-epochs", "2", "--no-progress")


def kit_env():
    """The kit's own modules first: nothing of this repository on PYTHONPATH."""
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("PYTHONPATH", None)
    return env


def run_in(folder, *args, timeout=300):
    """python ARGS in `folder` (the CompletedProcess, text output)."""
    return subprocess.run([sys.executable, *map(str, args)], cwd=folder, env=kit_env(),
                          capture_output=True, text=True, timeout=timeout)


def make_runs(kit, data):
    """train.py --config best and overfit (from the kit folder), then test.py (from
    neuralnet/), on the CIFAR-10 folder `data`; raises RuntimeError if one fails."""
    steps = [(kit, ("neuralnet/train.py", "--config", config, *TINY_RUN, "--data-dir", data))
             for config in ("best", "overfit")]
    steps.append((kit / "neuralnet", ("test.py", "--data-dir", data)))
    for folder, args in steps:
        run = run_in(folder, *args)
        if run.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, args))} failed: {run.stderr[-2000:]}")


def fill_answers(kit):
    """writeup.md with a name, an answer under 4.2, and backprop/f4_graph.png."""
    text = (kit / "writeup.md").read_text()
    text = text.replace("Name:\n", f"Name: {NAME}\n").replace("Uniqname:\n", "Uniqname: ada\n")
    text = text.replace("## 4.2 The best two-layer net\n", "## 4.2 The best two-layer net\n"
                        f"{ANSWER_42}\n\n- a list item\n")
    (kit / "writeup.md").write_text(text)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [1, 0])
    fig.savefig(kit / "backprop/f4_graph.png")
    plt.close(fig)


def filled_kit(kit, data):
    """Build the kit into `kit` (a new folder) and fill it; generated CIFAR-10 goes to
    `data`. Returns `kit`."""
    build(ROOT, kit, strip=False)
    student_module("fake_cifar10").write_fake_cifar10(data, num_train_per_batch=100,
                                                      num_test=100)
    make_runs(kit, data)
    fill_answers(kit)
    return kit


def make_writeup(kit, *args, timeout=300):
    """`make writeup` in the kit, with this interpreter."""
    return subprocess.run(["make", "writeup", f"PYTHON={sys.executable}", *args], cwd=kit,
                          env=kit_env(), capture_output=True, text=True, timeout=timeout)
