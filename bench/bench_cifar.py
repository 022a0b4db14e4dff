"""Benchmark of the CIFAR-10 two-layer network (Task 4) on real data.

    HW4_DATA=/work/data flock /tmp/hw4-cpu.lock .venv/bin/python bench/bench_cifar.py [--test]

1. One training step (forward + backward + Nesterov-momentum update, softmax + L2,
   batch 200, hidden 1024, float32), measured side by side on the same real batches:
   - "bare numpy": the same math written inline with plain numpy calls,
   - "ours": train.training_step through TwoLayerNet / layers.py + optim.SGDMomentum,
   - "pytorch": nn.Linear-ReLU-nn.Linear, CrossEntropyLoss, torch.optim.SGD(nesterov).
   Rounds alternate between the three; the median time per step is reported.
2. train.py --config best and --config overfit, run as a user runs them (results/best,
   results/overfit); from their summaries: accuracies, training time, time to 45%
   validation accuracy, and the epoch overhead = median epoch time / (steps per epoch x
   one step of the same model size).
3. With --test: test.py on the best checkpoint (do this once, for the final model).
Writes results/bench/bench_cifar.json and prints a table.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from staff.grading.student_view import student_module

ROOT = Path(__file__).resolve().parents[1]
load_cifar10 = student_module("data").load_cifar10
SGDMomentum = student_module("optim").SGDMomentum
config_settings = student_module("train").config_settings
training_step = student_module("train").training_step
TwoLayerNet = student_module("two_layer_net").TwoLayerNet

BATCH, HIDDEN, LR, MOMENTUM, REG = 200, 1024, 0.01, 0.9, 5e-4


def bare_numpy_step(params, velocity, X, y, lr=LR, reg=REG, mu=MOMENTUM):
    """fc-relu-fc, softmax + L2, Nesterov SGD, written inline (no layers, no checks)."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    n = len(X)
    h = X @ W1
    h += b1
    np.maximum(h, 0, out=h)
    s = h @ W2
    s += b2
    s -= s.max(axis=1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(axis=1, keepdims=True)
    loss = -np.log(s[np.arange(n), y]).mean() + reg / 2 * (np.vdot(W1, W1) + np.vdot(W2, W2))
    s[np.arange(n), y] -= 1
    s /= n
    grads = {"W2": h.T @ s, "b2": s.sum(axis=0)}
    dh = s @ W2.T
    dh *= h > 0
    grads["W1"] = X.T @ dh
    grads["b1"] = dh.sum(axis=0)
    grads["W1"] += reg * W1
    grads["W2"] += reg * W2
    for name, p in params.items():
        v = velocity[name]
        g = grads[name]
        v *= mu
        v += g
        g /= mu  # (g / mu + v) * mu * lr == lr * (g + mu * v): no temporaries
        g += v
        g *= mu * lr
        p -= g
    return loss


def make_torch_step(seed=0):
    """The PyTorch peer's step: returns a function (X, y) -> loss, on float32 tensors."""
    import torch

    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(3072, HIDDEN), torch.nn.ReLU(),
                                torch.nn.Linear(HIDDEN, 10))
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, nesterov=True,
                          weight_decay=REG)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(X, y):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
        return loss

    return step, torch


def time_steps(data, hidden=HIDDEN, batch=BATCH, rounds=5, steps=20, with_torch=True):
    """Median seconds per step of bare numpy, ours (and PyTorch), interleaved in rounds."""
    rng = np.random.default_rng(0)
    batches = []
    for _ in range(steps):
        idx = np.sort(rng.choice(len(data["X_train"]), batch, replace=False))
        batches.append((data["X_train"][idx], data["y_train"][idx]))

    def new_model():
        return TwoLayerNet(hidden_dim=hidden, weight_scale=0.02, dtype=np.float32, seed=0)

    ours = new_model()
    opt = SGDMomentum(ours.parameters(), LR, momentum=MOMENTUM)
    bare = new_model().parameters()  # a second model's arrays: nothing shared with ours
    velocity = {k: np.zeros_like(v) for k, v in bare.items()}

    def run_ours(i):
        loss, grads = training_step(ours, *batches[i], REG)
        opt.step(grads)

    # every contender takes the index of a batch (PyTorch's are converted beforehand)
    contenders = {"bare_numpy": lambda i: bare_numpy_step(bare, velocity, *batches[i]),
                  "ours": run_ours}
    if with_torch:
        torch_step, torch = make_torch_step()
        torch_batches = [(torch.from_numpy(X), torch.from_numpy(y)) for X, y in batches]
        contenders["pytorch"] = lambda i: torch_step(*torch_batches[i])
    times = {name: [] for name in contenders}
    for _ in range(rounds + 1):  # the first round warms up and is dropped
        for name, fn in contenders.items():
            t0 = time.perf_counter()
            for i in range(steps):
                fn(i)
            times[name].append((time.perf_counter() - t0) / steps)
    return {name: float(np.median(t[1:])) for name, t in times.items()}


