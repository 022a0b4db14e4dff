"""neuralnet/optim.py, utils.py, train.py and test.py on generated CIFAR-10 data."""

import json
import shutil

import numpy as np
import pytest
from conftest import NEURALNET_DIR, ROOT, numeric_gradient, run_script, strip_solutions
from fake_cifar10 import write_fake_cifar10
from layers import softmax_loss
from optim import SGD, SGDMomentum, one_cycle_lr
from train import CONFIG_NAMES, EXTRA_DEFAULTS, config_settings, training_step
from two_layer_net import TwoLayerNet
from utils import check_accuracy

TRAIN = NEURALNET_DIR / "train.py"
TEST = NEURALNET_DIR / "test.py"
TINY = ["--num-train", 400, "--num-val", 100, "--num-epochs", 4, "--no-progress"]


def tiny_model(seed=0):
    return TwoLayerNet(input_dim=6, num_classes=3, hidden_dim=5, weight_scale=0.5,
                       dtype=np.float64, seed=seed)


def test_training_step_loss_is_data_loss_plus_l2_on_weights(rng):
    model = tiny_model()
    X, y = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
    p = model.parameters()
    p["b1"][:] = rng.standard_normal(5)  # nonzero biases must still not be regularized
    reg = 0.7
    loss, _ = training_step(model, X, y, reg)
    data_loss, _ = softmax_loss(model.forward(X)[0], y)
    expected = data_loss + reg / 2 * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
    assert loss == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_training_step_gradients_match_numeric(rng, reg):
    model = tiny_model()
    X, y = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
    for param in model.parameters().values():
        param[...] = rng.standard_normal(param.shape)
    _, grads = training_step(model, X, y, reg)
    for name, param in model.parameters().items():
        expected = numeric_gradient(lambda: training_step(model, X, y, reg)[0], param)
        np.testing.assert_allclose(grads[name], expected, rtol=1e-5, atol=1e-8, err_msg=name)


def test_biases_are_not_regularized(rng):
    model = tiny_model()
    X, y = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
    _, g0 = training_step(model, X, y, 0.0)
    _, g1 = training_step(model, X, y, 2.0)
    p = model.parameters()
    for name in ("b1", "b2"):
        np.testing.assert_array_equal(g0[name], g1[name])
    for name in ("W1", "W2"):
        np.testing.assert_allclose(g1[name] - g0[name], 2.0 * p[name], rtol=1e-10)


def test_sgd_step_is_plain_gradient_descent(rng):
    params = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    before = {k: v.copy() for k, v in params.items()}
    grads = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    w_id = id(params["w"])
    SGD(params, learning_rate=0.1).step(grads)
    for k in params:
        np.testing.assert_allclose(params[k], before[k] - 0.1 * grads[k])
    assert id(params["w"]) == w_id  # updated in place: the model sees it
    with pytest.raises(ValueError, match="keys"):
        SGD(params, 0.1).step({"w": grads["w"]})
    with pytest.raises(ValueError, match="learning_rate"):
        SGD(params, 0.0)


@pytest.mark.torch
def test_nesterov_momentum_matches_torch(rng):
    torch = pytest.importorskip("torch")
    w0 = rng.standard_normal((4, 3)).astype(np.float32)
    params = {"w": w0.copy()}
    opt = SGDMomentum(params, learning_rate=0.05, momentum=0.9, nesterov=True)
    tw = torch.tensor(w0.copy(), requires_grad=True)
    topt = torch.optim.SGD([tw], lr=0.05, momentum=0.9, nesterov=True)
    for lr in (0.05, 0.1, 0.02):
        g = rng.standard_normal((4, 3)).astype(np.float32)
        opt.learning_rate = lr
        for group in topt.param_groups:
            group["lr"] = lr
        opt.step({"w": g.copy()})
        tw.grad = torch.tensor(g)
        topt.step()
        np.testing.assert_allclose(params["w"], tw.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_one_cycle_schedule_shape():
    lrs = [one_cycle_lr(s, 100, 0.5) for s in range(100)]
    assert lrs[0] == pytest.approx(0.5 / 25)
    assert max(lrs) == pytest.approx(0.5) and int(np.argmax(lrs)) == 20
    assert lrs[-1] < 0.01 and all(a >= b for a, b in zip(lrs[20:], lrs[21:], strict=False))


def test_check_accuracy_counts_over_all_batches():
    class Fixed:
        def predict(self, X):
            return X[:, 0].astype(int)

    batches = [(np.array([[1], [2]]), np.array([1, 0])), (np.array([[3]]), np.array([3]))]
    assert check_accuracy(Fixed(), batches) == pytest.approx(2 / 3)


def test_configs_keep_homework_defaults_in_main():
    source = TRAIN.read_text()
    block = source.split("# BEGIN HYPERPARAMETERS")[1].split("# END HYPERPARAMETERS")[0]
    values = {line.split("=")[0].strip(): line.split("=")[1].strip()
              for line in block.strip().splitlines()}
    assert values == {"num_train": "20000", "hidden_dim": "16", "batch_size": "128",
                      "num_epochs": "10", "learning_rate": "1e-4", "reg": "1.0"}
    assert CONFIG_NAMES == ("default", "best", "overfit")
    assert config_settings("default") == {}


# ----------------------------------------------------------------- scripts end to end

@pytest.fixture(scope="module")
def fake_data(tmp_path_factory):
    dest = tmp_path_factory.mktemp("cifar")
    write_fake_cifar10(dest, num_train_per_batch=100, num_test=100, seed=0)
    return dest


@pytest.fixture(scope="module")
def trained(fake_data, tmp_path_factory):
    """One short training run from the repository root: the homework's plain SGD, 4 epochs."""
    out = tmp_path_factory.mktemp("run")
    result = run_script(TRAIN, "--data-dir", fake_data, "--hidden-dim", 64,
                        "--learning-rate", 0.15, "--reg", 0.001, *TINY,
                        "--checkpoint-file", out / "ckpt.npz", "--plot-file", out / "plot.png",
                        env={"HW4_DATA": ""})
    assert result.returncode == 0, result.stderr
    return out, result


def test_training_lowers_loss_and_writes_outputs(trained):
    out, result = trained
    summary = json.loads((out / "ckpt.json").read_text())
    for key in ("config", "hyperparameters", "train_accuracy", "val_accuracy", "loss_history",
                "train_seconds", "final_train_accuracy", "final_val_accuracy"):
        assert key in summary
    assert summary["hyperparameters"]["hidden_dim"] == 64
    loss = summary["loss_history"]
    assert len(loss) == 4 * 4 and np.mean(loss[-4:]) < 0.7 * loss[0]
    assert len(summary["val_accuracy"]) == 4 and summary["final_val_accuracy"] > 0.3
    assert (out / "plot.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "ckpt.npz").is_file() and (out / "ckpt.preprocessing.npz").is_file()
    assert "train acc" in result.stdout and "val acc" in result.stdout


def test_test_script_evaluates_checkpoint(trained, fake_data):
    out, _ = trained
    result = run_script(TEST, "--checkpoint-file", out / "ckpt.npz", "--data-dir", fake_data,
                        "--json-file", out / "test.json")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "test.json").read_text())
    assert report["num_test"] == 100 and report["test_accuracy"] > 0.3
    assert report["checkpoint"] == str(out / "ckpt.npz")
    assert f"{report['test_accuracy']:.4f}" in result.stdout


