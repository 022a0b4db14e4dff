"""Task 3: Classifier base, LinearClassifier, TwoLayerNet: values against neuralnet-data.pkl,
numeric gradients, save/load. Models are used only through the original API
(TwoLayerNet(D, C, H), parameters() under any keys, matched and checked at initialization
by net_contract.py, as the check scripts and the autograder do)."""

import numpy as np
import pytest
from checkpoint import model_from_checkpoint
from checks import load_data
from classifier import Classifier
from gradient_check import compare, dtype_name, gradient_problem
from kit import model_with_weights
from linear_classifier import LinearClassifier
from net_contract import (
    PARAM_NAMES,
    as_shape,
    init_problems,
    init_summary,
    match_parameters,
    param_shapes,
)
from two_layer_net import TwoLayerNet

DATA = load_data()
NET = DATA["TwoLayerNet"][0]
LINEAR = DATA["LinearClassifier"][0]
D, C, H, N = 7, 4, 6, 5


def kind_of(model):
    """'float32' if the model keeps float32 parameters (looser tolerances), else 'float64'."""
    kinds = {dtype_name(p) for p in model.parameters().values()}
    return "float32" if "float32" in kinds else "float64"


def assert_value(name, expected, got, kind, n=None):
    problem = compare(name, expected, got, n, kind=kind)
    assert problem is None, problem


def test_two_layer_net_parameters():
    np.random.seed(0)  # for an initialization drawn with np.random
    model = TwoLayerNet(300, 10, 50, 0.01)
    params = model.parameters()
    mapping = match_parameters(params, param_shapes(300, 10, 50))
    assert len(params) == 4, f"TwoLayerNet.parameters() must hold 4 arrays, got {sorted(params)}"
    summaries = {name: init_summary(params[key]) for name, key in mapping.items()}
    assert init_problems(summaries, 0.01) == []
    again = model.parameters()
    for key in params:  # the optimizer and the checks change the model through these arrays
        assert again.get(key) is params[key], (
            f"TwoLayerNet.parameters() must return the model's own arrays (not copies): two "
            f"calls gave two different arrays for {key!r}")


def test_defaults_match_cifar10():
    shapes = [p.shape for p in TwoLayerNet().parameters().values()]
    assert any(s[0] == 3072 for s in shapes if len(s) == 2)
    assert any(s[1] == 10 for s in shapes if len(s) == 2)
    assert [p.shape for p in LinearClassifier().parameters().values()] == [(3072, 10), (10,)]


@pytest.mark.parametrize("cls, case, names", [
    (LinearClassifier, LINEAR, ("W", "b")), (TwoLayerNet, NET, PARAM_NAMES),
], ids=["LinearClassifier", "TwoLayerNet"])
def test_forward_values(cls, case, names):
    model, _ = model_with_weights(cls, case, names)
    scores, _ = model.forward(case["inputs"]["X"].copy())
    assert_value("scores", case["outputs"]["scores"], scores, kind_of(model))
    np.testing.assert_array_equal(model.predict(case["inputs"]["X"].copy()),
                                  np.argmax(case["outputs"]["scores"], axis=1))


@pytest.mark.parametrize("cls, case, names", [
    (LinearClassifier, LINEAR, ("W", "b")), (TwoLayerNet, NET, PARAM_NAMES),
], ids=["LinearClassifier", "TwoLayerNet"])
def test_backward_values(cls, case, names):
    model, mapping = model_with_weights(cls, case, names)
    _, cache = model.forward(case["inputs"]["X"].copy())
    grads = model.backward(case["inputs"]["grad_scores"].copy(), cache)
    assert set(grads) == set(model.parameters())
    for name, key in mapping.items():
        assert_value(f"gradient of {name} ({key})", case["outputs"][name],
                     as_shape(grads[key], case["inputs"][name].shape), kind_of(model), N)


@pytest.mark.parametrize("cls, case, names", [
    (LinearClassifier, LINEAR, ("W", "b")), (TwoLayerNet, NET, PARAM_NAMES),
], ids=["LinearClassifier", "TwoLayerNet"])
def test_gradients_match_numeric_differences(cls, case, names):
    model, mapping = model_with_weights(cls, case, names)
    X, upstream = case["inputs"]["X"].copy(), case["inputs"]["grad_scores"].copy()
    _, cache = model.forward(X)
    grads = model.backward(upstream, cache)

    def f():
        return np.sum(model.forward(X)[0] * upstream)

    for name, key in mapping.items():
        param = model.parameters()[key]
        _, problem = gradient_problem(name, np.reshape(grads[key], param.shape), f, param, 1e-2,
                                      kind=kind_of(model))
        assert problem is None, problem


def test_classifier_is_abstract():
    with pytest.raises(TypeError):
        Classifier()


def test_save_load_round_trip(tmp_path, rng):
    model, mapping = model_with_weights(TwoLayerNet, NET, PARAM_NAMES)
    path = tmp_path / "sub" / "checkpoint.npz"
    model.save(path)
    assert path.is_file()

    other = TwoLayerNet(D, C, H)
    before = dict(other.parameters())
    other.load(path)
    for key, value in model.parameters().items():
        assert other.parameters()[key] is before[key]  # loaded in place
        np.testing.assert_array_equal(other.parameters()[key], value)
    X = rng.standard_normal((N, D))
    np.testing.assert_array_equal(other.predict(X), model.predict(X))

    rebuilt, sizes = model_from_checkpoint(path)
    assert sizes == (D, H, C)
    assert_value("b2", NET["inputs"]["b2"], as_shape(rebuilt.parameters()[mapping["b2"]], (C,)),
                 kind_of(rebuilt))


def test_save_writes_exactly_the_given_path(tmp_path):
    LinearClassifier(D, C).save(tmp_path / "weights.bin")
    assert [p.name for p in tmp_path.iterdir()] == ["weights.bin"]
    LinearClassifier(D, C).load(tmp_path / "weights.bin")


def test_load_mismatched_shapes(tmp_path):
    path = tmp_path / "small.npz"
    TwoLayerNet(D, C, H).save(path)
    model = TwoLayerNet(D, C, H + 1)
    before = {k: v.copy() for k, v in model.parameters().items()}
    with pytest.raises(ValueError, match=r"has shape \(7, 6\) in the file but \(7, 7\)"):
        model.load(path)
    for name, value in before.items():  # nothing was half-loaded
        np.testing.assert_array_equal(model.parameters()[name], value)


def test_load_mismatched_names(tmp_path):
    path = tmp_path / "linear.npz"
    LinearClassifier(D, C).save(path)
    with pytest.raises(ValueError, match=r"missing parameters .*unexpected parameters"):
        TwoLayerNet(D, C, H).load(path)


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        TwoLayerNet(D, C, H).load(tmp_path / "nope.npz")
    with pytest.raises(FileNotFoundError, match="not found"):
        model_from_checkpoint(tmp_path / "nope.npz")


def test_load_rejects_other_files(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("not an archive")
    with pytest.raises(ValueError, match="not a parameter archive"):
        TwoLayerNet(D, C, H).load(text)
    pickled = tmp_path / "objects.npz"
    np.savez(pickled, W=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a parameter archive"):
        LinearClassifier(D, C).load(pickled)
