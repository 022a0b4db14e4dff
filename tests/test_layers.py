"""Task 2: neuralnet/layers.py — values, gradients, dtypes, stability, input validation."""

import numpy as np
import pytest
from conftest import numeric_gradient
from layers import (
    fc_backward,
    fc_forward,
    l2_loss,
    l2_regularization,
    relu_backward,
    relu_forward,
    softmax_loss,
)


def softmax_reference(x, y):
    """Loss and gradient of the mean softmax cross-entropy, computed in float64."""
    x = x.astype(np.float64)
    log_probs = x - np.logaddexp.reduce(x, axis=1, keepdims=True)
    n = x.shape[0]
    grad = np.exp(log_probs)
    grad[np.arange(n), y] -= 1
    return -log_probs[np.arange(n), y].mean(), grad / n


# ---------------------------------------------------------------- values


def test_fc_forward_values():
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    w = np.array([[1.0, 0.0, 2.0], [0.5, -1.0, 1.0]])
    b = np.array([0.1, 0.2, 0.3])
    out, _ = fc_forward(x, w, b)
    np.testing.assert_allclose(out, [[2.1, -1.8, 4.3], [2.6, 1.2, 5.3]])


def test_fc_backward_values(rng):
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    g = rng.standard_normal((4, 2))
    cache = (x, w, b)  # the documented cache, built by hand: tests fc_backward on its own
    grad_x, grad_w, grad_b = fc_backward(g, cache)
    np.testing.assert_allclose(grad_x, g @ w.T)
    np.testing.assert_allclose(grad_w, x.T @ g)
    np.testing.assert_allclose(grad_b, g.sum(axis=0))
    skipped = fc_backward(g, cache, compute_grad_x=False)
    assert skipped[0] is None
    np.testing.assert_array_equal(skipped[1], grad_w)


def test_relu_forward_values():
    x = np.array([[-2.0, 0.0, 3.0], [1.5, -0.1, 0.2]])
    out, cache = relu_forward(x)
    np.testing.assert_array_equal(out, [[0.0, 0.0, 3.0], [1.5, 0.0, 0.2]])
    assert cache is x


def test_relu_backward_values():
    x = np.array([[-2.0, 0.0, 3.0], [1.5, -0.1, 0.2]])
    grad = relu_backward(np.full_like(x, 2.0), x)  # the cache is the input x
    np.testing.assert_array_equal(grad, [[0.0, 0.0, 2.0], [2.0, 0.0, 2.0]])


def test_relu_any_shape(rng):
    x = rng.standard_normal((2, 3, 4))
    out, cache = relu_forward(x)
    assert out.shape == x.shape
    assert relu_backward(np.ones_like(x), cache).shape == x.shape


def test_l2_loss_values():
    x = np.array([[1.0, 2.0], [0.0, -1.0]])
    y = np.array([[0.0, 2.0], [1.0, 1.0]])
    loss, grad = l2_loss(x, y)
    assert loss == pytest.approx((1 + 0 + 1 + 4) / 2)
    np.testing.assert_allclose(grad, 2 * (x - y) / 2)


def test_softmax_loss_values(rng):
    x = rng.standard_normal((6, 5))
    y = rng.integers(0, 5, size=6)
    loss, grad = softmax_loss(x, y)
    ref_loss, ref_grad = softmax_reference(x, y)
    assert loss == pytest.approx(ref_loss, rel=1e-13)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-12, atol=1e-15)


def test_softmax_loss_uniform_scores():
    loss, grad = softmax_loss(np.zeros((3, 4)), np.array([0, 1, 3]))
    assert loss == pytest.approx(np.log(4))
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-16)


def test_softmax_loss_does_not_modify_its_input(rng):
    x = rng.standard_normal((3, 4))
    before = x.copy()
    softmax_loss(x, np.array([0, 1, 2]))
    np.testing.assert_array_equal(x, before)


def test_l2_regularization_values():
    w = np.array([[1.0, -2.0], [3.0, 0.5]])
    loss, grad = l2_regularization(w, 0.1)
    assert loss == pytest.approx(0.05 * (1 + 4 + 9 + 0.25))
    np.testing.assert_allclose(grad, 0.1 * w)
    assert l2_regularization(w, 0)[0] == 0


