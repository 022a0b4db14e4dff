"""Evaluate a checkpoint written by train.py on the CIFAR-10 test set, once.

    python test.py                       # the best model: runs/best/checkpoint.npz
    python test.py --checkpoint-file checkpoint.npz [--json-file test.json] [--data-dir DIR]

The model is rebuilt from the checkpoint (its sizes come from the saved arrays) and the
test images are preprocessed with the training statistics saved next to it by train.py
(``checkpoint.preprocessing.npz``). The result is printed and written as JSON next to the
checkpoint (test.json, with the checkpoint's SHA-256, so that the write-up can tell that it
belongs to that model). Use the test set only for your final model: choose hyperparameters
on the validation set.
"""

import argparse
import hashlib
import json
from pathlib import Path

from checkpoint import load_checkpoint
from data import CifarDataError, DataSampler, load_cifar10
from utils import check_accuracy

BEST_CHECKPOINT = Path(__file__).resolve().parent / "runs" / "best" / "checkpoint.npz"


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
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if not Path(args.checkpoint_file).is_file():
        raise SystemExit(f"error: {args.checkpoint_file} not found: train your best model "
                         "first (python train.py --config best writes it), or pass "
                         "--checkpoint-file")
    try:
        model, (input_dim, _, num_classes), mean, std = load_checkpoint(args.checkpoint_file)
    except (FileNotFoundError, ValueError) as err:
        raise SystemExit(f"error: {err}") from None
    if num_classes != 10:
        raise SystemExit(f"error: {args.checkpoint_file} has {num_classes} classes, "
                         "CIFAR-10 has 10: is this a CIFAR-10 checkpoint?")
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
                                "checkpoint_sha256": sha256(args.checkpoint_file)},
                               indent=1) + "\n")
    print(f"wrote {path}")


def sha256(path):
    """The SHA-256 of a file, as hex."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


if __name__ == "__main__":
    main()
