"""A two-layer fully-connected network: fc -> relu -> fc, built from layers.py."""

import numpy as np
from classifier import (
    Classifier,
    as_batch,
    check_float_dtype,
    check_positive_float,
    check_positive_int,
    random_weights,
)
from layers import fc_backward, fc_forward, relu_backward, relu_forward


class TwoLayerNet(Classifier):
    """
    scores = relu(X @ W1 + b1) @ W2 + b2, with parameters
    W1: (input_dim, hidden_dim), b1: (hidden_dim,), W2: (hidden_dim, num_classes),
    b2: (num_classes,). The softmax loss is applied outside (train.py).
    """

    def __init__(self, input_dim=3072, num_classes=10, hidden_dim=512, weight_scale=1e-3, *,
                 dtype=np.float64, seed=None):
        """
        Inputs:
        - input_dim: D, features per example (3072 = 32 * 32 * 3 for CIFAR-10)
        - num_classes: C
        - hidden_dim: H, width of the hidden layer
        - weight_scale: standard deviation of the normal initial weights (biases start at 0)
        - dtype: float64 (numpy's default, for gradient checks) or float32 (twice as fast;
          train.py asks for it)
        - seed: seed of the random initialization, or None
        """
        for name, value in (("input_dim", input_dim), ("num_classes", num_classes),
                            ("hidden_dim", hidden_dim)):
            check_positive_int("TwoLayerNet", name, value)
        check_positive_float("TwoLayerNet", "weight_scale", weight_scale)
        dtype = check_float_dtype("TwoLayerNet", dtype)
        self.input_dim, self.num_classes, self.hidden_dim = input_dim, num_classes, hidden_dim
        rng = np.random.default_rng(seed)
        # BEGIN SOLUTION
        self.params = {
            "W1": random_weights(rng, (input_dim, hidden_dim), weight_scale, dtype),
            "b1": np.zeros(hidden_dim, dtype=dtype),
            "W2": random_weights(rng, (hidden_dim, num_classes), weight_scale, dtype),
            "b2": np.zeros(num_classes, dtype=dtype),
        }
        # END SOLUTION

    def parameters(self):
        """
        Returns the model's own dict name -> array (W1, b1, W2, b2; not copies): the
        gradient check and the optimizer change the model through it.
        """
        # BEGIN SOLUTION
        return self.params
        # END SOLUTION

    def forward(self, X):
        """
        Inputs:
        - X: (N, input_dim) batch (images (N, ...) are flattened)

        Returns a tuple of:
        - scores: (N, num_classes)
        - cache: (fc1_cache, relu_cache, fc2_cache)
        """
        X = as_batch("TwoLayerNet.forward", X, self.input_dim)
        # BEGIN SOLUTION
        p = self.params
        hidden, fc1_cache = fc_forward(X, p["W1"], p["b1"])
        hidden, relu_cache = relu_forward(hidden)
        scores, fc2_cache = fc_forward(hidden, p["W2"], p["b2"])
        # END SOLUTION
        return scores, (fc1_cache, relu_cache, fc2_cache)

    def backward(self, grad_scores, cache):
        """
        Inputs:
        - grad_scores: (N, num_classes) gradient of the loss with respect to the scores
        - cache: from forward

        Returns:
        - grads: dict with keys W1, b1, W2, b2, each shaped like its parameter
        """
        fc1_cache, relu_cache, fc2_cache = cache
        # BEGIN SOLUTION
        grad_hidden, grad_W2, grad_b2 = fc_backward(grad_scores, fc2_cache)
        grad_hidden = relu_backward(grad_hidden, relu_cache)
        # X is data, not a parameter: skip its gradient (a third of the backward work).
        _, grad_W1, grad_b1 = fc_backward(grad_hidden, fc1_cache, compute_grad_x=False)
        # END SOLUTION
        return {"W1": grad_W1, "b1": grad_b1, "W2": grad_W2, "b2": grad_b2}
