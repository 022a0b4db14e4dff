"""Helpers for the training scripts: accuracy on a data set, the training plot, and the
message for a part of the homework still to write."""

from pathlib import Path

import numpy as np


def check_accuracy(model, sampler):
    """Fraction of examples that ``model`` classifies correctly.

    Inputs:
    - model: a Classifier (has ``predict(X)`` -> (N,) labels)
    - sampler: a DataSampler (or any iterable of (X_batch: (B, D), y_batch: (B,)) pairs)

    Returns:
    - accuracy: float in [0, 1] over all examples the sampler yields
    """
    num_correct, num_samples = 0, 0
    for X_batch, y_batch in sampler:
        num_correct += int((model.predict(X_batch) == y_batch).sum())
        num_samples += len(y_batch)
    if num_samples == 0:
        raise ValueError("check_accuracy: the sampler yielded no examples")
    return num_correct / num_samples


def not_written(err):
    """The message for a NotImplementedError `err` (a stub of the starter) raised while
    training: what is missing and how to check it once written."""
    return (f"error: {err}. Training needs it: write it, then check it with make check-code "
            "(or the check script of its task)")


def plot_training(loss_history, train_acc, val_acc, path, title=None):
    """Write the two-panel training plot to ``path`` (format from its suffix: .pdf, .png).

    Inputs:
    - loss_history: per-iteration training loss, length T
    - train_acc, val_acc: per-epoch accuracies in [0, 1], length E
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    loss = np.asarray(loss_history, dtype=float)
    ax_loss.plot(np.arange(1, len(loss) + 1), loss, lw=0.5, alpha=0.5, label="per batch")
    if len(loss) >= 50:  # a moving average shows the trend through the minibatch noise
        k = max(len(loss) // 50, 10)
        smooth = np.convolve(loss, np.ones(k) / k, mode="valid")
        ax_loss.plot(np.arange(k, len(loss) + 1), smooth, lw=1.5, label=f"mean of {k}")
        ax_loss.legend()
    ax_loss.set(xlabel="iteration", ylabel="training loss", title="Loss")
    epochs = np.arange(1, len(train_acc) + 1)
    ax_acc.plot(epochs, train_acc, "o-", label="train")
    ax_acc.plot(epochs, val_acc, "s-", label="validation")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    ax_acc.grid(alpha=0.3)
    ax_acc.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
