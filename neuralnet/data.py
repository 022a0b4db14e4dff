"""CIFAR-10 loading, preprocessing and minibatch sampling (numpy only).

The data is the official "python version" of CIFAR-10: a folder ``cifar-10-batches-py/``
with ``data_batch_1`` .. ``data_batch_5`` (10,000 images each), ``test_batch`` and
``batches.meta``, or the archive ``cifar-10-python.tar.gz`` that contains that folder.
Each batch file is a pickle of a dict with ``b"data"`` (uint8, (10000, 3072), every row a
32x32 image stored channel by channel: 1024 red, 1024 green, 1024 blue values) and
``b"labels"`` (a list of 10,000 ints in [0, 10)).

Where the data is looked for, in this order:
  1. the ``data_dir`` argument (``--data-dir`` of train.py / test.py),
  2. the ``HW4_DATA`` environment variable,
  3. the folder of these scripts (where ``download_cifar.sh`` puts it).
Each place may hold ``cifar-10-batches-py/`` or ``cifar-10-python.tar.gz``, or be one of
them itself; an archive is extracted once into a cache folder of ours
(``neuralnet/.cache/``), never next to the archive, which may be read-only.
"""

import hashlib
import os
import pickle
import shlex
import tarfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FOLDER_NAME = "cifar-10-batches-py"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
DEFAULT_CACHE_DIR = HERE / ".cache"
NUM_TRAIN_IMAGES = 50000  # 5 batches of 10,000
NUM_TEST_IMAGES = 10000
DEFAULT_NUM_TRAIN = 49000  # load_cifar10's training split: the last 1,000 images validate
IMAGE_DIM = 3 * 32 * 32
CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck")


class CifarDataError(RuntimeError):
    """The CIFAR-10 data is missing or corrupt; the message says how to fix it."""


def _how_to_fix():
    script = shlex.quote(str(HERE / "download_cifar.sh"))  # a kit path may hold spaces
    return (
        "Fix it in one of three ways:\n"
        f"  1. download it next to the scripts: bash {script}\n"
        f"  2. point HW4_DATA at a folder holding {FOLDER_NAME}/ or {ARCHIVE_NAME}\n"
        f"  3. pass --data-dir DIR (train.py / test.py) with DIR holding one of them"
    )


def candidate_dirs(data_dir=None):
    """The folders searched for the data, in order (data_dir, $HW4_DATA, script folder)."""
    dirs = []
    if data_dir is not None:
        dirs.append(Path(data_dir).expanduser())
    if os.environ.get("HW4_DATA"):
        dirs.append(Path(os.environ["HW4_DATA"]).expanduser())
    dirs.append(HERE)
    return dirs


def _extract_archive(archive, cache_dir):
    """Extract ``archive`` into a cache folder keyed by its path and size; returns the folder."""
    archive = archive.resolve()
    stat = archive.stat()
    key = hashlib.sha1(f"{archive}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    target = Path(cache_dir) / key
    done = target / ".extracted"
    if done.exists():
        return target / FOLDER_NAME
    target.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.isfile() and ".." not in m.name
                       and m.name.startswith(FOLDER_NAME + "/")]
            if not members:
                raise CifarDataError(f"{archive} does not contain a {FOLDER_NAME}/ folder.\n"
                                     + _how_to_fix())
            if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12 / 3.11.4
                tar.extractall(target, members=members, filter="data")
            else:  # older Pythons: the members were vetted above
                tar.extractall(target, members=members)
    except (tarfile.TarError, OSError, EOFError) as err:
        raise CifarDataError(f"The archive {archive} is corrupt ({err}).\n" + _how_to_fix()) \
            from None
    done.touch()
    return target / FOLDER_NAME


def find_cifar10(data_dir=None, cache_dir=None):
    """Return the path of a ``cifar-10-batches-py`` folder, extracting an archive if needed.
    A place may also be that folder itself, or the archive file itself (what students often
    point HW4_DATA or --data-dir at).

    Raises CifarDataError naming every place searched when nothing is found.
    """
    searched = []
    for folder in candidate_dirs(data_dir):
        if (folder / "data_batch_1").is_file():
            return folder
        if folder.name == ARCHIVE_NAME and folder.is_file():
            return _extract_archive(folder, cache_dir or DEFAULT_CACHE_DIR)
        batches = folder / FOLDER_NAME
        if (batches / "data_batch_1").is_file():
            return batches
        archive = folder / ARCHIVE_NAME
        if archive.is_file():
            return _extract_archive(archive, cache_dir or DEFAULT_CACHE_DIR)
        searched.append(f"  {folder} (no {FOLDER_NAME}/ or {ARCHIVE_NAME})")
    raise CifarDataError("CIFAR-10 not found. Searched:\n" + "\n".join(searched) + "\n"
                         + _how_to_fix())


