import numpy as np


def fc_forward(x, w, b):
    """
    Computes the forward pass for a fully-connected layer.
    """
    out = np.einsum('nd,dk->nk', x, w) + b
    cache = (x, w, b)
    return out, cache


def fc_backward(grad_out, cache):
    """
    Computes the backward pass for a fully-connected layer.
    """
    x, w, b = cache
    grad_x = np.einsum('nk,dk->nd', grad_out, w)
    grad_w = np.einsum('nd,nk->dk', x, grad_out)
    grad_b = grad_out.sum(0)
    return grad_x, grad_w, grad_b


def relu_forward(x):
    """
    Computes the forward pass for the Rectified Linear Unit (ReLU) nonlinearity.
    """
    out = np.clip(x, 0, None)
    cache = x
    return out, cache


def relu_backward(grad_out, cache):
    """
    Computes the backward pass for a Rectified Linear Unit (ReLU) nonlinearity.
    """
    x = cache
    grad_x = grad_out * (x > 0)
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
    Uses log-softmax so that no probability is rounded to 0 before the log.
    """
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(N), y].mean()
    grad_x = np.exp(log_probs)
    grad_x[np.arange(N), y] -= 1
    grad_x /= N
    return loss, grad_x


def l2_regularization(w, reg):
    """
    Computes loss and gradient for L2 regularization of a weight matrix.
    """
    return 0.5 * reg * (w ** 2).sum(), reg * w
