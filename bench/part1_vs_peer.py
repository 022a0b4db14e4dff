"""Fashion-MNIST side by side: our part1 CNN against the pytorch/examples MNIST CNN.

One run trains, on the same machine and one after the other:
  * the peer: pytorch/examples `mnist/main.py` as published (conv 32 -> conv 64 -> max-pool
    -> dropout -> fc 128 -> dropout -> fc 10, Adadelta lr 1.0, StepLR gamma 0.7, batch 64,
    DataLoader with ToTensor + Normalize, all 60,000 training images, the test set
    evaluated after every epoch as the example does); only the data set differs;
  * ours: `python_backup/part1.py` (the notebook) with HW4_PART1_SETTING=<setting>, as a
    subprocess; it trains on 50,000 images, validates on 10,000 after every epoch and
    touches the test set once.
It writes BENCH_DIR/{peer.json, comparison.json} and a plot of accuracy against training
time (docs/img/part1_vs_peer.png by default). Extra runs of ours (e.g. the full setting's
results/part1/summary.json from the executed notebook) can be added with --add-run.

    # peer (2 epochs) and our light setting, side by side in one run:
    HW4_DATA=/work/data python bench/part1_vs_peer.py --peer-epochs 2 --setting light
    # ours with as much training time as the peer (5 epochs), plotted with the runs above
    # and the executed notebook's full run:
    HW4_DATA=/work/data python bench/part1_vs_peer.py --peer-epochs 0 --setting light \
        --ours-epochs 5 --add-run results/bench/part1/peer.json \
        --add-run results/bench/part1/ours-light-default-epochs/summary.json \
        --add-run results/part1/summary.json
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402
from torchvision import datasets, transforms  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


class PeerNet(nn.Module):
    """The CNN of pytorch/examples mnist/main.py, unchanged."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        return F.log_softmax(self.fc2(x), dim=1)


