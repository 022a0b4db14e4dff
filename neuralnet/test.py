"""Evaluate a checkpoint written by train.py on the CIFAR-10 test set, once.

    python test.py                       # the best model: runs/best/checkpoint.npz
    python test.py --checkpoint-file checkpoint.npz [--json-file test.json] [--data-dir DIR]

The model is rebuilt from the checkpoint (its sizes come from the saved arrays) and the
test images are preprocessed with the training statistics saved next to it by train.py
(``checkpoint.preprocessing.npz``). A train.py written for the original starter saves only
the model (``model.save``): then the statistics are computed again from the training images,
as load_cifar10(num_train=N) computed them for that run (``--num-train N``, default 49000).
The result is printed and written as JSON next to the checkpoint (test.json, with the
checkpoint's SHA-256, so that the write-up can tell that it belongs to that model). Use the
test set only for your final model: choose hyperparameters on the validation set.
"""

import argparse
import hashlib
import json
import os
from pathlib import Path

from checkpoint import load_checkpoint, preprocessing_path
from data import (
    DEFAULT_NUM_TRAIN,
    CifarDataError,
    DataSampler,
    load_cifar10,
    training_statistics,
)
from utils import check_accuracy

HERE = Path(__file__).resolve().parent
BEST_CHECKPOINT = HERE / "runs" / "best" / "checkpoint.npz"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Evaluate a checkpoint on the CIFAR-10 "
                                                 "test set.")
    parser.add_argument("--checkpoint-file", default=str(BEST_CHECKPOINT),
                        help="model written by train.py (default: the one train.py --config "
                             "best writes, runs/best/checkpoint.npz next to this file)")
    parser.add_argument("--data-dir", help="folder holding cifar-10-batches-py/ or "
                                           "cifar-10-python.tar.gz (else $HW4_DATA, else here)")
    parser.add_argument("--num-test", type=int,
                        help="test images to use (default: all of test_batch, 10,000)")
    parser.add_argument("--json-file", help="where to write the result as JSON (default: "
                                            "test.json next to the checkpoint)")
    parser.add_argument("--num-train", type=int, default=DEFAULT_NUM_TRAIN,
                        help="only for a checkpoint saved without its .preprocessing.npz (a "
                             "train.py written for the original starter): normalize the test "
                             "images as load_cifar10(num_train=NUM_TRAIN) did in that run, "
                             "with the statistics of the first NUM_TRAIN training images "
                             "(default: %(default)s, load_cifar10's default)")
    return parser.parse_args(argv)


def script(name):
    """`python <name>` as typed from the current folder (neuralnet/<name> from the kit)."""
    try:
        return f"python {os.path.relpath(HERE / name)}"
    except ValueError:  # Windows: another drive
        return f"python {HERE / name}"


def recomputed_statistics(args):
    """(mean, std, how) for a checkpoint without its preprocessing file: those of the first
    --num-train training images, as load_cifar10 computes them; SystemExit on bad data."""
    stats = preprocessing_path(args.checkpoint_file)
    print(f"note: {stats} not found (a train.py written for the original starter saves only "
          "the model), so the test images are normalized with the statistics of the first "
          f"{args.num_train} training images, as load_cifar10(num_train={args.num_train}) "
          "computes them. If your run used another num_train, pass it: --num-train N")
    try:
        mean, std = training_statistics(args.num_train, data_dir=args.data_dir)
    except CifarDataError as err:
        raise SystemExit(f"error: {err}") from None
    except ValueError as err:
        raise SystemExit(f"error: {err}; pass your run's num_train: --num-train N") from None
    return mean, std, f"recomputed from the first {args.num_train} training images"


def main(argv=None):
    args = parse_args(argv)
    if not Path(args.checkpoint_file).is_file():
        raise SystemExit(f"error: {args.checkpoint_file} not found: train your best model "
                         f"first ({script('train.py')} --config best writes it), or pass "
                         "the file your train.py saved: --checkpoint-file FILE")
    try:
        model, (input_dim, _, num_classes), mean, std = load_checkpoint(args.checkpoint_file)
    except (FileNotFoundError, ValueError) as err:
        raise SystemExit(f"error: {err}") from None
    if num_classes != 10:
        raise SystemExit(f"error: {args.checkpoint_file} has {num_classes} classes, "
                         "CIFAR-10 has 10: is this a CIFAR-10 checkpoint?")
    statistics = f"saved by train.py ({preprocessing_path(args.checkpoint_file).name})"
    if mean is None:
        mean, std, statistics = recomputed_statistics(args)
    try:
        data = load_cifar10(num_train=0, num_val=0, num_test=args.num_test,
                            data_dir=args.data_dir, mean=mean, std=std)
    except (CifarDataError, ValueError) as err:
        raise SystemExit(f"error: {err}") from None
    if data["X_test"].shape[1] != input_dim:
        raise SystemExit(f"error: {args.checkpoint_file} expects {input_dim} inputs, "
                         f"the test images have {data['X_test'].shape[1]}")
    sampler = DataSampler(data["X_test"], data["y_test"], 1000, shuffle=False)
    accuracy = check_accuracy(model, sampler)
    num_test = len(data["y_test"])
    print(f"test accuracy: {accuracy:.4f} ({num_test} images, {args.checkpoint_file})")
    path = Path(args.json_file or Path(args.checkpoint_file).parent / "test.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"test_accuracy": accuracy, "num_test": num_test,
                                "checkpoint": str(args.checkpoint_file),
                                "checkpoint_sha256": sha256(args.checkpoint_file),
                                "statistics": statistics},
                               indent=1) + "\n")
    print(f"wrote {path}")


def sha256(path):
    """The SHA-256 of a file, as hex."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


if __name__ == "__main__":
    main()
