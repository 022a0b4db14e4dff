# %% [markdown]
# # Part 1 — A convolutional network for Fashion-MNIST (PyTorch)
#
# Fashion-MNIST has 70,000 grayscale images of 28x28 pixels in 10 clothing classes
# (60,000 for training, 10,000 for testing). This notebook trains a small CNN on it
# and evaluates it once on the test set. It runs top to bottom in Google Colab and in a
# local Jupyter; it uses a GPU when there is one, but each setting must finish on a 2-core CPU:
#
# | `SETTING` | training time on a 2-core CPU |
# | --- | --- |
# | `"full"` (default) | at most 10 min |
# | `"light"` | at most 5 min |
#
# <!-- BEGIN STAFF ONLY -->
# | `SETTING` | epochs | target | measured on a 2-core CPU |
# | --- | --- | --- | --- |
# | `"full"` (default) | 18 | >= 93% test accuracy within 10 min | 93.59% after 7.3 min of training |
# | `"light"` | 9 | >= 92% test accuracy within 5 min | 92.86% after 4.0 min |
# <!-- END STAFF ONLY -->
#
# The same code runs as a script: `python python_backup/part1.py` (generated from this
# notebook with jupytext) saves every plot to `RESULTS_DIR` instead of showing it.

# %%
# Colab has PyTorch, torchvision, matplotlib and tqdm; install only what it lacks.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("torchsummary") is None:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "torchsummary==1.5.1"])

# %%
import contextlib
import io
import json
import math
import os
import random
import re
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchsummary import summary
from tqdm import tqdm

IN_NOTEBOOK = "ipykernel" in sys.modules

# %% [markdown]
# ## Parameters
#
# Edit the cell below, or set the environment variables it reads (that is how the tests
# run it: e.g. `HW4_SMOKE=1 HW4_DATA=/tmp/fake python python_backup/part1.py`).
# The cell is tagged `parameters`, so papermill-style tools can also inject a cell after it.
#
# * `SETTING`: `"full"` (the best model within 10 CPU minutes) or `"light"` (within 5).
# * `EPOCHS`, `BATCH_SIZE`, `LR`: 0 means "the setting's value" (see the table printed below).
# * `SMOKE`: a few hundred images and one epoch, only to check that everything runs.
# * `DATA_ROOT`: the torchvision root that holds (or receives) `FashionMNIST/raw/`.
# * `BF16`: run convolutions in bfloat16 (autocast). `"auto"` turns it on where the
#   hardware computes bfloat16 natively (CPUs with AVX-512 BF16 or AMX, GPUs from Ampere on):
#   about 1.7x faster training on this course's 2-core CPU, same accuracy.

# %% tags=["parameters"]
SETTING = os.environ.get("HW4_PART1_SETTING", "full")  # "full" or "light"
EPOCHS = int(os.environ.get("HW4_PART1_EPOCHS", "0"))  # 0: the setting's value
BATCH_SIZE = int(os.environ.get("HW4_PART1_BATCH_SIZE", "0"))  # 0: the setting's value
LR = float(os.environ.get("HW4_PART1_LR", "0"))  # peak learning rate; 0: the setting's value
SMOKE = os.environ.get("HW4_SMOKE", "0") == "1"  # tiny run that only checks the pipeline
DATA_ROOT = os.environ.get("HW4_DATA", "./data")
DOWNLOAD = os.environ.get("HW4_DOWNLOAD", "1") == "1"  # try to download when the files are missing
RESULTS_DIR = os.environ.get("HW4_PART1_RESULTS_DIR", "results/part1")
SEED = int(os.environ.get("HW4_SEED", "0"))
BF16 = os.environ.get("HW4_PART1_BF16", "auto")  # "auto": where the hardware has it; "on"; "off"

# %%
# BEGIN SOLUTION: a dict with the settings "full" and "light", each a dict with at least epochs, batch_size and lr
# Hyperparameters of the two settings (tuned on the validation split).
SETTINGS = {
    "full": dict(epochs=18, batch_size=256, lr=0.1, weight_decay=5e-4, label_smoothing=0.1),
    "light": dict(epochs=9, batch_size=256, lr=0.1, weight_decay=5e-4, label_smoothing=0.1),
}
# END SOLUTION
if SETTING not in SETTINGS:
    raise ValueError(f"SETTING must be one of {sorted(SETTINGS)}, got {SETTING!r}")
