"""Task 3 check: compare the parameter gradients of LinearClassifier and TwoLayerNet with
numeric ones.

    python neuralnet/gradcheck_classifier.py
    cd neuralnet && python gradcheck_classifier.py        (same thing)

Each model is built in float64 and checked on f = sum(scores * G) for a random upstream
gradient G, so backward(G, cache) must equal the numeric gradient of f. Prints the max
relative error of each parameter's gradient and exits with status 1 unless every error is
below 1e-10.
"""

import sys

import numpy as np
from gradcheck_layers import numeric_gradient, run_checks, summarize
from linear_classifier import LinearClassifier
from two_layer_net import TwoLayerNet

TOLERANCE = 1e-10
INPUT_DIM, NUM_CLASSES, HIDDEN_DIM, BATCH = 6, 4, 5, 4
# The scores are piecewise linear in each single parameter, so a large step is exact and
# keeps rounding errors small; MARGIN (min |hidden pre-activation|) keeps the steps of up
# to 2 * STEP * (|x| + 1) from crossing a ReLU kink.
STEP = 1e-2
MARGIN = 0.3


def model_gradients(model, X, rng):
    """
    Returns [(parameter name, analytic, numeric)] for f = sum(model.forward(X)[0] * G).
    """
    scores, cache = model.forward(X)
    upstream = rng.standard_normal(scores.shape)
    grads = model.backward(upstream, cache)
    if set(grads) != set(model.parameters()):
        raise ValueError(f"backward returned keys {sorted(grads)}, "
                         f"expected {sorted(model.parameters())}")

    def f():
        return np.sum(model.forward(X)[0] * upstream)

    return [(name, grads[name], numeric_gradient(f, param, h=STEP))
            for name, param in model.parameters().items()]


def check_linear(rng):
    """Returns [(parameter name, analytic, numeric)] for a float64 LinearClassifier."""
    model = LinearClassifier(INPUT_DIM, NUM_CLASSES, weight_scale=1.0, dtype=np.float64,
                             seed=int(rng.integers(1 << 31)))
    return model_gradients(model, rng.standard_normal((BATCH, INPUT_DIM)), rng)


def check_two_layer_net(rng):
    """
    Returns [(parameter name, analytic, numeric)] for a float64 TwoLayerNet, on a batch whose
    hidden pre-activations all lie at least MARGIN away from 0 (redrawn until they do).
    """
    model = TwoLayerNet(INPUT_DIM, NUM_CLASSES, HIDDEN_DIM, weight_scale=1.0,
                        dtype=np.float64, seed=int(rng.integers(1 << 31)))
    p = model.parameters()
    p["b1"][...] = rng.standard_normal(HIDDEN_DIM)
    p["b2"][...] = rng.standard_normal(NUM_CLASSES)
    for _ in range(1000):
        X = rng.standard_normal((BATCH, INPUT_DIM))
        if np.max(np.abs(X)) < 5 and np.min(np.abs(X @ p["W1"] + p["b1"])) > MARGIN:
            return model_gradients(model, X, rng)
    raise RuntimeError("could not draw a batch away from the ReLU kinks")


CHECKS = (
    ("LinearClassifier", check_linear),
    ("TwoLayerNet", check_two_layer_net),
)


def main():
    failed, count = run_checks("Task 3: gradient check of the classifiers", CHECKS, TOLERANCE)
    return summarize("gradcheck_classifier", failed, count)


if __name__ == "__main__":
    sys.exit(main())
