import numpy as np


def fc_forward(x, w, b):
    """
    Computes the forward pass for a fully-connected layer.

    Returns a tuple of:
    - out: output, of shape (N, Dout)
    - cache: (x, w, b)
    """
    N = x.shape[0]
    Dout = w.shape[1]
    out = np.zeros((N, Dout))
    for i in range(N):
        out[i] = np.dot(x[i], w) + b
    cache = (x, w, b)
    return out, cache


def fc_backward(grad_out, cache):
    """
    Computes the backward pass for a fully-connected layer.

    Returns a tuple of:
    - grad_x, grad_w, grad_b
    """
    x, w, b = cache
    grad_x = np.dot(grad_out, w.T)
    grad_w = np.zeros_like(w)
    grad_b = np.zeros_like(b)
    for i in range(x.shape[0]):
        grad_w += np.outer(x[i], grad_out[i])
        grad_b += grad_out[i]
    return grad_x, grad_w, grad_b


def relu_forward(x):
    """
    Computes the forward pass for the Rectified Linear Unit (ReLU) nonlinearity.
    """
    out = np.where(x > 0, x, 0)
    cache = x
    return out, cache


def relu_backward(grad_out, cache):
    """
    Computes the backward pass for a Rectified Linear Unit (ReLU) nonlinearity.
    """
    x = cache
    grad_x = grad_out * np.greater_equal(x, 0)
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
    loss = 0.0
    grad_x = np.zeros_like(x)
    for i in range(N):
        scores = x[i] - np.max(x[i])
        probs = np.exp(scores) / np.sum(np.exp(scores))
        loss += -np.log(probs[y[i]])
        grad_x[i] = probs
        grad_x[i, y[i]] -= 1
    loss /= N
    grad_x /= N
    return loss, grad_x


def l2_regularization(w, reg):
    """
    Computes loss and gradient for L2 regularization of a weight matrix.
    """
    loss = (reg / 2) * np.sum(w * w)
    grad_w = reg * w
    return loss, grad_w
