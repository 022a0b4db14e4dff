import math


def f1(x1, w1, x2, w2, b, y):
    """
    Computes the forward and backward pass through the computational graph f1.

    Returns a tuple of:
    - L: The output of the graph
    - grads: A tuple (grad_x1, grad_w1, grad_x2, grad_w2, grad_b, grad_y)
    """
    # forward
    a = x1 * w1
    c = x2 * w2
    e = a + c
    y_hat = e + b
    d = y_hat - y
    L = d ** 2
    # backward
    grad_d = 2 * d
    grad_y_hat = grad_d * 1
    grad_y = grad_d * -1
    grad_e = grad_y_hat
    grad_b = grad_y_hat
    grad_a = grad_e
    grad_c = grad_e
    grad_x1 = grad_a * w1
    grad_w1 = grad_a * x1
    grad_x2 = grad_c * w2
    grad_w2 = grad_c * x2
    grads = (grad_x1, grad_w1, grad_x2, grad_w2, grad_b, grad_y)
    return L, grads


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
    # backward
    grad_t = 1 / b
    grad_b = -t / b ** 2
    grad_e_t = grad_t
    grad_e_b = grad_b
    grad_e = grad_e_t + grad_e_b
    grad_d = grad_e * e
    grad_x = grad_d * 2
    grads = (grad_x,)
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
    e1 = math.exp(s1)
    e2 = math.exp(s2)
    d = e1 + e2
    p1 = e1 / d
    p2 = e2 / d
    if y == 1:
        p = p1
    elif y == 2:
        p = p2
    L = -math.log(p)
    # backward
    grad_p = -1 / p
    if y == 1:
        grad_p1, grad_p2 = grad_p, 0
    else:
        grad_p1, grad_p2 = 0, grad_p
    grad_e1_p1 = grad_p1 / d
    grad_d_p1 = grad_p1 * -e1 / d ** 2
    grad_e2_p2 = grad_p2 / d
    grad_d_p2 = grad_p2 * -e2 / d ** 2
    grad_d = grad_d_p1 + grad_d_p2
    grad_e1 = grad_e1_p1 + grad_d
    grad_e2 = grad_e2_p2 + grad_d
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
    (Optional) Your own computational graph.
    """
    return None
