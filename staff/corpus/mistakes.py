"""The mistakes corpus: typical student mistakes and correct-but-different solutions, each run
through the drivers, the shipped student tests and the autograder.

    python -m staff.corpus.mistakes [--only NAME[,NAME...]] [--jobs N] [--rev REV] [--list]

--rev HEAD checks what has been committed (a `git archive` of that revision) instead of the
working tree. About 70 s of CPU for the whole corpus (69 s measured with --jobs 2, idle).

Every case is a small edit of the reference solution: a text replacement that must apply
exactly once inside a `# BEGIN SOLUTION` ... `# END SOLUTION` region (Replace), a new body for
the region of one function (Region), or, for correct variants only, a rewritten top-level
definition or import (Definition, Replace(inside=False)). The SOLUTIONS are whole solutions
instead, the four graded .py files of staff/corpus/original_solutions/<name>/, written the way
students write them for the original starter (weights as attributes or in a dict under their
own keys, f3 with math.exp as drawn, softmax with -log(p), relu with >=, (1, H) biases, an
original train.py importing LinearClassifier and matplotlib, the optional f1/f2/f4 left as
stubs): each must pass every driver and every shipped test and get every code point.
SOLUTION_MISTAKES plant a mistake in one file of such a solution (Replace(inside=False)): it
is checked like any mistake, so it must cost no point in the solution's other files (a
mistake in TwoLayerNet.backward none in train.py, whose training_step names the solution's
own keys: fc1_W, weight1, layer1_W).

Each case runs on a temporary copy of the student-facing tree (what `make starter` ships,
with the solutions kept: backprop/, neuralnet/, the shipped tests and their helpers), never in
the repository:
  * drivers: a mistake must make its driver exit non-zero with a last line
    `<script>: FAIL (<names>)` that names the function; a variant must pass every driver of
    its folder;
  * tests: pytest on the shipped test files that run the edited file (TESTS) must fail for a
    mistake (exit code 1) and pass for a variant;
  * grader: `staff/grading/grade.py` on the four graded .py files of the copy (the edited one, the
    others of the reference or of its solution) must give less than full points at the
    graded test named for the function and every point to the unedited files (mistake), or
    every code point (variant).
A solution runs every driver, every shipped test file and the grader on its four files.
The rows `reference:<file>` (the unedited reference, checked like a variant) show that the
tools accept the reference itself.

Prints the table (case -> caught by drivers / tests / grader, and the driver's last line) and
then every mistake not caught and every variant rejected, with the reason.
Exit codes: 0 every mistake caught and every variant accepted, 1 otherwise, 2 usage error.
"""

import argparse
import ast
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from handin import module_prog
from staff.reference.layout import DRIVER_SCRIPTS
from staff.starter.regions import StarterError, find_regions

ROOT = Path(__file__).resolve().parents[2]

BACKPROP_DRIVER = "backprop/backprop.py"
LAYERS_DRIVER = "neuralnet/gradcheck_layers.py"
STABILITY_DRIVER = "neuralnet/check_softmax_stability.py"
CLASSIFIER_DRIVER = "neuralnet/gradcheck_classifier.py"
TRAINING_DRIVER = "neuralnet/check_training_step.py"
TESTS = {  # edited file -> the shipped test files that run it (train.py uses the student's net)
    "backprop/functions.py": ("tests/test_backprop.py",),
    "neuralnet/layers.py": ("tests/test_layers.py",),
    "neuralnet/two_layer_net.py": ("tests/test_classifiers.py", "tests/test_train.py"),
    "neuralnet/train.py": ("tests/test_train.py",),
}
TESTS_BY_NAME = {Path(path).name: path for path in TESTS}  # graded .py file -> kit path
TREE_PARTS = ("backprop", "neuralnet", "tests", "pyproject.toml")  # copied for each case
DRIVER_TIMEOUT, TESTS_TIMEOUT, GRADE_TIMEOUT = 120, 600, 300


class CorpusError(Exception):
    """An edit of the corpus does not apply to the reference (the message says which)."""



@dataclass(frozen=True)
class Replace:
    """Replace `old` by `new`; `old` must occur exactly once (inside a region if `inside`)."""
    old: str
    new: str
    inside: bool = True


@dataclass(frozen=True)
class Region:
    """Replace the body of the solution region of function `owner` (e.g. "TwoLayerNet.forward")."""
    owner: str
    body: str


@dataclass(frozen=True)
class Definition:
    """Replace the top-level function or class `name` by `source` (variants only)."""
    name: str
    source: str


@dataclass(frozen=True)
class Case:
    name: str
    file: str  # the edited reference file, relative to the repository root
    edits: tuple
    function: str  # what the edit changes, for the table
    driver: str  # the driver that must name it (mistakes)
    driver_name: str  # the name the driver's FAIL line must contain
    grader: str | None  # prefix of the graded test names ("fc_backward"); None: not graded
    correct: bool = False  # a correct variant: everything must pass
    why: str = ""
    solution: str = None  # planted in this whole solution (SOLUTIONS) instead of the reference

    @property
    def tests(self):
        return TESTS[self.file]


@dataclass(frozen=True)
class Solution:
    """A whole solution: the four graded .py files (named as in the zip) in the folder
    ORIGINAL_SOLUTIONS/<name> of the repository."""
    name: str
    why: str = ""
    function: str = "all four files"
    correct: bool = True
    file: str = None  # no single edited file: every graded file is the solution's
    grader: str = None

    @property
    def tests(self):
        return SHIPPED_TESTS


SHIPPED_TESTS = ("tests/",)  # a whole solution runs every shipped test


def solution_regions(text):
    """The solution Regions of reference `text` (staff/starter/regions.py)."""
    try:
        return find_regions(text.splitlines(keepends=True), "the reference")
    except StarterError as err:
        raise CorpusError(str(err)) from None


