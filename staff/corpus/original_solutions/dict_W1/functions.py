import math

import numpy as np


def f1(x1, w1, x2, w2, b, y):
    """
    Computes the forward and backward pass through the computational graph f1.

    Inputs:
    - x1, w1, x2, w2, b, y: Python floats

    Returns a tuple of:
    - L: The output of the graph
    - grads: A tuple (grad_x1, grad_w1, grad_x2, grad_w2, grad_b, grad_y)
    """
    # forward pass
    a1 = x1 * w1
    a2 = x2 * w2
    s = a1 + a2
    y_hat = s + b
    d = y_hat - y
    L = d ** 2

    # backward pass
    grad_L = 1.0
    grad_d = grad_L * 2 * d
    grad_y_hat = grad_d
    grad_y = -grad_d
    grad_s = grad_y_hat
    grad_b = grad_y_hat
    grad_a1 = grad_s
    grad_a2 = grad_s
    grad_x1 = grad_a1 * w1
    grad_w1 = grad_a1 * x1
    grad_x2 = grad_a2 * w2
    grad_w2 = grad_a2 * x2

    grads = (grad_x1, grad_w1, grad_x2, grad_w2, grad_b, grad_y)
    return L, grads


def f2(x):
    """
    Computes the forward and backward pass through the computational graph f2.

    Inputs:
    - x: Python float

    Returns a tuple of:
    - y: The output of the graph
    - grads: A tuple (grad_x,)
    """
    # forward pass
    d = 2 * x
    e = math.exp(d)
    t = e - 1
    b = e + 1
    y = t / b

    # backward pass
    grad_y = 1.0
    grad_t = grad_y / b
    grad_b = -grad_y * t / (b * b)
    grad_e = grad_t + grad_b
    grad_d = grad_e * e
    grad_x = grad_d * 2

    return y, (grad_x,)


def f3(s1, s2, y):
    """
    Computes the forward and backward pass through the computational graph f3.

    Inputs:
    - s1, s2: Python floats
    - y: Python integer, either equal to 1 or 2

    Returns a tuple of:
    - L: The output of the graph
    - grads: A tuple (grad_s1, grad_s2)
    """
    assert y == 1 or y == 2
    # forward pass
    e1 = math.exp(s1)
    e2 = math.exp(s2)
    d = e1 + e2
    p1 = e1 / d
    p2 = e2 / d
    if y == 1:
        p = p1
    else:
        p = p2
    L = -math.log(p)

    # backward pass
    grad_L = 1.0
    grad_p = -grad_L / p
    grad_p1 = grad_p if y == 1 else 0.0
    grad_p2 = grad_p if y == 2 else 0.0
    grad_e1 = grad_p1 / d
    grad_e2 = grad_p2 / d
    grad_d = -grad_p1 * e1 / (d * d) - grad_p2 * e2 / (d * d)
    grad_e1 += grad_d
    grad_e2 += grad_d
    grad_s1 = grad_e1 * e1
    grad_s2 = grad_e2 * e2

    grads = (grad_s1, grad_s2)
    return L, grads


def f3_y1(s1, s2):
    """
    Helper function to compute f3 in the case where y = 1
    """
    return f3(s1, s2, y=1)


def f3_y2(s1, s2):
    """
    Helper function to compute f3 in the case where y = 2
    """
    return f3(s1, s2, y=2)


def f4():
    """
    Extra credit: design your own computational graph.
    """
    # TODO (optional)
    pass
