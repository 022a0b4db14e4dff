"""Random hyperparameter search for the two-layer network on CIFAR-10.

    python search.py --trials 20 --num-train 10000 --csv-file search.csv

Each trial samples a learning rate and a regularization strength (log-uniform), a hidden
size, a batch size and a number of epochs from the ranges below, trains a fresh
TwoLayerNet with train.py's loop (the chosen --config's other settings), and records the
validation accuracy. A progress bar runs over the trials; at the end the results table,
sorted by validation accuracy (best first), is printed and written to --csv-file.
Choose on validation accuracy only; evaluate the winner once with test.py.
"""

import argparse
import csv
import math
import sys
from pathlib import Path

import numpy as np
from data import CifarDataError, load_cifar10
from tqdm import tqdm
from utils import not_written

try:  # train.py is the student's file: only what every kit-style train.py has
    from train import (
        CONFIG_NAMES,
        EXTRA_DEFAULTS,
        TrainingDiverged,
        checked_config_settings,
        config_settings,
        fit,
    )
except ImportError as err:  # a train.py written for the original starter
    if __name__ != "__main__":  # imported (by a test): the error itself
        raise
    raise SystemExit(f"error: search.py runs the kit's training loop from train.py ({err}). "
                     "A train.py without it keeps its settings in main(): search by changing "
                     "them there") from None

# The search space: (low, high) for log-uniform values, lists for choices.
SPACE = {
    "learning_rate": (1e-3, 1e-1),
    "reg": (1e-5, 1e-2),
    "hidden_dim": [256, 512, 1024],
    "batch_size": [100, 200, 400],
    "num_epochs": [2, 3, 4],
}
COLUMNS = ["val_accuracy", "train_accuracy", "learning_rate", "reg", "hidden_dim",
           "batch_size", "num_epochs", "train_seconds", "status"]


def sample_hyperparameters(rng, space=None):
    """One random draw from ``space`` (default: SPACE): dict name -> value."""
    space = SPACE if space is None else space
    hp = {}
    for name, choice in space.items():
        if isinstance(choice, tuple):
            low, high = np.log10(choice[0]), np.log10(choice[1])
            hp[name] = float(10 ** rng.uniform(low, high))
        else:
            hp[name] = choice[int(rng.integers(len(choice)))]
    return hp


def run_trial(data, base, sampled, seed):
    """Train one model; returns a result row (dict with COLUMNS)."""
    hp = dict(base, **sampled, seed=seed)
    row = dict(sampled)
    try:
        _, history = fit(data, hp, progress=False, log=lambda message: None)
    except TrainingDiverged:
        return dict(row, val_accuracy=0.0, train_accuracy=0.0, train_seconds=math.nan,
                    status="diverged")
    return dict(row, val_accuracy=history["val_accuracy"][-1],
                train_accuracy=history["train_accuracy"][-1],
                train_seconds=round(history["train_seconds"], 1), status="ok")


def write_table(rows, path):
    """Write rows (sorted best first) to a CSV file with COLUMNS."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def format_table(rows):
    """The results as aligned text, one line per trial."""
    lines = ["  val    train   lr        reg       hidden batch epochs  seconds status"]
    for r in rows:
        lines.append(f"{r['val_accuracy']:6.3f} {r['train_accuracy']:6.3f}   "
                     f"{r['learning_rate']:.2e}  {r['reg']:.2e}  {r['hidden_dim']:6d} "
                     f"{r['batch_size']:5d} {r['num_epochs']:6d} {r['train_seconds']:8} "
                     f"{r['status']}")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Random search over learning rate, reg, "
                                                 "hidden size, batch size and epochs.")
    parser.add_argument("--trials", type=int, default=20, help="number of random trials")
    parser.add_argument("--num-train", type=int, default=10000,
                        help="training images per trial (fewer = faster search)")
    parser.add_argument("--num-val", type=int, default=1000, help="validation images")
    parser.add_argument("--config", choices=CONFIG_NAMES,
                        help="settings not searched (momentum, schedule, flips) come from "
                             "this config (default: best once config_settings() has it, else "
                             "default)")
    parser.add_argument("--csv-file", default="search.csv", help="results table (CSV)")
    parser.add_argument("--data-dir", help="folder holding the CIFAR-10 data")
    parser.add_argument("--seed", type=int, default=0, help="seeds the draws and the models")
    return parser.parse_args(argv)


def settings_not_searched(config):
    """The settings of `config` for what the search does not draw; with no --config, those of
    "best" once config_settings() has them, else the homework's defaults."""
    if config is not None:
        return checked_config_settings(config)
    try:
        return config_settings("best")
    except NotImplementedError:
        print("note: config_settings('best') in train.py is not written yet, so the settings "
              "the search does not draw (momentum, schedule, flips) are the defaults "
              "(--config default)")
        return config_settings("default")


def main(argv=None):
    args = parse_args(argv)
    if args.trials < 1:
        raise SystemExit(f"error: --trials must be >= 1, got {args.trials}")
    try:
        data = load_cifar10(num_train=args.num_train, num_val=args.num_val, num_test=0,
                            data_dir=args.data_dir)
    except (CifarDataError, ValueError) as err:
        raise SystemExit(f"error: {err}") from None
    base = {**EXTRA_DEFAULTS, **settings_not_searched(args.config),
            "num_train": args.num_train, "num_val": args.num_val}
    rng = np.random.default_rng(args.seed)
    rows = []
    bar = tqdm(range(args.trials), desc="trials", file=sys.stdout)
    for trial in bar:
        try:
            rows.append(run_trial(data, base, sample_hyperparameters(rng), args.seed + trial))
        except NotImplementedError as err:
            bar.close()
            raise SystemExit(not_written(err)) from None
        best = max(r["val_accuracy"] for r in rows)
        bar.set_postfix(last=f"{rows[-1]['val_accuracy']:.3f}", best=f"{best:.3f}")
    rows.sort(key=lambda r: r["val_accuracy"], reverse=True)
    write_table(rows, args.csv_file)
    print(format_table(rows))
    print(f"wrote {args.csv_file} ({len(rows)} trials, best val acc "
          f"{rows[0]['val_accuracy']:.4f})")


if __name__ == "__main__":
    main()
