import numpy as np


def fc_forward(x, w, b):
    """
    Computes the forward pass for a fully-connected layer.

    The input x has shape (N, Din) and contains a minibatch of N
    examples, where each example x[i] has shape (Din,).

    Returns a tuple of:
    - out: output, of shape (N, Dout)
    - cache: (x, w, b)
    """
    out = np.matmul(x, w) + b
    cache = (x, w, b)
    return out, cache


def fc_backward(grad_out, cache):
    """
    Computes the backward pass for a fully-connected layer.

    Returns a tuple of:
    - grad_x: Gradient with respect to x, of shape (N, Din)
    - grad_w: Gradient with respect to w, of shape (Din, Dout)
    - grad_b: Gradient with respect to b, of shape (Dout,)
    """
    x, w, b = cache
    grad_w = np.matmul(x.T, grad_out)
    grad_b = grad_out.sum(axis=0)
    grad_x = np.matmul(grad_out, w.T)
    return grad_x, grad_w, grad_b


def relu_forward(x):
    """
    Computes the forward pass for the Rectified Linear Unit (ReLU) nonlinearity.

    Input:
    - x: A numpy array of inputs, of any shape

    Returns a tuple of:
    - out: A numpy array of outputs, of the same shape as x
    - cache: x
    """
    out = x * (x > 0)
    cache = x
    return out, cache


def relu_backward(grad_out, cache):
    """
    Computes the backward pass for a Rectified Linear Unit (ReLU) nonlinearity.

    Input:
    - grad_out: Upstream gradients, of the same shape as the input to relu_forward
    - cache: x

    Returns:
    - grad_x: Gradient with respect to x
    """
    x = cache
    grad_x = grad_out * (x >= 0)
    return grad_x


def l2_loss(x, y):
    """
    Computes the loss and gradient of L2 loss.

    loss = 0.5 * sum_i (x_i - y_i)**2 / N

    Inputs:
    - x: Input data, of shape (N, D)
    - y: Output data, of shape (N, D)

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

    Returns a tuple of:
    - loss: Scalar giving the loss
    - grad_x: Numpy array of shape (N, C) giving the gradient of the loss with
      with respect to x
    """
    N, C = x.shape
    x = x - x.max(axis=1).reshape(N, 1)
    probs = np.exp(x)
    probs = probs / probs.sum(axis=1).reshape(N, 1)
    loss = np.mean(-np.log(probs[range(N), y]))
    one_hot = np.zeros((N, C))
    one_hot[range(N), y] = 1
    grad_x = (probs - one_hot) / N
    return loss, grad_x


def l2_regularization(w, reg):
    """
    Computes loss and gradient for L2 regularization of a weight matrix:

    loss = (reg / 2) * sum_i w_i^2

    Returns a tuple of:
    - loss: A scalar giving the regularization loss
    - grad_w: gradient of the regularization loss with respect to w
    """
    loss = reg / 2 * np.sum(np.square(w))
    grad_w = reg * w
    return loss, grad_w
