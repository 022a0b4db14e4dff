"""Staff only: the reference layers.py against closed forms and PyTorch, its dtypes and
stability, its input validation (ours: the homework asks for none), neuralnet-data.pkl
against its generator, and the check scripts naming typical mistakes. Not shipped (these
tests hold the answers)."""

import pickle

import check_softmax_stability
import checks
import gradcheck_layers
import numpy as np
import pytest
from kit import NEURALNET_DIR
from layers import (
    fc_backward,
    fc_forward,
    l2_loss,
    l2_regularization,
    relu_backward,
    relu_forward,
    softmax_loss,
)

from staff.reference import make_neuralnet_data


def softmax_reference(x, y):
    """Loss and gradient of the mean softmax cross-entropy, computed in float64."""
    x = x.astype(np.float64)
    log_probs = x - np.logaddexp.reduce(x, axis=1, keepdims=True)
    n = x.shape[0]
    grad = np.exp(log_probs)
    grad[np.arange(n), y] -= 1
    return -log_probs[np.arange(n), y].mean(), grad / n


def assert_same(committed, fresh, where="data"):
    """Same structure, strings and ints; floats equal up to BLAS rounding (1e-12)."""
    assert type(committed) is type(fresh), where
    if isinstance(fresh, dict):
        assert list(committed) == list(fresh), where
        for key in fresh:
            assert_same(committed[key], fresh[key], f"{where}[{key!r}]")
    elif isinstance(fresh, list):
        assert len(committed) == len(fresh), where
        for i, (a, b) in enumerate(zip(committed, fresh, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(fresh, float):
        assert committed == pytest.approx(fresh, rel=1e-12, abs=1e-14), where
    else:
        assert committed == fresh, where


def test_committed_data_file_equals_the_generators_output():
    with open(NEURALNET_DIR / "neuralnet-data.pkl", "rb") as f:
        committed = pickle.load(f)
    assert_same(committed, make_neuralnet_data.build_data())


def test_data_file_holds_plain_python_only():
    with open(NEURALNET_DIR / "neuralnet-data.pkl", "rb") as f:
        raw = f.read()
    assert b"numpy" not in raw  # readable with any numpy version


def test_data_covers_every_graded_function_and_the_traps():
    data = checks.load_data()
    assert set(data) == {"fc_forward", "fc_backward", "relu_forward", "relu_backward",
                         "softmax_loss", "softmax_stability", "l2_regularization",
                         "LinearClassifier", "TwoLayerNet", "training_step"}
    assert np.any(data["relu_backward"][0]["inputs"]["x"] == 0)  # the kink, where 0 or 1
    assert np.any((data["relu_backward"][0]["inputs"]["x"] < 0)
                  & (data["relu_backward"][0]["inputs"]["x"] > -1))  # catches x > -1
    kinds = {case["kind"] for case in data["softmax_stability"]}
    assert kinds == {"max", "extreme"}
    step = data["training_step"][0]["inputs"]
    assert step["reg"] > 0 and np.all(step["b1"] != 0) and np.all(step["b2"] != 0)


def test_softmax_loss_matches_log_sum_exp(rng):
    x = rng.standard_normal((6, 5))
    y = rng.integers(0, 5, size=6)
    loss, grad = softmax_loss(x, y)
    ref_loss, ref_grad = softmax_reference(x, y)
    assert loss == pytest.approx(ref_loss, rel=1e-13)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-12, atol=1e-15)


def test_closed_form_values(rng):
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    g = rng.standard_normal((4, 2))
    grad_x, grad_w, grad_b = fc_backward(g, (x, w, b))
    np.testing.assert_allclose(grad_x, g @ w.T)
    np.testing.assert_allclose(grad_w, x.T @ g)
    np.testing.assert_allclose(grad_b, g.sum(axis=0))
    skipped = fc_backward(g, (x, w, b), compute_grad_x=False)
    assert skipped[0] is None
    np.testing.assert_array_equal(skipped[1], grad_w)
    w = np.array([[1.0, -2.0], [3.0, 0.5]])
    loss, grad = l2_regularization(w, 0.1)
    assert loss == pytest.approx(0.05 * (1 + 4 + 9 + 0.25))
    np.testing.assert_allclose(grad, 0.1 * w)
    loss, grad = softmax_loss(np.zeros((3, 4)), np.array([0, 1, 3]))
    assert loss == pytest.approx(np.log(4))


def test_l2_loss_is_the_homeworks_given_definition(rng):
    """The original's l2_loss, which the homework's linear-regression example uses:
    0.5 * sum((x - y)**2) / N and its gradient (x - y) / N."""
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    loss, grad = l2_loss(x, y)
    assert loss == pytest.approx(0.5 * np.sum((x - y) ** 2) / 4, rel=1e-14)
    np.testing.assert_allclose(grad, (x - y) / 4, rtol=1e-14)


def test_relu_any_shape_and_cache(rng):
    x = rng.standard_normal((2, 3, 4))
    out, cache = relu_forward(x)
    assert out.shape == x.shape and cache is x
    assert relu_backward(np.ones_like(x), cache).shape == x.shape


def test_softmax_loss_does_not_modify_its_input(rng):
    x = rng.standard_normal((3, 4))
    before = x.copy()
    softmax_loss(x, np.array([0, 1, 2]))
    np.testing.assert_array_equal(x, before)


@pytest.mark.torch
def test_gradients_match_pytorch_autograd(rng):
    torch = pytest.importorskip("torch")
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)
    y = rng.integers(0, 5, size=4)
    target = rng.standard_normal((4, 5))
    reg = 0.25
    hidden, fc_cache = fc_forward(x, w, b)
    out, relu_cache = relu_forward(hidden)
    soft, grad_soft = softmax_loss(out, y)
    sq, grad_sq = l2_loss(out, target)
    reg_loss, grad_reg = l2_regularization(w, reg)
    grad_hidden = relu_backward(grad_soft + grad_sq, relu_cache)
    grad_x, grad_w, grad_b = fc_backward(grad_hidden, fc_cache)
    grad_w = grad_w + grad_reg

    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tout = torch.relu(tx @ tw + tb)
    tloss = (torch.nn.functional.cross_entropy(tout, torch.tensor(y))
             + 0.5 * ((tout - torch.tensor(target)) ** 2).sum() / 4 + reg / 2 * (tw ** 2).sum())
    tloss.backward()
    assert soft + sq + reg_loss == pytest.approx(tloss.item(), rel=1e-12)
    for mine, theirs in ((grad_x, tx), (grad_w, tw), (grad_b, tb)):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-10, atol=1e-13)


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
def test_reference_softmax_is_exact_for_any_spread(dtype):
    x = np.array([[1e4, 0.0, -1e4], [1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]], dtype=dtype)
    y = np.array([0, 1, 2])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow is harmless
        loss, grad = softmax_loss(x, y)
    assert loss == pytest.approx((0 + 1e4 + np.log(3)) / 3, rel=1e-6)
    np.testing.assert_allclose(grad[1], np.array([1, -1, 0]) / 3, atol=1e-7)


