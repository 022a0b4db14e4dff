import numpy as np


def fc_forward(x, w, b):
    """
    Computes the forward pass for a fully-connected layer.

    Returns a tuple of:
    - out: output, of shape (N, Dout)
    - cache: (x, w, b)
    """
    out = x @ w + b
    cache = (x, w, b)
    return out, cache


def fc_backward(grad_out, cache):
    """
    Computes the backward pass for a fully-connected layer.

    Returns a tuple of:
    - grad_x: Gradient with respect to x, of shape (N, Din)
    - grad_w: Gradient with respect to w, of shape (Din, Dout)
    - grad_b: Gradient with respect to b, of shape (1, Dout)
    """
    x, w, b = cache
    grad_x = grad_out @ w.T
    grad_w = x.T @ grad_out
    grad_b = np.sum(grad_out, axis=0, keepdims=True)
    return grad_x, grad_w, grad_b


def relu_forward(x):
    """
    Computes the forward pass for the Rectified Linear Unit (ReLU) nonlinearity.
    """
    out = x.copy()
    out[out < 0] = 0
    cache = x
    return out, cache


def relu_backward(grad_out, cache):
    """
    Computes the backward pass for a Rectified Linear Unit (ReLU) nonlinearity.
    """
    x = cache
    grad_x = np.where(x > 0, grad_out, 0)
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
    scores = x - np.max(x, axis=1, keepdims=True)
    probs = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
    correct_probs = probs[np.arange(N), y]
    loss = np.sum(-np.log(correct_probs)) / N
    grad_x = probs
    grad_x[np.arange(N), y] -= 1
    grad_x = grad_x / N
    return loss, grad_x


def l2_regularization(w, reg):
    """
    Computes loss and gradient for L2 regularization of a weight matrix.
    """
    loss = reg * 0.5 * np.sum(w ** 2)
    grad_w = reg * w
    return loss, grad_w
