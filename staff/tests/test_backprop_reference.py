"""Staff-only Task 1 tests: the reference against closed forms and PyTorch, the data file,
the f4 graph of the write-up, and backprop.py on correct variants and typical mistakes.

Not shipped to students (it holds the answers). The variants are text edits of the reference
functions.py, written with a copy of backprop/ into tmp_path and run through the driver.
"""

import math
import pickle
import re
import shutil
import subprocess
import sys

import functions
import numpy as np
import pytest
from kit import BACKPROP_DIR, NEURALNET_DIR, ROOT, run_script

from staff.reference import f4_graph, make_backprop_data

F1_ARGS = (0.7, -1.2, 2.5, 0.3, -0.4, 1.1)
REFERENCE = (BACKPROP_DIR / "functions.py").read_text()


def test_f1_matches_closed_form():
    x1, w1, x2, w2, b, y = F1_ARGS
    r = x1 * w1 + x2 * w2 + b - y
    L, grads = functions.f1(*F1_ARGS)
    assert L == pytest.approx(r * r, rel=1e-14)
    expected = [2 * r * w1, 2 * r * x1, 2 * r * w2, 2 * r * x2, 2 * r, -2 * r]
    np.testing.assert_allclose(grads, expected, rtol=1e-14)


@pytest.mark.parametrize("x", [-3.0, -0.5, 0.0, 1e-4, 0.8, 25.0, -300.0, 300.0])
def test_f2_is_tanh(x):
    y, (grad_x,) = functions.f2(x)
    assert y == pytest.approx(math.tanh(x), rel=1e-12, abs=1e-15)
    assert grad_x == pytest.approx(1 - math.tanh(x) ** 2, rel=1e-10, abs=1e-15)