def load_batch(path):
    """Load one pickled batch file.

    Returns:
    - X: uint8 array of shape (N, 3072), one image per row (channels first)
    - y: int64 array of shape (N,), labels in [0, 10)
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        X = np.asarray(batch[b"data"], dtype=np.uint8)
        y = np.asarray(batch[b"labels"], dtype=np.int64)
    except FileNotFoundError:
        raise CifarDataError(f"{path} is missing: the CIFAR-10 folder {path.parent} is "
                             "incomplete.\n" + _how_to_fix()) from None
    except Exception as err:  # unpickling garbage can raise almost anything
        raise CifarDataError(f"{path} is corrupt ({type(err).__name__}: {err}).\n"
                             + _how_to_fix()) from None
    if X.ndim != 2 or X.shape[1] != IMAGE_DIM or y.shape != (X.shape[0],) \
            or (y.size and (y.min() < 0 or y.max() > 9)):
        raise CifarDataError(f"{path} is corrupt: data {X.shape}, labels {y.shape}; expected "
                             f"(N, {IMAGE_DIM}) and (N,) with labels in 0..9.\n" + _how_to_fix())
    return X, y


def _load_train_batches(folder):
    """All five training batches concatenated: uint8 (N, 3072) and int64 (N,)."""
    batches = [load_batch(folder / f"data_batch_{b}") for b in range(1, 6)]
    return np.concatenate([X for X, _ in batches]), np.concatenate([y for _, y in batches])


def compute_stats(X):
    """Preprocessing statistics of the raw training images X: uint8 (N, 3072).

    Returns mean: float32 (3072,), the per-pixel mean image, and std: float, the standard
    deviation of all mean-subtracted values (one scalar, so inputs have unit variance on
    average while the relative scale of pixels and channels is kept).
    """
    if len(X) == 0:
        raise ValueError("compute_stats needs at least one training image")
    mean = X.mean(axis=0, dtype=np.float64)
    var = (X.astype(np.float64) ** 2).mean() - (mean ** 2).mean()
    return mean.astype(np.float32), float(np.sqrt(max(var, 1e-12)))


def preprocess(X, mean, std):
    """Raw images X: uint8 (N, 3072) -> float32 (N, 3072), (X - mean) / std."""
    out = X.astype(np.float32)
    out -= np.asarray(mean, dtype=np.float32)
    out *= np.float32(1.0 / std)
    return out


def load_cifar10(num_train=DEFAULT_NUM_TRAIN, num_val=1000, num_test=None, data_dir=None,
                 mean=None, std=None, cache_dir=None):
    """Load CIFAR-10 as float32 arrays, preprocessed with training-set statistics.

    Training images are the first ``num_train`` of the 50,000 training images (all five
    batches in order); the validation images are the last ``num_val`` of them (so the
    validation set does not change with num_train). The test batch is read only when
    ``num_test > 0``; ``num_test=None`` means the whole test batch.
    Pass ``mean`` and ``std`` (e.g. from a checkpoint) to reuse saved statistics;
    otherwise they are computed on the training images.

    Returns a dict with
    - X_train: (num_train, 3072) float32, y_train: (num_train,) int64
    - X_val: (num_val, 3072), y_val: (num_val,)
    - X_test: (num_test, 3072), y_test: (num_test,)
    - mean: (3072,) float32 and std: float, the statistics used
    """
    requested_test = NUM_TEST_IMAGES if num_test is None else num_test
    check_split_sizes(num_train, num_val, requested_test, mean, std)
    folder = find_cifar10(data_dir, cache_dir)
    train, val = read_train_val(folder, num_train, num_val)
    test = read_test(folder, requested_test, exact=num_test is not None)
    if mean is None:
        mean, std = compute_stats(train[0])
    data = {"mean": np.asarray(mean, np.float32), "std": float(std)}
    for split, (X, y) in (("train", train), ("val", val), ("test", test)):
        data[f"X_{split}"] = preprocess(X, mean, std)
        data[f"y_{split}"] = y
    return data


def training_statistics(num_train=DEFAULT_NUM_TRAIN, data_dir=None, cache_dir=None):
    """The statistics that load_cifar10(num_train=num_train) normalizes with: those of the
    first num_train training images (test.py uses them for a checkpoint saved without its
    statistics, as a train.py written for the original starter saves it).

    Returns mean: (3072,) float32 and std: float (see compute_stats).
    """
    check_split_sizes(num_train, 0, 0, None, None)
    (X, _), _ = read_train_val(find_cifar10(data_dir, cache_dir), num_train, 0)
    return compute_stats(X)


def check_split_sizes(num_train, num_val, num_test, mean, std):
    """ValueError naming the argument when the requested split sizes cannot be served."""
    for name, value, top in (("num_train", num_train, NUM_TRAIN_IMAGES),
                             ("num_val", num_val, NUM_TRAIN_IMAGES),
                             ("num_test", num_test, NUM_TEST_IMAGES)):
        if not 0 <= int(value) <= top:
            raise ValueError(f"{name}={value} must be between 0 and {top}")
    if num_train + num_val > NUM_TRAIN_IMAGES:
        raise ValueError(f"num_train + num_val = {num_train + num_val} exceeds the "
                         f"{NUM_TRAIN_IMAGES} training images")
    if (mean is None) != (std is None):
        raise ValueError("pass both mean and std, or neither")
    if mean is None and num_train == 0:
        raise ValueError("num_train=0 needs saved statistics: pass mean and std")


def empty_split():
    """An (X, y) pair with no images: X (0, 3072) uint8, y (0,) int64."""
    return np.zeros((0, IMAGE_DIM), np.uint8), np.zeros(0, np.int64)


def read_train_val(folder, num_train, num_val):
    """The first num_train and the last num_val training images, as ((X, y), (X, y))."""
    if not (num_train or num_val):
        return empty_split(), empty_split()
    X, y = _load_train_batches(folder)
    if num_train + num_val > len(X):
        raise ValueError(f"num_train + num_val = {num_train + num_val} exceeds the "
                         f"{len(X)} training images in {folder}")
    return (X[:num_train], y[:num_train]), (X[len(X) - num_val:], y[len(X) - num_val:])


def read_test(folder, num_test, exact):
    """The first num_test test images (X, y); with `exact`, fewer in the file is an error."""
    if not num_test:
        return empty_split()
    X, y = load_batch(folder / "test_batch")
    if len(X) < num_test and exact:
        raise ValueError(f"num_test={num_test} but {folder / 'test_batch'} has only "
                         f"{len(X)} images")
    return X[:num_test], y[:num_test]


class DataSampler:
    """Iterate over (X_batch, y_batch) minibatches that cover every example once per epoch.

    X: (N, D) array, y: (N,) labels. With ``shuffle`` the order is a new random permutation
    each epoch, drawn from ``np.random.default_rng(seed)`` (same seed -> same batches). The
    last batch of an epoch holds the remaining N % batch_size examples, if any.

    Optional data augmentation for CIFAR-10 rows (D = 3072, channels first), done on the
    whole batch at once: ``flip`` mirrors a random half of the images left-right, ``shift``
    translates each image by a random (dy, dx) in [-shift, shift] pixels, filling with 0
    (the mean after preprocessing).
    """

    def __init__(self, X, y, batch_size, shuffle=True, seed=None, flip=False, shift=0):
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if (flip or shift) and (X.ndim != 2 or X.shape[1] != IMAGE_DIM):
            raise ValueError(f"flip/shift need CIFAR rows of {IMAGE_DIM} values, got {X.shape}")
        self.X, self.y = X, y
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.flip = flip
        self.shift = int(shift)
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        """Number of minibatches per epoch."""
        return -(-len(self.X) // self.batch_size)

    def __iter__(self):
        n = len(self.X)
        order = self.rng.permutation(n) if self.shuffle else None
        for start in range(0, n, self.batch_size):
            if order is None:
                X_batch = self.X[start:start + self.batch_size]
                y_batch = self.y[start:start + self.batch_size]
            else:
                idx = np.sort(order[start:start + self.batch_size])  # sorted: faster gather
                X_batch, y_batch = self.X[idx], self.y[idx]
            if self.flip or self.shift:
                X_batch = self.augment(X_batch)
            yield X_batch, y_batch

    def augment(self, X_batch):
        """Randomly flip and/or shift a batch of CIFAR rows X_batch: (B, 3072) -> (B, 3072)."""
        B = len(X_batch)
        images = X_batch.reshape(B, 3, 32, 32)
        if self.flip:
            images = images.copy()  # never write into the caller's array
            mirror = self.rng.random(B) < 0.5
            images[mirror] = images[mirror][..., ::-1]
        if self.shift:
            s = self.shift
            padded = np.zeros((B, 3, 32 + 2 * s, 32 + 2 * s), dtype=images.dtype)
            padded[:, :, s:s + 32, s:s + 32] = images
            # windows[b, c, dy, dx] is the 32x32 crop of image b at offset (dy, dx)
            windows = np.lib.stride_tricks.sliding_window_view(padded, (32, 32), axis=(2, 3))
            dy, dx = self.rng.integers(0, 2 * s + 1, size=(2, B))
            images = windows[np.arange(B), :, dy, dx]  # (B, 3, 32, 32), a copy
        return np.ascontiguousarray(images).reshape(B, IMAGE_DIM)