def region_owners(text):
    """
    Returns a list of (owner, (start, end)) for each solution region of `text`: owner is
    "func", "Cls.func" or "<module>"; (start, end) the character span of its inside, from
    the line after `# BEGIN SOLUTION` to the start of its `# END SOLUTION` line.
    """
    line_starts = [0]
    for line in text.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))
    return [(region.owner, (line_starts[region.start], line_starts[region.end - 1]))
            for region in solution_regions(text)]


def solution_spans(text):
    """The character spans (start, end) of the inside of every solution region of `text`."""
    return [span for _, span in region_owners(text)]


def apply_replace(text, edit):
    count = text.count(edit.old)
    if count != 1:
        raise CorpusError(f"{edit.old!r} occurs {count} times (must be exactly once)")
    start = text.index(edit.old)
    if edit.inside and not any(a <= start and start + len(edit.old) <= b
                               for a, b in solution_spans(text)):
        raise CorpusError(f"{edit.old!r} is not inside a solution region")
    return text[:start] + edit.new + text[start + len(edit.old):]


def apply_region(text, edit):
    spans = [span for owner, span in region_owners(text) if owner == edit.owner]
    if len(spans) != 1:
        raise CorpusError(f"{len(spans)} solution regions in {edit.owner} (must be exactly one)")
    start, end = spans[0]
    end_line = text[end:text.index("\n", end)]
    indent = end_line[: len(end_line) - len(end_line.lstrip())]
    body = textwrap.indent(textwrap.dedent(edit.body).strip("\n") + "\n", indent)
    return text[:start] + body + text[end:]


def apply_definition(text, edit):
    tree = ast.parse(text)
    found = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))
             and node.name == edit.name]
    if len(found) != 1:
        raise CorpusError(f"{len(found)} top-level definitions named {edit.name}")
    node = found[0]
    lines = text.splitlines(keepends=True)
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    source = textwrap.dedent(edit.source).strip("\n") + "\n"
    return "".join(lines[:first - 1]) + source + "".join(lines[node.end_lineno:])


def apply_edits(text, edits):
    """The reference `text` with `edits` applied in order; CorpusError if one does not fit."""
    for edit in edits:
        if isinstance(edit, Replace):
            text = apply_replace(text, edit)
        elif isinstance(edit, Region):
            text = apply_region(text, edit)
        elif isinstance(edit, Definition):
            text = apply_definition(text, edit)
        else:
            raise CorpusError(f"unknown edit {edit!r}")
    return text


def unedited_path(case, root=ROOT):
    """The file a case's edits apply to: case.file of the reference, or of its solution."""
    if case.solution:
        return root / ORIGINAL_SOLUTIONS / case.solution / Path(case.file).name
    return root / case.file


def edited_source(case, root=ROOT):
    """The text of case.file after the case's edits; CorpusError naming the case otherwise."""
    try:
        text = apply_edits(unedited_path(case, root).read_text(), case.edits)
        compile(text, case.file, "exec")
    except (CorpusError, SyntaxError) as err:
        raise CorpusError(f"{case.name}: {case.file}: {err}") from None
    return text



def mistake(name, file, edits, function, driver, driver_name=None, grader=None, why=""):
    return Case(name, file, tuple(edits), function, driver, driver_name or function, grader,
                False, why)


def planted(name, solution, file, edits, function, driver, driver_name, grader, why):
    """A mistake planted in the whole original-style solution `solution` (its other three
    files unedited): it, too, must cost points only at its own graded test."""
    return Case(name, file, tuple(edits), function, driver, driver_name, grader, False, why,
                solution)


def variant(name, file, edits, function, grader=None, why=""):
    return Case(name, file, tuple(edits), function, "", "", grader, True, why)


F, L = "backprop/functions.py", "neuralnet/layers.py"
N, T = "neuralnet/two_layer_net.py", "neuralnet/train.py"
B = BACKPROP_DRIVER
NET = "TwoLayerNet"

