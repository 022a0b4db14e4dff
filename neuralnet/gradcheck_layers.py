"""Task 2 check: every function of layers.py against expected values and numeric gradients.

    python neuralnet/gradcheck_layers.py          (or: cd neuralnet && python gradcheck_layers.py)

For each function and input case it compares what your code returns with the expected
values in neuralnet-data.pkl (written from a correct solution), and each gradient with
fourth-order centred differences of your own forward pass. A failure names the first
differing entry (expected vs got) and, where the numbers show it, the likely mistake; an
exception names the line of your code that raised it. Exits with status 1 unless
everything passed. The helpers here are shared by gradcheck_classifier.py,
check_softmax_stability.py and check_training_step.py.
"""

import pickle
import sys
import traceback
from pathlib import Path

import numpy as np
from layers import (
    fc_backward,
    fc_forward,
    l2_loss,
    l2_regularization,
    relu_backward,
    relu_forward,
    softmax_loss,
)

HERE = Path(__file__).resolve().parent
DATA_FILE = HERE / "neuralnet-data.pkl"
CHECK_SCRIPTS = ("gradcheck_layers.py", "gradcheck_classifier.py", "check_softmax_stability.py",
                 "check_training_step.py")
# (rtol, atol) for comparing values, by the dtype of the array that was returned
VALUE_TOLERANCE = {"float64": (1e-9, 1e-12), "float32": (2e-4, 1e-6)}
GRAD_TOLERANCE = {"float64": 1e-7, "float32": 5e-2}  # max relative error vs numeric
STEP = {"float64": 1e-3, "float32": 1e-2}  # of the numeric differences


class CheckFailed(Exception):
    """A check that cannot go on; the message says what went wrong, for the student."""


# ----------------------------------------------------------------------------- data


def to_numpy(value):
    """Nested lists -> numpy arrays (float64, or int64 for labels), inside dicts too."""
    if isinstance(value, dict):
        return {key: to_numpy(item) for key, item in value.items()}
    if isinstance(value, list):
        return np.array(value)
    return value


def load_data(path=DATA_FILE):
    """
    Returns the expected values: dict function name -> list of cases, each a dict with
    "case" (a description), "inputs" and "outputs" (dicts name -> array or number).
    Raises SystemExit with a clear message when the file is missing or damaged.
    """
    path = Path(path)
    if not path.is_file():
        raise SystemExit(f"error: {path} not found. It ships with the homework next to "
                         "this script; restore it from the starter kit.")
    try:
        with open(path, "rb") as f:
            raw = pickle.load(f)
        return {name: [to_numpy(case) for case in cases] for name, cases in raw.items()}
    except Exception as err:  # any unpickling problem means the same thing to a student
        raise SystemExit(f"error: {path} could not be read ({err}); restore it from the "
                         "starter kit.") from None


def copies(inputs, dtype=np.float64):
    """Fresh copies of the inputs (floats in `dtype`), so that student code cannot change
    the data of later checks."""
    return {name: value.astype(dtype) if isinstance(value, np.ndarray) and value.dtype.kind == "f"
            else (value.copy() if isinstance(value, np.ndarray) else value)
            for name, value in inputs.items()}


# ----------------------------------------------------------------------------- calling


def student_line(err):
    """'file.py:line: code' of the innermost frame of the traceback in the student's code
    (not numpy, not these check scripts), or '' if there is none."""
    frames = traceback.extract_tb(err.__traceback__)
    library = (sys.prefix, sys.base_prefix, sys.exec_prefix)
    for frame in reversed(frames):
        path = Path(frame.filename)
        if path.name in CHECK_SCRIPTS or frame.filename.startswith(library) \
                or frame.filename.startswith("<"):
            continue
        return f"{path.name}:{frame.lineno}: {(frame.line or '').strip()}"
    return ""


def call(what, func, *args):
    """
    func(*args) with floating-point warnings silenced (the checks judge the numbers).
    Raises CheckFailed saying "not implemented" for NotImplementedError or a None result,
    and naming the student's line for any other exception.
    """
    try:
        with np.errstate(all="ignore"):
            result = func(*args)
    except NotImplementedError as err:  # chained: a test failure shows the original too
        raise CheckFailed(f"{what}: not implemented") from err
    except Exception as err:
        where = student_line(err)
        raise CheckFailed(f"{what} raised {type(err).__name__}: {err}"
                          + (f"\n    at {where}" if where else "")) from err
    if result is None:
        raise CheckFailed(f"{what}: not implemented (it returned None)")
    return result