def run_config(config, out_dir, extra=()):
    """train.py --config CONFIG into out_dir; returns its summary dict."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(ROOT / "neuralnet" / "train.py"), "--config", config,
           "--checkpoint-file", str(out_dir / "checkpoint.npz"),
           "--plot-file", str(out_dir / "plot.png"), "--overwrite", "--no-progress", *extra]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    return json.loads((out_dir / "checkpoint.json").read_text())


def time_to(summary, target):
    """Training seconds at the end of the first epoch whose val accuracy >= target."""
    for acc, seconds in zip(summary["val_accuracy"], summary["epoch_seconds"], strict=True):
        if acc >= target:
            return seconds
    return None


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", action="store_true",
                        help="also evaluate the best checkpoint on the test set (once!)")
    parser.add_argument("--skip-train", action="store_true", help="only the step timings")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch step")
    parser.add_argument("--results-dir", default=str(ROOT / "results"))
    return parser.parse_args()


def machine():
    return {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
            "numpy": np.__version__,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)")}


def step_timings(report, with_torch):
    """Seconds per step at batch 200 / hidden 1024 and, if different, at the best config's size."""
    data = load_cifar10(num_train=49000, num_val=1000, num_test=0)
    report["step_seconds_b200_h1024"] = time_steps(data, with_torch=with_torch)
    best = config_settings("best")
    if (best["hidden_dim"], best["batch_size"]) != (HIDDEN, BATCH):
        report["step_seconds_best_size"] = time_steps(
            data, hidden=best["hidden_dim"], batch=best["batch_size"], rounds=3,
            with_torch=False)


def config_summary(summary):
    """The numbers of one train.py run that the report keeps (dict)."""
    epochs = np.diff([0.0] + summary["epoch_seconds"])
    return {"final_train_accuracy": summary["final_train_accuracy"],
            "final_val_accuracy": summary["final_val_accuracy"],
            "best_val_accuracy": max(summary["val_accuracy"]),
            "train_seconds": summary["train_seconds"],
            "median_epoch_seconds": float(np.median(epochs)),
            "hyperparameters": summary["hyperparameters"]}


def train_configs(report, results_dir):
    """train.py --config best and overfit as a user runs them, with the epoch overhead."""
    summaries = {config: run_config(config, results_dir / config)
                 for config in ("best", "overfit")}
    for config, summary in summaries.items():
        report[config] = config_summary(summary)
    hp = report["best"]["hyperparameters"]
    step = report.get("step_seconds_best_size", report["step_seconds_b200_h1024"])["ours"]
    steps_per_epoch = -(-hp["num_train"] // hp["batch_size"])
    report["best"]["epoch_over_steps"] = \
        report["best"]["median_epoch_seconds"] / (steps_per_epoch * step)
    report["best"]["seconds_to_45pct_val"] = time_to(summaries["best"], 0.45)


def evaluate_best(report, results_dir):
    """test.py once on the best checkpoint."""
    out = results_dir / "best" / "test.json"
    subprocess.run([sys.executable, str(ROOT / "neuralnet" / "test.py"),
                    "--checkpoint-file", str(results_dir / "best" / "checkpoint.npz"),
                    "--json-file", str(out)], check=True)
    report["best"]["test_accuracy"] = json.loads(out.read_text())["test_accuracy"]


def main():
    args = parse_args()
    results_dir = Path(args.results_dir)
    report = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine()}
    step_timings(report, with_torch=not args.no_torch)
    if not args.skip_train:
        train_configs(report, results_dir)
    if args.test:
        evaluate_best(report, results_dir)
    out_file = results_dir / "bench" / "bench_cifar.json"
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(json.dumps(report, indent=1) + "\n")
    print_table(report)
    print(f"wrote {out_file}")


def print_table(report):
    steps = report["step_seconds_b200_h1024"]
    print("\nstep (batch 200, hidden 1024, float32, fwd+bwd+Nesterov update):")
    for name, seconds in steps.items():
        print(f"  {name:12s} {seconds * 1e3:7.1f} ms  ({seconds / steps['bare_numpy']:.2f}x bare)")
    for config in ("best", "overfit"):
        if config in report:
            r = report[config]
            print(f"--config {config}: train acc {r['final_train_accuracy']:.4f}, val acc "
                  f"{r['final_val_accuracy']:.4f}, {r['train_seconds']:.1f} s, "
                  f"epoch {r['median_epoch_seconds']:.2f} s")
    if "best" in report:
        r = report["best"]
        print(f"  epoch / (steps x step) = {r['epoch_over_steps']:.3f}; "
              f"time to 45% val = {fmt_seconds(r['seconds_to_45pct_val'])}; "
              f"test acc = {r.get('test_accuracy', 'not measured')}")


def fmt_seconds(seconds):
    """'12.2 s', or 'never' when the run did not reach the accuracy (None)."""
    return "never" if seconds is None else f"{seconds:.1f} s"


if __name__ == "__main__":
    main()
