"""Task 1: backprop/functions.py against closed forms, numeric differences and PyTorch."""

import math
import pickle

import functions
import make_backprop_data
import numpy as np
import pytest
from conftest import BACKPROP_DIR

F1_ARGS = (0.7, -1.2, 2.5, 0.3, -0.4, 1.1)


def numeric_grads(func, args, which, h=1e-5):
    """Plain centred differences of func(*args)[0] with respect to the positions `which`."""
    grads = []
    for i in which:
        plus, minus = list(args), list(args)
        plus[i] += h
        minus[i] -= h
        grads.append((func(*plus)[0] - func(*minus)[0]) / (2 * h))
    return np.array(grads)


def test_f1_matches_closed_form():
    x1, w1, x2, w2, b, y = F1_ARGS
    r = x1 * w1 + x2 * w2 + b - y
    L, grads = functions.f1(*F1_ARGS)
    assert L == pytest.approx(r * r, rel=1e-14)
    expected = [2 * r * w1, 2 * r * x1, 2 * r * w2, 2 * r * x2, 2 * r, -2 * r]
    np.testing.assert_allclose(grads, expected, rtol=1e-14)


@pytest.mark.parametrize("x", [-3.0, -0.5, 0.0, 1e-4, 0.8, 25.0, -300.0, 300.0])
def test_f2_is_tanh(x):
    y, (grad_x,) = functions.f2(x)
    assert y == pytest.approx(math.tanh(x), rel=1e-12, abs=1e-15)
    assert grad_x == pytest.approx(1 - math.tanh(x) ** 2, rel=1e-10, abs=1e-15)
    assert math.isfinite(grad_x)


