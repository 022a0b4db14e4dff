import numpy as np


def fc_forward(x, w, b):
    """
    Computes the forward pass for a fully-connected layer.

    Returns a tuple of:
    - out: output, of shape (N, Dout)
    - cache: (x, w, b)
    """
    out = np.dot(x, w) + b
    cache = (x, w, b)
    return out, cache


def fc_backward(grad_out, cache):
    """
    Computes the backward pass for a fully-connected layer.

    Returns a tuple of:
    - grad_x, grad_w, grad_b
    """
    x, w, b = cache
    grad_x = np.dot(grad_out, np.transpose(w))
    grad_w = np.dot(np.transpose(x), grad_out)
    grad_b = np.sum(grad_out, axis=0)
    return grad_x, grad_w, grad_b


def relu_forward(x):
    """
    Computes the forward pass for the Rectified Linear Unit (ReLU) nonlinearity.
    """
    out = np.maximum(x, 0)
    cache = x
    return out, cache


def relu_backward(grad_out, cache):
    """
    Computes the backward pass for a Rectified Linear Unit (ReLU) nonlinearity.
    """
    x = cache
    mask = (x >= 0).astype(grad_out.dtype)
    grad_x = grad_out * mask
    return grad_x


def l2_loss(x, y):
    """
    Computes the loss and gradient of L2 loss.

    loss = 0.5 * sum_i (x_i - y_i)**2 / N
    """
    N = x.shape[0]
    diff = x - y
    loss = 0.5 * np.sum(diff * diff) / N
    grad_x = diff / N
    return loss, grad_x


def softmax_loss(x, y):
    """
    Computes the loss and gradient for softmax (cross-entropy) loss function.
    """
    N = x.shape[0]
    x_max = np.max(x, axis=1).reshape(-1, 1)
    exps = np.exp(x - x_max)
    sums = np.sum(exps, axis=1).reshape(-1, 1)
    p = exps / sums
    loss = np.sum(-np.log(p[np.arange(N), y])) / N
    dx = p
    dx[np.arange(N), y] = dx[np.arange(N), y] - 1
    grad_x = dx / N
    return loss, grad_x


def l2_regularization(w, reg):
    """
    Computes loss and gradient for L2 regularization of a weight matrix.
    """
    loss = np.sum(np.power(w, 2)) * reg / 2
    grad_w = w * reg
    return loss, grad_w
