"""Checkpoints of the two-layer network: building it, saving it with its preprocessing
statistics (train.py) and rebuilding it from the saved files (test.py)."""

import inspect
from pathlib import Path

import numpy as np


def preprocessing_path(checkpoint_path):
    """Where the preprocessing statistics of a checkpoint live: X.npz -> X.preprocessing.npz."""
    checkpoint_path = Path(checkpoint_path)
    return checkpoint_path.with_name(checkpoint_path.stem + ".preprocessing.npz")


def save_checkpoint(model, path, mean, std):
    """Save the model's parameters to ``path`` (Classifier.save) and, next to it, the
    preprocessing statistics that test.py needs: mean (D,) and std (a float)."""
    model.save(path)
    with open(preprocessing_path(path), "wb") as f:
        np.savez(f, mean=np.asarray(mean, np.float32), std=np.float64(std))


def new_two_layer_net(cls, input_dim, num_classes, hidden_dim, weight_scale=1e-3, dtype=None,
                      seed=None):
    """
    cls(input_dim, num_classes, hidden_dim, weight_scale), the homework's constructor.
    dtype and seed are passed on only when cls takes them; otherwise np.random is seeded
    and the parameters keep whatever dtype cls gives them (float64 in the original).
    """
    accepted = inspect.signature(cls).parameters
    if seed is not None and "seed" not in accepted:
        np.random.seed(seed)
    extra = {name: value for name, value in (("dtype", dtype), ("seed", seed))
             if value is not None and name in accepted}
    return cls(input_dim, num_classes, hidden_dim, weight_scale, **extra)


def model_from_checkpoint(path):
    """
    Rebuild a TwoLayerNet from a file written by Classifier.save: the two 2-D arrays of more
    than one row, in the order of parameters(), are the weight matrices W1: (D, H) and
    W2: (H, C), whatever their names.

    Returns a tuple of:
    - model: the TwoLayerNet, with the saved parameters loaded
    - sizes: (input_dim D, hidden_dim H, num_classes C)
    """
    from classifier import load_arrays
    from two_layer_net import TwoLayerNet

    # a bias kept as a (1, H) row is 2-D too, but not a weight matrix
    matrices = [array for array in load_arrays(path).values()
                if array.ndim == 2 and array.shape[0] > 1]
    if len(matrices) != 2 or matrices[0].shape[1] != matrices[1].shape[0]:
        raise ValueError(f"{path} does not hold the two weight matrices of a TwoLayerNet "
                         "(2-D arrays of shapes (D, H) and (H, C))")
    (input_dim, hidden_dim), num_classes = matrices[0].shape, matrices[1].shape[1]
    model = new_two_layer_net(TwoLayerNet, input_dim, num_classes, hidden_dim,
                              dtype=matrices[0].dtype)
    model.load(path)
    return model, (input_dim, hidden_dim, num_classes)


def load_checkpoint(path):
    """Rebuild a TwoLayerNet and its preprocessing statistics from a checkpoint.

    Returns (model, sizes: (D, H, C), mean: (D,) float32, std: float); mean and std are
    None when no preprocessing file lies next to the checkpoint (a train.py written for the
    original starter saves only the model). Raises FileNotFoundError when the checkpoint is
    missing and ValueError when the files do not fit together; both name the file.
    """
    model, sizes = model_from_checkpoint(path)
    input_dim = sizes[0]
    stats_path = preprocessing_path(path)
    if not stats_path.is_file():
        return model, sizes, None, None
    try:
        with np.load(stats_path, allow_pickle=False) as stats:
            mean, std = stats["mean"], float(stats["std"])
    except (OSError, ValueError, KeyError) as err:
        raise ValueError(f"{stats_path} is not a preprocessing file written by train.py "
                         f"({err})") from None
    if mean.shape != (input_dim,) or not std > 0:
        raise ValueError(f"{stats_path} holds mean {mean.shape}, std {std}; the model in {path} "
                         f"expects mean ({input_dim},) and std > 0")
    return model, sizes, mean, std
