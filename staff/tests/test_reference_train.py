"""Staff only: train.py's reference settings and messages, and SGDMomentum against PyTorch.
Not shipped (they depend on the reference's own configs and solution markers)."""

import shutil

import numpy as np
import pytest
from kit import NEURALNET_DIR, run_script
from layers import softmax_loss
from optim import SGDMomentum
from train import CONFIG_NAMES, config_settings, fit, training_step
from two_layer_net import TwoLayerNet

from staff.starter.regions import strip_python

TRAIN = NEURALNET_DIR / "train.py"


def test_training_step_loss_is_data_loss_plus_l2_on_weights(rng):
    model = TwoLayerNet(6, 3, 5, weight_scale=0.5, seed=0)
    X, y = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
    p = model.parameters()
    p["b1"][:] = rng.standard_normal(5)  # nonzero biases must still not be regularized
    loss, grads = training_step(model, X, y, 0.7)
    data_loss, _ = softmax_loss(model.forward(X)[0], y)
    expected = data_loss + 0.7 / 2 * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
    assert loss == pytest.approx(expected, rel=1e-12)
    _, without = training_step(model, X, y, 0.0)
    for name in ("W1", "W2"):
        np.testing.assert_allclose(grads[name] - without[name], 0.7 * p[name], rtol=1e-10)


def test_fit_trains_in_float32():
    data = {"X_train": np.zeros((4, 6), np.float32), "y_train": np.zeros(4, int),
            "X_val": np.zeros((0, 6), np.float32), "y_val": np.zeros(0, int)}
    hp = {"hidden_dim": 3, "weight_scale": 1e-3, "seed": 0, "batch_size": 2, "num_epochs": 1,
          "learning_rate": 0.1, "reg": 0.0, "momentum": 0.0, "schedule": "constant",
          "flip": False, "shift": 0, "eval_size": 4}
    model, _ = fit(data, hp, progress=False, log=lambda message: None)
    assert all(p.dtype == np.float32 for p in model.parameters().values())


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




def test_configs_keep_homework_defaults_in_main():
    source = TRAIN.read_text()
    block = source.split("# BEGIN HYPERPARAMETERS")[1].split("# END HYPERPARAMETERS")[0]
    values = {line.split("=")[0].strip(): line.split("=")[1].strip()
              for line in block.strip().splitlines()}
    assert values == {"num_train": "20000", "hidden_dim": "16", "batch_size": "128",
                      "num_epochs": "10", "learning_rate": "1e-4", "reg": "1.0"}
    assert CONFIG_NAMES == ("default", "best", "overfit")
    assert config_settings("default") == {}




def test_stubbed_tuned_config_says_what_to_fill_in(tmp_path):
    kit = tmp_path / "neuralnet"
    shutil.copytree(NEURALNET_DIR, kit, ignore=shutil.ignore_patterns("__pycache__"))
    (kit / "train.py").write_text(strip_python((kit / "train.py").read_text(), "train.py")[0])
    result = run_script(kit / "train.py", "--config", "best", "--smoke",
                        "--checkpoint-file", tmp_path / "c.npz")
    assert result.returncode != 0
    assert "config_settings() in train.py raised NotImplementedError" in result.stderr
    assert "Traceback" not in result.stderr
    with pytest.raises(ValueError, match="unknown config 'fast'"):
        config_settings("fast")


