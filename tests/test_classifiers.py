"""Task 3: Classifier base, LinearClassifier, TwoLayerNet (gradients, dtypes, save/load)."""

import numpy as np
import pytest
from classifier import Classifier
from conftest import numeric_gradient
from layers import softmax_loss
from linear_classifier import LinearClassifier
from two_layer_net import TwoLayerNet

D, C, H, N = 7, 4, 6, 5


def make_model(kind, dtype=np.float64):
    """A small LinearClassifier ("linear") or TwoLayerNet ("two_layer")."""
    if kind == "linear":
        return LinearClassifier(D, C, weight_scale=0.5, dtype=dtype, seed=1)
    return TwoLayerNet(D, C, H, weight_scale=0.5, dtype=dtype, seed=1)


def test_two_layer_net_parameters():
    model = TwoLayerNet(D, C, H, weight_scale=0.01, seed=0)
    params = model.parameters()
    assert list(params) == ["W1", "b1", "W2", "b2"]
    assert [p.shape for p in params.values()] == [(D, H), (H,), (H, C), (C,)]
    assert all(p.dtype == np.float32 for p in params.values())
    assert np.all(params["b1"] == 0) and np.all(params["b2"] == 0)
    assert params["W1"].std() == pytest.approx(0.01, rel=0.3)
    assert model.parameters() is params  # the live dict, so optimizers update the model


def test_defaults_match_cifar10():
    model = TwoLayerNet()
    assert model.parameters()["W1"].shape[0] == 3072 and model.parameters()["W2"].shape[1] == 10
    assert LinearClassifier().parameters()["W"].shape == (3072, 10)


def test_seed_makes_initialization_deterministic():
    a, b = TwoLayerNet(D, C, H, seed=3), TwoLayerNet(D, C, H, seed=3)
    np.testing.assert_array_equal(a.parameters()["W1"], b.parameters()["W1"])
    assert not np.array_equal(a.parameters()["W1"], TwoLayerNet(D, C, H, seed=4).params["W1"])


def two_layer_net_with(rng):
    """
    A float64 TwoLayerNet with random parameters, made without calling __init__, so that
    forward and backward are tested on their own (in the starter kit __init__ is one of the
    parts students write).
    """
    model = TwoLayerNet.__new__(TwoLayerNet)
    model.input_dim, model.num_classes, model.hidden_dim = D, C, H
    model.params = {"W1": rng.standard_normal((D, H)), "b1": rng.standard_normal(H),
                    "W2": rng.standard_normal((H, C)), "b2": rng.standard_normal(C)}
    return model


def test_two_layer_net_forward_matches_numpy(rng):
    model = two_layer_net_with(rng)
    p = model.parameters()
    X = rng.standard_normal((N, D))
    scores, _ = model.forward(X)
    expected = np.maximum(X @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]
    np.testing.assert_allclose(scores, expected, rtol=1e-13)
    np.testing.assert_array_equal(model.predict(X), expected.argmax(axis=1))