MISTAKES = [
    mistake("f1_grad_y_sign", F, [Replace("grad_y = -grad_d", "grad_y = grad_d")], "f1", B,
            why="sign of the gradient through a subtraction"),
    mistake("f1_swapped_local_derivatives", F,
            [Replace("grad_x1 = grad_a1 * w1\n    grad_w1 = grad_a1 * x1",
                     "grad_x1 = grad_a1 * x1\n    grad_w1 = grad_a1 * w1")], "f1", B,
            why="d(x1*w1)/dx1 written as x1"),
    mistake("f1_missing_factor_2", F, [Replace("grad_d = grad_L * 2 * d", "grad_d = grad_L * d")],
            "f1", B, why="d/dd of d**2 written as d"),
    mistake("f2_copies_not_summed", F,
            [Replace("grad_e = grad_e_from_t + grad_e_from_b", "grad_e = grad_e_from_t")], "f2",
            B, why="e feeds t and b; only one copy of its gradient kept"),
    mistake("f2_missing_factor_2", F, [Replace("grad_x = grad_d * 2", "grad_x = grad_d")], "f2",
            B, why="d = 2x: the local derivative 2 forgotten"),
    mistake("f2_wrong_local_derivative", F, [Replace("grad_d = grad_e * e", "grad_d = grad_e * d")],
            "f2", B, why="d exp(d) / dd written as d"),
    mistake("f3_copies_not_summed", F,
            [Replace("grad_z1 = grad_z1_from_logp1 + grad_z1_from_e1",
                     "grad_z1 = grad_z1_from_e1")],
            "f3", B, grader="f3", why="z1 feeds logp1 and e1; one copy dropped"),
    mistake("f3_label_zero_based", F,
            [Replace("logp = logp1 if y == 1 else logp2", "logp = logp1 if y == 0 else logp2")],
            "f3", B, grader="f3", why="choose() tests y == 0: labels are 1 and 2"),
    mistake("f3_gradient_sign", F, [Replace("grad_logp = -grad_L", "grad_logp = grad_L")], "f3",
            B, grader="f3", why="the minus of L = -log(p) forgotten in the backward pass"),
    mistake("f4_copies_not_summed", F,
            [Replace("grad_s = grad_s_from_r + grad_s_from_ys + grad_s_from_a",
                     "grad_s = grad_s_from_r + grad_s_from_ys")],
            "f4", B, why="s feeds three nodes; one copy dropped"),
    mistake("f4_wrong_local_derivative", F,
            [Replace("grad_e = grad_l / (1 + e)", "grad_e = grad_l / e")], "f4", B,
            why="d log1p(e) / de written as 1 / e"),
    mistake("fc_forward_no_bias", L, [Replace("    out += b\n", "")], "fc_forward", LAYERS_DRIVER,
            grader="fc_forward", why="the bias is never added"),
    mistake("fc_backward_grad_w_transposed", L,
            [Replace("grad_w = x.T @ grad_out", "grad_w = grad_out.T @ x")], "fc_backward",
            LAYERS_DRIVER, grader="fc_backward", why="grad_w has shape (Dout, Din)"),
    mistake("fc_backward_grad_x_untransposed", L,
            [Replace("grad_out @ w.T if", "grad_out @ w if")], "fc_backward", LAYERS_DRIVER,
            grader="fc_backward", why="grad_x = grad_out @ w (w not transposed)"),
    mistake("fc_backward_grad_w_mean", L,
            [Replace("grad_w = x.T @ grad_out", "grad_w = x.T @ grad_out / x.shape[0]")],
            "fc_backward", LAYERS_DRIVER, grader="fc_backward",
            why="grad_w divided by the batch size (the loss already averages)"),
    mistake("fc_backward_grad_b_no_sum", L,
            [Replace("grad_b = grad_out.sum(axis=0).reshape(b.shape)", "grad_b = grad_out")],
            "fc_backward",
            LAYERS_DRIVER, grader="fc_backward", why="grad_b not summed over the batch"),
    mistake("fc_backward_grad_b_mean", L,
            [Replace("grad_b = grad_out.sum(axis=0)", "grad_b = grad_out.mean(axis=0)")],
            "fc_backward", LAYERS_DRIVER, grader="fc_backward",
            why="grad_b averaged instead of summed over the batch"),
    mistake("relu_forward_np_max", L, [Replace("out = np.maximum(x, 0)", "out = np.max(x, 0)")],
            "relu_forward", LAYERS_DRIVER, grader="relu_forward",
            why="np.max(x, 0) is the maximum along axis 0, not elementwise"),
    mistake("relu_backward_mask_minus_one", L,
            [Replace("grad_x = grad_out * (x > 0)", "grad_x = grad_out * (x > -1)")],
            "relu_backward", LAYERS_DRIVER, grader="relu_backward",
            why="the mask lets the gradient through for x in (-1, 0] too"),
    mistake("relu_backward_mask_of_grad_out", L,
            [Replace("grad_x = grad_out * (x > 0)", "grad_x = grad_out * (grad_out > 0)")],
            "relu_backward", LAYERS_DRIVER, grader="relu_backward",
            why="the mask is taken from the upstream gradient instead of the input"),
    mistake("softmax_sum_not_mean", L,
            [Replace("loss = np.mean(np.log(sums[:, 0]) - correct)",
                     "loss = np.sum(np.log(sums[:, 0]) - correct)"),
             Replace("    grad_x /= n\n", "")], "softmax_loss", LAYERS_DRIVER,
            grader="softmax_loss", why="summed over the batch, loss and gradient consistently"),
    mistake("softmax_missing_minus_one", L, [Replace("    grad_x[rows, y] -= 1\n", "")],
            "softmax_loss", LAYERS_DRIVER, grader="softmax_loss",
            why="gradient = probabilities, without -1 at the label"),
    mistake("softmax_label_column_indexing", L,
            [Replace("grad_x[rows, y] -= 1", "grad_x[:, y] -= 1")], "softmax_loss",
            LAYERS_DRIVER, grader="softmax_loss",
            why="grad_x[:, y] subtracts 1 in every row at every label's column"),
    mistake("softmax_no_max_subtraction", L,
            [Replace("shifted = x - x.max(axis=1, keepdims=True)", "shifted = x.copy()")],
            "softmax_loss", STABILITY_DRIVER, grader="softmax_loss",
            why="exp(x) overflows for large scores"),
    mistake("softmax_wrong_axis", L,
            [Replace("sums = exp.sum(axis=1, keepdims=True)",
                     "sums = exp.sum(axis=0, keepdims=True)")],
            "softmax_loss", LAYERS_DRIVER, grader="softmax_loss",
            why="normalized over the batch (axis 0) instead of the classes"),
    mistake("l2_reg_factor_2", L,
            [Replace("loss = reg / 2 * np.vdot(w, w)", "loss = reg * np.vdot(w, w)"),
             Replace("grad_w = reg * w", "grad_w = 2 * reg * w")], "l2_regularization",
            LAYERS_DRIVER, grader="l2_regularization",
            why="reg * sum(w**2) with gradient 2 reg w: consistent, but not the homework's loss"),
    mistake("l2_reg_missing_half", L,
            [Replace("loss = reg / 2 * np.vdot(w, w)", "loss = reg * np.vdot(w, w)")],
            "l2_regularization", LAYERS_DRIVER, grader="l2_regularization",
            why="the 1/2 of the loss forgotten"),
    mistake("l2_reg_grad_factor_2", L, [Replace("grad_w = reg * w", "grad_w = 2 * reg * w")],
            "l2_regularization", LAYERS_DRIVER, grader="l2_regularization",
            why="gradient 2 reg w for the loss reg/2 sum(w**2)"),
    mistake("l2_reg_l1_instead", L,
            [Replace("loss = reg / 2 * np.vdot(w, w)", "loss = reg * np.sum(np.abs(w))"),
             Replace("grad_w = reg * w", "grad_w = reg * np.sign(w)")], "l2_regularization",
            LAYERS_DRIVER, grader="l2_regularization",
            why="an L1 penalty, loss and gradient consistently"),
    mistake("net_init_bias_not_zero", N,
            [Replace('"b1": np.zeros(hidden_dim, dtype=dtype)',
                     '"b1": random_weights(rng, (hidden_dim,), weight_scale, dtype)')],
            "TwoLayerNet.__init__", CLASSIFIER_DRIVER, NET, grader="TwoLayerNet.__init__",
            why="b1 drawn at random instead of zeros"),
    mistake("net_init_ignores_weight_scale", N,
            [Replace("(input_dim, hidden_dim), weight_scale, dtype)",
                     "(input_dim, hidden_dim), 1.0, dtype)")],
            "TwoLayerNet.__init__", CLASSIFIER_DRIVER, NET, grader="TwoLayerNet.__init__",
            why="W1 has standard deviation 1 instead of weight_scale"),
    mistake("net_init_zero_weights", N,
            [Replace("random_weights(rng, (hidden_dim, num_classes), weight_scale, dtype)",
                     "np.zeros((hidden_dim, num_classes), dtype=dtype)")],
            "TwoLayerNet.__init__", CLASSIFIER_DRIVER, NET, grader="TwoLayerNet.__init__",
            why="W2 starts at zero (no symmetry breaking, W1 never learns at the first step)"),
    mistake("net_init_W1_transposed", N,
            [Replace("(input_dim, hidden_dim), weight_scale, dtype)",
                     "(hidden_dim, input_dim), weight_scale, dtype)")],
            "TwoLayerNet.__init__", CLASSIFIER_DRIVER, NET, grader="TwoLayerNet.__init__",
            why="W1 created with shape (hidden_dim, input_dim)"),
    mistake("net_parameters_copies", N,
            [Region("TwoLayerNet.parameters",
                    "return {name: value.copy() for name, value in self.params.items()}")],
            "TwoLayerNet.parameters", CLASSIFIER_DRIVER, NET, grader="TwoLayerNet",
            why="parameters() returns copies: the gradient check and SGD cannot change the "
                "model"),
    mistake("net_forward_missing_relu", N,
            [Replace("hidden, relu_cache = relu_forward(hidden)",
                     "_, relu_cache = relu_forward(hidden)")],
            "TwoLayerNet.forward", CLASSIFIER_DRIVER, NET, grader="TwoLayerNet.forward",
            why="the ReLU output is computed but not used"),
    mistake("net_forward_relu_before_fc1", N,
            [Replace('hidden, fc1_cache = fc_forward(X, p["W1"], p["b1"])\n'
                     '        hidden, relu_cache = relu_forward(hidden)',
                     'hidden, relu_cache = relu_forward(X)\n'
                     '        hidden, fc1_cache = fc_forward(hidden, p["W1"], p["b1"])')],
            "TwoLayerNet.forward", CLASSIFIER_DRIVER, NET, grader="TwoLayerNet.forward",
            why="wrong layer order: relu -> fc -> fc"),
    mistake("net_forward_relu_on_scores", N,
            [Replace('scores, fc2_cache = fc_forward(hidden, p["W2"], p["b2"])',
                     'scores, fc2_cache = fc_forward(hidden, p["W2"], p["b2"])\n'
                     '        scores, _ = relu_forward(scores)')],
            "TwoLayerNet.forward", CLASSIFIER_DRIVER, NET, grader="TwoLayerNet.forward",
            why="a ReLU after the last layer too"),
    mistake("net_backward_W1_W2_swapped", N,
            [Replace("grad_hidden, grad_W2, grad_b2 = fc_backward(grad_scores, fc2_cache)",
                     "grad_hidden, grad_W1, grad_b1 = fc_backward(grad_scores, fc2_cache)"),
             Replace("_, grad_W1, grad_b1 = fc_backward(grad_hidden, fc1_cache",
                     "_, grad_W2, grad_b2 = fc_backward(grad_hidden, fc1_cache")],
            "TwoLayerNet.backward", CLASSIFIER_DRIVER, NET, grader="TwoLayerNet.backward",
            why="the gradients of the two layers exchanged"),
    mistake("net_backward_no_relu_backward", N,
            [Replace("        grad_hidden = relu_backward(grad_hidden, relu_cache)\n", "")],
            "TwoLayerNet.backward", CLASSIFIER_DRIVER, NET, grader="TwoLayerNet.backward",
            why="the gradient passes the ReLU unmasked"),
    mistake("training_step_biases_regularized", T,
            [Replace("if param.ndim >= 2:", "if param.ndim >= 1:")], "training_step",
            TRAINING_DRIVER, grader="training_step", why="L2 on the biases too"),
    mistake("training_step_reg_loss_without_grad", T,
            [Replace("            grads[name] += reg_grad\n", "")], "training_step",
            TRAINING_DRIVER, grader="training_step",
            why="the L2 loss is added but not its gradient"),
    mistake("training_step_reg_grad_without_loss", T,
            [Replace("            loss += reg_loss\n", "")], "training_step", TRAINING_DRIVER,
            grader="training_step", why="the L2 gradient is added but not its loss"),
    mistake("training_step_no_regularization", T,
            [Replace("            loss += reg_loss\n", ""),
             Replace("            grads[name] += reg_grad\n", "")], "training_step",
            TRAINING_DRIVER, grader="training_step", why="reg is ignored"),
]

