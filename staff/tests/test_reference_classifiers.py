"""Staff only: the reference TwoLayerNet / LinearClassifier (keys, dtypes, seeds, numpy and
PyTorch formulas), and gradcheck_classifier.py / check_training_step.py on solutions
written against the original API and on typical mistakes. Not shipped."""

import shutil
import sys
import types

import check_training_step
import gradcheck_classifier
import gradcheck_layers
import numpy as np
import pytest
from checkpoint import model_from_checkpoint
from checks import call
from classifier import Classifier
from gradient_check import CheckFailed
from kit import NEURALNET_DIR, run_script
from layers import (
    fc_backward,
    fc_forward,
    l2_regularization,
    relu_backward,
    relu_forward,
    softmax_loss,
)
from linear_classifier import LinearClassifier
from two_layer_net import TwoLayerNet

D, C, H, N = 7, 4, 6, 5


def test_images_are_flattened(rng):
    model = TwoLayerNet(2 * 2 * 3, C, H)
    X = rng.standard_normal((N, 2, 2, 3))
    np.testing.assert_array_equal(model.forward(X)[0], model.forward(X.reshape(N, -1))[0])


@pytest.mark.parametrize("cls", [LinearClassifier, TwoLayerNet])
def test_bad_batch_is_rejected(cls):
    model = cls(D, C) if cls is LinearClassifier else cls(D, C, H)
    with pytest.raises(ValueError, match=r"\(3, 5\).*\(N, 7\)"):
        model.forward(np.ones((3, 5)))
    with pytest.raises(ValueError, match=r"\(7,\)"):
        model.forward(np.ones(7))
    with pytest.raises(ValueError, match="numpy array"):
        model.forward([[0.0] * 7])
    scores, cache = model.forward(np.ones((3, 7)))
    with pytest.raises(ValueError, match=r"\(3, 5\)"):
        model.backward(np.ones((3, 5)), cache)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"hidden_dim": 0}, "hidden_dim"), ({"input_dim": 2.5}, "input_dim"),
    ({"num_classes": True}, "num_classes"), ({"weight_scale": -1.0}, "weight_scale"),
    ({"weight_scale": float("nan")}, "weight_scale"),
])
def test_bad_constructor_arguments(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        TwoLayerNet(**kwargs)
    if "hidden_dim" not in kwargs:
        with pytest.raises(ValueError, match=fragment):
            LinearClassifier(**kwargs)


def test_reference_keys_dtype_and_seed():
    model = TwoLayerNet(D, C, H, weight_scale=0.01, seed=0)
    params = model.parameters()
    assert list(params) == ["W1", "b1", "W2", "b2"]
    assert all(p.dtype == np.float64 for p in params.values())  # the original's default
    assert model.parameters() is params
    assert TwoLayerNet().parameters()["W1"].shape == (3072, 512)
    a, b = TwoLayerNet(D, C, H, seed=3), TwoLayerNet(D, C, H, seed=3)
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])
    assert not np.array_equal(a.params["W1"], TwoLayerNet(D, C, H, seed=4).params["W1"])
    assert TwoLayerNet(D, C, H, dtype=np.float32).params["W1"].dtype == np.float32
    assert LinearClassifier(D, C).params["W"].dtype == np.float64
    with pytest.raises(ValueError, match="dtype"):
        TwoLayerNet(dtype=np.int64)
    with pytest.raises(TypeError):
        TwoLayerNet(D, C, H, 1e-3, np.float32)  # dtype and seed are keywords only


def test_reference_parameters_read_as_attributes_too():
    """A training_step written for a net with attributes (model.W1) works with ours."""
    model = TwoLayerNet(D, C, H)
    assert all(getattr(model, name) is array for name, array in model.parameters().items())
    linear = LinearClassifier(D, C)
    assert linear.W is linear.parameters()["W"]
    with pytest.raises(AttributeError, match="fc1_W"):
        _ = model.fc1_W