# ---------------------------------------------------------------- gradients


def test_gradients_match_numeric_differences(rng):
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)
    g = rng.standard_normal((4, 5))
    _, cache = fc_forward(x, w, b)
    for analytic, array in zip(fc_backward(g, cache), (x, w, b), strict=True):
        numeric = numeric_gradient(lambda: np.sum(fc_forward(x, w, b)[0] * g), array)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-9)

    z = rng.choice([-1, 1], size=(4, 5)) * (0.1 + rng.random((4, 5)))  # away from the kink
    _, cache = relu_forward(z)
    numeric = numeric_gradient(lambda: np.sum(relu_forward(z)[0] * g), z)
    np.testing.assert_allclose(relu_backward(g, cache), numeric, rtol=1e-7, atol=1e-9)

    target = rng.standard_normal((4, 5))
    numeric = numeric_gradient(lambda: l2_loss(z, target)[0], z)
    np.testing.assert_allclose(l2_loss(z, target)[1], numeric, rtol=1e-7, atol=1e-9)

    labels = rng.integers(0, 5, size=4)
    numeric = numeric_gradient(lambda: softmax_loss(z, labels)[0], z)
    np.testing.assert_allclose(softmax_loss(z, labels)[1], numeric, rtol=1e-6, atol=1e-9)

    numeric = numeric_gradient(lambda: l2_regularization(w, 0.3)[0], w)
    np.testing.assert_allclose(l2_regularization(w, 0.3)[1], numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.torch
def test_gradients_match_pytorch_autograd(rng):
    torch = pytest.importorskip("torch")
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)
    y = rng.integers(0, 5, size=4)
    target = rng.standard_normal((4, 5))
    reg = 0.25

    def forward(x, w, b):
        hidden, fc_cache = fc_forward(x, w, b)
        out, relu_cache = relu_forward(hidden)
        return out, fc_cache, relu_cache

    # softmax + l2 loss + regularization on top of fc -> relu, backpropagated by hand
    out, fc_cache, relu_cache = forward(x, w, b)
    soft, grad_soft = softmax_loss(out, y)
    sq, grad_sq = l2_loss(out, target)
    reg_loss, grad_reg = l2_regularization(w, reg)
    grad_hidden = relu_backward(grad_soft + grad_sq, relu_cache)
    grad_x, grad_w, grad_b = fc_backward(grad_hidden, fc_cache)
    grad_w = grad_w + grad_reg

    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tout = torch.relu(tx @ tw + tb)
    tloss = (torch.nn.functional.cross_entropy(tout, torch.tensor(y))
             + ((tout - torch.tensor(target)) ** 2).sum() / 4 + reg / 2 * (tw ** 2).sum())
    tloss.backward()
    assert soft + sq + reg_loss == pytest.approx(tloss.item(), rel=1e-12)
    for mine, theirs in ((grad_x, tx), (grad_w, tw), (grad_b, tb)):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-10, atol=1e-13)


# ---------------------------------------------------------------- dtypes and stability


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(rng, dtype):
    x = rng.standard_normal((4, 3)).astype(dtype)
    w = rng.standard_normal((3, 5)).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)
    out, cache = fc_forward(x, w, b)
    assert out.dtype == dtype
    assert all(g.dtype == dtype for g in fc_backward(out, cache))
    hidden, cache = relu_forward(out)
    assert hidden.dtype == dtype and relu_backward(out, cache).dtype == dtype
    for loss, grad in (softmax_loss(out, np.array([0, 1, 2, 4])), l2_loss(out, out * 2),
                       l2_regularization(w, np.float64(0.5)), l2_regularization(w, 1e-3)):
        assert np.asarray(loss).dtype == dtype and grad.dtype == dtype


