"""Task 2: neuralnet/layers.py — values against neuralnet-data.pkl, numeric gradients,
large scores."""

import numpy as np
import pytest
from checks import copies, load_data
from gradient_check import allow_relu_kink, compare, gradient_problem
from layers import (
    fc_backward,
    fc_forward,
    l2_regularization,
    relu_backward,
    relu_forward,
    softmax_loss,
)
from net_contract import as_shape

DATA = load_data()


def cases(name):
    """pytest parameters: the cases of data[name], with their descriptions as ids."""
    return [pytest.param(case, id=case["case"]) for case in DATA[name]]


def assert_values(case, got, n=None):
    """Assert that each of `got` (dict output name -> value) equals the expected value;
    the message names the first differing entry."""
    for name, value in got.items():
        problem = compare(name, case["outputs"][name], value, n)
        assert problem is None, problem


def assert_gradient(what, analytic, f, x):
    """Assert that `analytic` equals the numeric gradient of f() with respect to x."""
    _, problem = gradient_problem(what, analytic, f, x)
    assert problem is None, problem


@pytest.mark.parametrize("case", cases("fc_forward"))
def test_fc_forward_values(case):
    x = copies(case["inputs"])
    out, _ = fc_forward(x["x"], x["w"], x["b"])
    assert_values(case, {"out": out})


@pytest.mark.parametrize("case", cases("fc_backward"))
def test_fc_backward_values(case):
    x = copies(case["inputs"])
    cache = (x["x"], x["w"], x["b"])  # fc_forward's documented cache, so fc_backward alone
    grad_x, grad_w, grad_b = fc_backward(x["grad_out"], cache)
    grad_b = as_shape(grad_b, x["b"].shape)  # a (1, Dout) row is fine
    assert_values(case, {"grad_x": grad_x, "grad_w": grad_w, "grad_b": grad_b}, len(x["x"]))


@pytest.mark.parametrize("case", cases("relu_forward"))
def test_relu_forward_values(case):
    out, _ = relu_forward(copies(case["inputs"])["x"])
    assert_values(case, {"out": out})


@pytest.mark.parametrize("case", cases("relu_backward"))
def test_relu_backward_values(case):
    x = copies(case["inputs"])
    grad_x = relu_backward(x["grad_out"], x["x"])  # the documented cache is the input x
    # x holds exact zeros, where relu has no derivative: 0 and grad_out are both right
    expected = allow_relu_kink(case["outputs"]["grad_x"], grad_x, case["inputs"]["x"] == 0,
                               case["inputs"]["grad_out"])
    problem = compare("grad_x", expected, grad_x)
    assert problem is None, problem


@pytest.mark.parametrize("case", cases("softmax_loss"))
def test_softmax_loss_values(case):
    x = copies(case["inputs"])
    loss, grad_x = softmax_loss(x["x"], x["y"])
    assert_values(case, {"loss": loss, "grad_x": grad_x}, len(x["x"]))


@pytest.mark.parametrize("case", cases("l2_regularization"))
def test_l2_regularization_values(case):
    x = copies(case["inputs"])
    loss, grad_w = l2_regularization(x["w"], x["reg"])
    assert_values(case, {"loss": loss, "grad_w": grad_w})


@pytest.mark.parametrize("case", [c for c in cases("softmax_stability")
                                  if c.values[0]["kind"] == "max"])
def test_softmax_loss_large_scores_do_not_overflow(case):
    # exact once each row's maximum is subtracted; a softmax without it returns nan here
    x = case["inputs"]["x"].astype(case["dtype"])
    loss, grad_x = softmax_loss(x, case["inputs"]["y"].copy())
    assert np.isfinite(loss) and np.all(np.isfinite(grad_x)), \
        f"softmax_loss overflows on {case['case']}: subtract each row's max before exp"
    kind = "float32" if case["dtype"] == "float32" else None  # float32 in: float32 rounding
    for name, value in (("loss", loss), ("grad_x", grad_x)):
        problem = compare(name, case["outputs"][name], value, kind=kind)
        assert problem is None, problem


def test_fc_backward_matches_numeric_gradient(rng):
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)
    g = rng.standard_normal((4, 5))
    _, cache = fc_forward(x, w, b)
    for name, analytic, array in zip(("x", "w", "b"), fc_backward(g, cache), (x, w, b),
                                     strict=True):
        assert_gradient(f"fc_backward grad_{name}", as_shape(analytic, array.shape),
                        lambda: np.sum(fc_forward(x, w, b)[0] * g), array)


def test_relu_backward_matches_numeric_gradient(rng):
    z = rng.choice([-1, 1], size=(4, 5)) * (0.1 + rng.random((4, 5)))  # away from the kink
    g = rng.standard_normal((4, 5))
    _, cache = relu_forward(z)
    assert_gradient("relu_backward", relu_backward(g, cache),
                    lambda: np.sum(relu_forward(z)[0] * g), z)


def test_losses_match_numeric_gradients(rng):
    z = rng.standard_normal((4, 5))
    labels = rng.integers(0, 5, size=4)
    assert_gradient("softmax_loss", softmax_loss(z, labels)[1],
                    lambda: softmax_loss(z, labels)[0], z)
    w = rng.standard_normal((3, 5))
    assert_gradient("l2_regularization", l2_regularization(w, 0.3)[1],
                    lambda: l2_regularization(w, 0.3)[0], w)
