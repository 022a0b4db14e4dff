import numpy as np


def f1(x1, w1, x2, w2, b, y):
    """
    Computes the forward and backward pass through the computational graph f1.

    Returns a tuple of:
    - L: The output of the graph
    - grads: A tuple (grad_x1, grad_w1, grad_x2, grad_w2, grad_b, grad_y)
    """
    L, grads = None, None
    ###########################################################################
    # TODO (optional): Implement the forward and backward pass for f1.        #
    ###########################################################################
    return L, grads


def f2(x):
    """
    Computes the forward and backward pass through the computational graph f2.

    Returns a tuple of:
    - y: The output of the graph
    - grads: A tuple (grad_x,)
    """
    y, grads = None, None
    ###########################################################################
    # TODO (optional): Implement the forward and backward pass for f2.        #
    ###########################################################################
    return y, grads


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
    # forward
    e1 = np.exp(s1)
    e2 = np.exp(s2)
    d = e1 + e2
    p1 = e1 / d
    p2 = e2 / d
    p = p1 if y == 1 else p2
    L = -np.log(p)

    # backward
    grad_p = -1.0 / p
    grad_p1 = grad_p * (1 if y == 1 else 0)
    grad_p2 = grad_p * (1 if y == 2 else 0)
    grad_d = grad_p1 * (-e1 / d ** 2) + grad_p2 * (-e2 / d ** 2)
    grad_e1 = grad_p1 / d + grad_d
    grad_e2 = grad_p2 / d + grad_d
    grad_s1 = grad_e1 * np.exp(s1)
    grad_s2 = grad_e2 * np.exp(s2)

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


def f4(x, y):
    """
    Extra credit: my own graph, L = sigmoid(x * y) * (x + y)
    nodes: m = x * y, n = -m, e = exp(n), q = 1 + e, s = 1 / q, a = x + y, L = s * a
    """
    # forward
    m = x * y
    n = -m
    e = np.exp(n)
    q = 1 + e
    s = 1 / q
    a = x + y
    L = s * a

    # backward
    grad_s = a
    grad_a = s
    grad_q = grad_s * (-1 / q ** 2)
    grad_e = grad_q
    grad_n = grad_e * e
    grad_m = -grad_n
    grad_x = grad_m * y + grad_a
    grad_y = grad_m * x + grad_a
    return L, (grad_x, grad_y)