ORIGINAL = {"softmax_loss": softmax_loss, "l2_regularization": l2_regularization,
            "relu_backward": relu_backward, "fc_backward": fc_backward,
            "fc_forward": fc_forward}


def softmax_summed(x, y):
    loss, grad = ORIGINAL["softmax_loss"](x, y)
    return loss * len(x), grad * len(x)


def homework_softmax(x, y):
    """The homework's formula: max-subtraction, probabilities, -log(p)."""
    shifted = x - x.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    n = len(x)
    grad = probs.copy()
    grad[np.arange(n), y] -= 1
    return -np.mean(np.log(probs[np.arange(n), y])), grad / n


def naive_softmax(x, y):
    """No max-subtraction: exp overflows."""
    probs = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    n = len(x)
    grad = probs.copy()
    grad[np.arange(n), y] -= 1
    return -np.mean(np.log(probs[np.arange(n), y])), grad / n


def fc_backward_transposed(grad_out, cache):
    grad_x, grad_w, grad_b = ORIGINAL["fc_backward"](grad_out, cache)
    return grad_x, grad_w.T, grad_b


def fc_backward_mean_bias(grad_out, cache):
    grad_x, grad_w, grad_b = ORIGINAL["fc_backward"](grad_out, cache)
    return grad_x, grad_w, grad_b / len(grad_out)


def crashing_fc_forward(x, w, b):
    return x @ w.T + b, (x, w, b)


