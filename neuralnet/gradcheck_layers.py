"""Task 2 check: compare every backward pass and loss gradient of layers.py with numeric ones.

    python neuralnet/gradcheck_layers.py          (or: cd neuralnet && python gradcheck_layers.py)

Works in float64 with fourth-order centred differences. Prints the max relative error of
each gradient and exits with status 1 unless every error is below 1e-9.
The helpers here (numeric_gradient, rel_error, run_checks) are reused by
gradcheck_classifier.py.
"""

import sys

import numpy as np
from layers import (
    fc_backward,
    fc_forward,
    l2_loss,
    l2_regularization,
    relu_backward,
    relu_forward,
    softmax_loss,
)

TOLERANCE = 1e-9
STEP = 1e-3


def numeric_gradient(f, x, h=STEP):
    """
    Gradient of the scalar function f() with respect to the array x, which f reads.

    Each entry of x is moved in place by -2h, -h, +h, +2h and restored; the derivative is
    (-f(+2h) + 8 f(+h) - 8 f(-h) + f(-2h)) / 12h, a centred difference that is exact for
    polynomials up to degree 4 (so for every linear or quadratic layer).

    Inputs:
    - f: function of no arguments returning a float
    - x: float64 array read by f

    Returns:
    - grad: array shaped like x
    """
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        original = x[idx]
        values = []
        for offset in (2 * h, h, -h, -2 * h):
            x[idx] = original + offset
            values.append(f())
        x[idx] = original
        # differences first: equal values then cancel exactly
        grad[idx] = (8 * (values[1] - values[2]) - (values[0] - values[3])) / (12 * h)
    return grad


def rel_error(analytic, numeric):
    """
    Max over entries of |a - n| / max(|a| + |n|, 1e-8): the relative error, except that
    entries which are 0 up to rounding are compared by their absolute difference.
    """
    analytic, numeric = np.asarray(analytic), np.asarray(numeric)
    if analytic.shape != numeric.shape:
        raise ValueError(f"gradient has shape {analytic.shape}, expected {numeric.shape}")
    denominator = np.maximum(np.abs(analytic) + np.abs(numeric), 1e-8)
    return float(np.max(np.abs(analytic - numeric) / denominator))


def away_from_zero(rng, shape, margin=0.1):
    """Random values with |value| >= margin, so steps of 2 * STEP never cross a ReLU kink."""
    return rng.choice([-1.0, 1.0], size=shape) * (margin + np.abs(rng.standard_normal(shape)))


def check_fc(rng):
    """Returns [(gradient name, analytic, numeric)] for fc_forward/fc_backward."""
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    upstream = rng.standard_normal((5, 3))
    out, cache = fc_forward(x, w, b)
    grads = fc_backward(upstream, cache)

    def f():
        return np.sum(fc_forward(x, w, b)[0] * upstream)

    return [(name, grad, numeric_gradient(f, array))
            for name, grad, array in zip(("x", "w", "b"), grads, (x, w, b), strict=True)]


def check_relu(rng):
    """Returns [(gradient name, analytic, numeric)] for relu_forward/relu_backward."""
    x = away_from_zero(rng, (5, 4))
    upstream = rng.standard_normal((5, 4))
    _, cache = relu_forward(x)
    grad_x = relu_backward(upstream, cache)
    return [("x", grad_x, numeric_gradient(lambda: np.sum(relu_forward(x)[0] * upstream), x))]


def check_l2_loss(rng):
    """Returns [(gradient name, analytic, numeric)] for l2_loss."""
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    _, grad_x = l2_loss(x, y)
    return [("x", grad_x, numeric_gradient(lambda: l2_loss(x, y)[0], x))]


def check_softmax_loss(rng):
    """Returns [(gradient name, analytic, numeric)] for softmax_loss."""
    x = rng.standard_normal((5, 4))
    y = rng.integers(0, 4, size=5)
    _, grad_x = softmax_loss(x, y)
    return [("x", grad_x, numeric_gradient(lambda: softmax_loss(x, y)[0], x))]


def check_l2_regularization(rng):
    """Returns [(gradient name, analytic, numeric)] for l2_regularization."""
    w = rng.standard_normal((4, 3))
    _, grad_w = l2_regularization(w, 0.7)
    return [("w", grad_w, numeric_gradient(lambda: l2_regularization(w, 0.7)[0], w))]


CHECKS = (
    ("fc", check_fc),
    ("relu", check_relu),
    ("l2_loss", check_l2_loss),
    ("softmax_loss", check_softmax_loss),
    ("l2_regularization", check_l2_regularization),
)


def run_checks(title, checks, tolerance, seed=0):
    """
    Run each (name, check) of `checks` and print one row per gradient.

    A check that raises NotImplementedError is reported as "not implemented"; any other
    exception is reported in one line, and the remaining checks still run.

    Returns a tuple of:
    - failed: names of the failed checks or gradients (empty if all passed)
    - count: number of gradients compared
    """
    print(f"{title} (float64, centred differences, tolerance {tolerance:g})")
    header = f"{'check':<20}{'gradient':<10}{'max rel error':>14}  result"
    print(header)
    print("-" * len(header))
    failed, count = [], 0
    for name, check in checks:
        try:
            results = check(np.random.default_rng(seed))
        except NotImplementedError:
            print(f"{name:<20}{'-':<10}{'not implemented':>14}  FAIL")
            failed.append(name)
            continue
        except Exception as err:  # a bug in the code under test: report it, run the rest
            print(f"{name:<20}{'-':<10}  error: {type(err).__name__}: {err}  FAIL")
            failed.append(name)
            continue
        for grad_name, analytic, numeric in results:
            count += 1
            try:
                error = rel_error(analytic, numeric)
            except ValueError as err:
                print(f"{name:<20}{grad_name:<10}  error: {err}  FAIL")
                failed.append(f"{name}.{grad_name}")
                continue
            ok = error < tolerance
            print(f"{name:<20}{grad_name:<10}{error:>14.2e}  {'PASS' if ok else 'FAIL'}")
            if not ok:
                failed.append(f"{name}.{grad_name}")
    return failed, count


def summarize(script, failed, count):
    """Print the PASS/FAIL summary line; return the exit status."""
    if failed:
        print(f"{script}: FAIL ({', '.join(failed)})")
        return 1
    print(f"{script}: PASS (all {count} gradients)")
    return 0


def main():
    failed, count = run_checks("Task 2: gradient check of layers.py", CHECKS, TOLERANCE)
    return summarize("gradcheck_layers", failed, count)


if __name__ == "__main__":
    sys.exit(main())
