"""Layers and losses of the miniature framework (numpy only).

Every layer is a pair: `*_forward(...)` returns `(out, cache)` and `*_backward(grad_out, cache)`
returns the gradients of the inputs. Losses return `(loss, grad)` directly. The cache is a
plain tuple holding what the backward pass needs.

All functions are vectorized and keep the floating dtype of their inputs: float32 in,
float32 out (Python scalars such as `reg` never promote to float64). Bad input raises
ValueError naming the offending shapes or values, before any arithmetic is done.
"""

import numpy as np


def _check_array(func, name, a):
    """Raise ValueError unless `a` is a numpy array."""
    if not isinstance(a, np.ndarray):
        raise ValueError(f"{func}: {name} must be a numpy array, got {type(a).__name__}")


def _check_ndim(func, name, a, ndim, shape_doc):
    """Raise ValueError unless `a` is a numpy array with `ndim` dimensions."""
    _check_array(func, name, a)
    if a.ndim != ndim:
        raise ValueError(
            f"{func}: {name} must be {ndim}-D with shape {shape_doc}, got shape {a.shape}"
        )


def _check_same_shape(func, name_a, a, name_b, b):
    """Raise ValueError unless arrays `a` and `b` have the same shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"{func}: {name_a} has shape {a.shape} but {name_b} has shape {b.shape}; "
            "they must match"
        )


def _check_nonempty(func, name, x):
    """Raise ValueError for a batch with no examples (a mean over N would be nan)."""
    if x.shape[0] == 0:
        raise ValueError(f"{func}: {name} has shape {x.shape}: the batch is empty")


def _check_labels(func, y, num_examples, num_classes):
    """Raise ValueError unless y is a (num_examples,) integer array in [0, num_classes)."""
    _check_ndim(func, "y", y, 1, "(N,)")
    if y.shape[0] != num_examples:
        raise ValueError(
            f"{func}: y has shape {y.shape} but x has {num_examples} rows; "
            "need one label per row of x"
        )
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{func}: y must hold integer class labels, got dtype {y.dtype}")
    low, high = y.min(), y.max()  # O(N); cheap next to the matrix products
    if low < 0 or high >= num_classes:
        raise ValueError(
            f"{func}: labels must lie in [0, {num_classes}) for x of shape "
            f"({num_examples}, {num_classes}), got values in [{low}, {high}]"
        )


def fc_forward(x, w, b):
    """
    Forward pass of a fully-connected (affine) layer: out = x @ w + b.

    Inputs:
    - x: (N, Din) input batch
    - w: (Din, Dout) weights
    - b: (Dout,) biases (a (1, Dout) row works too: it broadcasts over the batch)

    Returns a tuple of:
    - out: (N, Dout) output, same dtype as the inputs
    - cache: (x, w, b) for fc_backward
    """
    _check_ndim("fc_forward", "x", x, 2, "(N, Din)")
    _check_ndim("fc_forward", "w", w, 2, "(Din, Dout)")
    _check_array("fc_forward", "b", b)
    if x.shape[1] != w.shape[0] or b.shape not in ((w.shape[1],), (1, w.shape[1])):
        raise ValueError(
            f"fc_forward: shapes do not fit: x {x.shape}, w {w.shape}, b {b.shape}; "
            "need x (N, Din), w (Din, Dout), b (Dout,) or (1, Dout)"
        )
    # BEGIN SOLUTION
    out = x @ w
    out += b
    # END SOLUTION
    return out, (x, w, b)


def fc_backward(grad_out, cache, *, compute_grad_x=True):
    """
    Backward pass of a fully-connected layer.

    Inputs:
    - grad_out: (N, Dout) upstream gradient dL/dout
    - cache: (x, w, b) from fc_forward
    - compute_grad_x: False skips grad_x (returned as None). The first layer of a network
      has no use for it, and it costs as much as the forward matrix product.

    Returns a tuple of:
    - grad_x: (N, Din) gradient with respect to x (None if compute_grad_x is False)
    - grad_w: (Din, Dout) gradient with respect to w
    - grad_b: gradient with respect to b, shaped like b ((Dout,) or (1, Dout))
    """
    x, w, b = cache
    _check_ndim("fc_backward", "grad_out", grad_out, 2, "(N, Dout)")
    expected = (x.shape[0], w.shape[1])
    if grad_out.shape != expected:
        raise ValueError(
            f"fc_backward: grad_out has shape {grad_out.shape} but the layer output "
            f"has shape {expected} (x {x.shape}, w {w.shape})"
        )
    # BEGIN SOLUTION
    grad_x = grad_out @ w.T if compute_grad_x else None
    grad_w = x.T @ grad_out
    grad_b = grad_out.sum(axis=0).reshape(b.shape)
    # END SOLUTION
    return grad_x, grad_w, grad_b


def relu_forward(x):
    """
    Forward pass of a rectified linear unit: out = max(x, 0), elementwise.

    Inputs:
    - x: array of any shape

    Returns a tuple of:
    - out: array of the same shape and dtype as x
    - cache: x, for relu_backward
    """
    _check_array("relu_forward", "x", x)
    # BEGIN SOLUTION
    out = np.maximum(x, 0)
    # END SOLUTION
    return out, x


def relu_backward(grad_out, cache):
    """
    Backward pass of a ReLU.

    Inputs:
    - grad_out: upstream gradient, same shape as the forward input
    - cache: the forward input x

    Returns:
    - grad_x: gradient with respect to x, same shape as x: grad_out where x > 0, 0 where
      x < 0. ReLU has no derivative at x == 0; any value in [0, 1] there is right (the
      checks accept 0 and grad_out), and this returns 0.
    """
    x = cache
    _check_array("relu_backward", "grad_out", grad_out)
    _check_same_shape("relu_backward", "grad_out", grad_out, "x", x)
    # BEGIN SOLUTION
    grad_x = grad_out * (x > 0)
    # END SOLUTION
    return grad_x


def l2_loss(x, y):
    """
    Squared-error loss of a regression (given code, as in the homework's linear-regression
    example): loss = 0.5 * sum((x - y)**2) / N, summed over features and averaged over the
    N examples; its gradient is (x - y) / N.

    Inputs:
    - x: (N, D) predictions
    - y: (N, D) targets

    Returns a tuple of:
    - loss: scalar of x's dtype
    - grad_x: (N, D) gradient of the loss with respect to x
    """
    _check_ndim("l2_loss", "x", x, 2, "(N, D)")
    _check_array("l2_loss", "y", y)
    _check_same_shape("l2_loss", "x", x, "y", y)
    _check_nonempty("l2_loss", "x", x)
    n = x.shape[0]
    diff = x - y
    loss = 0.5 * np.sum(diff * diff) / n
    grad_x = diff / n
    return loss, grad_x


def softmax_loss(x, y):
    """
    Softmax cross-entropy loss, averaged over the batch. Subtracting each row's maximum
    score before exponentiating keeps it finite for any scores (exp never overflows).

    Inputs:
    - x: (N, C) class scores
    - y: (N,) integer labels, 0 <= y[i] < C

    Returns a tuple of:
    - loss: scalar of x's dtype
    - grad_x: (N, C) gradient of the loss with respect to x
    """
    _check_ndim("softmax_loss", "x", x, 2, "(N, C)")
    _check_nonempty("softmax_loss", "x", x)
    _check_labels("softmax_loss", y, x.shape[0], x.shape[1])
    # BEGIN SOLUTION
    n = x.shape[0]
    rows = np.arange(n)
    shifted = x - x.max(axis=1, keepdims=True)
    correct = shifted[rows, y]  # fancy indexing copies, so the in-place exp below is safe
    exp = np.exp(shifted, out=shifted)
    sums = exp.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(sums[:, 0]) - correct)
    grad_x = exp
    grad_x /= sums  # now the softmax probabilities
    grad_x[rows, y] -= 1
    grad_x /= n
    # END SOLUTION
    return loss, grad_x


def l2_regularization(w, reg):
    """
    L2 weight penalty: loss = reg / 2 * sum(w**2).

    Inputs:
    - w: weight array of any shape
    - reg: regularization strength, a number >= 0

    Returns a tuple of:
    - loss: scalar of w's dtype
    - grad_w: gradient with respect to w, same shape and dtype as w
    """
    _check_array("l2_regularization", "w", w)
    if isinstance(reg, bool) or not isinstance(reg, (int, float, np.integer, np.floating)):
        raise ValueError(f"l2_regularization: reg must be a number, got {reg!r}")
    reg = float(reg)  # a Python float never promotes float32 arrays to float64
    if not np.isfinite(reg) or reg < 0:
        raise ValueError(f"l2_regularization: reg must be finite and >= 0, got {reg}")
    # BEGIN SOLUTION
    loss = reg / 2 * np.vdot(w, w)  # vdot flattens w and sums w*w without a temporary
    grad_w = reg * w
    # END SOLUTION
    return loss, grad_w
