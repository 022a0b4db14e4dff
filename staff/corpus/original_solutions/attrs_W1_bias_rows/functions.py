import math
import numpy as np


def f1(x1, w1, x2, w2, b, y):
    """
    Computes the forward and backward pass through the computational graph f1.

    Returns a tuple of:
    - L: The output of the graph
    - grads: A tuple (grad_x1, grad_w1, grad_x2, grad_w2, grad_b, grad_y)
    """
    # Forward pass: compute loss
    mul1 = x1 * w1
    mul2 = x2 * w2
    add1 = mul1 + mul2
    y_hat = add1 + b
    diff = y_hat - y
    L = diff * diff

    # Backward pass: compute gradients
    grad_diff = 2 * diff
    grad_y_hat = grad_diff
    grad_y = -1 * grad_diff
    grad_add1 = grad_y_hat
    grad_b = grad_y_hat
    grad_mul1 = grad_add1
    grad_mul2 = grad_add1
    grad_x1 = w1 * grad_mul1
    grad_w1 = x1 * grad_mul1
    grad_x2 = w2 * grad_mul2
    grad_w2 = x2 * grad_mul2

    return L, (grad_x1, grad_w1, grad_x2, grad_w2, grad_b, grad_y)


def f2(x):
    """
    Computes the forward and backward pass through the computational graph f2.
    """
    raise NotImplementedError('f2 is optional')


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
    # Forward pass: compute loss
    exp1 = math.exp(s1)
    exp2 = math.exp(s2)
    total = exp1 + exp2
    prob1 = exp1 / total
    prob2 = exp2 / total
    prob = [prob1, prob2][y - 1]
    L = -1 * math.log(prob)

    # Backward pass: compute gradients
    grad_prob = -1 / prob
    grad_prob1 = grad_prob * (y == 1)
    grad_prob2 = grad_prob * (y == 2)
    grad_exp1 = grad_prob1 / total
    grad_exp2 = grad_prob2 / total
    grad_total = -grad_prob1 * exp1 / total ** 2 - grad_prob2 * exp2 / total ** 2
    grad_exp1 = grad_exp1 + grad_total
    grad_exp2 = grad_exp2 + grad_total
    grad_s1 = grad_exp1 * exp1
    grad_s2 = grad_exp2 * exp2

    return L, (grad_s1, grad_s2)


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
    Extra credit: your own computational graph (optional).
    """
    raise NotImplementedError('f4 is optional')