HP = dict(SETTINGS[SETTING])
for key, value in (("epochs", EPOCHS), ("batch_size", BATCH_SIZE), ("lr", LR)):
    if value < 0:
        raise ValueError(f"{key} must be positive (or 0 for the setting's value), got {value}")
    if value:
        HP[key] = value
SMOKE_IMAGES = 600  # per split, in smoke mode
if SMOKE:
    HP.update(epochs=2, batch_size=64, lr=0.02)
print(f"setting={SETTING!r} smoke={SMOKE}", json.dumps(HP))

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def has_native_bf16(device):
    """True when `device` computes bfloat16 in hardware (else autocast to bf16 is slow)."""
    if device.type == "cuda":
        return torch.cuda.get_device_capability(device) >= (8, 0)
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


if BF16 not in ("auto", "on", "off"):
    raise ValueError(f"BF16 must be 'auto', 'on' or 'off', got {BF16!r}")
USE_BF16 = BF16 == "on" or (BF16 == "auto" and has_native_bf16(DEVICE))
print(f"device: {DEVICE}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
      f"bfloat16 autocast: {USE_BF16}")


def autocast():
    """Context manager: bfloat16 autocast on DEVICE when USE_BF16, else a no-op."""
    return torch.autocast(DEVICE.type, dtype=torch.bfloat16, enabled=USE_BF16)



