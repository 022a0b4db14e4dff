"""Write a small synthetic Fashion-MNIST in the real idx format, for tests and smoke runs.

The four files land in ``ROOT/FashionMNIST/raw/`` uncompressed, exactly where
``torchvision.datasets.FashionMNIST(root=ROOT, download=True)`` looks, so torchvision loads
them and downloads nothing. Every class is a fixed random blob pattern (28x28, uint8) that
each image shows shifted by up to 2 pixels, scaled in brightness and covered in noise: a
small CNN learns it within one epoch, a model that guesses stays at 10%.

    python -m staff.reference.fake_fashion_mnist DEST --num-train 2000 --num-test 500
"""

import argparse
import struct
from pathlib import Path

import numpy as np

from handin import module_prog

NUM_CLASSES = 10
SIZE = 28
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def write_idx_images(path, images):
    """Write uint8 images (N, 28, 28) as an idx3-ubyte file (magic 2051, big-endian dims)."""
    images = np.ascontiguousarray(images, dtype=np.uint8)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (N, H, W), got {images.shape}")
    with open(path, "wb") as f:
        f.write(struct.pack(">IIII", 0x00000803, *images.shape))
        f.write(images.tobytes())


def write_idx_labels(path, labels):
    """Write uint8 labels (N,) as an idx1-ubyte file (magic 2049)."""
    labels = np.ascontiguousarray(labels, dtype=np.uint8)
    if labels.ndim != 1:
        raise ValueError(f"labels must have shape (N,), got {labels.shape}")
    with open(path, "wb") as f:
        f.write(struct.pack(">II", 0x00000801, labels.shape[0]))
        f.write(labels.tobytes())


def class_templates(rng):
    """Return (10, 28, 28) float templates in [0, 1]: one smooth random blob pattern per class."""
    coarse = rng.random((NUM_CLASSES, 7, 7)) ** 2
    templates = coarse.repeat(4, axis=1).repeat(4, axis=2)  # 7x7 -> 28x28 blocks
    # Blur the blocks a little so the patterns look like shapes, not checkerboards.
    for axis in (1, 2):
        templates = (templates + np.roll(templates, 1, axis) + np.roll(templates, -1, axis)) / 3
    return templates / templates.max(axis=(1, 2), keepdims=True)


def make_split(templates, num, rng):
    """Draw ``num`` noisy, shifted copies of the templates; return (images uint8, labels uint8)."""
    labels = np.arange(num) % NUM_CLASSES
    rng.shuffle(labels)
    images = templates[labels]
    shifts = rng.integers(-2, 3, size=(num, 2))
    images = np.stack(
        [np.roll(img, tuple(s), axis=(0, 1)) for img, s in zip(images, shifts, strict=True)]
    )
    images = images * rng.uniform(0.6, 1.0, size=(num, 1, 1))
    images = images + rng.normal(0.0, 0.15, size=images.shape)
    images = np.clip(images * 255.0, 0, 255).astype(np.uint8)
    return images, labels.astype(np.uint8)


def write_fake_fashion_mnist(root, num_train=2000, num_test=500, seed=0):
    """Write synthetic idx files into ``root/FashionMNIST/raw/``; return that raw folder (Path).

    Inputs:
    - root: the torchvision root (what HW4_DATA points to).
    - num_train, num_test: number of images in the train (60k in the real set) and test files.
    - seed: the same seed writes byte-identical files.
    """
    if num_train < NUM_CLASSES or num_test < NUM_CLASSES:
        raise ValueError(
            f"num_train and num_test must be >= {NUM_CLASSES} (one image per class), "
            f"got {num_train} and {num_test}"
        )
    rng = np.random.default_rng(seed)
    templates = class_templates(rng)
    raw = Path(root) / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for split, num in (("train", num_train), ("test", num_test)):
        images, labels = make_split(templates, num, rng)
        write_idx_images(raw / FILES[f"{split}_images"], images)
        write_idx_labels(raw / FILES[f"{split}_labels"], labels)
    return raw


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog=module_prog(__spec__),
        description=__doc__.splitlines()[0])
    parser.add_argument("root", help="torchvision root; files go to ROOT/FashionMNIST/raw/")
    parser.add_argument("--num-train", type=int, default=2000)
    parser.add_argument("--num-test", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    raw = write_fake_fashion_mnist(args.root, args.num_train, args.num_test, args.seed)
    print(f"wrote {args.num_train} train and {args.num_test} test images to {raw}")


if __name__ == "__main__":
    main()
