"""Write a small, learnable fake CIFAR-10 in the official python-pickle layout.

Used by the tests and by the smoke runs: the files look exactly like the real
download (``cifar-10-batches-py/data_batch_1..5``, ``test_batch``, ``batches.meta``;
optionally ``cifar-10-python.tar.gz``), but every image is a class-dependent colour
pattern plus noise, so a short training run beats chance.

    python tests/fake_cifar10.py DEST [--per-batch 200] [--num-test 200] [--tar]
"""

import argparse
import pickle
import tarfile
from pathlib import Path

import numpy as np

CLASSES = [b"airplane", b"automobile", b"bird", b"cat", b"deer",
           b"dog", b"frog", b"horse", b"ship", b"truck"]


def _class_patterns(rng):
    """One smooth (3, 32, 32) colour pattern per class, float in [0, 255]: (10, 3072)."""
    yy, xx = np.meshgrid(np.linspace(0, 1, 32), np.linspace(0, 1, 32), indexing="ij")
    patterns = []
    for _ in CLASSES:
        fy, fx = rng.uniform(0.5, 3.0, size=2)
        phase = rng.uniform(0, 2 * np.pi, size=3)
        colour = rng.uniform(60, 200, size=3)
        wave = np.stack([np.sin(2 * np.pi * (fy * yy + fx * xx) + p) for p in phase])
        patterns.append(colour[:, None, None] + 50 * wave)
    return np.clip(np.stack(patterns), 0, 255).reshape(len(CLASSES), -1)


def _make_batch(rng, patterns, n, name):
    """A dict like one official batch: n images (uint8 (n, 3072)) with balanced labels."""
    labels = rng.permutation(np.arange(n) % len(CLASSES))
    noise = rng.normal(0, 60, size=(n, patterns.shape[1]))
    data = np.clip(patterns[labels] + noise, 0, 255).astype(np.uint8)
    return {b"batch_label": name.encode(), b"labels": labels.tolist(), b"data": data,
            b"filenames": [f"fake_{name}_{i}.png".encode() for i in range(n)]}


def write_fake_cifar10(dest_dir, num_train_per_batch=100, num_test=100, seed=0, tar=False):
    """Write DEST/cifar-10-batches-py/ (and DEST/cifar-10-python.tar.gz when ``tar``).

    Returns the path of the cifar-10-batches-py folder.
    """
    rng = np.random.default_rng(seed)
    patterns = _class_patterns(rng)
    folder = Path(dest_dir) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    batches = {f"data_batch_{i}": num_train_per_batch for i in range(1, 6)}
    batches["test_batch"] = num_test
    for name, n in batches.items():
        with open(folder / name, "wb") as f:
            pickle.dump(_make_batch(rng, patterns, n, name), f)
    meta = {b"label_names": CLASSES, b"num_cases_per_batch": num_train_per_batch,
            b"num_vis": 3072}
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump(meta, f)
    if tar:
        with tarfile.open(Path(dest_dir) / "cifar-10-python.tar.gz", "w:gz") as archive:
            archive.add(folder, arcname="cifar-10-batches-py")
    return folder


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", help="folder to write cifar-10-batches-py/ into")
    parser.add_argument("--per-batch", type=int, default=200, help="images per training batch")
    parser.add_argument("--num-test", type=int, default=200, help="images in test_batch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tar", action="store_true", help="also write cifar-10-python.tar.gz")
    args = parser.parse_args()
    folder = write_fake_cifar10(args.dest, args.per_batch, args.num_test, args.seed, args.tar)
    print(f"wrote fake CIFAR-10 to {folder}")


if __name__ == "__main__":
    main()