def unpack(what, result, names):
    """Check that `result` is a tuple of len(names) values; returns it as a tuple."""
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        got = f"{type(result).__name__}" + (f" of {len(result)} values"
                                            if isinstance(result, (tuple, list)) else "")
        raise CheckFailed(f"{what} must return a tuple ({', '.join(names)}), got {got}")
    return tuple(result)


# ----------------------------------------------------------------------------- comparing


def dtype_name(got):
    """'float32' for arrays of float32 or narrower, else 'float64' (which tolerance)."""
    dtype = getattr(got, "dtype", np.dtype(np.float64))
    return "float32" if dtype.kind == "f" and dtype.itemsize <= 4 else "float64"


def close(expected, got, kind=None):
    """Boolean array: where `got` equals `expected` within the tolerance of `kind`
    ("float32" or "float64"; default: got's own dtype)."""
    rtol, atol = VALUE_TOLERANCE[kind or dtype_name(got)]
    scale = max(1.0, float(np.max(np.abs(expected)))) if np.size(expected) else 1.0
    with np.errstate(all="ignore"):
        return np.isclose(np.asarray(got, dtype=np.float64), expected, rtol=rtol,
                          atol=atol * scale)


def matches(expected, got, kind=None):
    """True if arrays (or numbers) `got` and `expected` have one shape and equal values."""
    kind = kind or dtype_name(got)
    got = np.asarray(got, dtype=np.float64)
    return got.shape == np.shape(expected) and bool(np.all(close(expected, got, kind)))


GENERIC_HINTS = {
    "nan": "nan: an overflow (exp of a large number?) or 0/0 somewhere",
    "inf": "inf: an overflow, or log(0)",
    "zeros": "all zeros",
    "sign": "the sign is flipped",
    "batch_sum": "N x expected (N = {n}, the batch size): a sum over the batch where the "
                 "mean is asked (missing 1/N)",
    "batch_mean": "expected / N (N = {n}, the batch size): divided by N where the sum over "
                  "the batch is asked",
    "double": "2 x expected: a factor of 2 too many",
    "half": "expected / 2: a factor of 2 missing",
}


def diagnose(expected, got, n=None, hints=None, kind="float64"):
    """
    Name the mistake that turns `expected` into `got` (same shapes), when the numbers show
    one; '' otherwise. `hints` maps a key of GENERIC_HINTS to a more specific text.
    """
    hints = {**GENERIC_HINTS, **(hints or {})}
    candidates = [("nan", lambda: np.any(np.isnan(got))),
                  ("inf", lambda: np.any(np.isinf(got))),
                  ("zeros", lambda: np.any(expected != 0) and np.all(got == 0)),
                  ("sign", lambda: matches(-expected, got, kind))]
    if n and n > 1:
        candidates += [("batch_sum", lambda: matches(n * expected, got, kind)),
                       ("batch_mean", lambda: matches(expected / n, got, kind))]
    candidates += [("double", lambda: matches(2 * expected, got, kind)),
                   ("half", lambda: matches(expected / 2, got, kind))]
    for key, test in candidates:
        if test():
            return hints[key].format(n=n)
    return ""


def entry_text(index):
    """' at [i, j]' for a non-empty index, else ''."""
    return "" if not index else " at [" + ", ".join(str(int(i)) for i in index) + "]"


def compare(name, expected, got, n=None, hints=None, kind=None):
    """
    None if `got` equals `expected` (an array or a number), else one line: the first
    differing entry, expected vs got, and the likely mistake when diagnose() finds one.
    `kind` ("float32" or "float64") picks the tolerance; default: got's dtype.
    """
    expected = np.asarray(expected, dtype=np.float64)
    kind = kind or dtype_name(got)
    try:
        values = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"{name}: expected an array of shape {expected.shape}, got {type(got).__name__}"
    if values.size == 1 and expected.size == 1:
        values = values.reshape(expected.shape)  # a loss as a 1-element array is fine
    if values.shape != expected.shape:
        if expected.ndim == 2 and values.shape == expected.T.shape \
                and matches(expected, values.T, kind):
            return f"{name}: shape {values.shape}, expected {expected.shape}: transposed"
        return f"{name}: shape {values.shape}, expected {expected.shape}"
    ok = close(expected, values, kind)
    if np.all(ok):
        return None
    index = tuple(np.argwhere(~ok)[0]) if values.ndim else ()
    hint = diagnose(expected, values, n, hints, kind)
    return (f"{name}{entry_text(index)}: expected {expected[index] + 0.0:.8g}, "
            f"got {values[index] + 0.0:.8g}" + (f" ({hint})" if hint else ""))


