import math
import numpy as np


def f1(x1, w1, x2, w2, b, y):
    """
    Computes the forward and backward pass through the computational graph f1.
    """
    raise NotImplementedError("f1: optional, not done")


def f2(x):
    """
    Computes the forward and backward pass through the computational graph f2.

    Returns a tuple of:
    - y: The output of the graph
    - grads: A tuple (grad_x,)
    """
    # forward
    d = 2 * x
    e = math.exp(d)
    t = e - 1
    b = e + 1
    y = t / b

    # backward: y = t / b
    dt = 1 / b
    db = -t / (b ** 2)
    # t = e - 1 and b = e + 1: e gets both
    de = dt + db
    dd = de * e
    dx = 2 * dd
    return y, (dx,)


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
    e1 = math.exp(s1)
    e2 = math.exp(s2)
    d = e1 + e2
    p1 = e1 / d
    p2 = e2 / d
    p = (p1, p2)[y - 1]
    L = -math.log(p)

    dp = -1 / p
    dp1 = dp if y == 1 else 0
    dp2 = dp if y == 2 else 0
    # quotient rule on p1 = e1 / d and p2 = e2 / d
    de1 = dp1 * (d - e1) / d ** 2 - dp2 * e2 / d ** 2
    de2 = dp2 * (d - e2) / d ** 2 - dp1 * e1 / d ** 2
    ds1 = de1 * e1
    ds2 = de2 * e2
    return L, (ds1, ds2)


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


def f4(x, y, z):
    """
    Extra credit (optional).
    """
    raise NotImplementedError()
