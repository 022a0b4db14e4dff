"""The reference f4's graph as data, for the write-up (staff/reference/report.py draws it).

Staff-only: the student file backprop/functions.py holds only the functions. `F4_GRAPH`
lists the nodes of the reference `f4(x, w, b, y)` in evaluation order as (node, operator,
input names); tests/test_staff_backprop_reference.py checks that `evaluate_graph` on it
reproduces f4's value.
"""

import numpy as np

F4_ARGS = ("x", "w", "b", "y")
F4_OUTPUT = "L"
F4_GRAPH = (
    ("p", "mul", ("w", "x")),
    ("s", "add", ("p", "b")),
    ("a", "abs", ("s",)),
    ("n", "neg", ("a",)),
    ("e", "exp", ("n",)),
    ("l", "log1p", ("e",)),
    ("r", "relu", ("s",)),
    ("ys", "mul", ("y", "s")),
    ("t", "sub", ("r", "ys")),
    ("L", "add", ("t", "l")),
)

GRAPH_OPS = {
    "add": lambda u, v: u + v,
    "sub": lambda u, v: u - v,
    "mul": lambda u, v: u * v,
    "neg": lambda u: -u,
    "abs": np.abs,
    "exp": np.exp,
    "log1p": np.log1p,
    "relu": lambda u: max(u, 0.0),
}


def evaluate_graph(graph, inputs):
    """
    Evaluate a graph given as ((node, op, input_names), ...) in evaluation order.

    Inputs:
    - graph: e.g. F4_GRAPH; op is a key of GRAPH_OPS
    - inputs: dict input name -> value

    Returns:
    - values: dict holding every input and node value
    """
    values = dict(inputs)
    for node, op, args in graph:
        values[node] = GRAPH_OPS[op](*(values[arg] for arg in args))
    return values