def seed_everything(seed):
    """Seed Python, numpy and torch (CPU and CUDA) so that runs repeat."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


seed_everything(SEED)
results_dir = Path(RESULTS_DIR)
results_dir.mkdir(parents=True, exist_ok=True)


def show(fig, filename):
    """Save a figure to RESULTS_DIR; show it inline in a notebook, close it in a script."""
    fig.savefig(results_dir / filename, dpi=100, bbox_inches="tight")
    if IN_NOTEBOOK:
        plt.show()
    else:
        plt.close(fig)
    print(f"saved {results_dir / filename}")


# %% [markdown]
# ## The data
#
# `torchvision.datasets.FashionMNIST` reads the four idx files from
# `DATA_ROOT/FashionMNIST/raw/` and downloads them there when they are missing. The whole
# data set is 55 MB as uint8, so we keep it in memory as tensors and cut batches by
# indexing: on a CPU this is faster than a `DataLoader` with worker processes.
#
# The 60,000 training images are split **stratified** at random (seeded): one sixth of
# each class (1,000 images per class, 10,000 in all) is held out for validation, the
# other 50,000 train the network. Hyperparameters were chosen on the validation split;
# the 10,000 test images are used exactly once, at the very end.

# %%
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def load_fashion_mnist(root, train, download):
    """Return (images uint8 (N, 28, 28), labels int64 (N,)) of one official split."""
    raw = Path(root).expanduser().resolve() / "FashionMNIST" / "raw"
    log = io.StringIO()  # torchvision prints one line per failed mirror; keep them quiet
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            ds = torchvision.datasets.FashionMNIST(root, train=train, download=download)
    except (RuntimeError, OSError) as err:
        reason = "download failed (offline?)" if download else "download disabled (DOWNLOAD=False)"
        raise SystemExit(
            f"Fashion-MNIST not found: looked for the idx files in {raw} and the {reason}: {err}. "
            "Put train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and "
            "t10k-labels-idx1-ubyte there, or set DATA_ROOT / the HW4_DATA environment variable "
            "to the folder that holds FashionMNIST/raw/."
        ) from None
    return ds.data, ds.targets


def stratified_split(labels, fraction, generator):
    """Split indices so each class gives `fraction` of its images to validation.

    labels: (N,) int64. Returns (train_idx, val_idx), both sorted (M,) int64 tensors.
    """
    val = []
    for c in labels.unique():
        idx = (labels == c).nonzero().flatten()
        idx = idx[torch.randperm(len(idx), generator=generator)]
        val.append(idx[: int(len(idx) * fraction)])
    val = torch.cat(val).sort().values
    is_val = torch.zeros(len(labels), dtype=torch.bool)
    is_val[val] = True
    return (~is_val).nonzero().flatten(), val


train_images, train_labels = load_fashion_mnist(DATA_ROOT, train=True, download=DOWNLOAD)
test_images, test_labels = load_fashion_mnist(DATA_ROOT, train=False, download=DOWNLOAD)
if SMOKE:
    train_images, train_labels = train_images[:SMOKE_IMAGES * 6 // 5], train_labels[:SMOKE_IMAGES * 6 // 5]
    test_images, test_labels = test_images[:SMOKE_IMAGES], test_labels[:SMOKE_IMAGES]
train_idx, val_idx = stratified_split(train_labels, 1 / 6, torch.Generator().manual_seed(SEED))

# Images as float in [0, 1], shape (N, 1, 28, 28); normalized per batch with train statistics.
X_train = train_images[train_idx].float().div(255).unsqueeze(1).to(DEVICE)
y_train = train_labels[train_idx].to(DEVICE)
X_val = train_images[val_idx].float().div(255).unsqueeze(1).to(DEVICE)
y_val = train_labels[val_idx].to(DEVICE)
X_test = test_images.float().div(255).unsqueeze(1).to(DEVICE)
y_test = test_labels.to(DEVICE)
MEAN, STD = X_train.mean().item(), X_train.std().item()
print(f"train {tuple(X_train.shape)}, val {tuple(X_val.shape)}, test {tuple(X_test.shape)}; "
      f"pixel mean {MEAN:.4f}, std {STD:.4f}")
print("validation images per class:", torch.bincount(y_val.cpu(), minlength=10).tolist())

# %% [markdown]
# A few training images with their class names:

# %%
fig, axes = plt.subplots(3, 8, figsize=(10, 4.4))
for i, ax in enumerate(axes.flat):
    ax.imshow(X_train[i, 0].cpu(), cmap="gray")
    ax.set_title(CLASSES[y_train[i]], fontsize=8)
    ax.axis("off")
fig.suptitle("Fashion-MNIST training images")
show(fig, "samples.png")

# %% [markdown]
# ### Augmentation and batches
#
# Each training batch is augmented on the fly: a random horizontal flip (clothes are
# left-right symmetric) and a random shift of up to 2 pixels (pad by 2 with black, crop
# 28x28 back). Both are done for the whole batch with one `gather`, which costs about a
# millisecond per batch. Validation and test images are never augmented.

# %% tags=["pipeline"]
def augment(x, generator, pad=2):
    """Random horizontal flip and random shift by up to `pad` pixels.

    x: (N, 1, H, W) images. Returns a new (N, 1, H, W) tensor; the border shows black (0).
    """
    n, _, h, w = x.shape
    wp = w + 2 * pad
    padded = F.pad(x.view(n, h, w), (pad, pad, pad, pad)).view(n, -1)
    opts = dict(generator=generator, device=x.device)
    dy = torch.randint(0, 2 * pad + 1, (n, 1, 1), **opts)
    dx = torch.randint(0, 2 * pad + 1, (n, 1, 1), **opts)
    flip = torch.rand(n, 1, 1, **opts) < 0.5
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    cols = torch.where(flip, w - 1 - cols, cols)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    index = (dy + rows) * wp + dx + cols
    return padded.gather(1, index.view(n, h * w)).view(n, 1, h, w)


def normalize(x):
    """Standardize (N, 1, 28, 28) images with the training statistics, channels-last layout."""
    return ((x - MEAN) / STD).contiguous(memory_format=torch.channels_last)


def batches(X, y, batch_size, generator=None, train=False):
    """Yield (images (B, 1, 28, 28), labels (B,)) minibatches, normalized.

    train=True shuffles with `generator` and augments; otherwise the order is kept.
    """
    order = torch.randperm(len(X), generator=generator, device=X.device) if train else None
    for start in range(0, len(X), batch_size):
        if train:
            idx = order[start:start + batch_size]
            xb, yb = augment(X[idx], generator), y[idx]
        else:
            xb, yb = X[start:start + batch_size], y[start:start + batch_size]
        yield normalize(xb), yb


# %% [markdown]
# ## The architecture
#
# Describe your network (its layers and why you chose them):
# <!-- BEGIN SOLUTION -->
# A VGG-style network: 3x3 convolutions, each followed by batch normalization and a ReLU,
# in three stages that each end with a 2x2 max-pool (28 -> 14 -> 7 -> 3 pixels), then
# dropout and a linear layer to the 10 class scores. On a CPU the cost of a convolution
# grows with the image area, so the 28x28 stage has a single convolution and the network
# spends its capacity at 14x14 and 7x7, where two convolutions per stage see a large
# enough neighbourhood (the receptive field of the last one covers the whole image).
# <!-- END SOLUTION -->

# %% tags=["model"]
class FashionCNN(nn.Module):
    """CNN for 28x28 grayscale images.

    Input: x (N, 1, 28, 28) normalized images. Output: (N, num_classes) class scores (logits).
    """

    def __init__(self, widths=(32, 64, 128), num_classes=10, dropout=0.2):
        super().__init__()
        # BEGIN SOLUTION: define the layers
        # stage 1 (28x28): conv 1 -> c1, pool                 -> (c1, 14, 14)
        # stage 2 (14x14): conv c1 -> c2, conv c2 -> c2, pool -> (c2, 7, 7)
        # stage 3 (7x7):   conv c2 -> c3, conv c3 -> c3, pool -> (c3, 3, 3)
        # head: flatten, dropout, linear c3*3*3 -> num_classes
        # Every conv is 3x3 with padding 1, no bias, followed by BatchNorm2d and ReLU.
        c1, c2, c3 = widths
        self.features = nn.Sequential(
            *self.conv_bn_relu(1, c1), nn.MaxPool2d(2),
            *self.conv_bn_relu(c1, c2), *self.conv_bn_relu(c2, c2), nn.MaxPool2d(2),
            *self.conv_bn_relu(c2, c3), *self.conv_bn_relu(c3, c3), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(c3 * 3 * 3, num_classes)
        )
        # END SOLUTION

    @staticmethod
    def conv_bn_relu(in_channels, out_channels):
        """A 3x3 conv (same size output), BatchNorm and ReLU, as a list of 3 modules."""
        return [
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        ]

    def forward(self, x):
        # BEGIN SOLUTION: the forward pass, returning the (N, num_classes) scores
        return self.classifier(self.features(x))
        # END SOLUTION


# %%
model = FashionCNN()
with contextlib.redirect_stdout(io.StringIO()) as table:
    summary(model, (1, 28, 28), device="cpu")
print(table.getvalue())
architecture = [
    [m[1], json.loads(m[2]), int(m[3].replace(",", ""))]
    for m in re.finditer(r"^\s*(\S+)\s+(\[[-\d, ]+\])\s+([\d,]+)\s*$", table.getvalue(), re.M)
]
num_parameters = sum(p.numel() for p in model.parameters())
print(f"{num_parameters:,} trainable parameters")
model = model.to(DEVICE, memory_format=torch.channels_last)

# %% [markdown]
# ## Optimizer, loss and schedule
#
# Batch size, epochs and peak rate come from the setting (printed in the parameters cell).
# With `USE_BF16` the forward pass runs under `torch.autocast(..., dtype=torch.bfloat16)`:
# convolutions and the linear layer compute in bfloat16, while the weights, the gradients
# they accumulate into, BatchNorm statistics and the optimizer stay float32.
#
# Describe your optimizer, learning-rate schedule and loss:
# <!-- BEGIN SOLUTION -->
# * **SGD with Nesterov momentum 0.9** and **weight decay** (the L2 strength:
#   `weight_decay` adds `weight_decay * w` to every gradient, i.e. an L2 penalty of
#   `weight_decay / 2 * ||w||^2`).
# * **One-cycle learning rate**: warm up from `lr / 25` to the peak `lr` over the first
#   25% of the iterations, then anneal to almost 0. It lets a short run use a large rate.
# * **Cross-entropy with label smoothing 0.1**: the target puts 0.9 on the true class and
#   spreads 0.1 over all classes, which keeps the network from becoming over-confident.
# <!-- END SOLUTION -->

# %%
# BEGIN SOLUTION: the optimizer, its learning-rate schedule and the loss (criterion)
optimizer = torch.optim.SGD(model.parameters(), lr=HP["lr"], momentum=0.9, nesterov=True,
                            weight_decay=HP["weight_decay"])
steps_per_epoch = math.ceil(len(X_train) / HP["batch_size"])
scheduler = torch.optim.lr_scheduler.OneCycleLR(
    optimizer, max_lr=HP["lr"], total_steps=HP["epochs"] * steps_per_epoch, pct_start=0.25)
criterion = nn.CrossEntropyLoss(label_smoothing=HP["label_smoothing"])
# END SOLUTION
print(optimizer)
print(f"{HP['epochs']} epochs x {steps_per_epoch} iterations of batch {HP['batch_size']}")

# %% [markdown]
# ## Training
#
# One epoch = one pass over the 50,000 training images in a new random order. After every
# epoch the network is evaluated on the validation split (in `inference_mode`, with
# BatchNorm in eval mode). The training loss and accuracy are recorded at every iteration.

# %%
def train_one_epoch(model, X, y, generator, history, progress):
    """One pass over (X, y) in shuffled, augmented minibatches; returns (mean loss, accuracy)."""
    model.train()
    total_loss, correct = 0.0, 0
    for images, labels in batches(X, y, HP["batch_size"], generator, train=True):
        # BEGIN SOLUTION: one optimization step on (images, labels) that sets scores and loss
        optimizer.zero_grad(set_to_none=True)
        with autocast():
            scores = model(images)
            loss = criterion(scores, labels)
        loss.backward()
        optimizer.step()
        scheduler.step()
        # END SOLUTION
        batch_correct = (scores.argmax(1) == labels).sum().item()
        history["iter_loss"].append(loss.item())
        history["iter_accuracy"].append(batch_correct / len(labels))
        total_loss += loss.item() * len(labels)
        correct += batch_correct
        progress.update(len(labels))
        progress.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
    return total_loss / len(X), correct / len(X)


def evaluate(model, X, y, batch_size=1000):
    """Return (mean loss, accuracy, predictions (N,)) of the model on (X, y), no augmentation."""
    model.eval()
    total_loss, predictions = 0.0, []
    with torch.inference_mode():
        for images, labels in batches(X, y, batch_size):
            with autocast():
                scores = model(images).float()
            total_loss += F.cross_entropy(scores, labels, reduction="sum").item()
            predictions.append(scores.argmax(1))
    predictions = torch.cat(predictions)
    return total_loss / len(X), (predictions == y).float().mean().item(), predictions


# %%
history = {key: [] for key in ("iter_loss", "iter_accuracy", "train_loss", "train_accuracy",
                               "val_loss", "val_accuracy", "epoch_seconds")}
generator = torch.Generator(device=DEVICE).manual_seed(SEED)
start = time.perf_counter()
for epoch in range(1, HP["epochs"] + 1):
    with tqdm(total=len(X_train), desc=f"epoch {epoch}/{HP['epochs']}", unit="img",
              file=sys.stdout, mininterval=10 if IN_NOTEBOOK else 1, ncols=90) as progress:
        train_loss, train_acc = train_one_epoch(model, X_train, y_train, generator, history,
                                                progress)
    val_loss, val_acc, _ = evaluate(model, X_val, y_val)
    elapsed = time.perf_counter() - start
    for key, value in (("train_loss", train_loss), ("train_accuracy", train_acc),
                       ("val_loss", val_loss), ("val_accuracy", val_acc),
                       ("epoch_seconds", elapsed)):
        history[key].append(value)
    print(f"epoch {epoch:2d}: train loss {train_loss:.4f} acc {train_acc:.4f} | "
          f"val loss {val_loss:.4f} acc {val_acc:.4f} | {elapsed:6.1f} s")
train_seconds = time.perf_counter() - start
print(f"training took {train_seconds:.1f} s ({len(X_train) * HP['epochs'] / train_seconds:.0f} "
      "images/s including validation)")

# %% [markdown]
# ### Accuracy and loss across iterations
#
# The light curves are the per-iteration training values (on augmented batches, with
# dropout on, so a bit worse than the network really is); the dark ones are their running
# mean; the dots are the validation values after each epoch. The training loss includes the
# label smoothing, so it cannot go below about 0.5 even for perfect predictions; the
# validation loss is the plain cross-entropy.

# %%
def running_mean(values, window):
    """Trailing mean over `window` values (shorter at the start); values: 1-D sequence."""
    values = np.asarray(values, dtype=float)
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (cumsum[1:] - cumsum[np.arange(1, len(values) + 1) - counts]) / counts


iterations = np.arange(1, len(history["iter_loss"]) + 1)
epoch_ends = steps_per_epoch * np.arange(1, HP["epochs"] + 1)
window = max(1, steps_per_epoch // 4)
fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(12, 4))
for ax, key, label in ((ax_acc, "accuracy", "accuracy"), (ax_loss, "loss", "loss")):
    ax.plot(iterations, history[f"iter_{key}"], color="tab:blue", alpha=0.2, lw=0.8)
    ax.plot(iterations, running_mean(history[f"iter_{key}"], window), color="tab:blue",
            label=f"training {label} (running mean)")
    ax.plot(epoch_ends, history[f"val_{key}"], "o-", color="tab:orange",
            label=f"validation {label}")
    ax.set_xlabel("iteration")
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
    ax.legend()
ax_acc.set_ylim(max(0.0, min(history["val_accuracy"]) - 0.1), 1.0)
ax_loss.set_ylim(0, max(1.0, 1.2 * max(history["val_loss"])))
fig.suptitle(f"FashionCNN, setting {SETTING!r}: {train_seconds:.0f} s of training")
show(fig, "curves.png")

# %% [markdown]
# ## Test accuracy
#
# The test set is used once, here, with the final weights.

# %%
test_loss, test_accuracy, test_predictions = evaluate(model, X_test, y_test)
print(f"TEST ACCURACY: {test_accuracy:.4f} ({round(test_accuracy * len(y_test))}/{len(y_test)}), "
      f"test loss {test_loss:.4f}")

# %% [markdown]
# ### Confusion matrix
#
# Row = true class, column = predicted class, on the test set. Most errors are among the
# upper-body garments (T-shirt/top, pullover, coat and above all shirt).

# %%
confusion = torch.zeros(10, 10, dtype=torch.int64)
confusion.index_put_((y_test.cpu(), test_predictions.cpu()), torch.ones(len(y_test), dtype=torch.int64),
                     accumulate=True)
fig, ax = plt.subplots(figsize=(7.5, 6.5))
image = ax.imshow(confusion, cmap="Blues")
for i in range(10):
    for j in range(10):
        ax.text(j, i, int(confusion[i, j]), ha="center", va="center", fontsize=8,
                color="white" if confusion[i, j] > confusion.max() / 2 else "black")
ax.set_xticks(range(10), CLASSES, rotation=45, ha="right")
ax.set_yticks(range(10), CLASSES)
ax.set_xlabel("predicted class")
ax.set_ylabel("true class")
ax.set_title(f"Test confusion matrix (accuracy {test_accuracy:.4f})")
fig.colorbar(image, ax=ax)
show(fig, "confusion.png")
per_class = confusion.diag() / confusion.sum(1).clamp(min=1)
print("per-class test accuracy:", {c: round(a.item(), 3) for c, a in zip(CLASSES, per_class, strict=True)})

# %% [markdown]
# ### Misclassified test images
#
# Titles read "true -> predicted". Many of them are hard even for a person.

# %%
wrong = (test_predictions != y_test).nonzero().flatten().cpu()
fig, axes = plt.subplots(3, 8, figsize=(12, 5.2))
for ax, i in zip(axes.flat, wrong[:len(axes.flat)].tolist(), strict=False):
    ax.imshow(X_test[i, 0].cpu(), cmap="gray")
    ax.set_title(f"{CLASSES[y_test[i]]}\n-> {CLASSES[test_predictions[i]]}", fontsize=8)
for ax in axes.flat:
    ax.axis("off")
fig.suptitle(f"{len(wrong)} of {len(y_test)} test images misclassified; the first {min(len(wrong), 24)}")
show(fig, "misclassified.png")

# %% [markdown]
# ## Summary
#
# Written to `RESULTS_DIR/summary.json` for the report generator.

# %%
summary_data = {
    "setting": SETTING,
    "smoke": SMOKE,
    "device": str(DEVICE),
    "bf16": USE_BF16,
    "hyperparameters": HP,
    "architecture": architecture,
    "num_parameters": num_parameters,
    "num_train": len(X_train),
    "num_val": len(X_val),
    "num_test": len(X_test),
    "test_accuracy": test_accuracy,
    "test_loss": test_loss,
    "train_seconds": train_seconds,
    "epoch_seconds": history["epoch_seconds"],
    "train_accuracy": history["train_accuracy"],
    "train_loss": history["train_loss"],
    "val_accuracy": history["val_accuracy"],
    "val_loss": history["val_loss"],
}
(results_dir / "summary.json").write_text(json.dumps(summary_data, indent=2))
print(f"wrote {results_dir / 'summary.json'}: test accuracy {test_accuracy:.4f} after "
      f"{train_seconds:.0f} s of training ({HP['epochs']} epochs, {num_parameters:,} parameters)")