def test_two_layer_net_backward_matches_numpy(rng):
    model = two_layer_net_with(rng)
    p = model.parameters()
    X, G = rng.standard_normal((N, D)), rng.standard_normal((N, C))
    a = X @ p["W1"] + p["b1"]
    h = np.maximum(a, 0)
    cache = ((X, p["W1"], p["b1"]), a, (h, p["W2"], p["b2"]))  # forward's documented cache
    grads = model.backward(G, cache)
    grad_a = (G @ p["W2"].T) * (a > 0)
    expected = {"W1": X.T @ grad_a, "b1": grad_a.sum(axis=0), "W2": h.T @ G, "b2": G.sum(axis=0)}
    assert set(grads) == set(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(grads[name], value, rtol=1e-12, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("kind", ["linear", "two_layer"])
def test_gradients_match_numeric_differences(kind, rng):
    model = make_model(kind)
    X = rng.standard_normal((N, D))
    y = rng.integers(0, C, size=N)

    def loss():
        return softmax_loss(model.forward(X)[0], y)[0]

    scores, cache = model.forward(X)
    _, grad_scores = softmax_loss(scores, y)
    grads = model.backward(grad_scores, cache)
    assert set(grads) == set(model.parameters())
    for name, param in model.parameters().items():
        assert grads[name].shape == param.shape
        np.testing.assert_allclose(grads[name], numeric_gradient(loss, param),
                                   rtol=1e-6, atol=1e-9, err_msg=name)


@pytest.mark.torch
def test_two_layer_net_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    model = TwoLayerNet(D, C, H, weight_scale=0.5, dtype=np.float64, seed=2)
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
def test_dtype_is_preserved(rng, dtype):
    for model in (make_model("linear", dtype), make_model("two_layer", dtype)):
        X = rng.standard_normal((N, D)).astype(dtype)
        scores, cache = model.forward(X)
        assert scores.dtype == dtype
        grads = model.backward(softmax_loss(scores, rng.integers(0, C, size=N))[1], cache)
        assert all(g.dtype == dtype for g in grads.values())


def test_images_are_flattened(rng):
    model = TwoLayerNet(2 * 2 * 3, C, H, seed=0)
    X = rng.standard_normal((N, 2, 2, 3)).astype(np.float32)
    np.testing.assert_array_equal(model.forward(X)[0], model.forward(X.reshape(N, -1))[0])


@pytest.mark.parametrize("kind", ["linear", "two_layer"])
def test_bad_batch_is_rejected(kind):
    model = make_model(kind)
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
    ({"weight_scale": float("nan")}, "weight_scale"), ({"dtype": np.int64}, "dtype"),
])
def test_bad_constructor_arguments(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        TwoLayerNet(**kwargs)
    if "hidden_dim" not in kwargs:
        with pytest.raises(ValueError, match=fragment):
            LinearClassifier(**kwargs)


def test_classifier_is_abstract():
    with pytest.raises(TypeError):
        Classifier()


# ---------------------------------------------------------------- save / load


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_load_round_trip(tmp_path, rng, dtype):
    model = TwoLayerNet(D, C, H, dtype=dtype, seed=0)
    model.params["b2"][...] = rng.standard_normal(C)
    path = tmp_path / "sub" / "checkpoint.npz"
    model.save(path)
    assert path.is_file()

    other = TwoLayerNet(D, C, H, dtype=dtype, seed=5)
    w1 = other.parameters()["W1"]
    other.load(path)
    assert other.parameters()["W1"] is w1  # loaded in place
    for name, value in model.parameters().items():
        np.testing.assert_array_equal(other.parameters()[name], value)
        assert other.parameters()[name].dtype == dtype
    X = rng.standard_normal((N, D)).astype(dtype)
    np.testing.assert_array_equal(other.predict(X), model.predict(X))

    rebuilt = TwoLayerNet.from_checkpoint(path)
    assert (rebuilt.input_dim, rebuilt.hidden_dim, rebuilt.num_classes) == (D, H, C)
    assert rebuilt.params["W1"].dtype == dtype
    np.testing.assert_array_equal(rebuilt.params["b2"], model.params["b2"])


def test_save_writes_exactly_the_given_path(tmp_path):
    LinearClassifier(D, C).save(tmp_path / "weights.bin")
    assert [p.name for p in tmp_path.iterdir()] == ["weights.bin"]
    LinearClassifier(D, C).load(tmp_path / "weights.bin")


def test_load_mismatched_shapes(tmp_path):
    path = tmp_path / "small.npz"
    TwoLayerNet(D, C, H).save(path)
    model = TwoLayerNet(D, C, H + 1)
    before = {k: v.copy() for k, v in model.params.items()}
    with pytest.raises(ValueError, match=r"W1 has shape \(7, 6\) in the file but \(7, 7\)"):
        model.load(path)
    for name, value in before.items():  # nothing was half-loaded
        np.testing.assert_array_equal(model.params[name], value)


def test_load_mismatched_names(tmp_path):
    path = tmp_path / "linear.npz"
    LinearClassifier(D, C).save(path)
    with pytest.raises(ValueError, match=r"missing parameters \['W1', 'W2', 'b1', 'b2'\]"):
        TwoLayerNet(D, C, H).load(path)
    with pytest.raises(ValueError, match=r"unexpected parameters \['W', 'b'\]"):
        TwoLayerNet(D, C, H).load(path)


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        TwoLayerNet(D, C, H).load(tmp_path / "nope.npz")
    with pytest.raises(FileNotFoundError, match="not found"):
        TwoLayerNet.from_checkpoint(tmp_path / "nope.npz")


def test_load_rejects_other_files(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("not an archive")
    with pytest.raises(ValueError, match="not a parameter archive"):
        TwoLayerNet(D, C, H).load(text)
    pickled = tmp_path / "objects.npz"
    np.savez(pickled, W=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a parameter archive"):
        LinearClassifier(D, C).load(pickled)