def peer_test(model, loader):
    """Test accuracy of the peer, as the example's test() computes it."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for data, target in loader:
            correct += model(data).argmax(dim=1).eq(target).sum().item()
    return correct / len(loader.dataset)


def run_peer(data_dir, epochs, seed=1):
    """Train the peer for `epochs` epochs; return its per-epoch times and test accuracies."""
    torch.manual_seed(seed)  # the example's default --seed
    transform = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train = datasets.FashionMNIST(data_dir, train=True, download=True, transform=transform)
    test = datasets.FashionMNIST(data_dir, train=False, transform=transform)
    # The example shuffles only when it uses an accelerator; we shuffle, as intended.
    train_loader = torch.utils.data.DataLoader(train, batch_size=64, shuffle=True)
    test_loader = torch.utils.data.DataLoader(test, batch_size=1000)
    model = PeerNet()
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    train_seconds, times, accuracies = 0.0, [], []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        model.train()
        for data, target in train_loader:
            optimizer.zero_grad()
            loss = F.nll_loss(model(data), target)
            loss.backward()
            optimizer.step()
        scheduler.step()
        train_seconds += time.perf_counter() - start
        accuracy = peer_test(model, test_loader)  # not counted as training time
        times.append(train_seconds)
        accuracies.append(accuracy)
        print(f"peer epoch {epoch}: {train_seconds:6.1f} s of training, "
              f"test accuracy {accuracy:.4f}", flush=True)
    num_params = sum(p.numel() for p in model.parameters())
    return {"name": "pytorch/examples MNIST CNN", "epochs": epochs, "num_train": len(train),
            "num_parameters": num_params, "epoch_seconds": times,
            "test_accuracy_per_epoch": accuracies,
            "test_accuracy": accuracies[-1], "train_seconds": train_seconds,
            "images_per_second": len(train) * epochs / train_seconds}


def run_ours(data_dir, setting, epochs, results_dir):
    """Run python_backup/part1.py with the given setting (and epochs, 0 = the setting's);
    return the comparison entry of its summary.json."""
    env = dict(os.environ, HW4_DATA=str(data_dir), HW4_PART1_SETTING=setting,
               HW4_PART1_EPOCHS=str(epochs), HW4_PART1_RESULTS_DIR=str(results_dir),
               MPLBACKEND="Agg", HW4_SMOKE="0")
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "python_backup" / "part1.py")], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    print(f"ours ({setting}): the script took {time.perf_counter() - start:.1f} s", flush=True)
    return ours_entry(json.loads((Path(results_dir) / "summary.json").read_text()))


def ours_entry(summary):
    """The fields of one of our summary.json files that the comparison needs."""
    hp = summary["hyperparameters"]
    name = f"ours, setting {summary['setting']!r}, {hp['epochs']} epochs"
    return {"name": name, "epochs": hp["epochs"],
            "num_train": summary["num_train"], "num_parameters": summary["num_parameters"],
            "epoch_seconds": summary["epoch_seconds"], "val_accuracy": summary["val_accuracy"],
            "test_accuracy": summary["test_accuracy"], "train_seconds": summary["train_seconds"],
            "images_per_second": summary["num_train"] * hp["epochs"] / summary["train_seconds"]}


def plot(runs, path):
    """Accuracy against cumulative training time for every run; saves a PNG."""
    fig, ax = plt.subplots(figsize=(8, 5))
    for run in runs:
        if "val_accuracy" in run:
            line, = ax.plot(run["epoch_seconds"], run["val_accuracy"], "o-", ms=3,
                            label=f"{run['name']}: validation, per epoch")
            ax.plot(run["train_seconds"], run["test_accuracy"], "*", ms=14,
                    color=line.get_color(), label=f"{run['name']}: test {run['test_accuracy']:.4f}")
        else:
            ax.plot(run["epoch_seconds"], run["test_accuracy_per_epoch"], "s--",
                    label=f"{run['name']}: test, per epoch ({run['test_accuracy']:.4f})")
    ax.set_xlabel("training time on 2 CPU cores (s)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0.85, 0.95)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Fashion-MNIST: accuracy against training time")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    print(f"saved {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("HW4_DATA", "./data"))
    parser.add_argument("--peer-epochs", type=int, default=2)
    parser.add_argument("--setting", default="light", help="our setting to run ('' = none)")
    parser.add_argument("--ours-epochs", type=int, default=0,
                        help="epochs of our run (0 = the setting's; the one-cycle schedule "
                        "is fitted to them)")
    parser.add_argument("--add-run", action="append", default=[],
                        help="also plot this earlier run: a summary.json of ours or a "
                        "peer.json of this script (repeatable)")
    parser.add_argument("--bench-dir", default="results/bench/part1")
    parser.add_argument("--plot-file", default=str(ROOT / "docs" / "img" / "part1_vs_peer.png"))
    args = parser.parse_args(argv)
    bench_dir = Path(args.bench_dir)
    bench_dir.mkdir(parents=True, exist_ok=True)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, data {args.data_dir}")

    runs = []
    if args.peer_epochs > 0:
        runs.append(run_peer(args.data_dir, args.peer_epochs))
        (bench_dir / "peer.json").write_text(json.dumps(runs[-1], indent=2))
    if args.setting:
        out = bench_dir / f"ours-{args.setting}-{args.ours_epochs or 'default'}-epochs"
        runs.append(run_ours(args.data_dir, args.setting, args.ours_epochs, out))
    for path in args.add_run:
        run = json.loads(Path(path).read_text())
        runs.append(run if "test_accuracy_per_epoch" in run else ours_entry(run))
    (bench_dir / "comparison.json").write_text(json.dumps(runs, indent=2))
    plot(runs, args.plot_file)

    print("\n| model | epochs | train images | parameters | training time (s) | images/s "
          "| test accuracy |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in runs:
        print(f"| {r['name']} | {r['epochs']} | {r['num_train']:,} | {r['num_parameters']:,} | "
              f"{r['train_seconds']:.0f} | {r['images_per_second']:.0f} | "
              f"{r['test_accuracy']:.4f} |")


if __name__ == "__main__":
    main()