def test_reference_matches_numpy_formulas(rng):
    model = TwoLayerNet(D, C, H, weight_scale=1.0, seed=0)
    p = model.parameters()
    p["b1"][...] = rng.standard_normal(H)
    X, G = rng.standard_normal((N, D)), rng.standard_normal((N, C))
    scores, cache = model.forward(X)
    a = X @ p["W1"] + p["b1"]
    h = np.maximum(a, 0)
    np.testing.assert_allclose(scores, h @ p["W2"] + p["b2"], rtol=1e-13)
    grads = model.backward(G, cache)
    grad_a = (G @ p["W2"].T) * (a > 0)
    expected = {"W1": X.T @ grad_a, "b1": grad_a.sum(axis=0), "W2": h.T @ G, "b2": G.sum(0)}
    for name, value in expected.items():
        np.testing.assert_allclose(grads[name], value, rtol=1e-12, atol=1e-14, err_msg=name)


@pytest.mark.torch
def test_two_layer_net_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    model = TwoLayerNet(D, C, H, weight_scale=0.5, seed=2)
    p = model.parameters()
    p["b1"][...] = rng.standard_normal(H)
    X, y = rng.standard_normal((N, D)), rng.integers(0, C, size=N)
    scores, cache = model.forward(X)
    loss, grad_scores = softmax_loss(scores, y)
    grads = model.backward(grad_scores, cache)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    t_scores = torch.relu(torch.tensor(X) @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
    t_loss = torch.nn.functional.cross_entropy(t_scores, torch.tensor(y))
    t_loss.backward()
    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    for name in p:
        np.testing.assert_allclose(grads[name], t[name].grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved_and_round_trips(rng, tmp_path, dtype):
    for model in (LinearClassifier(D, C, dtype=dtype, seed=1),
                  TwoLayerNet(D, C, H, dtype=dtype, seed=1)):
        X = rng.standard_normal((N, D)).astype(dtype)
        scores, cache = model.forward(X)
        assert scores.dtype == dtype
        grads = model.backward(softmax_loss(scores, rng.integers(0, C, size=N))[1], cache)
        assert all(g.dtype == dtype for g in grads.values())
    model.save(tmp_path / "c.npz")
    rebuilt, _ = model_from_checkpoint(tmp_path / "c.npz")
    assert rebuilt.params["W1"].dtype == dtype


def test_linear_classifier_calls_fc_backward_with_the_original_signature(monkeypatch, rng):
    import linear_classifier

    def original_fc_backward(grad_out, cache):  # no keyword arguments
        return fc_backward(grad_out, cache)

    monkeypatch.setattr(linear_classifier, "fc_backward", original_fc_backward)
    model = LinearClassifier(D, C)
    scores, cache = model.forward(rng.standard_normal((N, D)))
    assert set(model.backward(np.ones_like(scores), cache)) == {"W", "b"}


class OriginalNet:
    """A TwoLayerNet as students write it for the original starter: attributes, its own
    keys, no dtype or seed, np.random initialization."""

    dtype = np.float64
    scale_b2 = 1.0

    def __init__(self, input_dim=3072, num_classes=10, hidden_dim=512, weight_scale=1e-3):
        self.fc1_W = (weight_scale * np.random.randn(input_dim, hidden_dim)).astype(self.dtype)
        self.fc1_b = np.zeros(hidden_dim, dtype=self.dtype)
        self.fc2_W = (weight_scale * np.random.randn(hidden_dim, num_classes)).astype(self.dtype)
        self.fc2_b = np.zeros(num_classes, dtype=self.dtype)

    def parameters(self):
        return {"fc1_W": self.fc1_W, "fc1_b": self.fc1_b, "fc2_W": self.fc2_W,
                "fc2_b": self.fc2_b}

    def forward(self, X):
        hidden, fc1 = fc_forward(X, self.fc1_W, self.fc1_b)
        hidden, relu = relu_forward(hidden)
        scores, fc2 = fc_forward(hidden, self.fc2_W, self.fc2_b)
        return scores, (fc1, relu, fc2)

    def backward(self, grad_scores, cache):
        fc1, relu, fc2 = cache
        grad_hidden, grad_W2, grad_b2 = fc_backward(grad_scores, fc2)
        _, grad_W1, grad_b1 = fc_backward(relu_backward(grad_hidden, relu), fc1)
        return {"fc1_W": grad_W1, "fc1_b": grad_b1, "fc2_W": grad_W2,
                "fc2_b": self.scale_b2 * grad_b2}


class Float32Net(OriginalNet):
    dtype = np.float32


class WrongBiasNet(OriginalNet):
    scale_b2 = 2.0


def use_net(monkeypatch, cls):
    monkeypatch.setitem(gradcheck_classifier.MODELS, "TwoLayerNet",
                        (cls, *gradcheck_classifier.MODELS["TwoLayerNet"][1:]))
    monkeypatch.setattr(check_training_step, "TwoLayerNet", cls)


@pytest.mark.parametrize("cls", [OriginalNet, Float32Net])
def test_checks_pass_a_solution_written_for_the_original_api(monkeypatch, capsys, cls):
    use_net(monkeypatch, cls)
    assert gradcheck_classifier.main() == 0, capsys.readouterr().out
    assert check_training_step.main() == 0, capsys.readouterr().out


class ZeroWeightNet(OriginalNet):
    def __init__(self, input_dim=3072, num_classes=10, hidden_dim=512, weight_scale=1e-3):
        super().__init__(input_dim, num_classes, hidden_dim, weight_scale)
        self.fc1_W[...] = 0


class OnesBiasNet(OriginalNet):
    def __init__(self, input_dim=3072, num_classes=10, hidden_dim=512, weight_scale=1e-3):
        super().__init__(input_dim, num_classes, hidden_dim, weight_scale)
        self.fc2_b[...] = 1


@pytest.mark.parametrize("cls, message", [
    (ZeroWeightNet, "W1 (your 'fc1_W') has standard deviation 0"),
    (OnesBiasNet, "b2 (your 'fc2_b') must start at 0"),
])
def test_gradcheck_classifier_checks_the_initialization(monkeypatch, capsys, cls, message):
    use_net(monkeypatch, cls)
    assert gradcheck_classifier.main() == 1
    out = capsys.readouterr().out
    assert message in out
    assert out.splitlines()[-1] == "gradcheck_classifier: FAIL (TwoLayerNet.__init__)"


def test_gradcheck_classifier_names_a_wrong_gradient_by_its_key(monkeypatch, capsys):
    use_net(monkeypatch, WrongBiasNet)
    assert gradcheck_classifier.main() == 1
    out = capsys.readouterr().out
    assert "gradient of b2 (your 'fc2_b')" in out and "2 x expected" in out
    assert out.splitlines()[-1] == "gradcheck_classifier: FAIL (TwoLayerNet)"


def test_a_failing_layer_is_named_as_the_cause(monkeypatch, capsys):
    import two_layer_net

    def stub(*args):
        raise NotImplementedError("relu_backward: not implemented yet")

    monkeypatch.setattr(gradcheck_layers, "relu_backward", stub)
    monkeypatch.setattr(two_layer_net, "relu_backward", stub)
    assert gradcheck_classifier.main() == 1
    out = capsys.readouterr().out
    assert "TwoLayerNet.backward: not implemented" in out  # still checked, not refused
    assert "note: relu_backward fails its own check (gradcheck_layers.py: relu_backward: not " \
           "implemented); TwoLayerNet uses it, so that may be the cause" in out
    assert out.splitlines()[-1] == "gradcheck_classifier: FAIL (TwoLayerNet)"  # linear: PASS
    assert check_training_step.main() == 1
    out = capsys.readouterr().out
    assert "note: TwoLayerNet fails its own check (gradcheck_classifier.py: " in out
    assert "cannot be checked" not in out


def test_a_stub_reached_through_given_code_is_named(monkeypatch, capsys):
    import linear_classifier

    def stub(*args):
        raise NotImplementedError("fc_forward: not implemented yet (write this part)")

    monkeypatch.setattr(linear_classifier, "fc_forward", stub)
    assert gradcheck_classifier.main() == 1
    assert "LinearClassifier.forward: not implemented (fc_forward still raises " \
           "NotImplementedError)" in capsys.readouterr().out

    def own_words():
        raise NotImplementedError("TODO: write it")

    with pytest.raises(CheckFailed, match=r"^TwoLayerNet.forward: not implemented$"):
        call("TwoLayerNet.forward", own_words)


class LeftoverParamsNet(OriginalNet, Classifier):  # a subclass of the given base, as in the kit
    def forward(self, X):
        p = self.params  # a line of the kit's old stub, left in a net that keeps attributes
        return super().forward(X) if p else None


def test_an_error_inside_given_code_points_at_the_students_line(monkeypatch, capsys):
    use_net(monkeypatch, LeftoverParamsNet)
    assert gradcheck_classifier.main() == 1
    out = capsys.readouterr().out
    assert "TwoLayerNet.forward raised AttributeError: 'LeftoverParamsNet' object has no " \
           "attribute 'params'\n        at test_reference_classifiers.py:" in out
    assert "p = self.params  # a line of the kit's old stub" in out and "classifier.py:" not in out


class CopyingNet(OriginalNet):
    def parameters(self):
        return {k: v.copy() for k, v in super().parameters().items()}


def test_parameters_must_be_live(monkeypatch, capsys):
    use_net(monkeypatch, CopyingNet)
    assert gradcheck_classifier.main() == 1
    assert "must return the model's own arrays" in capsys.readouterr().out


def test_student_test_names_parameters_returning_copies(monkeypatch):
    import test_classifiers

    monkeypatch.setattr(test_classifiers, "TwoLayerNet", CopyingNet)
    with pytest.raises(AssertionError, match=r"TwoLayerNet.parameters\(\) must return the "
                                             "model's own arrays .* for 'fc1_W'"):
        test_classifiers.test_two_layer_net_parameters()
    monkeypatch.setattr(test_classifiers, "TwoLayerNet", OriginalNet)
    test_classifiers.test_two_layer_net_parameters()  # live arrays under its own keys: passes


def training_step_with(model, X, y, reg, bias=False, loss_reg=True, grad_reg=True,
                       factor=1.0, summed=False):
    scores, cache = model.forward(X)
    loss, grad_scores = softmax_loss(scores, y)
    if summed:
        loss, grad_scores = loss * len(X), grad_scores * len(X)
    grads = model.backward(grad_scores, cache)
    for name, param in model.parameters().items():
        if param.ndim == 2 or bias:
            reg_loss, reg_grad = l2_regularization(param, reg)
            loss += factor * reg_loss if loss_reg else 0.0
            grads[name] = grads[name] + (factor * reg_grad if grad_reg else 0.0)
    return loss, grads


@pytest.mark.parametrize("options, message", [
    ({"bias": True}, "the biases are regularized too"),
    ({"loss_reg": False, "grad_reg": False}, "no regularization"),
    ({"grad_reg": False}, "the regularization loss is added but not its gradient"),
    ({"loss_reg": False}, "the regularization gradient is added but not its loss"),
    ({"factor": 2.0}, "2 x the regularization"),
    ({"summed": True}, "N x the data loss (N = 5)"),
])
def test_check_training_step_names_the_mistake(monkeypatch, capsys, options, message):
    def mistaken(model, X, y, reg):
        return training_step_with(model, X, y, reg, **options)

    monkeypatch.setitem(sys.modules, "train", types.SimpleNamespace(training_step=mistaken))
    assert check_training_step.main() == 1
    out = capsys.readouterr().out
    assert f"likely mistake: {message}" in out
    assert out.splitlines()[-1] == "check_training_step: FAIL (training_step)"


def test_check_training_step_reports_an_import_error(tmp_path):
    kit = tmp_path / "neuralnet"
    shutil.copytree(NEURALNET_DIR, kit, ignore=shutil.ignore_patterns("__pycache__"))
    train = kit / "train.py"
    train.write_text("import not_a_real_package\n" + train.read_text())
    result = run_script(kit / "check_training_step.py", cwd=kit)
    assert result.returncode == 1 and result.stderr == ""
    assert "cannot import train.py: ModuleNotFoundError: No module named " \
           "'not_a_real_package'" in result.stdout
    assert "at train.py:1: import not_a_real_package" in result.stdout
