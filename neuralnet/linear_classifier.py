"""A linear classifier: scores = X @ W + b, built from layers.py (the worked example)."""

import numpy as np
from classifier import (
    Classifier,
    as_batch,
    check_float_dtype,
    check_positive_float,
    check_positive_int,
    random_weights,
)
from layers import fc_backward, fc_forward


class LinearClassifier(Classifier):
    """
    scores = X @ W + b with parameters W: (input_dim, num_classes), b: (num_classes,).
    """

    def __init__(self, input_dim=3072, num_classes=10, weight_scale=1e-3, *, dtype=np.float64,
                 seed=None):
        """
        Inputs:
        - input_dim: D, features per example
        - num_classes: C
        - weight_scale: standard deviation of the normal initial weights (bias starts at 0)
        - dtype: float32 or float64
        - seed: seed of the random initialization, or None
        """
        check_positive_int("LinearClassifier", "input_dim", input_dim)
        check_positive_int("LinearClassifier", "num_classes", num_classes)
        check_positive_float("LinearClassifier", "weight_scale", weight_scale)
        dtype = check_float_dtype("LinearClassifier", dtype)
        self.input_dim, self.num_classes = input_dim, num_classes
        rng = np.random.default_rng(seed)
        self.params = {
            "W": random_weights(rng, (input_dim, num_classes), weight_scale, dtype),
            "b": np.zeros(num_classes, dtype=dtype),
        }

    def forward(self, X):
        """
        Inputs:
        - X: (N, input_dim) batch (images (N, ...) are flattened)

        Returns a tuple of:
        - scores: (N, num_classes)
        - cache: the fc layer's cache
        """
        X = as_batch("LinearClassifier.forward", X, self.input_dim)
        return fc_forward(X, self.params["W"], self.params["b"])

    def backward(self, grad_scores, cache):
        """
        Inputs:
        - grad_scores: (N, num_classes) gradient of the loss with respect to the scores
        - cache: from forward

        Returns:
        - grads: dict with keys W, b
        """
        # fc_backward(grad_out, cache): the layers' original signature, nothing more
        _, grad_W, grad_b = fc_backward(grad_scores, cache)
        return {"W": grad_W, "b": grad_b}