@pytest.mark.parametrize("s1, s2", [(0.3, -1.2), (2.0, 2.0), (-5.0, 4.0), (40.0, -3.0)])
@pytest.mark.parametrize("y", [1, 2])
def test_f3_is_softmax_cross_entropy(s1, s2, y):
    scores = np.array([s1, s2])
    probs = np.exp(scores - np.logaddexp(s1, s2))
    L, grads = functions.f3(s1, s2, y)
    assert L == pytest.approx(np.logaddexp(s1, s2) - scores[y - 1], rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(grads, probs - np.eye(2)[y - 1], rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("s1, s2, y, loss, grads", [
    (1000.0, -1000.0, 2, 2000.0, (1.0, -1.0)),
    (1000.0, -1000.0, 1, 0.0, (0.0, 0.0)),
    (-1000.0, 1000.0, 1, 2000.0, (-1.0, 1.0)),
    (1e6, 1e6, 1, math.log(2), (-0.5, 0.5)),
])
def test_reference_f3_is_exact_for_large_scores(s1, s2, y, loss, grads):
    L, g = functions.f3(s1, s2, y)
    assert L == loss or L == pytest.approx(loss, rel=1e-15)
    np.testing.assert_allclose(g, grads, atol=1e-300)


# Our own input validation (the homework asks for none): staff-side tests.
@pytest.mark.parametrize("bad_y", [0, 3, -1, 1.0, True, "1", None])
def test_f3_rejects_bad_label(bad_y):
    with pytest.raises(ValueError, match="1 or 2"):
        functions.f3(0.0, 1.0, bad_y)


def test_f3_accepts_numpy_integer_label():
    assert functions.f3(0.0, 1.0, np.int64(2)) == functions.f3(0.0, 1.0, 2)


def f4_closed_form(x, w, b, y):
    """Binary cross-entropy of sigmoid(w*x + b), straight from its definition."""
    p = 1 / (1 + math.exp(-(w * x + b)))
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


@pytest.mark.parametrize("args", [(1.5, 0.8, -0.3, 1.0), (-2.0, 0.5, 0.1, 0.0),
                                  (0.5, -1.0, 0.5, 1.0), (2.0, 1.0, -0.5, 0.3)])
def test_reference_f4_is_logistic_loss(args):
    assert functions.f4(*args)[0] == pytest.approx(f4_closed_form(*args), rel=1e-12)


def test_reference_f4_gradient_at_the_kink_is_exact():
    # s = w*x + b = 0: dL/ds = sigmoid(0) - y = -0.5 for y = 1
    L, grads = functions.f4(0.5, -1.0, 0.5, 1.0)
    assert L == pytest.approx(math.log(2), rel=1e-15)
    assert grads == (0.5, -0.25, -0.5, -0.0)


@pytest.mark.parametrize("x, w, b, y, loss", [
    (3.0, 20.0, 1.0, 1.0, math.exp(-61.0)),   # tiny loss stays accurate
    (3.0, 20.0, 1.0, 0.0, 61.0),
    (-4.0, 250.0, 0.0, 1.0, 1000.0),          # exp(1000) would overflow
])
def test_reference_f4_extreme_scores(x, w, b, y, loss):
    L, grads = functions.f4(x, w, b, y)
    assert L == pytest.approx(loss, rel=1e-12)
    assert all(math.isfinite(g) for g in grads)


def test_f4_graph_reproduces_f4():
    assert len({op for _, op, _ in f4_graph.F4_GRAPH}) >= 5
    names = set(f4_graph.F4_ARGS)
    for node, op, args in f4_graph.F4_GRAPH:
        assert op in f4_graph.GRAPH_OPS and set(args) <= names, (node, op, args)
        names.add(node)
    assert f4_graph.F4_GRAPH[-1][0] == f4_graph.F4_OUTPUT
    assert list(functions.f4.__code__.co_varnames[:4]) == list(f4_graph.F4_ARGS)
    for args in [(1.5, 0.8, -0.3, 1.0), (3.0, 20.0, 1.0, 1.0), (0.5, -1.0, 0.5, 0.0)]:
        inputs = dict(zip(f4_graph.F4_ARGS, args, strict=True))
        values = f4_graph.evaluate_graph(f4_graph.F4_GRAPH, inputs)
        assert values[f4_graph.F4_OUTPUT] == functions.f4(*args)[0]


def test_student_file_holds_no_graph_data():
    assert not hasattr(functions, "F4_GRAPH") and not hasattr(functions, "evaluate_graph")


@pytest.mark.torch
def test_gradients_match_pytorch_autograd():
    torch = pytest.importorskip("torch")

    def autograd(expression, args):
        tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
        loss = expression(*tensors)
        loss.backward()
        return loss.item(), [t.grad.item() for t in tensors]

    cases = [
        (functions.f1, lambda x1, w1, x2, w2, b, y: (x1 * w1 + x2 * w2 + b - y) ** 2, F1_ARGS),
        (functions.f2, torch.tanh, (0.37,)),
        (functions.f3_y1, lambda s1, s2: -torch.log_softmax(torch.stack([s1, s2]), 0)[0],
         (1000.0, -1000.0)),
        (functions.f3_y2, lambda s1, s2: -torch.log_softmax(torch.stack([s1, s2]), 0)[1],
         (0.4, -1.1)),
        (functions.f4, lambda x, w, b, y: torch.nn.functional.binary_cross_entropy_with_logits(
            w * x + b, y), (1.2, -0.7, 0.3, 1.0)),
    ]
    for func, expression, args in cases:
        L, grads = func(*args)
        torch_loss, torch_grads = autograd(expression, args)
        assert L == pytest.approx(torch_loss, rel=1e-12, abs=1e-15), func.__name__
        np.testing.assert_allclose(grads, torch_grads, rtol=1e-12, atol=1e-15,
                                   err_msg=func.__name__)


def test_data_file_is_what_the_generator_writes():
    committed = (BACKPROP_DIR / "backprop-data.pkl").read_bytes()
    assert committed == pickle.dumps(make_backprop_data.build_data(), protocol=4)


def test_data_file_layout():
    data = make_backprop_data.build_data()
    # f4 is the student's own: no expected values
    assert set(data) == {"f1", "f2", "f3", "f3 (y=1)", "f3 (y=2)"}
    for name in ("f1", "f2", "f3"):
        assert set(data[name]) >= {"args", "grad_args", "cases", "stability_cases"}
    # the checked cases stay where the homework's graphs work; large inputs only give notes
    assert max(abs(c["inputs"]["x"]) for c in data["f2"]["cases"]) <= 20
    assert max(abs(c["inputs"][s]) for c in data["f3"]["cases"] for s in ("s1", "s2")) <= 20
    large = [c for c in data["f3"]["stability_cases"]
             if c["inputs"] == {"s1": 1000.0, "s2": -1000.0, "y": 2}]
    assert large and large[0]["output"] == 2000.0


def test_data_matches_the_reference_everywhere():
    for name, spec in make_backprop_data.build_data().items():
        for case in spec.get("cases", []) + spec.get("stability_cases", []):
            output, grads = getattr(functions, name)(**case["inputs"])
            assert output == pytest.approx(case["output"], rel=1e-10, abs=1e-12), (name, case)
            np.testing.assert_allclose(grads, case["grads"], rtol=1e-8, atol=1e-12)


ORIGINAL_FUNCTIONS = {"f1": "f1", "f2": "f2", "f3 (y=1)": "f3_y1", "f3 (y=2)": "f3_y2"}


def test_data_file_keeps_the_original_layout():
    """What the original course's backprop.py reads: data[name]['inputs'] (argument
    tuples, values in [0, 1)) and data[name]['outputs'] (floats), compared with tolerance
    1e-10 for f1 and 1e-8 for the others."""
    with open(BACKPROP_DIR / "backprop-data.pkl", "rb") as f:
        data = pickle.load(f)
    for name, function in ORIGINAL_FUNCTIONS.items():
        inputs, outputs = data[name]["inputs"], data[name]["outputs"]
        assert len(inputs) == len(outputs) >= 5
        assert all(0 <= value < 1 for args in inputs for value in args)
        tol = 1e-10 if name == "f1" else 1e-8
        for args, y in zip(inputs, outputs, strict=True):
            y_pred = getattr(functions, function)(*args)[0]
            assert isinstance(y, float) and not abs(y - y_pred) > tol, (name, args)


def test_shipped_test_holds_no_closed_forms():
    text = (ROOT / "tests" / "test_backprop.py").read_text()
    for answer in ("tanh", "logaddexp", "log_softmax", "make_backprop_data", "torch",
                   "sigmoid", "2 * r"):
        assert answer not in text, answer


def set_region(source, func, body):
    """source with the solution region of `func` replaced by `body` (indented 4 spaces)."""
    start = source.index(f"\ndef {func}(")
    begin = source.rindex("\n", 0, source.index("# BEGIN SOLUTION", start)) + 1
    end = source.index("\n", source.index("# END SOLUTION", begin)) + 1
    lines = body.strip("\n").splitlines()
    return source[:begin] + "".join(f"    {line}\n" if line else "\n" for line in lines) + \
        source[end:]


def edit(source, func, old, new):
    """source with `old` replaced by `new` inside the function `func` (exactly once)."""
    start = source.index(f"\ndef {func}(")
    stop = source.find("\ndef ", start + 1)
    stop = len(source) if stop < 0 else stop
    block = source[start:stop]
    assert block.count(old) == 1, (func, old)
    return source[:start] + block.replace(old, new) + source[stop:]


def set_function(source, func, text):
    """source with the whole function `func` replaced by `text`."""
    start = source.index(f"\ndef {func}(") + 1
    stop = source.find("\ndef ", start)
    stop = len(source) if stop < 0 else stop + 1
    return source[:start] + text.strip("\n") + "\n\n\n" + source[stop:]


F3_AS_DRAWN = """
e1 = {exp}(s1)
e2 = {exp}(s2)
d = e1 + e2
p1 = e1 / d
p2 = e2 / d
p = p1 if y == 1 else p2
L = -{log}(p)

grad_L = 1.0
grad_p = -grad_L / p
grad_p1 = grad_p if y == 1 else 0.0
grad_p2 = grad_p if y == 2 else 0.0
grad_d = -grad_p1 * e1 / d ** 2 - grad_p2 * e2 / d ** 2
grad_e1 = grad_p1 / d + grad_d
grad_e2 = grad_p2 / d + grad_d
grad_s1 = grad_e1 * e1
grad_s2 = grad_e2 * e2
"""

F4_TWO_ARGS = '''
def f4(a, b):
    """L = (a + sin(a*b))^2."""
    p = a * b
    q = np.sin(p)
    r = a + q
    L = r * r
    grad_r = 2 * r
    grad_q = grad_r
    grad_p = grad_q * np.cos(p)
    grad_a = grad_r + grad_p * b
    grad_b = grad_p * a
    return L, (grad_a, grad_b)
'''

F4_FIVE_ARGS = '''
def f4(x1, x2, w1, w2, c):
    """Logistic loss log(1 + exp(-s)) of s = x1*w1 + x2*w2 + c."""
    s = x1 * w1 + x2 * w2 + c
    e = math.exp(-s)
    L = math.log(1 + e)
    grad_s = -e / (1 + e)
    return L, [grad_s * w1, grad_s * w2, grad_s * x1, grad_s * x2, grad_s]
'''

F4_LOG_OF_INPUT = '''
def f4(u, v):
    """L = v * log(u): defined for u > 0 only."""
    L = v * math.log(u)
    return L, (v / u, math.log(u))
'''

F4_WITH_LABEL = '''
F4_INPUTS = [{"s": 0.3, "y": 1}, {"s": -1.2, "y": 0}, (2.0, 1)]


def f4(s, y):
    """-log sigmoid(s) for y = 1, -log(1 - sigmoid(s)) for y = 0; y is a label."""
    p = 1 / (1 + np.exp(-s))
    L = -np.log(p) if y == 1 else -np.log(1 - p)
    return L, ((p - 1) if y == 1 else p,)
'''

F4_BUG_FOR_NEGATIVE_INPUTS = '''
def f4(a, b):
    """L = a*b, with a typo in the branch for a < 0."""
    if a < 0:
        return a * b, (b, a_typo)  # noqa: F821
    return a * b, (b, a)
'''


def with_math(source):
    return source.replace("import numpy as np", "import math\n\nimport numpy as np", 1)


# Each variant is an edit of one function (source -> source); the driver runs on a file
# with several of them at once, one per function, so that one run checks several variants.
CORRECT = {
    "f3 as drawn, math.exp": lambda s: set_region(
        with_math(s), "f3", F3_AS_DRAWN.format(exp="math.exp", log="math.log")),
    "f3 as drawn, np.exp": lambda s: set_region(
        s, "f3", F3_AS_DRAWN.format(exp="np.exp", log="np.log")),
    "f2 quotient rule": lambda s: edit(s, "f2", "grad_b = -grad_y * t / b / b",
                                       "grad_b = -grad_y * t / b**2 #"),
    "f4(a, b)": lambda s: set_function(s, "f4", F4_TWO_ARGS),
    "f4(x1, x2, w1, w2, c)": lambda s: set_function(with_math(s), "f4", F4_FIVE_ARGS),
    "f4(u, v) with log(u)": lambda s: set_function(with_math(s), "f4", F4_LOG_OF_INPUT),
    "f4(s, y) with F4_INPUTS": lambda s: set_function(s, "f4", F4_WITH_LABEL),
}
CORRECT_RUNS = [
    ("f3 as drawn, math.exp", "f2 quotient rule", "f4(a, b)"),
    ("f3 as drawn, np.exp", "f4(x1, x2, w1, w2, c)"),
    ("f4(u, v) with log(u)",),
    ("f4(s, y) with F4_INPUTS",),
]

# name -> (function, edit); each one is reported as "not attempted"
STUBS = {
    "f1 raises": ("f1", lambda s: set_region(s, "f1", "raise NotImplementedError")),
    "f2 returns None": ("f2", lambda s: set_region(s, "f2", "return None")),
    "f4()": ("f4", lambda s: set_function(s, "f4", "def f4():\n    pass")),
    "f4 raises": ("f4", lambda s: set_region(s, "f4", "raise NotImplementedError")),
}
STUB_RUNS = [("f1 raises", "f2 returns None", "f4()"), ("f4 raises",)]

# name -> (function that must FAIL, edit, words its lines under the row must contain)
MISTAKES = {
    "f3 sign": ("f3", lambda s: edit(s, "f3", "grad_logp = -grad_L", "grad_logp = grad_L"),
                "the sign is flipped"),
    "f3 factor 2": ("f3", lambda s: edit(s, "f3", "grad_L = 1.0", "grad_L = 2.0"),
                    "a factor of 2 too many"),
    "f3 copy not summed": ("f3", lambda s: edit(s, "f3", "grad_z1 = grad_z1_from_logp1 + ",
                                                "grad_z1 = 0 * grad_z1_from_logp1 + "),
                           "the sum of its copies"),
    "f3 returns one gradient": ("f3", lambda s: edit(s, "f3", "return L, (grad_s1, grad_s2)",
                                                     "return L, (grad_s1,)"),
                                "returned 1 gradient, expected 2"),
    "f3 stub": ("f3", lambda s: set_region(s, "f3", "raise NotImplementedError"),
                "f3 is not implemented (it is required)"),
    "f1 missing copy": ("f1", lambda s: edit(s, "f1", "grad_a2 = grad_a", "grad_a2 = 0.0"),
                        "never reached this input"),
    "f1 grad_y sign": ("f1", lambda s: edit(s, "f1", "grad_y = -grad_d", "grad_y = grad_d"),
                       "grad_y expected"),
    "f1 wrong order": ("f1", lambda s: edit(s, "f1", "return L, (grad_x1, grad_w1,",
                                            "return L, (grad_w1, grad_x1,"),
                       "wrong order"),
    "f1 forward": ("f1", lambda s: edit(s, "f1", "L = d ** 2", "L = 2 * d ** 2"),
                   "the output expected"),
    "f2 factor 2 missing": ("f2", lambda s: edit(s, "f2", "grad_x = grad_d * 2",
                                                 "grad_x = grad_d"),
                            "a factor of 2 missing"),
    "f2 backward missing": ("f2", lambda s: edit(s, "f2", "grad_x = grad_d * 2", "grad_x = None"),
                            "grad_x is None (not implemented)"),
    "f4 wrong gradient": ("f4", lambda s: edit(s, "f4", "grad_x = grad_p * w",
                                               "grad_x = grad_p * x"),
                          "grad_x expected"),
    "f4 copy not summed": ("f4", lambda s: edit(s, "f4", "grad_s_from_ys + grad_s_from_a",
                                                "grad_s_from_ys"),
                           "must sum its gradient copies"),
    "F4_INPUTS for other arguments": ("f4", lambda s: s.replace(
        "\n\n\ndef f4(", '\n\n\nF4_INPUTS = [{"a": 1.0}]\n\n\ndef f4(', 1),
        "F4_INPUTS[0] has the keys ['a'], but f4 takes (x, w, b, y)"),
    "f4 bug for negative inputs": ("f4", lambda s: set_function(s, "f4",
                                                                F4_BUG_FOR_NEGATIVE_INPUTS),
                                   "NameError: name 'a_typo' is not defined (at functions.py:"),
    "f4 three gradients": ("f4", lambda s: edit(s, "f4", "return L, (grad_x, grad_w, grad_b, "
                                                "grad_y)", "return L, (grad_x, grad_w, grad_b)"),
                           "returned 3 gradients, expected 4"),
}
MISTAKE_RUNS = [
    ("f3 sign", "f1 missing copy", "f2 factor 2 missing", "f4 wrong gradient"),
    ("f3 factor 2", "f1 grad_y sign", "f4 three gradients"),
    ("f3 copy not summed", "f1 wrong order", "f2 backward missing", "f4 copy not summed"),
    ("f3 returns one gradient", "f1 forward", "F4_INPUTS for other arguments"),
    ("f3 stub", "f4 bug for negative inputs"),
]


def apply(edits):
    source = REFERENCE
    for change in edits:
        source = change(source)
    return source


def copy_backprop(tmp_path, source):
    """A copy of backprop/ whose functions.py is `source`, with the gradient_check.py of
    neuralnet/ next to it as in the kit; returns the copied folder."""
    folder = tmp_path / "backprop"
    shutil.copytree(BACKPROP_DIR, folder,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "functions.py").write_text(source)
    (tmp_path / "neuralnet").mkdir()
    shutil.copy(NEURALNET_DIR / "gradient_check.py", tmp_path / "neuralnet")
    return folder


def run_driver(tmp_path, source, where="folder"):
    """Run backprop.py on a copy of backprop/ whose functions.py is `source`."""
    folder = copy_backprop(tmp_path, source)
    result = run_script(folder / "backprop.py", cwd=folder if where == "folder" else tmp_path,
                        timeout=60)
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result


def blocks(stdout):
    """function name -> its table row and the indented lines under it, joined by spaces."""
    found, current = {}, None
    for line in stdout.splitlines():
        if re.match(r"f[1-4] ", line):
            current = line.split()[0]
            found[current] = [line]
        elif line.startswith("    ") and current:
            found[current].append(line)
        else:
            current = None
    return {name: " ".join(" ".join(lines).split()) for name, lines in found.items()}


def test_driver_passes_the_reference_without_notes(tmp_path):
    result = run_driver(tmp_path, REFERENCE, where="root")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.splitlines()[-1] == "backprop: PASS (f1, f2, f3, f4)"
    assert "note:" not in result.stdout


@pytest.mark.parametrize("names", CORRECT_RUNS, ids=" + ".join)
def test_driver_passes_correct_variants(tmp_path, names):
    result = run_driver(tmp_path, apply(CORRECT[n] for n in names))
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[-1] == "backprop: PASS (f1, f2, f3, f4)"
    assert "FAIL" not in result.stdout and result.stderr == ""
    if "f3 as drawn, math.exp" in names:  # stability: a note, not a FAIL
        found = blocks(result.stdout)
        assert "note: f3(s1=1000.0, s2=-1000.0, y=2) raises OverflowError" in found["f3"]
        assert "max trick" in found["f3"]
        assert "note: f2(x=300.0) gives grad_x = 2 (expected 0)" in found["f2"]


@pytest.mark.parametrize("names", STUB_RUNS, ids=" + ".join)
def test_driver_reports_optional_stubs_as_not_attempted(tmp_path, names):
    result = run_driver(tmp_path, apply(STUBS[n][1] for n in names))
    assert result.returncode == 0, result.stdout
    skipped = sorted(STUBS[n][0] for n in names)
    for func in skipped:
        assert "not attempted" in blocks(result.stdout)[func]
    assert result.stdout.splitlines()[-1].endswith(f"; not attempted: {', '.join(skipped)})")


@pytest.mark.parametrize("names", MISTAKE_RUNS, ids=" + ".join)
def test_driver_names_the_mistake(tmp_path, names):
    result = run_driver(tmp_path, apply(MISTAKES[n][1] for n in names))
    assert result.returncode == 1, result.stdout
    failed = sorted(MISTAKES[n][0] for n in names)
    assert result.stdout.splitlines()[-1] == f"backprop: FAIL ({', '.join(failed)})"
    found = blocks(result.stdout)
    for name in names:
        func, _, words = MISTAKES[name]
        row = next(line for line in result.stdout.splitlines() if line.startswith(func + " "))
        assert row.endswith("FAIL"), (name, row)
        assert words in found[func], (name, result.stdout)


def test_every_variant_is_in_a_run():
    assert sorted(n for run in CORRECT_RUNS for n in run) == sorted(CORRECT)
    assert sorted(n for run in STUB_RUNS for n in run) == sorted(STUBS)
    assert sorted(n for run in MISTAKE_RUNS for n in run) == sorted(MISTAKES)
    for runs, table in ((MISTAKE_RUNS, MISTAKES), (STUB_RUNS, STUBS)):
        for run in runs:  # one edit per function, or they would hide each other
            funcs = [table[n][0] for n in run]
            assert len(funcs) == len(set(funcs)), run


def test_driver_points_at_the_students_line(tmp_path):
    source = edit(REFERENCE, "f1", "a1 = x1 * w1", "a1 = x1 * w1 / 0.0")
    line = source.splitlines().index("    a1 = x1 * w1 / 0.0") + 1
    result = run_driver(tmp_path, source)
    assert result.returncode == 1
    assert "ZeroDivisionError: float division by zero (at functions.py:" \
           f"{line}: a1 = x1 * w1 / 0.0)" in " ".join(result.stdout.split())


def test_driver_reports_a_file_that_does_not_import(tmp_path):
    result = run_driver(tmp_path, REFERENCE + "\ndef broken(:\n")
    assert result.returncode == 1
    assert "functions.py does not import: SyntaxError" in result.stdout
    assert result.stdout.splitlines()[-1] == "backprop: FAIL (functions.py)"


def run_shipped_test(tmp_path, source):
    """pytest on the shipped tests/test_backprop.py with `source` as functions.py (the
    shipped conftest.py checks both data files first: neuralnet/ gets its own)."""
    copy_backprop(tmp_path, source)
    for name in ("checks.py", "neuralnet-data.pkl"):
        shutil.copy(NEURALNET_DIR / name, tmp_path / "neuralnet")
    (tmp_path / "tests").mkdir()
    for name in ("conftest.py", "kit.py", "test_backprop.py"):
        shutil.copyfile(ROOT / "tests" / name, tmp_path / "tests" / name)
    shutil.copyfile(ROOT / "staff/starter_files/pyproject.toml", tmp_path / "pyproject.toml")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-o", "addopts=", "tests/test_backprop.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.parametrize("names", CORRECT_RUNS + STUB_RUNS + MISTAKE_RUNS[:1], ids=" + ".join)
def test_shipped_test_accepts_correct_work_and_skips_stubs(tmp_path, names):
    table = CORRECT if names[0] in CORRECT else STUBS if names[0] in STUBS else MISTAKES
    edits = [table[n] if table is CORRECT else table[n][1] for n in names]
    result = run_shipped_test(tmp_path, apply(edits))
    summary = result.stdout.strip().splitlines()[-1]
    if table is MISTAKES:
        assert result.returncode == 1 and " failed" in summary, result.stdout
        return
    assert result.returncode == 0, result.stdout
    assert ("skipped" in summary) == (table is STUBS), summary


def test_driver_names_a_missing_gradient_check(tmp_path):
    folder = copy_backprop(tmp_path, REFERENCE)
    (tmp_path / "neuralnet" / "gradient_check.py").unlink()
    result = run_script(folder / "backprop.py", cwd=folder, timeout=60)
    assert result.returncode != 0
    assert "neuralnet/gradient_check.py not found" in result.stderr