# Mistakes in the net of whole original-style solutions whose training_step names their own
# keys: train.py then runs with our TwoLayerNet under the solution's names, and keeps its points.
SOLUTION_MISTAKES = [
    planted("attrs_fc1_W:no_relu_backward", "attrs_fc1_W", N,
            [Replace("        grad_hidden = relu_backward(grad_hidden, relu_cache)\n", "",
                     inside=False)], "TwoLayerNet.backward", CLASSIFIER_DRIVER, NET,
            "TwoLayerNet.backward", why="unmasked ReLU gradient; training_step reads "
                                        "model.fc1_W and grads['fc1_W']"),
    planted("attrs_weight1:relu_grad_unused", "attrs_weight1", N,
            [Replace("fc_backward(grad_fc1, fc1_cache)", "fc_backward(grad_relu, fc1_cache)",
                     inside=False)], "TwoLayerNet.backward", CLASSIFIER_DRIVER, NET,
            "TwoLayerNet.backward", why="the ReLU's gradient computed but not passed on; "
                                        "training_step regularizes the keys holding 'weight'"),
    planted("float32_layer_keys:no_relu_backward", "float32_layer_keys", N,
            [Replace("        dh = relu_backward(dh, c2)\n", "", inside=False)],
            "TwoLayerNet.backward", CLASSIFIER_DRIVER, NET, "TwoLayerNet.backward",
            why="unmasked ReLU gradient; training_step regularizes the keys ending in '_W'"),
]

