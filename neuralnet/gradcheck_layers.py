"""Task 2 check: the functions of layers.py you write against expected values and numeric
gradients (l2_loss is given).

    python neuralnet/gradcheck_layers.py          (or: cd neuralnet && python gradcheck_layers.py)

For each function and input case it compares what your code returns with the expected
values in neuralnet-data.pkl (written from a correct solution), and each gradient with
fourth-order centred differences of your own forward pass. A failure names the first
differing entry (expected vs got) and, where the numbers show it, the likely mistake; an
exception names the line of your code that raised it. Exits with status 1 unless
everything passed. When a model fails, gradcheck_classifier.py and check_training_step.py
run CHECKS on the layers it uses and name a failing one as the likely cause. ReLU has no
derivative at exactly 0: there relu_backward may give 0 (mask x > 0) or grad_out (x >= 0).
"""

import sys

import numpy as np
from checks import (
    call,
    copies,
    load_data,
    run_checks,
    student_imports,
    summarize,
    unpack,
)
from gradient_check import CheckFailed, allow_relu_kink, compare, gradient_problem, matches
from net_contract import as_shape

with student_imports(__name__):
    from layers import (
        fc_backward,
        fc_forward,
        l2_regularization,
        relu_backward,
        relu_forward,
        softmax_loss,
    )


def away_from_zero(rng, shape, margin=0.1):
    """Random values with |value| >= margin, so steps of 2 * STEP never cross a ReLU kink."""
    return rng.choice([-1.0, 1.0], size=shape) * (margin + np.abs(rng.standard_normal(shape)))


def check_fc_forward(case):
    """Each check_* takes one case of its function's data and returns a tuple of:
    - problems: messages, None for each thing that was right
    - error: max relative gradient error against numeric differences, or None
    """
    x = copies(case["inputs"])
    out, _ = unpack("fc_forward", call("fc_forward", fc_forward, x["x"], x["w"], x["b"]),
                    ("out", "cache"))
    problem = compare("out", case["outputs"]["out"], out)
    if problem and matches(case["outputs"]["out"] - case["inputs"]["b"], out):
        problem = "out: the bias b is not added"
    return [problem], None


def forward_cache(what, forward, args, documented):
    """
    The cache of your forward pass on `args`; if that forward pass fails, the cache its
    docstring documents (`documented`), so that the backward pass is still checked.

    Returns a tuple of:
    - cache
    - ok: False if the forward pass failed (then the numeric check is skipped)
    """
    try:
        return unpack(what, call(what, forward, *args), ("out", "cache"))[1], True
    except CheckFailed:
        return documented, False


def check_fc_backward(case):
    """fc_backward with the cache of your fc_forward (or the documented one).
    Returns (problems, error) like check_fc_forward."""
    x = copies(case["inputs"])
    cache, forward_ok = forward_cache("fc_forward", fc_forward, (x["x"], x["w"], x["b"]),
                                      (x["x"], x["w"], x["b"]))
    grads = unpack("fc_backward", call("fc_backward", fc_backward, x["grad_out"], cache),
                   ("grad_x", "grad_w", "grad_b"))
    grads = (*grads[:2], as_shape(grads[2], x["b"].shape))  # a (1, Dout) grad_b is fine
    hints = {"batch_mean": "expected / N (N = {n}): grad_b sums grad_out over the batch"}
    problems = [compare(name, case["outputs"][name], grad, len(x["x"]), hints)
                for name, grad in zip(("grad_x", "grad_w", "grad_b"), grads, strict=True)]
    if any(problems) or not forward_ok:
        return problems, None
    upstream = x["grad_out"]

    def f():
        return np.sum(call("fc_forward", fc_forward, x["x"], x["w"], x["b"])[0] * upstream)

    blame = "fc_backward gives the expected values, so fc_forward is wrong"
    errors = [gradient_problem(f"fc_backward {name}", grad, f, array, blame=blame)
              for name, grad, array in zip(("grad_x", "grad_w", "grad_b"), grads,
                                           (x["x"], x["w"], x["b"]), strict=True)]
    return [problem for _, problem in errors], max(error for error, _ in errors)