# ----------------------------------------------------------------------------- numeric


def numeric_gradient(f, x, h=STEP["float64"]):
    """
    Gradient of the scalar function f() with respect to the array x, which f reads.

    Each entry of x is moved in place by -2h, -h, +h, +2h and restored; the derivative is
    (-f(+2h) + 8 f(+h) - 8 f(-h) + f(-2h)) / 12h, a centred difference that is exact for
    polynomials up to degree 4 (so for every linear or quadratic layer).

    Inputs:
    - f: function of no arguments returning a float
    - x: float array read by f

    Returns:
    - grad: array shaped like x
    """
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        original = x[idx]
        values = []
        for offset in (2 * h, h, -h, -2 * h):
            x[idx] = original + offset
            values.append(float(f()))
        x[idx] = original
        # differences first: equal values then cancel exactly
        grad[idx] = (8 * (values[1] - values[2]) - (values[0] - values[3])) / (12 * h)
    return grad


def rel_error(analytic, numeric):
    """
    Max over entries of |a - n| / max(|a| + |n|, 1e-3 * max|n|): the relative error, except
    that entries far smaller than the largest one are compared on the gradient's scale
    (their numeric value is mostly rounding).
    """
    analytic, numeric = np.asarray(analytic, dtype=np.float64), np.asarray(numeric)
    if analytic.shape != numeric.shape:
        raise CheckFailed(f"gradient has shape {analytic.shape}, expected {numeric.shape}")
    floor = max(1e-3 * float(np.max(np.abs(numeric), initial=0.0)), 1e-12)
    denominator = np.maximum(np.abs(analytic) + np.abs(numeric), floor)
    return float(np.max(np.abs(analytic - numeric) / denominator, initial=0.0))


def gradient_problem(what, analytic, f, x, h=None, blame="forward and backward disagree",
                     kind=None):
    """
    Returns a tuple of:
    - error: max relative error of `analytic` against the numeric gradient of f() in x
    - problem: a message if it is above the tolerance of `kind` (default: the narrower of
      analytic's and x's dtypes), else None
    """
    kind = kind or ("float32" if "float32" in (dtype_name(analytic), dtype_name(x))
                    else "float64")
    h = h or STEP[kind]
    with np.errstate(all="ignore"):
        error = rel_error(analytic, numeric_gradient(lambda: call(what, f), x, h))
    if not error < GRAD_TOLERANCE[kind]:  # nan fails too
        return error, (f"{what}: differs from the numeric gradient of your own forward pass "
                       f"(max relative error {error:.1e}): {blame}")
    return error, None


def away_from_zero(rng, shape, margin=0.1):
    """Random values with |value| >= margin, so steps of 2 * STEP never cross a ReLU kink."""
    return rng.choice([-1.0, 1.0], size=shape) * (margin + np.abs(rng.standard_normal(shape)))


# ----------------------------------------------------------------------------- the layers


def check_fc_forward(case):
    """Each check_* takes one case of its function's data and returns a tuple of:
    - problems: messages, None for each thing that was right
    - error: max relative gradient error against numeric differences, or None
    """
    x = copies(case["inputs"])
    out, _ = unpack("fc_forward", call("fc_forward", fc_forward, x["x"], x["w"], x["b"]),
                    ("out", "cache"))
    problem = compare("out", case["outputs"]["out"], out)
    if problem and matches(case["outputs"]["out"] - case["inputs"]["b"], out):
        problem = "out: the bias b is not added"
    return [problem], None


def forward_cache(what, forward, args, documented):
    """
    The cache of your forward pass on `args`; if that forward pass fails, the cache its
    docstring documents (`documented`), so that the backward pass is still checked.

    Returns a tuple of:
    - cache
    - ok: False if the forward pass failed (then the numeric check is skipped)
    """
    try:
        return unpack(what, call(what, forward, *args), ("out", "cache"))[1], True
    except CheckFailed:
        return documented, False


