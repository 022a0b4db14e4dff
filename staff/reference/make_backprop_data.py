"""Write backprop-data.pkl: sample inputs of f1-f3 with their expected outputs and gradients.

The expected values come from closed forms (squared error, tanh, log-sum-exp), never from
functions.py, so the data is an independent reference for the driver. f4 is the student's own
graph, so it has no entry: the driver checks it against numeric differences only.

    python -m staff.reference.make_backprop_data        # rewrites backprop/backprop-data.pkl

File format: a dict function name -> {"args": names of the arguments in call order,
"grad_args": names of the arguments that grads refers to, "cases": [case, ...],
"stability_cases": [case, ...]}, each case {"inputs": {name: value}, "output": float,
"grads": (float, ...)}. "cases" lie in the range the homework's graphs are meant for; a
correct solution must match them. "stability_cases" are large inputs where the graphs as the
homework draws them overflow: the driver only prints a note when they do not match. Plain
Python floats and ints only.

Next to ours, the layout of the original course's data file, which its own backprop.py
reads: "f1", "f2", "f3 (y=1)" and "f3 (y=2)" each hold "inputs" (a list of argument tuples,
random.random() values in [0, 1), for f1(...), f2(...), f3_y1(s1, s2), f3_y2(s1, s2)) and
"outputs" (the list of the functions' outputs, floats).
"""

import math
import random
from pathlib import Path

from staff.reference import write_data_file

DATA_FILE = Path(__file__).resolve().parents[2] / "backprop" / "backprop-data.pkl"


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


# name -> (closed form, argument names, gradient argument names, cases, stability cases)
SPECS = {
    "f1": (f1_case, ("x1", "w1", "x2", "w2", "b", "y"), ("x1", "w1", "x2", "w2", "b", "y"), [
        (1.0, 2.0, -3.0, 0.5, 0.25, 1.0),
        (-0.7, 1.3, 2.2, -0.4, 0.1, -2.5),
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        (1000.0, -3.0, 250.0, 4.0, -7.0, 12.0),
    ], []),
    "f2": (f2_case, ("x",), ("x",), [
        (0.5,), (-1.3,), (0.0,), (1e-3,), (3.0,), (20.0,), (-20.0,),
    ], [(300.0,), (-300.0,)]),
    "f3": (f3_case, ("s1", "s2", "y"), ("s1", "s2"), [
        (1.0, 2.0, 1), (1.0, 2.0, 2), (-0.3, 0.8, 1), (0.0, 0.0, 2), (4.5, -2.0, 1),
        (3.0, -7.0, 2), (-12.0, 5.0, 1),
    ], [
        (1000.0, -1000.0, 2), (1000.0, -1000.0, 1), (-1000.0, 1000.0, 2), (800.0, 799.0, 1),
        (-750.0, -751.5, 2),
    ]),
}


def make_cases(closed_form, args, samples):
    """[{"inputs": {name: value}, "output": float, "grads": (float, ...)}, ...] of samples."""
    cases = []
    for sample in samples:
        output, grads = closed_form(*sample)
        cases.append({"inputs": dict(zip(args, sample, strict=True)), "output": output,
                      "grads": grads})
    return cases


# The original layout: name -> (the function's output for an argument tuple, its arity)
ORIGINAL = {
    "f1": (lambda *args: f1_case(*args)[0], 6),
    "f2": (lambda x: f2_case(x)[0], 1),
    "f3 (y=1)": (lambda s1, s2: f3_case(s1, s2, 1)[0], 2),
    "f3 (y=2)": (lambda s1, s2: f3_case(s1, s2, 2)[0], 2),
}
ORIGINAL_SAMPLES, ORIGINAL_SEED = 10, 4


def original_layout():
    """dict name -> {"inputs": [argument tuples], "outputs": [floats]}, the original course's
    layout (see the module docstring)."""
    draw = random.Random(ORIGINAL_SEED).random
    layout = {}
    for name, (output, arity) in ORIGINAL.items():
        inputs = [tuple(draw() for _ in range(arity)) for _ in range(ORIGINAL_SAMPLES)]
        layout[name] = {"inputs": inputs, "outputs": [output(*args) for args in inputs]}
    return layout


def build_data():
    """Returns the dict stored in backprop-data.pkl (see the module docstring)."""
    data = {}
    for name, (closed_form, args, grad_args, samples, large) in SPECS.items():
        data[name] = {"args": args, "grad_args": grad_args,
                      "cases": make_cases(closed_form, args, samples),
                      "stability_cases": make_cases(closed_form, args, large)}
    for name, entry in original_layout().items():
        data.setdefault(name, {}).update(entry)
    return data


def main(argv=None):
    """No options: --help says what the file is, anything else is an error."""
    write_data_file(__spec__, __doc__, DATA_FILE, build_data, argv)


if __name__ == "__main__":
    main()