def test_float32_softmax_matches_float64(rng):
    x = rng.standard_normal((8, 10)) * 5
    y = rng.integers(0, 10, size=8)
    loss32, grad32 = softmax_loss(x.astype(np.float32), y)
    loss64, grad64 = softmax_loss(x, y)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    np.testing.assert_allclose(grad32, grad64, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_loss_large_scores(dtype):
    x = np.array([[1e4, 0.0, -1e4], [1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]], dtype=dtype)
    y = np.array([0, 1, 2])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow is harmless
        loss, grad = softmax_loss(x, y)
    assert loss == pytest.approx((0 + 1e4 + np.log(3)) / 3, rel=1e-6)
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad[0], [0, 0, 0], atol=1e-7)
    np.testing.assert_allclose(grad[1], np.array([1, -1, 0]) / 3, atol=1e-7)


# ---------------------------------------------------------------- bad input


def bad(call, *fragments):
    """Assert that call() raises ValueError whose message contains every fragment."""
    with pytest.raises(ValueError) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_fc_forward_bad_input():
    x, w, b = np.ones((4, 3)), np.ones((3, 2)), np.ones(2)
    bad(lambda: fc_forward(np.ones((4, 5)), w, b), "(4, 5)", "(3, 2)")
    bad(lambda: fc_forward(x, w, np.ones(3)), "(3,)", "(3, 2)")
    bad(lambda: fc_forward(np.ones(3), w, b), "2-D", "(3,)")
    bad(lambda: fc_forward(x, np.ones(3), b), "w", "(3,)")
    bad(lambda: fc_forward(x, w, np.ones((1, 2))), "b", "(1, 2)")
    bad(lambda: fc_forward([[1.0, 2.0, 3.0]], w, b), "numpy array", "list")


def test_fc_backward_bad_input():
    _, cache = fc_forward(np.ones((4, 3)), np.ones((3, 2)), np.ones(2))
    bad(lambda: fc_backward(np.ones((4, 3)), cache), "(4, 3)", "(4, 2)")
    bad(lambda: fc_backward(np.ones(2), cache), "grad_out", "(2,)")


def test_relu_bad_input():
    _, cache = relu_forward(np.ones((2, 3)))
    bad(lambda: relu_backward(np.ones((3, 2)), cache), "(3, 2)", "(2, 3)")
    bad(lambda: relu_forward([1.0, -1.0]), "numpy array")
    bad(lambda: relu_backward([1.0], cache), "numpy array")


def test_l2_loss_bad_input():
    bad(lambda: l2_loss(np.ones((3, 2)), np.ones((2, 3))), "(3, 2)", "(2, 3)")
    bad(lambda: l2_loss(np.ones(3), np.ones(3)), "2-D", "(3,)")
    bad(lambda: l2_loss(np.ones((0, 2)), np.ones((0, 2))), "(0, 2)", "empty")
    bad(lambda: l2_loss(np.ones((3, 2)), 1.0), "numpy array")


@pytest.mark.parametrize("y, fragments", [
    (np.array([0, 1]), ["(2,)", "3 rows"]),
    (np.array([[0, 1, 2]]), ["(1, 3)", "1-D"]),
    (np.array([0.0, 1.0, 2.0]), ["integer", "float64"]),
    (np.array([True, False, True]), ["integer", "bool"]),
    (np.array([0, 4, 1]), ["[0, 4)", "[0, 4]", "(3, 4)"]),
    (np.array([0, -1, 1]), ["[0, 4)", "[-1, 1]"]),
    ([0, 1, 2], ["numpy array", "list"]),
])
def test_softmax_loss_bad_labels(y, fragments):
    bad(lambda: softmax_loss(np.zeros((3, 4)), y), *fragments)


def test_softmax_loss_bad_scores():
    bad(lambda: softmax_loss(np.zeros(4), np.array([0])), "2-D", "(4,)")
    bad(lambda: softmax_loss(np.zeros((0, 4)), np.array([], dtype=int)), "(0, 4)", "empty")


@pytest.mark.parametrize("reg", [-0.1, float("nan"), float("inf"), "0.1", None, True])
def test_l2_regularization_bad_reg(reg):
    bad(lambda: l2_regularization(np.ones((2, 2)), reg), "reg")


def test_validation_happens_before_arithmetic():
    # an out-of-range label must not be silently used as an index into the scores
    x = np.zeros((2, 3))
    bad(lambda: softmax_loss(x, np.array([0, 3])), "[0, 3)")
    np.testing.assert_array_equal(x, 0)