def check_fc_backward(case):
    """fc_backward with the cache of your fc_forward (or the documented one).
    Returns (problems, error) like check_fc_forward."""
    x = copies(case["inputs"])
    cache, forward_ok = forward_cache("fc_forward", fc_forward, (x["x"], x["w"], x["b"]),
                                      (x["x"], x["w"], x["b"]))
    grads = unpack("fc_backward", call("fc_backward", fc_backward, x["grad_out"], cache),
                   ("grad_x", "grad_w", "grad_b"))
    hints = {"batch_mean": "expected / N (N = {n}): grad_b sums grad_out over the batch"}
    problems = [compare(name, case["outputs"][name], grad, len(x["x"]), hints)
                for name, grad in zip(("grad_x", "grad_w", "grad_b"), grads, strict=True)]
    if any(problems) or not forward_ok:
        return problems, None
    upstream = x["grad_out"]

    def f():
        return np.sum(fc_forward(x["x"], x["w"], x["b"])[0] * upstream)

    blame = "fc_backward gives the expected values, so fc_forward is wrong"
    errors = [gradient_problem(f"fc_backward {name}", grad, f, array, blame=blame)
              for name, grad, array in zip(("grad_x", "grad_w", "grad_b"), grads,
                                           (x["x"], x["w"], x["b"]), strict=True)]
    return [problem for _, problem in errors], max(error for error, _ in errors)


def check_relu_forward(case):
    """Returns (problems, None) like check_fc_forward."""
    x = copies(case["inputs"])
    out, _ = unpack("relu_forward", call("relu_forward", relu_forward, x["x"]), ("out", "cache"))
    return [compare("out", case["outputs"]["out"], out)], None


def check_relu_backward(case):
    """relu_backward on inputs with exact zeros; the numeric check away from them.
    Returns (problems, error) like check_fc_forward."""
    x = copies(case["inputs"])
    cache, forward_ok = forward_cache("relu_forward", relu_forward, (x["x"],), x["x"])
    grad = call("relu_backward", relu_backward, x["grad_out"], cache)
    expected = case["outputs"]["grad_x"]
    problem = compare("grad_x", expected, grad)
    if problem and np.shape(grad) == expected.shape:
        wrong = ~close(expected, grad)
        if np.all(case["inputs"]["x"][wrong] == 0):
            problem += (" (differs only where x == 0: relu's gradient is 0 there; "
                        "use x > 0, not x >= 0)")
    if problem or not forward_ok:
        return [problem], None
    rng = np.random.default_rng(1)  # the numeric check needs points away from the kink
    z, upstream = away_from_zero(rng, expected.shape), rng.standard_normal(expected.shape)
    _, cache = unpack("relu_forward", call("relu_forward", relu_forward, z), ("out", "cache"))
    analytic = call("relu_backward", relu_backward, upstream, cache)
    error, numeric_problem = gradient_problem(
        "relu_backward", analytic, lambda: np.sum(relu_forward(z)[0] * upstream), z,
        blame="relu_backward gives the expected values, so relu_forward is wrong")
    return [numeric_problem], error


def check_loss(name, func, args, grad_name, case, hints, batch=True):
    """Value and gradient check of a loss func(*inputs[args]) -> (loss, grad); `batch`:
    the loss is a mean over the rows of its first argument."""
    x = copies(case["inputs"])
    loss, grad = unpack(name, call(name, func, *(x[a] for a in args)), ("loss", grad_name))
    n = len(x[args[0]]) if batch else None
    problems = [compare("loss", case["outputs"]["loss"], loss, n, hints.get("loss")),
                compare(grad_name, case["outputs"][grad_name], grad, n, hints.get("grad"))]
    if problems[1] is not None:
        return problems, None
    error, problem = gradient_problem(name, grad, lambda: func(*(x[a] for a in args))[0],
                                      x[args[0]])
    return problems + [problem], error


