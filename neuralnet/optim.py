"""Update rules (numpy only): an Optimizer interface, plain SGD, and SGD with momentum.

An optimizer holds the model's parameter dict (name -> array) and updates those arrays in
place from a dict of gradients with the same keys, so the model sees the new values at once.
Learning-rate schedules are plain functions of the step number (``one_cycle_lr``); the
training loop sets ``optimizer.learning_rate`` before each step.
"""

import math
import numbers

import numpy as np


class Optimizer:
    """Interface: ``Optimizer(params, learning_rate)``, then ``step(grads)`` once per batch."""

    def __init__(self, params, learning_rate):
        """
        Inputs:
        - params: dict name -> numpy array, the model's parameters (updated in place)
        - learning_rate: step size, a number > 0
        """
        if not isinstance(params, dict) or not params:
            raise ValueError("params must be a non-empty dict name -> array "
                             "(pass model.parameters())")
        if isinstance(learning_rate, bool) or not (
                isinstance(learning_rate, numbers.Real) and learning_rate > 0):
            raise ValueError(f"learning_rate must be a number > 0, got {learning_rate!r}")
        self.params = params
        self.learning_rate = float(learning_rate)

    def _aligned(self, grads):
        """
        grads checked against the parameters: exactly their keys, each gradient of its
        parameter's shape, or of a shape that differs only by axes of length 1 (a (1, H)
        bias with an (H,) gradient, or the reverse). Raises ValueError otherwise.

        Returns:
        - grads: dict name -> gradient in its parameter's shape
        """
        if set(grads) != set(self.params):
            raise ValueError(f"grads have keys {sorted(grads)} but the parameters are "
                             f"{sorted(self.params)}")
        aligned = {}
        for name, grad in grads.items():
            shape = self.params[name].shape
            grad = np.asarray(grad)
            if grad.shape != shape and squeezed(grad.shape) != squeezed(shape):
                raise ValueError(f"grad of {name} has shape {grad.shape}, the parameter "
                                 f"{shape}")
            aligned[name] = grad.reshape(shape)
        return aligned

    def step(self, grads):
        """Update every parameter in place from grads: dict name -> array of its shape."""
        raise NotImplementedError


def squeezed(shape):
    """`shape` without its axes of length 1: (1, 5) -> (5,)."""
    return tuple(n for n in shape if n != 1)


class SGD(Optimizer):
    """Plain stochastic gradient descent with a constant step: w <- w - learning_rate * dw."""

    def step(self, grads):
        """Update every parameter in place from grads: dict name -> array of its shape."""
        for name, grad in self._aligned(grads).items():
            self.params[name] -= self.learning_rate * grad


class SGDMomentum(Optimizer):
    """SGD with (Nesterov) momentum, as torch.optim.SGD(momentum=..., nesterov=...):

        v <- momentum * v + dw
        w <- w - lr * (dw + momentum * v)    (nesterov)   or   w <- w - lr * v

    The velocities v are float arrays shaped like the parameters, created as zeros in __init__.
    """

    def __init__(self, params, learning_rate, momentum=0.9, nesterov=True):
        super().__init__(params, learning_rate)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)
        self.nesterov = nesterov
        self.velocity = {name: np.zeros_like(p) for name, p in params.items()}
        self._scratch = {name: np.empty_like(p) for name, p in params.items()}

    def step(self, grads):
        """Update every parameter in place from grads: dict name -> array of its shape."""
        grads = self._aligned(grads)
        for name, param in self.params.items():
            v, grad, update = self.velocity[name], grads[name], self._scratch[name]
            v *= self.momentum
            v += grad
            if self.nesterov:  # update = lr * (grad + momentum * v), in a reused buffer
                np.multiply(v, self.momentum, out=update)
                update += grad
                update *= self.learning_rate
            else:
                np.multiply(v, self.learning_rate, out=update)
            param -= update


def one_cycle_lr(step, total_steps, peak_lr, warmup_fraction=0.2, final_fraction=1e-3):
    """Learning rate at ``step`` (0-based) of a one-cycle schedule over ``total_steps``.

    Rises linearly from peak_lr / 25 to ``peak_lr`` over the first ``warmup_fraction`` of
    the steps, then anneals with a cosine to ``peak_lr * final_fraction`` (like
    torch.optim.lr_scheduler.OneCycleLR with anneal_strategy="cos").
    """
    if total_steps < 1:
        raise ValueError(f"total_steps must be >= 1, got {total_steps}")
    warmup = max(int(round(warmup_fraction * total_steps)), 1)
    start = peak_lr / 25
    if step < warmup:
        return start + (peak_lr - start) * step / warmup
    progress = min((step - warmup) / max(total_steps - warmup, 1), 1.0)
    end = peak_lr * final_fraction
    return end + (peak_lr - end) * 0.5 * (1 + math.cos(math.pi * progress))