F4_OWN = '''
def f4(a, b, c):
    """
    My own graph: L = log(1 + (a*b - c)**2) * exp(-a).
    Nodes: p = a*b, q = p - c, r = q*q, s = log1p(r), n = -a, t = exp(n), L = s*t.

    Returns a tuple of:
    - L: float
    - grads: (grad_a, grad_b, grad_c)
    """
    p = a * b
    q = p - c
    r = q * q
    s = np.log1p(r)
    n = -a
    t = np.exp(n)
    L = s * t

    grad_L = 1.0
    grad_s = grad_L * t
    grad_t = grad_L * s
    grad_n = grad_t * t
    grad_r = grad_s / (1 + r)
    grad_q = grad_r * 2 * q
    grad_p = grad_q
    grad_c = -grad_q
    grad_b = grad_p * a
    grad_a_from_p = grad_p * b
    grad_a_from_n = -grad_n
    grad_a = grad_a_from_p + grad_a_from_n
    return L, (grad_a, grad_b, grad_c)
'''

# The graph of f3 as drawn with math.exp, the homework's softmax with -log(p), a net from
# np.random.randn under its own keys and a training_step naming W1, W2: in the whole
# original-style SOLUTIONS below, each in several styles.
VARIANTS = [
    variant("f1_closed_form", F, [Region("f1", """
        d = x1 * w1 + x2 * w2 + b - y
        L = d ** 2
        grad_d = 2 * d
        grad_x1, grad_w1 = grad_d * w1, grad_d * x1
        grad_x2, grad_w2 = grad_d * w2, grad_d * x2
        grad_b, grad_y = grad_d, -grad_d
        """)], "f1", why="one expression and closed-form gradients, other order"),
    variant("f2_quotient_rule", F,
            [Replace("grad_b = -grad_y * t / b / b", "grad_b = -grad_y * t / b**2")], "f2",
            why="the textbook quotient rule (b**2 overflows for x > 177)"),
    variant("f4_own_graph_other_args", F, [Definition("f4", F4_OWN)], "f4",
            why="the student's own f4(a, b, c) with 7 operators"),
    variant("optional_f1_f2_f4_stubs", F, [
        Region("f1", 'raise NotImplementedError("f1: not implemented yet")'),
        Region("f2", 'raise NotImplementedError("f2: not implemented yet")'),
        Region("f4", 'raise NotImplementedError("f4: not implemented yet")')], "f1, f2, f4",
        why="f1, f2 and f4 are optional: left as the starter's stubs, 'not attempted'"),
    variant("fc_forward_loops", L, [Region("fc_forward", """
        n, d_out = x.shape[0], w.shape[1]
        out = np.zeros((n, d_out), dtype=np.result_type(x, w, b))
        for i in range(n):
            for j in range(d_out):
                out[i, j] = np.dot(x[i], w[:, j]) + b[j]
        """)], "fc_forward", grader="fc_forward", why="loops instead of a matrix product"),
    variant("fc_backward_other_names", L, [Region("fc_backward", """
        db = np.sum(grad_out, axis=0)
        dw = np.dot(x.T, grad_out)
        dx = np.dot(grad_out, w.T)
        grad_x, grad_w, grad_b = dx, dw, db
        """)], "fc_backward", grader="fc_backward",
        why="np.dot and np.sum, other names and order; grad_x always computed"),
    variant("relu_loops", L, [
        Region("relu_forward", """
        out = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            if x[idx] > 0:
                out[idx] = x[idx]
        """),
        Region("relu_backward", """
        grad_x = np.zeros_like(grad_out)
        for idx in np.ndindex(x.shape):
            if x[idx] > 0:
                grad_x[idx] = grad_out[idx]
        """)], "relu_forward", grader="relu", why="elementwise loops"),
    variant("softmax_log_softmax", L, [Region("softmax_loss", """
        num = x.shape[0]
        z = x - x.max(axis=1, keepdims=True)
        log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -log_probs[np.arange(num), y].mean()
        grad_x = np.exp(log_probs)
        grad_x[np.arange(num), y] -= 1
        grad_x = grad_x / num
        """)], "softmax_loss", grader="softmax_loss", why="log-softmax, never forms log(0)"),
    variant("softmax_loop_per_example", L, [Region("softmax_loss", """
        num = x.shape[0]
        loss = 0.0
        grad_x = np.zeros_like(x)
        for i in range(num):
            scores = x[i] - np.max(x[i])
            probs = np.exp(scores) / np.sum(np.exp(scores))
            loss += -np.log(probs[y[i]])
            grad_x[i] = probs
            grad_x[i, y[i]] -= 1
        loss /= num
        grad_x /= num
        """)], "softmax_loss", grader="softmax_loss", why="a loop over the examples"),
    variant("relu_backward_ge_at_zero", L,
            [Replace("grad_x = grad_out * (x > 0)", "grad_x = grad_out * (x >= 0)")],
            "relu_backward", grader="relu_backward",
            why="gradient 1 at x == 0: relu has no derivative there, 0 and 1 are both right"),
    variant("l2_reg_other_form", L, [Region("l2_regularization", """
        loss = 0.5 * reg * np.sum(w * w)
        grad_w = reg * w
        """)], "l2_regularization", grader="l2_regularization", why="0.5 * reg * np.sum(w * w)"),
    variant("net_float32", N, [Region("TwoLayerNet.__init__", """
        w1 = weight_scale * rng.standard_normal((input_dim, hidden_dim))
        w2 = weight_scale * rng.standard_normal((hidden_dim, num_classes))
        self.params = {
            "W1": w1.astype(np.float32), "b1": np.zeros(hidden_dim, dtype=np.float32),
            "W2": w2.astype(np.float32), "b2": np.zeros(num_classes, dtype=np.float32),
        }
        """)], "TwoLayerNet.__init__", grader="TwoLayerNet", why="float32 parameters always"),
    variant("training_step_named_weights", T, [Region("training_step", """
        scores, cache = model.forward(X_batch)
        loss, dscores = softmax_loss(scores, y_batch)
        grads = model.backward(dscores, cache)
        params = model.parameters()
        for name in ("W1", "W2"):
            reg_loss, reg_grad = l2_regularization(params[name], reg)
            loss = loss + reg_loss
            grads[name] = grads[name] + reg_grad
        """)], "training_step", grader="training_step",
        why="the two weight matrices named, as most students write it"),
    variant("training_step_other_names", T, [Region("training_step", """
        scores, cache = model.forward(X_batch)
        data_loss, grad_scores = softmax_loss(scores, y_batch)
        grads = model.backward(grad_scores, cache)
        reg_loss = 0.0
        for key, value in model.parameters().items():
            if value.ndim == 2:
                reg_loss += 0.5 * reg * np.sum(value * value)
                grads[key] = grads[key] + reg * value
        loss = data_loss + reg_loss
        """)], "training_step", grader="training_step",
        why="L2 written inline, a new grads entry instead of +=, other names"),
]