L2_LOSS_HINTS = {
    "loss": {"batch_sum": "N x expected (N = {n}): summed over the batch; l2_loss is "
                          "1/N * sum((x - y)**2)"},
    "grad": {"batch_sum": "N x expected (N = {n}): the gradient of the mean over the batch "
                          "has a 1/N", "half": "expected / 2: the derivative of (x - y)**2 "
                          "is 2 (x - y)", "sign": "the sign is flipped: the gradient with "
                          "respect to x is 2 (x - y) / N"},
}
SOFTMAX_HINTS = {
    "loss": {"batch_sum": "N x expected (N = {n}): summed over the batch; the loss is the "
                          "mean over the N examples"},
    "grad": {"batch_sum": "N x expected (N = {n}): the loss is a mean over the batch, so its "
                          "gradient has a 1/N", "sign": "the sign is flipped: the gradient is "
                          "(softmax - one_hot(y)) / N"},
}
L2_REG_HINTS = {
    "loss": {"double": "2 x expected: the loss is reg / 2 * sum(w**2), not reg * sum(w**2)",
             "half": "expected / 2: the loss is reg / 2 * sum(w**2)"},
    "grad": {"double": "2 x expected: the gradient of reg / 2 * sum(w**2) is reg * w",
             "half": "expected / 2: the gradient of reg / 2 * sum(w**2) is reg * w"},
}


def check_l2_loss(case):
    """Returns (problems, error) like check_fc_forward."""
    return check_loss("l2_loss", l2_loss, ("x", "y"), "grad_x", case, L2_LOSS_HINTS)


def check_softmax_loss(case):
    """Returns (problems, error) like check_fc_forward."""
    return check_loss("softmax_loss", softmax_loss, ("x", "y"), "grad_x", case, SOFTMAX_HINTS)


def check_l2_regularization(case):
    """Returns (problems, error) like check_fc_forward."""
    return check_loss("l2_regularization", l2_regularization, ("w", "reg"), "grad_w", case,
                      L2_REG_HINTS, batch=False)


CHECKS = (
    ("fc_forward", check_fc_forward),
    ("fc_backward", check_fc_backward),
    ("relu_forward", check_relu_forward),
    ("relu_backward", check_relu_backward),
    ("l2_loss", check_l2_loss),
    ("softmax_loss", check_softmax_loss),
    ("l2_regularization", check_l2_regularization),
)


# ----------------------------------------------------------------------------- running


def run_case(check, case):
    """
    Returns a tuple of:
    - problems: messages (empty if the case passed)
    - error: max relative gradient error, or None if no gradient was compared
    """
    try:
        problems, error = check(case)
    except CheckFailed as failure:
        return [str(failure)], None
    return [p for p in problems if p], error


def function_problems(name, check, data):
    """All problems of function `name` over its cases (quietly; for the other scripts)."""
    return [problem for case in data[name] for problem in run_case(check, case)[0]]


HEADER = f"{'function':<21}{'case':<32}{'num. grad':>10}  result"


def print_row(function, case, problems, error):
    """One table row, then each problem indented below it."""
    grad = "-" if error is None else f"{error:.1e}"
    print(f"{function:<21}{case:<32}{grad:>10}  {'FAIL' if problems else 'PASS'}")
    for problem in problems:
        print("    " + problem.replace("\n", "\n    "))


def run_checks(title, checks, data):
    """
    Run each (function name, check) on every case of data[name] and print one row per
    case, with the problems below it.

    Returns a tuple of:
    - failed: names of the functions with a failed case (in order, no repeats)
    - count: number of cases checked
    """
    print(title)
    print(HEADER)
    print("-" * len(HEADER))
    failed, count = [], 0
    for name, check in checks:
        for case in data[name]:
            problems, error = run_case(check, case)
            print_row(name, case["case"], problems, error)
            count += 1
            if problems and name not in failed:
                failed.append(name)
    return failed, count


def summarize(script, failed, count, what="cases"):
    """Print the PASS/FAIL summary line; return the exit status."""
    if failed:
        print(f"{script}: FAIL ({', '.join(failed)})")
        return 1
    print(f"{script}: PASS (" + (f"all {count} {what}" if count > 1 else f"1 {what[:-1]}")
          + ")")
    return 0


def main():
    data = load_data()
    failed, count = run_checks(
        "Task 2: layers.py against neuralnet-data.pkl and numeric gradients", CHECKS, data)
    return summarize("gradcheck_layers", failed, count)


if __name__ == "__main__":
    sys.exit(main())