@pytest.mark.parametrize("s1, s2", [(0.3, -1.2), (2.0, 2.0), (-5.0, 4.0), (40.0, -3.0)])
@pytest.mark.parametrize("y", [1, 2])
def test_f3_is_softmax_cross_entropy(s1, s2, y):
    scores = np.array([s1, s2])
    probs = np.exp(scores - np.logaddexp(s1, s2))
    L, grads = functions.f3(s1, s2, y)
    assert L == pytest.approx(np.logaddexp(s1, s2) - scores[y - 1], rel=1e-12, abs=1e-14)
    expected = probs - np.eye(2)[y - 1]
    np.testing.assert_allclose(grads, expected, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("s1, s2, y, loss, grads", [
    (1000.0, -1000.0, 2, 2000.0, (1.0, -1.0)),
    (1000.0, -1000.0, 1, 0.0, (0.0, 0.0)),
    (-1000.0, 1000.0, 1, 2000.0, (-1.0, 1.0)),
    (1e6, 1e6, 1, math.log(2), (-0.5, 0.5)),
])
def test_f3_large_scores_are_finite_and_exact(s1, s2, y, loss, grads):
    L, g = functions.f3(s1, s2, y)
    assert L == loss or L == pytest.approx(loss, rel=1e-15)
    np.testing.assert_allclose(g, grads, atol=1e-300)


def test_f3_helpers_fix_the_label():
    assert functions.f3_y1(0.2, -0.7) == functions.f3(0.2, -0.7, 1)
    assert functions.f3_y2(0.2, -0.7) == functions.f3(0.2, -0.7, 2)


@pytest.mark.parametrize("bad_y", [0, 3, -1, 1.0, True, "1", None])
def test_f3_rejects_bad_label(bad_y):
    with pytest.raises(ValueError, match="1 or 2"):
        functions.f3(0.0, 1.0, bad_y)


def test_f3_accepts_numpy_integer_label():
    assert functions.f3(0.0, 1.0, np.int64(2)) == functions.f3(0.0, 1.0, 2)


def f4_closed_form(x, w, b, y):
    """Binary cross-entropy of sigmoid(w*x + b), straight from its definition."""
    p = 1 / (1 + math.exp(-(w * x + b)))
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


@pytest.mark.parametrize("args", [(1.5, 0.8, -0.3, 1.0), (-2.0, 0.5, 0.1, 0.0),
                                  (0.5, -1.0, 0.5, 1.0), (2.0, 1.0, -0.5, 0.3)])
def test_f4_is_logistic_loss(args):
    L, grads = functions.f4(*args)
    assert L == pytest.approx(f4_closed_form(*args), rel=1e-12)
    np.testing.assert_allclose(grads, numeric_grads(functions.f4, args, range(4)),
                               rtol=1e-8, atol=1e-10)


def test_f4_gradient_at_the_kink_is_exact():
    # s = w*x + b = 0: dL/ds = sigmoid(0) - y = -0.5 for y = 1
    L, (grad_x, grad_w, grad_b, grad_y) = functions.f4(0.5, -1.0, 0.5, 1.0)
    assert L == pytest.approx(math.log(2), rel=1e-15)
    assert (grad_x, grad_w, grad_b, grad_y) == (0.5, -0.25, -0.5, -0.0)


@pytest.mark.parametrize("x, w, b, y, loss", [
    (3.0, 20.0, 1.0, 1.0, math.exp(-61.0)),   # tiny loss stays accurate
    (3.0, 20.0, 1.0, 0.0, 61.0),
    (-4.0, 250.0, 0.0, 1.0, 1000.0),          # exp(1000) would overflow
])
def test_f4_extreme_scores(x, w, b, y, loss):
    L, grads = functions.f4(x, w, b, y)
    assert L == pytest.approx(loss, rel=1e-12)
    assert all(math.isfinite(g) for g in grads)


def test_f4_graph_reproduces_f4():
    assert len({op for _, op, _ in functions.F4_GRAPH}) >= 5
    names = set(functions.F4_INPUTS)
    for node, op, args in functions.F4_GRAPH:
        assert op in functions.GRAPH_OPS and set(args) <= names, (node, op, args)
        names.add(node)
    assert functions.F4_GRAPH[-1][0] == functions.F4_OUTPUT
    for args in [(1.5, 0.8, -0.3, 1.0), (3.0, 20.0, 1.0, 1.0), (0.5, -1.0, 0.5, 0.0)]:
        values = functions.evaluate_graph(functions.F4_GRAPH,
                                          dict(zip(functions.F4_INPUTS, args, strict=True)))
        assert values[functions.F4_OUTPUT] == functions.f4(*args)[0]


@pytest.mark.parametrize("func, args, which", [
    (functions.f1, F1_ARGS, range(6)),
    (functions.f2, (0.37,), range(1)),
    (functions.f3_y1, (0.4, -1.1), range(2)),
    (functions.f3_y2, (0.4, -1.1), range(2)),
    (functions.f4, (1.2, -0.7, 0.3, 1.0), range(4)),
])
def test_gradients_match_numeric_differences(func, args, which):
    _, grads = func(*args)
    np.testing.assert_allclose(grads, numeric_grads(func, args, which), rtol=1e-7, atol=1e-9)


@pytest.mark.torch
def test_gradients_match_pytorch_autograd():
    torch = pytest.importorskip("torch")

    def autograd(expression, args):
        tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
        loss = expression(*tensors)
        loss.backward()
        return loss.item(), [t.grad.item() for t in tensors]

    cases = [
        (functions.f1, lambda x1, w1, x2, w2, b, y: (x1 * w1 + x2 * w2 + b - y) ** 2, F1_ARGS),
        (functions.f2, torch.tanh, (0.37,)),
        (functions.f3_y1, lambda s1, s2: -torch.log_softmax(torch.stack([s1, s2]), 0)[0],
         (1000.0, -1000.0)),
        (functions.f3_y2, lambda s1, s2: -torch.log_softmax(torch.stack([s1, s2]), 0)[1],
         (0.4, -1.1)),
        (functions.f4, lambda x, w, b, y: torch.nn.functional.binary_cross_entropy_with_logits(
            w * x + b, y), (1.2, -0.7, 0.3, 1.0)),
    ]
    for func, expression, args in cases:
        L, grads = func(*args)
        torch_loss, torch_grads = autograd(expression, args)
        assert L == pytest.approx(torch_loss, rel=1e-12, abs=1e-15), func.__name__
        np.testing.assert_allclose(grads, torch_grads, rtol=1e-12, atol=1e-15,
                                   err_msg=func.__name__)


def test_data_file_is_what_the_generator_writes():
    committed = (BACKPROP_DIR / "backprop-data.pkl").read_bytes()
    assert committed == pickle.dumps(make_backprop_data.build_data(), protocol=4)


def test_data_file_has_large_magnitude_cases():
    data = make_backprop_data.build_data()
    assert set(data) == {"f1", "f2", "f3", "f4"}
    for name in ("f1", "f2", "f3"):
        assert max(abs(v) for c in data[name]["cases"] for v in c["inputs"].values()) >= 300
    large = [c for c in data["f3"]["cases"] if c["inputs"] == {"s1": 1000.0, "s2": -1000.0, "y": 2}]
    assert large and large[0]["output"] == 2000.0


def test_data_matches_functions():
    data = make_backprop_data.build_data()
    for name, spec in data.items():
        for case in spec["cases"]:
            output, grads = getattr(functions, name)(**case["inputs"])
            assert output == pytest.approx(case["output"], rel=1e-10, abs=1e-12), (name, case)
            np.testing.assert_allclose(grads, case["grads"], rtol=1e-8, atol=1e-12)