ORIGINAL_SOLUTIONS = "staff/corpus/original_solutions"  # in the repository
SOLUTIONS = [Solution(name, why) for name, why in (
    ("dict_W1", "self.params['W1'] = np.random.randn(...) * weight_scale, parameters() returns "
                "self.params, backward fills grads['W1'] from fc_backward; dx[x <= 0] = 0; f4 a "
                "`pass` stub"),
    ("attrs_fc1_W", "attributes fc1_W..., np.random.normal(scale=...), parameters() builds the "
                    "dict; training_step reads model.fc1_W; relu mask x >= 0; f1, f2 the "
                    "starter's None stubs; f4(a, b, c) its own graph"),
    ("attrs_W1_bias_rows", "attributes W1, b1 with biases (1, H) and fc_backward keepdims; "
                           "training_step reads model.W1; f2, f4 raise NotImplementedError"),
    ("attrs_weight1", "attributes weight1, bias1, ...; loops in fc_forward, fc_backward and "
                      "softmax_loss; np.greater_equal mask; f4 returns None"),
    ("dict_w1_numpy", "self.params with keys w1, b1, w2, b2; f3 with np.exp; f4(x, y) its own "
                      "graph; `import cv2` in train.py"),
    ("float32_layer_keys", "float32 parameters layer1_W, layer2_W, layer1_b, layer2_b (weights "
                           "first); einsum layers, log-softmax; the L2 term written inline"),
)]


CASES = MISTAKES + SOLUTION_MISTAKES + VARIANTS
# The unedited reference, one row per graded file: must pass like a variant. A failure here
# means a tool rejects the reference itself (then the other rows say little).
REFERENCE = [variant(f"reference:{Path(file).name}", file, [], Path(file).stem,
                     why="the unedited reference") for file in TESTS]



@dataclass
class Check:
    ok: bool  # caught (mistake) or passed (variant)
    text: str  # the table cell
    detail: str = ""  # why, for the problem list


@dataclass
class Outcome:
    case: Case
    drivers: Check = None
    tests: Check = None
    grader: Check = None
    seconds: float = 0.0

    @property
    def ok(self):
        return all(c.ok for c in (self.drivers, self.tests, self.grader))