def test_refuses_to_overwrite_checkpoint(trained, fake_data):
    out, _ = trained
    before = (out / "ckpt.npz").read_bytes()
    result = run_script(TRAIN, "--data-dir", fake_data, *TINY,
                        "--checkpoint-file", out / "ckpt.npz")
    assert result.returncode != 0 and "--overwrite" in result.stderr
    assert (out / "ckpt.npz").read_bytes() == before


def test_nan_loss_stops_with_learning_rate_and_step(fake_data, tmp_path):
    result = run_script(TRAIN, "--data-dir", fake_data, *TINY, "--learning-rate", 1e6,
                        "--hidden-dim", 32, "--checkpoint-file", tmp_path / "c.npz",
                        "--plot-file", tmp_path / "p.pdf")
    assert result.returncode != 0
    assert "learning rate 1e+06" in result.stderr and "at step" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "c.npz").exists()


def test_runs_from_its_own_folder_with_smoke_best_and_pdf(fake_data, tmp_path):
    result = run_script("train.py", "--config", "best", "--smoke", "--no-progress",
                        "--data-dir", fake_data, "--checkpoint-file", tmp_path / "c.npz",
                        "--plot-file", tmp_path / "p.pdf", "--summary-file", tmp_path / "s.json",
                        cwd=NEURALNET_DIR)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "p.pdf").read_bytes()[:5] == b"%PDF-"
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["config"] == "best" and summary["hyperparameters"]["flip"] is True


@pytest.mark.parametrize("name", ["best", "overfit"])
def test_tuned_configs_set_known_hyperparameters(name):
    settings = config_settings(name)
    known = {"num_train", "hidden_dim", "batch_size", "num_epochs", "learning_rate", "reg",
             *EXTRA_DEFAULTS}
    assert settings and set(settings) <= known
    assert settings.get("learning_rate", 1e-4) > 0 and settings.get("reg", 1.0) >= 0


def test_stubbed_tuned_config_says_what_to_fill_in(tmp_path):
    kit = tmp_path / "neuralnet"
    shutil.copytree(NEURALNET_DIR, kit, ignore=shutil.ignore_patterns("__pycache__"))
    (kit / "train.py").write_text(strip_solutions((kit / "train.py").read_text()))
    result = run_script(kit / "train.py", "--config", "best", "--smoke",
                        "--checkpoint-file", tmp_path / "c.npz")
    assert result.returncode != 0
    assert "config_settings() in train.py raised NotImplementedError" in result.stderr
    assert "Traceback" not in result.stderr
    with pytest.raises(ValueError, match="unknown config 'fast'"):
        config_settings("fast")


def test_test_script_errors_are_clear(trained, fake_data, tmp_path):
    out, _ = trained
    missing = run_script(TEST, "--checkpoint-file", tmp_path / "nope.npz", cwd=ROOT)
    assert missing.returncode != 0 and "nope.npz not found" in missing.stderr
    garbage = tmp_path / "bad.npz"
    garbage.write_bytes(b"not an npz")
    bad = run_script(TEST, "--checkpoint-file", garbage)
    assert bad.returncode != 0 and "bad.npz" in bad.stderr and "Traceback" not in bad.stderr
    # a checkpoint without its preprocessing statistics
    (tmp_path / "lonely.npz").write_bytes((out / "ckpt.npz").read_bytes())
    lonely = run_script(TEST, "--checkpoint-file", tmp_path / "lonely.npz",
                        "--data-dir", fake_data)
    assert lonely.returncode != 0 and "lonely.preprocessing.npz not found" in lonely.stderr
    # a model of the wrong size for CIFAR-10
    TwoLayerNet(input_dim=12, num_classes=10, hidden_dim=4).save(tmp_path / "small.npz")
    np.savez(tmp_path / "small.preprocessing.npz", mean=np.zeros(3072, np.float32), std=1.0)
    small = run_script(TEST, "--checkpoint-file", tmp_path / "small.npz",
                       "--data-dir", fake_data)
    assert small.returncode != 0 and "small.preprocessing.npz" in small.stderr