MISTAKES = [
    ("softmax_loss", softmax_summed, "N x expected (N = 5)"),
    ("l2_regularization", lambda w, reg: (reg * np.sum(w * w), 2 * reg * w),
     "the loss is reg / 2 * sum(w**2), not reg * sum(w**2)"),
    ("l2_regularization", lambda w, reg: (reg * np.sum(w * w), 2 * reg * w),
     "the gradient of reg / 2 * sum(w**2) is reg * w"),
    ("relu_backward", lambda grad_out, x: grad_out * (x > -1), "grad_x at ["),
    ("fc_backward", fc_backward_transposed, "grad_w: shape (5, 3), expected (3, 5): transposed"),
    ("fc_backward", fc_backward_mean_bias, "grad_b sums grad_out over the batch"),
    ("fc_forward", lambda x, w, b: (x @ w, (x, w, b)), "the bias b is not added"),
    ("fc_forward", lambda x, w, b: None, "fc_forward: not implemented (it returned None)"),
    ("fc_forward", crashing_fc_forward, "at test_reference_layers.py:"),
]


@pytest.mark.parametrize("name, mistake, message", MISTAKES)
def test_gradcheck_layers_names_the_mistake(monkeypatch, capsys, name, mistake, message):
    monkeypatch.setattr(gradcheck_layers, name, mistake)
    assert gradcheck_layers.main() == 1
    out = capsys.readouterr().out
    assert message in out
    assert out.splitlines()[-1].startswith(f"gradcheck_layers: FAIL ({name}")


@pytest.mark.parametrize("mask", [lambda x: x >= 0, lambda x: x > 0], ids=[">=", ">"])
def test_gradcheck_layers_accepts_either_gradient_at_zero(monkeypatch, capsys, mask):
    monkeypatch.setattr(gradcheck_layers, "relu_backward", lambda grad_out, x: grad_out * mask(x))
    assert gradcheck_layers.main() == 0, capsys.readouterr().out


def test_gradcheck_layers_passes_the_homework_softmax(monkeypatch, capsys):
    monkeypatch.setattr(gradcheck_layers, "softmax_loss", homework_softmax)
    assert gradcheck_layers.main() == 0, capsys.readouterr().out


def test_stability_check_passes_the_homework_formula_with_notes(monkeypatch, capsys):
    monkeypatch.setattr(check_softmax_stability, "softmax_loss", homework_softmax)
    assert check_softmax_stability.main() == 0
    out = capsys.readouterr().out
    assert out.count("NOTE") == 3 and "log(sum(exp(x - max))) - (x[y] - max)" in out
    assert "FAIL" not in out and "3 notes on underflow" in out.splitlines()[-1]


def test_stability_check_fails_an_overflowing_softmax(monkeypatch, capsys):
    monkeypatch.setattr(check_softmax_stability, "softmax_loss", naive_softmax)
    assert check_softmax_stability.main() == 1
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("[1000, 999, 998]"))
    assert row.endswith("FAIL") and "nan" in row
    assert "nan in the loss and grad_x: exp overflowed" in out
    assert "Subtract each row's maximum score before exp" in out


def log_sum_exp_without_max(x, y):
    """The loss as log(sum(exp(x))) - x[y], without the max shift: an inf loss, a nan grad."""
    exps = np.exp(x)
    total = exps.sum(axis=1, keepdims=True)
    grad = exps / total
    grad[np.arange(len(y)), y] -= 1
    return np.mean(np.log(total[:, 0]) - x[np.arange(len(y)), y]), grad / len(y)


def test_stability_check_says_which_output_is_nan(monkeypatch, capsys):
    monkeypatch.setattr(check_softmax_stability, "softmax_loss", log_sum_exp_without_max)
    with np.errstate(over="ignore", invalid="ignore"):
        assert check_softmax_stability.main() == 1
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("[1000, 999, 998]"))
    assert row.endswith("FAIL") and "inf" in row
    assert "nan in grad_x: exp overflowed" in out and "nan in the loss" not in out


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
    bad(lambda: fc_forward(x, w, np.ones((2, 2))), "b", "(2, 2)")
    bad(lambda: fc_forward([[1.0, 2.0, 3.0]], w, b), "numpy array", "list")


def test_a_bias_row_works_as_in_the_original(rng):
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    out, cache = fc_forward(x, w, b[None, :])  # b kept as a (1, Dout) row (keepdims)
    np.testing.assert_allclose(out, fc_forward(x, w, b)[0])
    grad_b = fc_backward(np.ones((4, 2)), cache)[2]
    assert grad_b.shape == (1, 2)  # shaped like b, so that an update keeps b's shape


def test_fc_backward_bad_input():
    cache = (np.ones((4, 3)), np.ones((3, 2)), np.ones(2))
    bad(lambda: fc_backward(np.ones((4, 3)), cache), "(4, 3)", "(4, 2)")
    bad(lambda: fc_backward(np.ones(2), cache), "grad_out", "(2,)")


def test_relu_bad_input():
    cache = np.ones((2, 3))
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
