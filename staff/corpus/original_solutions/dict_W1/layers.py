import numpy as np


def fc_forward(x, w, b):
    """
    Computes the forward pass for a fully-connected layer.

    Inputs:
    - x: Input data, of shape (N, Din)
    - w: Weights, of shape (Din, Dout)
    - b: Biases, of shape (Dout,)

    Returns a tuple of:
    - out: Output of the fully-connected layer, of shape (N, Dout)
    - cache: Values needed for the backward pass
    """
    out = x.dot(w) + b
    cache = (x, w, b)
    return out, cache


def fc_backward(grad_out, cache):
    """
    Computes the backward pass for a fully-connected layer.

    Inputs:
    - grad_out: Upstream gradient, of shape (N, Dout)
    - cache: The cache object returned by fc_forward

    Returns a tuple of:
    - grad_x, grad_w, grad_b
    """
    x, w, b = cache
    grad_x = grad_out.dot(w.T)
    grad_w = x.T.dot(grad_out)
    grad_b = np.sum(grad_out, axis=0)
    return grad_x, grad_w, grad_b


def relu_forward(x):
    """
    Computes the forward pass for the Rectified Linear Unit (ReLU) nonlinearity.
    """
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(grad_out, cache):
    """
    Computes the backward pass for a Rectified Linear Unit (ReLU) nonlinearity.
    """
    x = cache
    dx = grad_out.copy()
    dx[x <= 0] = 0
    return dx


def l2_loss(x, y):
    """
    Computes the loss and gradient of L2 loss.

    loss = 0.5 * sum_i (x_i - y_i)**2 / N

    Returns a tuple of:
    - loss: Scalar giving the loss
    - grad_x: Gradient of the loss with respect to x
    """
    N = x.shape[0]
    diff = x - y
    loss = 0.5 * np.sum(diff * diff) / N
    grad_x = diff / N
    return loss, grad_x


def softmax_loss(x, y):
    """
    Computes the loss and gradient for softmax (cross-entropy) loss function.

    Inputs:
    - x: Numpy array of shape (N, C) giving predicted class scores
    - y: Numpy array of shape (N,) giving ground-truth labels in the range 0 <= y[i] < C

    Returns a tuple of:
    - loss: Scalar giving the loss
    - grad_x: Numpy array of shape (N, C) giving the gradient of the loss with respect to x
    """
    N = x.shape[0]
    shifted = x - np.max(x, axis=1, keepdims=True)
    exp_scores = np.exp(shifted)
    p = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    loss = -np.sum(np.log(p[np.arange(N), y])) / N
    grad_x = p.copy()
    grad_x[np.arange(N), y] -= 1
    grad_x /= N
    return loss, grad_x


def l2_regularization(w, reg):
    """
    Computes loss and gradient for L2 regularization of a weight matrix:

    loss = (reg / 2) * sum_i w_i^2
    """
    loss = 0.5 * reg * np.sum(w * w)
    grad_w = reg * w
    return loss, grad_w
