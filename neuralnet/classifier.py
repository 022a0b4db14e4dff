"""The Classifier interface shared by LinearClassifier and TwoLayerNet.

A classifier owns a dict of named parameter arrays. `forward` computes class scores and a
cache, `backward` turns the gradient of the loss with respect to the scores into a dict of
parameter gradients with the same keys. The loss and the update rule live elsewhere
(layers.py, optim.py, train.py), as in CS231n.
"""

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np


class Classifier(ABC):
    """
    Base class. Subclasses keep their parameters as they like, in `self.params` (name ->
    array) or as attributes (`self.W1`), write parameters() returning them by name, and write
    forward/backward. When they live in `self.params`, `model.W1` reads `self.params["W1"]`
    too, so code written either way works with either model.
    """

    params: dict

    def parameters(self):
        """
        Returns the model's own dict name -> array (not a copy): updating its arrays in
        place, or assigning new arrays to its keys, updates the model.
        """
        return self.params

    def __getattr__(self, name):
        """`model.W1` for a parameter kept in self.params (called only for a name that is not
        an attribute)."""
        params = self.__dict__.get("params")
        if isinstance(params, dict) and name in params:
            return params[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @abstractmethod
    def forward(self, X):
        """
        Inputs:
        - X: (N, D) batch of examples

        Returns a tuple of:
        - scores: (N, C) class scores
        - cache: whatever backward needs
        """

    @abstractmethod
    def backward(self, grad_scores, cache):
        """
        Inputs:
        - grad_scores: (N, C) gradient of the loss with respect to the scores
        - cache: from forward

        Returns:
        - grads: dict with the same keys as parameters(), each gradient shaped like its
          parameter
        """

    def predict(self, X):
        """
        Inputs:
        - X: (N, D) batch of examples

        Returns:
        - y_pred: (N,) int64 predicted labels (index of the highest score)
        """
        scores, _ = self.forward(X)
        return np.argmax(scores, axis=1)

    def save(self, path):
        """Write the parameters to `path` (exactly that name) as an .npz archive."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            np.savez(f, **self.parameters())

    def load(self, path):
        """
        Read parameters written by `save` into this model, in place (arrays keep their
        identity and dtype, so an optimizer holding them stays valid).

        Raises FileNotFoundError if `path` does not exist and ValueError if it is not an
        .npz archive or its names or shapes do not match this model's parameters.
        """
        self._copy_in(load_arrays(path), path)

    def _copy_in(self, arrays, path):
        """
        Copy `arrays` (dict name -> array, read from `path`) into the parameters, in place.
        Raises ValueError naming `path`, and changes nothing, if names or shapes differ.
        """
        params = self.parameters()
        problems = describe_mismatch(params, arrays)
        if problems:
            raise ValueError(
                f"checkpoint {path} does not fit {type(self).__name__}: " + "; ".join(problems)
            )
        for name, value in arrays.items():
            params[name][...] = value


def load_arrays(path):
    """
    Read an .npz archive written by Classifier.save.

    Returns:
    - arrays: dict name -> numpy array
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"checkpoint file {path} not found (train a model first, or check the path)"
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (ValueError, OSError) as err:
        raise ValueError(f"{path} is not a parameter archive written by save(): {err}") from err


def describe_mismatch(expected, found):
    """
    Compare two dicts name -> array by names and shapes.

    Returns:
    - problems: list of human-readable differences (empty if they match)
    """
    problems = []
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing:
        problems.append(f"missing parameters {missing}")
    if extra:
        problems.append(f"unexpected parameters {extra}")
    for name in sorted(set(expected) & set(found)):
        if expected[name].shape != found[name].shape:
            problems.append(
                f"{name} has shape {found[name].shape} in the file but "
                f"{expected[name].shape} in the model"
            )
    return problems


def check_positive_int(owner, name, value):
    """Raise ValueError unless `value` is an int > 0 (a constructor argument)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}")


def check_positive_float(owner, name, value):
    """Raise ValueError unless `value` is a finite number > 0 (a constructor argument)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a finite number > 0, got {value!r}")


def check_float_dtype(owner, dtype):
    """Return np.dtype(dtype), raising ValueError unless it is float32 or float64."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"{owner}: dtype must be float32 or float64, got {dtype}")
    return dtype


def random_weights(rng, shape, weight_scale, dtype):
    """
    Returns a `shape` array of normal samples with standard deviation weight_scale, drawn
    directly in `dtype` (no float64 temporary).
    """
    return rng.standard_normal(shape, dtype=dtype) * dtype.type(weight_scale)


def as_batch(owner, X, input_dim):
    """
    Check a batch of examples and flatten images to rows.

    Inputs:
    - X: (N, input_dim) array, or (N, d1, d2, ...) with d1 * d2 * ... == input_dim

    Returns:
    - X as an (N, input_dim) array (a view when X is contiguous)
    """
    if not isinstance(X, np.ndarray):
        raise ValueError(f"{owner}: X must be a numpy array, got {type(X).__name__}")
    if X.ndim < 2:
        raise ValueError(
            f"{owner}: X must have shape (N, {input_dim}), got shape {X.shape}; "
            "for a single example use X[None]"
        )
    if X.ndim > 2:
        X = X.reshape(X.shape[0], int(np.prod(X.shape[1:])))
    if X.shape[1] != input_dim:
        raise ValueError(
            f"{owner}: X has shape {X.shape} but the model expects {input_dim} features per "
            f"example, i.e. shape (N, {input_dim})"
        )
    return X
