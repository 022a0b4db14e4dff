"""Write backprop-data.pkl: sample inputs of f1-f4 with their expected outputs and gradients.

The expected values come from closed forms (squared error, tanh, log-sum-exp, softplus),
never from functions.py, so the data is an independent reference for the driver.

    python backprop/make_backprop_data.py        # rewrites backprop/backprop-data.pkl

File format: a dict function name -> {"args": names of the arguments in call order,
"grad_args": names of the arguments that grads refers to, "cases": [{"inputs": {name:
value}, "output": float, "grads": (float, ...)}, ...]}. Plain Python floats and ints only.
"""

import math
import pickle
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "backprop-data.pkl"


def softplus(s):
    """log(1 + exp(s)), for any s."""
    return max(s, 0.0) + math.log1p(math.exp(-abs(s)))


def sigmoid(s):
    """1 / (1 + exp(-s)), for any s."""
    if s >= 0:
        return 1.0 / (1.0 + math.exp(-s))
    return math.exp(s) / (1.0 + math.exp(s))


def f1_case(x1, w1, x2, w2, b, y):
    """L = (x1*w1 + x2*w2 + b - y)^2 and its partial derivatives."""
    r = x1 * w1 + x2 * w2 + b - y
    return r * r, (2 * r * w1, 2 * r * x1, 2 * r * w2, 2 * r * x2, 2 * r, -2 * r)


def f2_case(x):
    """y = tanh(x), dy/dx = 1 - tanh(x)^2."""
    y = math.tanh(x)
    return y, (1.0 - y * y,)


def f3_case(s1, s2, y):
    """L = logsumexp(s1, s2) - s_y; dL/ds_i = softmax_i - [i == y]."""
    lse = max(s1, s2) + math.log1p(math.exp(-abs(s1 - s2)))
    p1, p2 = sigmoid(s1 - s2), sigmoid(s2 - s1)
    if y == 1:
        return lse - s1, (p1 - 1.0, p2)
    return lse - s2, (p1, p2 - 1.0)


def f4_case(x, w, b, y):
    """L = softplus(s) - y*s for s = w*x + b; dL/ds = sigmoid(s) - y, dL/dy = -s."""
    s = w * x + b
    g = sigmoid(s) - y
    return softplus(s) - y * s, (g * w, g * x, g, -s)


SPECS = {
    "f1": (f1_case, ("x1", "w1", "x2", "w2", "b", "y"), ("x1", "w1", "x2", "w2", "b", "y"), [
        (1.0, 2.0, -3.0, 0.5, 0.25, 1.0),
        (-0.7, 1.3, 2.2, -0.4, 0.1, -2.5),
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        (1000.0, -3.0, 250.0, 4.0, -7.0, 12.0),
    ]),
    "f2": (f2_case, ("x",), ("x",), [
        (0.5,), (-1.3,), (0.0,), (1e-3,), (3.0,), (20.0,), (-20.0,), (300.0,), (-300.0,),
    ]),
    "f3": (f3_case, ("s1", "s2", "y"), ("s1", "s2"), [
        (1.0, 2.0, 1), (1.0, 2.0, 2), (-0.3, 0.8, 1), (0.0, 0.0, 2),
        (1000.0, -1000.0, 2), (1000.0, -1000.0, 1), (-1000.0, 1000.0, 2), (800.0, 799.0, 1),
        (-750.0, -751.5, 2),
    ]),
    "f4": (f4_case, ("x", "w", "b", "y"), ("x", "w", "b", "y"), [
        (1.5, 0.8, -0.3, 1.0), (-2.0, 0.5, 0.1, 0.0), (0.5, -1.0, 0.5, 1.0),
        (3.0, 20.0, 1.0, 1.0), (3.0, 20.0, 1.0, 0.0), (-4.0, 250.0, 0.0, 1.0),
        (2.0, 1.0, -0.5, 0.3),
    ]),
}


def build_data():
    """Returns the dict stored in backprop-data.pkl (see the module docstring)."""
    data = {}
    for name, (closed_form, args, grad_args, samples) in SPECS.items():
        cases = []
        for sample in samples:
            output, grads = closed_form(*sample)
            cases.append({"inputs": dict(zip(args, sample, strict=True)), "output": output,
                          "grads": grads})
        data[name] = {"args": args, "grad_args": grad_args, "cases": cases}
    return data


def main():
    with open(DATA_FILE, "wb") as f:
        pickle.dump(build_data(), f, protocol=4)
    print(f"wrote {DATA_FILE}")


if __name__ == "__main__":
    main()