def child_env():
    """The environment of every subprocess: no PYTHONPATH into the repository, one BLAS thread."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update({"MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
                "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "COLUMNS": "400"})  # pytest's failure summaries are cut at the terminal width
    return env


def run(command, cwd, timeout):
    """Returns (exit code, stdout, stderr); a timeout is exit code None."""
    try:
        proc = subprocess.run(command, cwd=cwd, env=child_env(), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, "", f"timed out after {timeout} s"
    return proc.returncode, proc.stdout, proc.stderr


def snapshot(rev, work):
    """The repository at git revision `rev`, exported into `work` (read-only use of git)."""
    out = Path(work) / "snapshot"
    out.mkdir()
    archive = subprocess.run(["git", "archive", "--format=tar", rev], cwd=ROOT,
                             capture_output=True, timeout=120)
    if archive.returncode != 0:
        raise CorpusError(f"git archive {rev}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive.stdout, check=True, timeout=120)
    return out


def build_base(root, work):
    """The student-facing tree with the solutions kept, as `make starter` lays it out."""
    base = Path(work) / "base"
    code = ("import sys; from pathlib import Path; from staff.starter.build import build; "
            "build(Path(sys.argv[1]), Path(sys.argv[2]), strip=False)")
    status, out, err = run([sys.executable, "-c", code, str(root), str(base)], root, 120)
    if status != 0:
        raise CorpusError(f"staff.starter.build failed: {(out + err)[-1000:]}")
    return base


def case_tree(base, work, case, root):
    """A copy of the parts of `base` a case runs, with the case's edit applied."""
    tree = Path(work) / case.name
    for part in TREE_PARTS:
        source = base / part
        if source.is_dir():
            shutil.copytree(source, tree / part)
        elif source.is_file():
            tree.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, tree / part)
    solution = case.name if isinstance(case, Solution) else case.solution
    if solution:
        for name, path in TESTS_BY_NAME.items():
            shutil.copyfile(root / ORIGINAL_SOLUTIONS / solution / name, tree / path)
    if not isinstance(case, Solution):
        (tree / case.file).write_text(edited_source(case, root))
    return tree


FAIL_LINE = re.compile(r"^(?P<script>[\w.-]+): FAIL \((?P<names>.*)\)\s*$")


def last_line(output):
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def names_function(line, script, name):
    """True if `line` is `<script>: FAIL (...)` listing `name` (or `name.x`, `name[...]`, ...)."""
    match = FAIL_LINE.match(line)
    if not match or match.group("script") != Path(script).stem:
        return False
    pattern = re.compile(rf"^{re.escape(name)}(?![\w])")
    return any(pattern.match(item.strip()) for item in match.group("names").split(","))


def folder_drivers(tree, file):
    """Every driver of the edited file's folder, in the copied tree."""
    if file.startswith("backprop/"):
        return [BACKPROP_DRIVER]
    found = sorted(p.relative_to(tree).as_posix() for pattern in ("gradcheck_*.py", "check_*.py")
                   for p in (tree / "neuralnet").glob(pattern))
    return sorted(set(found))


def check_drivers(case, tree):
    python = sys.executable
    if not case.correct:
        if not (tree / case.driver).is_file():
            return Check(False, "no", f"{case.driver} does not exist")
        code, out, err = run([python, case.driver], tree, DRIVER_TIMEOUT)
        line = last_line(out)
        if code not in (0, None) and names_function(line, case.driver, case.driver_name):
            return Check(True, "yes", line)
        why = "exit code 0" if code == 0 else f"does not name {case.driver_name}"
        return Check(False, "no", f"{case.driver}: {why}; last line: {line or last_line(err)}")
    failed = []
    scripts = DRIVER_SCRIPTS if case.file is None else folder_drivers(tree, case.file)
    for script in scripts:
        code, out, err = run([python, script], tree, DRIVER_TIMEOUT)
        if code != 0:
            failed.append(f"{script} (exit {code}): {last_line(out)} {last_line(err)}".strip())
    if failed:
        return Check(False, "REJECTED", "; ".join(failed))
    return Check(True, "pass", "")


PYTEST_FAILED = re.compile(r"^(FAILED|ERROR) (\S+)(?: - (.*))?$", re.MULTILINE)


def check_tests(case, tree):
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE",
               "-o", "addopts=", *case.tests]
    if not case.correct:
        command.insert(4, "-x")
    code, out, err = run(command, tree, TESTS_TIMEOUT)
    failures = [f"{m.group(2).split('::')[-1]}: {(m.group(3) or '')[:200]}"
                for m in PYTEST_FAILED.finditer(out)]
    if len(failures) > 4:
        failures = failures[:4] + [f"and {len(failures) - 4} more"]
    if case.correct:
        if code == 0:
            return Check(True, "pass")
        return Check(False, "REJECTED", f"{' '.join(case.tests)} exit {code}: "
                     + ("; ".join(failures) or last_line(out + err)))
    if code == 1:
        return Check(True, "yes", "; ".join(failures))
    why = "all passed" if code == 0 else f"pytest exit code {code}: {last_line(out + err)}"
    return Check(False, "no", f"{' '.join(case.tests)}: {why}")


def grade_folder(root, submission, out):
    """Run root's grade.py on a folder; returns its tests list (or raises RuntimeError)."""
    code, stdout, stderr = run([sys.executable, "-m", "staff.grading.grade", str(submission),
                                "--out", str(out)], root, GRADE_TIMEOUT)
    if code != 0 or not Path(out).is_file():
        raise RuntimeError(f"grade.py exit {code}: {(stdout + stderr)[-500:]}")
    return json.loads(Path(out).read_text())["tests"]


def file_entries(entries, file):
    return [e for e in entries if e["name"].endswith(f"[{Path(file).name}]")]


def score_text(entries):
    return "; ".join(f"{e['name']}: {e['score']:g}/{e['max_score']:g}: {e['output'][:160]}"
                     for e in entries)


def check_grader(case, tree, work, root):
    """
    Grade the four graded .py files of the case's tree (the edited one and the reference
    others; the notebooks are left out and their entries ignored).
    """
    submission = Path(work) / f"{case.name}-submission"
    submission.mkdir()
    for file in TESTS:
        shutil.copyfile(tree / file, submission / Path(file).name)
    try:
        entries = grade_folder(root, submission, Path(work) / f"{case.name}.json")
    except RuntimeError as err:
        return Check(False, "error", str(err))
    edited = list(TESTS) if case.file is None else [case.file]  # a Solution: all four
    own = [e for file in edited for e in file_entries(entries, file)]
    others = [e for file in TESTS if file not in edited for e in file_entries(entries, file)
              if e["score"] < e["max_score"]]
    lost = [e for e in own if e["score"] < e["max_score"]]
    if case.correct:
        if lost or others:
            return Check(False, "REJECTED", score_text(lost + others))
        return Check(True, "pass")
    if others:
        return Check(False, "no", "points lost in an unedited file: " + score_text(others))
    if case.grader is None:
        return Check(True, "n/a", "not graded")
    target = [e for e in own if e["name"].startswith(case.grader)]
    if not target:
        return Check(False, "no", f"no graded test named {case.grader}...")
    hit = [e for e in target if e["score"] < e["max_score"]]
    if not hit:
        return Check(False, "no", "full points at " + ", ".join(e["name"] for e in target))
    return Check(True, "yes", score_text(lost))