def check_relu_forward(case):
    """Returns (problems, None) like check_fc_forward."""
    x = copies(case["inputs"])
    out, _ = unpack("relu_forward", call("relu_forward", relu_forward, x["x"]), ("out", "cache"))
    return [compare("out", case["outputs"]["out"], out)], None


def check_relu_backward(case):
    """relu_backward on inputs with exact zeros (where 0 and grad_out are both right, see
    allow_relu_kink); the numeric check away from them.
    Returns (problems, error) like check_fc_forward."""
    x = copies(case["inputs"])
    cache, forward_ok = forward_cache("relu_forward", relu_forward, (x["x"],), x["x"])
    grad = call("relu_backward", relu_backward, x["grad_out"], cache)
    expected = allow_relu_kink(case["outputs"]["grad_x"], grad, case["inputs"]["x"] == 0,
                               case["inputs"]["grad_out"])
    problem = compare("grad_x", expected, grad)
    if problem or not forward_ok:
        return [problem], None
    rng = np.random.default_rng(1)  # the numeric check needs points away from the kink
    z, upstream = away_from_zero(rng, expected.shape), rng.standard_normal(expected.shape)
    _, cache = unpack("relu_forward", call("relu_forward", relu_forward, z), ("out", "cache"))
    analytic = call("relu_backward", relu_backward, upstream, cache)
    error, numeric_problem = gradient_problem(
        "relu_backward", analytic,
        lambda: np.sum(call("relu_forward", relu_forward, z)[0] * upstream), z,
        blame="relu_backward gives the expected values, so relu_forward is wrong")
    return [numeric_problem], error


def check_loss(name, func, args, grad_name, case, hints, batch=True):
    """Value and gradient check of a loss func(*inputs[args]) -> (loss, grad); `batch`:
    the loss is a mean over the rows of its first argument."""
    x = copies(case["inputs"])
    loss, grad = unpack(name, call(name, func, *(x[a] for a in args)), ("loss", grad_name))
    n = len(x[args[0]]) if batch else None
    problems = [compare("loss", case["outputs"]["loss"], loss, n, hints.get("loss")),
                compare(grad_name, case["outputs"][grad_name], grad, n, hints.get("grad"))]
    if problems[1] is not None:
        return problems, None
    error, problem = gradient_problem(
        name, grad, lambda: call(name, func, *(x[a] for a in args))[0], x[args[0]])
    return problems + [problem], error


SOFTMAX_HINTS = {
    "loss": {"batch_sum": "N x expected (N = {n}): summed over the batch; the loss is the "
                          "mean over the N examples"},
    "grad": {"batch_sum": "N x expected (N = {n}): the loss is a mean over the batch, so its "
                          "gradient has a 1/N", "sign": "the sign is flipped: the gradient is "
                          "(softmax - one_hot(y)) / N"},
}
L2_REG_HINTS = {
    "loss": {"double": "2 x expected: the loss is reg / 2 * sum(w**2), not reg * sum(w**2)",
             "half": "expected / 2: the loss is reg / 2 * sum(w**2)"},
    "grad": {"double": "2 x expected: the gradient of reg / 2 * sum(w**2) is reg * w",
             "half": "expected / 2: the gradient of reg / 2 * sum(w**2) is reg * w"},
}


def check_softmax_loss(case):
    """Returns (problems, error) like check_fc_forward."""
    return check_loss("softmax_loss", softmax_loss, ("x", "y"), "grad_x", case, SOFTMAX_HINTS)


def check_l2_regularization(case):
    """Returns (problems, error) like check_fc_forward."""
    return check_loss("l2_regularization", l2_regularization, ("w", "reg"), "grad_w", case,
                      L2_REG_HINTS, batch=False)


CHECKS = (
    ("fc_forward", check_fc_forward),
    ("fc_backward", check_fc_backward),
    ("relu_forward", check_relu_forward),
    ("relu_backward", check_relu_backward),
    ("softmax_loss", check_softmax_loss),
    ("l2_regularization", check_l2_regularization),
)


def main():
    data = load_data()
    failed, count = run_checks(
        "Task 2: layers.py against neuralnet-data.pkl and numeric gradients", CHECKS, data)
    return summarize("gradcheck_layers", failed, count)


if __name__ == "__main__":
    sys.exit(main())
