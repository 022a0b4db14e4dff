"""What the check scripts of neuralnet/ share: the expected values of neuralnet-data.pkl,
calling your code so that a failure becomes a message, and the table they print.

The numbers themselves (numeric gradients, comparisons, likely mistakes) are in
gradient_check.py.
"""

import pickle
import re
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from gradient_check import CheckFailed

HERE = Path(__file__).resolve().parent
DATA_FILE = HERE / "neuralnet-data.pkl"
CHECK_FILES = ("gradcheck_layers.py", "gradcheck_classifier.py", "check_softmax_stability.py",
               "check_training_step.py", "checks.py", "gradient_check.py")
# the given modules that student code calls: an error raised inside one of them is shown at
# the student's line that led there (e.g. `p = self.params` left in a net with attributes)
GIVEN_FILES = ("classifier.py", "linear_classifier.py", "net_contract.py", "optim.py",
               "data.py", "utils.py", "checkpoint.py")


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
        raise SystemExit(f"error: {path} not found. It ships with the homework (the "
                         "expected values of the checks); restore it from the starter kit.")
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


def student_line(err):
    """'file.py:line: code' of the innermost frame of the traceback in the student's code
    (not numpy, not these check scripts, not the given modules), or '' if there is none."""
    frames = traceback.extract_tb(err.__traceback__)
    library = (sys.prefix, sys.base_prefix, sys.exec_prefix)
    for frame in reversed(frames):
        path = Path(frame.filename)
        if path.name in CHECK_FILES + GIVEN_FILES or frame.filename.startswith(library) \
                or frame.filename.startswith("<"):
            continue
        return f"{path.name}:{frame.lineno}: {(frame.line or '').strip()}"
    return ""


STUB_MESSAGE = re.compile(r"([A-Za-z_][\w.]*): not implemented yet")  # the kit's stubs


def stub_named(what, err):
    """' (fc_forward still raises NotImplementedError)' when the stub that raised `err` is
    another function than `what` (given code such as LinearClassifier calling a stub of
    yours), else ''."""
    found = STUB_MESSAGE.match(str(err))
    if not found or what.split("(")[0] in found.group(1) or found.group(1) in what:
        return ""
    return f" ({found.group(1)} still raises NotImplementedError)"


def import_problem(err):
    """(the file, 'SyntaxError: invalid syntax (at layers.py:235: def broken(:)') for an
    exception raised while importing a file of yours."""
    if isinstance(err, SyntaxError) and err.filename:
        name = Path(err.filename).name
        where = f"{name}:{err.lineno}: {(err.text or '').strip()}"
        return name, f"SyntaxError: {err.msg} (at {where})"
    where = student_line(err)
    name = where.split(":")[0] if where else "your code"
    return name, f"{type(err).__name__}: {err}" + (f" (at {where})" if where else "")


@contextmanager
def student_imports(module_name):
    """
    Around a check script's imports of your files. Run as a script (module_name is
    "__main__"), a file that does not import (a SyntaxError, a missing package, ...) ends it
    with the file, the error and your line, exit status 1, as backprop.py does; imported
    (by the tests), the error propagates.
    """
    try:
        yield
    except Exception as err:
        if module_name != "__main__":
            raise
        script = Path(sys.argv[0]).stem
        name, problem = import_problem(err)
        print(f"{script}: {name} does not import: {problem}\n{script}: FAIL ({name})")
        sys.exit(1)


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
        raise CheckFailed(f"{what}: not implemented{stub_named(what, err)}") from err
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


def run_case(check, case):
    """
    check(case), where check returns (problems, error) and may raise CheckFailed.

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