def run_case(case, base, work, root):
    start = time.time()
    outcome = Outcome(case)
    case_work = Path(work) / "cases"
    case_work.mkdir(exist_ok=True)
    try:
        tree = case_tree(base, case_work, case, root)
    except CorpusError as err:  # the reference changed under the edit: say so in every column
        outcome.drivers = outcome.tests = outcome.grader = Check(False, "EDIT?", str(err))
        return outcome
    outcome.drivers = check_drivers(case, tree)
    outcome.tests = check_tests(case, tree)
    outcome.grader = check_grader(case, tree, case_work, root)
    outcome.seconds = time.time() - start
    shutil.rmtree(tree, ignore_errors=True)
    return outcome


def run_corpus(cases, jobs=2, rev=None):
    """
    Run `cases` against the working tree, or against git revision `rev` (e.g. HEAD: what
    has been committed). Returns the outcomes in the order of `cases`.
    """
    with tempfile.TemporaryDirectory(prefix="hw4-mistakes-") as work:
        root = snapshot(rev, work) if rev else ROOT
        base = build_base(root, work)
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(lambda c: run_case(c, base, work, root), cases))



def table(outcomes):
    """The table as text: one row per case."""
    header = f"{'case':<38}{'kind':<10}{'function':<24}{'drivers':<9}{'tests':<9}" \
             f"{'grader':<9}{'s':>4}  driver says"
    rows = [header, "-" * len(header)]
    for o in outcomes:
        kind = kind_of(o.case)
        said = "" if o.case.correct else o.drivers.detail if o.drivers.ok else \
            o.drivers.detail.split("last line: ")[-1]
        rows.append(f"{o.case.name:<38}{kind:<10}{o.case.function:<24}{o.drivers.text:<9}"
                    f"{o.tests.text:<9}{o.grader.text:<9}{o.seconds:>4.0f}  {said}")
    return "\n".join(rows)


def problems(outcomes):
    """Lines naming every mistake not caught and every variant rejected, with the reason."""
    lines = []
    for o in outcomes:
        if o.ok:
            continue
        what = {"mistake": "not caught", "variant": "rejected variant",
                "reference": "reference rejected",
                "solution": "rejected solution"}[kind_of(o.case)]
        if o.drivers.text == "EDIT?":
            lines.append(f"{what}: {o.case.name} [edit] {o.drivers.detail}")
            continue
        for label, check in (("drivers", o.drivers), ("tests", o.tests), ("grader", o.grader)):
            if not check.ok:
                lines.append(f"{what}: {o.case.name} [{label}] {check.detail}")
    return lines


def kind_of(case):
    if isinstance(case, Solution):
        return "solution"
    return "reference" if case in REFERENCE else "variant" if case.correct else "mistake"


def summary(outcomes):
    counts = {}
    for o in outcomes:
        ok, total = counts.get(kind_of(o.case), (0, 0))
        counts[kind_of(o.case)] = (ok + o.ok, total + 1)
    texts = {"mistake": "{} of {} mistakes caught by drivers, tests and grader",
             "variant": "{} of {} correct variants accepted by all three",
             "reference": "the reference accepted for {} of {} files",
             "solution": "{} of {} whole original-style solutions accepted by all three"}
    return "; ".join(text.format(*counts[kind]) for kind, text in texts.items()
                     if kind in counts)


def select(names):
    """The cases named in `names` (all, references first, if empty); SystemExit(2) if unknown."""
    everything = REFERENCE + CASES + SOLUTIONS
    if not names:
        return everything
    wanted = {n for name in names for n in name.split(",") if n}
    unknown = sorted(wanted - {c.name for c in everything})
    if unknown:
        print(f"mistakes: unknown case(s) {', '.join(unknown)}; see --list", file=sys.stderr)
        raise SystemExit(2)
    return [c for c in everything if c.name in wanted]


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog=module_prog(__spec__),
        description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only these cases (repeat, or comma-separated)")
    parser.add_argument("--jobs", type=int, default=2, help="cases run in parallel (default 2)")
    parser.add_argument("--rev", help="check git revision REV (e.g. HEAD) instead of the "
                        "working tree")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cases = select(args.only)
    if args.list:
        for c in cases:
            kind = kind_of(c) if c.correct else f"mistake -> {c.driver} names {c.driver_name}"
            where = (unedited_path(c).relative_to(ROOT).as_posix() if c.file
                     else f"{ORIGINAL_SOLUTIONS}/{c.name}/")
            print(f"{c.name:<38}{where:<28} {kind}; grader: {c.grader}; {c.why}")
        return 0
    start = time.time()
    try:
        outcomes = run_corpus(cases, args.jobs, args.rev)
    except CorpusError as err:  # no git revision, or the starter could not be built
        print(f"mistakes: {err}", file=sys.stderr)
        return 1
    print(table(outcomes))
    print()
    for line in problems(outcomes):
        print(line)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"{summary(outcomes)} ({time.time() - start:.0f} s wall, "
          f"{usage.ru_utime + usage.ru_stime:.0f} s CPU, {args.jobs} jobs)")
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
