import math
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
    # Forward pass
    e1 = math.exp(s1)
    e2 = math.exp(s2)
    d = e1 + e2
    p1 = e1 / d
    p2 = e2 / d
    p = p1 if y == 1 else p2
    L = -math.log(p)

    # Backward pass
    dL = 1
    dp = -1 / p * dL
    dp1 = dp if y == 1 else 0
    dp2 = dp if y == 2 else 0
    # p1 = e1 / d  and  p2 = e2 / d
    de1 = dp1 * (1 / d)
    de2 = dp2 * (1 / d)
    dd = dp1 * (-e1 / d ** 2) + dp2 * (-e2 / d ** 2)
    # d = e1 + e2
    de1 = de1 + dd
    de2 = de2 + dd
    # e = exp(s)
    ds1 = de1 * e1
    ds2 = de2 * e2

    grads = (ds1, ds2)
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


def f4(a, b, c):
    """
    My own graph: L = (a * b + c)**2 / (1 + exp(-a))
    Nodes: m = a * b, s = m + c, q = s**2, n = -a, e = exp(n), t = 1 + e, L = q / t
    """
    # forward
    m = a * b
    s = m + c
    q = s ** 2
    n = -a
    e = math.exp(n)
    t = 1 + e
    L = q / t

    # backward
    dq = 1 / t
    dt = -q / t ** 2
    de = dt
    dn = de * e
    ds = dq * 2 * s
    dm = ds
    dc = ds
    da_from_m = dm * b
    db = dm * a
    da_from_n = -dn
    da = da_from_m + da_from_n
    return L, (da, db, dc)
