"""Task 1: computational graphs with hand-written backpropagation.

Every function returns `(output, grads)` where `grads` holds the derivative of the output
with respect to each input, in the order of the arguments. Forward and backward passes are
written node by node, one line per edge: `grad_<name>` is the derivative of the output with
respect to node `<name>`. When a node feeds several others, each copy gets its own gradient
and the copies are summed explicitly.

f1, f2 and f4 are optional; f3 is required. f4 is your own graph: give it any arguments
(backprop.py reads its signature and checks it at random inputs, or at the inputs listed in
an optional `F4_INPUTS = [{"name": value, ...}, ...]` defined in this file).
"""

import numpy as np


def f1(x1, w1, x2, w2, b, y):
    """
    Squared error of a linear model with two features:
    y_hat = x1*w1 + x2*w2 + b, d = y_hat - y, L = d^2.

    Inputs: x1, w1, x2, w2, b, y: floats

    Returns a tuple of:
    - L: float
    - grads: (grad_x1, grad_w1, grad_x2, grad_w2, grad_b, grad_y)
    """
    # BEGIN SOLUTION
    # forward
    a1 = x1 * w1
    a2 = x2 * w2
    a = a1 + a2
    y_hat = a + b
    d = y_hat - y
    L = d ** 2

    # backward
    grad_L = 1.0
    grad_d = grad_L * 2 * d
    grad_y_hat = grad_d
    grad_y = -grad_d
    grad_a = grad_y_hat
    grad_b = grad_y_hat
    grad_a1 = grad_a
    grad_a2 = grad_a
    grad_x1 = grad_a1 * w1
    grad_w1 = grad_a1 * x1
    grad_x2 = grad_a2 * w2
    grad_w2 = grad_a2 * x2
    # END SOLUTION
    return L, (grad_x1, grad_w1, grad_x2, grad_w2, grad_b, grad_y)


def f2(x):
    """
    Hyperbolic tangent written with exponentials:
    d = 2x, e = exp(d), t = e - 1, b = e + 1, y = t / b   (y = tanh(x)).

    exp(2x) overflows for x > 354, so this graph is meant for |x| <= 350 (f3 shows how a
    graph is made safe for any input).

    Inputs: x: float

    Returns a tuple of:
    - y: float
    - grads: (grad_x,)
    """
    # BEGIN SOLUTION
    # forward
    d = 2 * x
    e = np.exp(d)
    t = e - 1
    b = e + 1
    y = t / b

    # backward
    grad_y = 1.0
    grad_t = grad_y / b
    grad_b = -grad_y * t / b / b  # divide twice: b * b would overflow for large x
    grad_e_from_t = grad_t
    grad_e_from_b = grad_b
    grad_e = grad_e_from_t + grad_e_from_b
    grad_d = grad_e * e
    grad_x = grad_d * 2
    # END SOLUTION
    return y, (grad_x,)


def _check_label(y):
    """Raise ValueError unless y is the integer 1 or 2."""
    if isinstance(y, (bool, np.bool_)) or not isinstance(y, (int, np.integer)) or y not in (1, 2):
        raise ValueError(f"f3: y must be the class label 1 or 2, got {y!r}")


