"""bench/bench_cifar.py compares like with like: its inline numpy step does exactly what
training_step + SGDMomentum do (same loss, same updated parameters)."""


import numpy as np
from optim import SGDMomentum
from train import training_step
from two_layer_net import TwoLayerNet

from bench import bench_cifar


def test_bare_numpy_step_matches_our_step(rng):
    model = TwoLayerNet(input_dim=12, num_classes=4, hidden_dim=8, weight_scale=0.3, seed=0)
    bare = {k: v.copy() for k, v in model.parameters().items()}
    velocity = {k: np.zeros_like(v) for k, v in bare.items()}
    opt = SGDMomentum(model.parameters(), bench_cifar.LR, momentum=bench_cifar.MOMENTUM)
    for _ in range(3):
        X = rng.standard_normal((6, 12)).astype(np.float32)
        y = rng.integers(0, 4, 6)
        bare_loss = bench_cifar.bare_numpy_step(bare, velocity, X, y)
        loss, grads = training_step(model, X, y, bench_cifar.REG)
        opt.step(grads)
        assert abs(bare_loss - loss) < 1e-5
    for name, value in model.parameters().items():
        np.testing.assert_allclose(bare[name], value, rtol=1e-5, atol=1e-6, err_msg=name)