def f3(s1, s2, y):
    """
    Softmax cross-entropy of two class scores, L = -log(p_y) with p_i = exp(s_i) / sum_j
    exp(s_j), node by node as the homework draws it:
      e_i = exp(s_i), d = e1 + e2, p_i = e_i / d, p = choose(p1, p2, y), L = -log(p)
    That graph overflows (exp(1000) = inf) and underflows (p = 0, L = inf) for large scores,
    which backprop.py only notes; an exact rewrite that avoids both, with nodes of its own,
    is accepted too.

    Inputs:
    - s1, s2: floats, the scores of classes 1 and 2
    - y: int, the true class, 1 or 2 (anything else raises ValueError)

    Returns a tuple of:
    - L: float
    - grads: (grad_s1, grad_s2)
    """
    _check_label(y)
    # BEGIN SOLUTION
    # The homework's graph with two exact rewrites, each with its own nodes:
    #   m = max(s1, s2), z_i = s_i - m     (exp(z_i) <= 1 never overflows)
    #   logp_i = z_i - log(d)              (log p_i without forming p_i, which can be 0)
    # then L = -choose(logp1, logp2, y). For s1 = 1000, s2 = -1000, y = 2: L = 2000 exactly.

    # forward
    m = max(s1, s2)
    z1 = s1 - m
    z2 = s2 - m
    e1 = np.exp(z1)
    e2 = np.exp(z2)
    d = e1 + e2
    log_d = np.log(d)
    logp1 = z1 - log_d
    logp2 = z2 - log_d
    logp = logp1 if y == 1 else logp2
    L = -logp

    # backward
    grad_L = 1.0
    grad_logp = -grad_L
    grad_logp1 = grad_logp if y == 1 else 0.0
    grad_logp2 = grad_logp if y == 2 else 0.0
    grad_log_d = -grad_logp1 - grad_logp2
    grad_d = grad_log_d / d
    grad_e1 = grad_d
    grad_e2 = grad_d
    grad_z1_from_logp1 = grad_logp1
    grad_z1_from_e1 = grad_e1 * e1
    grad_z1 = grad_z1_from_logp1 + grad_z1_from_e1
    grad_z2_from_logp2 = grad_logp2
    grad_z2_from_e2 = grad_e2 * e2
    grad_z2 = grad_z2_from_logp2 + grad_z2_from_e2
    grad_m = -grad_z1 - grad_z2  # 0 up to rounding: softmax ignores a common shift
    grad_s1_from_z1 = grad_z1
    grad_s1_from_m = grad_m if s1 >= s2 else 0.0
    grad_s1 = grad_s1_from_z1 + grad_s1_from_m
    grad_s2_from_z2 = grad_z2
    grad_s2_from_m = grad_m if s1 < s2 else 0.0
    grad_s2 = grad_s2_from_z2 + grad_s2_from_m
    # END SOLUTION
    return L, (grad_s1, grad_s2)


def f3_y1(s1, s2):
    """f3 with the true class fixed to 1. Returns (L, (grad_s1, grad_s2))."""
    return f3(s1, s2, 1)


def f3_y2(s1, s2):
    """f3 with the true class fixed to 2. Returns (L, (grad_s1, grad_s2))."""
    return f3(s1, s2, 2)


def f4(x, w, b, y):
    """
    Your own computational graph with at least five operators, written node by node like
    f1-f3. Choose its arguments freely (change this signature): backprop.py reads the
    signature and checks each gradient against numeric differences at random inputs. To pick
    the inputs yourself (e.g. for a label that must be 0 or 1), define next to this function
        F4_INPUTS = [{"x": 1.5, "w": 0.8, "b": -0.3, "y": 1}, ...]
    (an int value marks a discrete argument, whose gradient is not checked).

    Returns a tuple of:
    - L: float
    - grads: one gradient per argument, in the order of the arguments
    """
    # BEGIN SOLUTION
    # Ours: the logistic-regression loss of one example with one feature, the binary
    # cross-entropy of sigmoid(s) against the label y (0 or 1; soft labels in [0, 1] also
    # work) for the linear score s = w*x + b,
    #     L = -[y log sigmoid(s) + (1 - y) log(1 - sigmoid(s))]
    #       = max(s, 0) - y*s + log(1 + exp(-|s|)).
    # The graph computes the last form: it never overflows and stays accurate when L is
    # tiny. s feeds three nodes (a, r, ys), so its gradient is the sum of three copies. At
    # s = 0 both kinks (|s| and max) take the s >= 0 branch, which gives the exact
    # derivative sigmoid(0) - y.
    # forward
    p = w * x
    s = p + b
    a = np.abs(s)
    n = -a
    e = np.exp(n)
    l = np.log1p(e)
    r = max(s, 0.0)
    ys = y * s
    t = r - ys
    L = t + l

    # backward
    grad_L = 1.0
    grad_t = grad_L
    grad_l = grad_L
    grad_r = grad_t
    grad_ys = -grad_t
    grad_e = grad_l / (1 + e)
    grad_n = grad_e * e
    grad_a = -grad_n
    grad_s_from_a = grad_a * (1.0 if s >= 0 else -1.0)
    grad_s_from_r = grad_r * (1.0 if s >= 0 else 0.0)
    grad_s_from_ys = grad_ys * y
    grad_y = grad_ys * s
    grad_s = grad_s_from_r + grad_s_from_ys + grad_s_from_a  # this order keeps tiny gradients exact
    grad_p = grad_s
    grad_b = grad_s
    grad_w = grad_p * x
    grad_x = grad_p * w
    # END SOLUTION
    return L, (grad_x, grad_w, grad_b, grad_y)

