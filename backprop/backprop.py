"""Task 1 driver: check f1-f4 of functions.py against backprop-data.pkl and numeric gradients.

    python backprop/backprop.py          (or: cd backprop && python backprop.py)

f1, f2 and f3 are checked at the sample inputs of backprop-data.pkl: the output must equal the
expected value, and each gradient must equal the expected gradient and the centred finite
difference of your own function (column "grad vs numeric"). f4 is your own graph with any
arguments: its signature is read, it is called at random inputs (or at the inputs listed in
an optional `F4_INPUTS` of functions.py: a list of {argument: value} dicts or of tuples; an
int value marks a discrete argument such as a label, whose gradient is not checked), and
`(L, grads)` must hold one gradient per argument, each equal to the finite difference.

f3 is required; f1, f2 and f4 are optional: a stub (raises NotImplementedError or returns
None) is reported as "not attempted". A failing function gets the input, the expected and
the returned value, and the likely mistake; an exception names functions.py:line. Large
inputs where the homework's graphs overflow only give a note. Exit status 1 on FAIL.
The numeric derivatives, relative errors and mistake names come from
neuralnet/gradient_check.py, as for the checks of Section 2.
"""

import argparse
import importlib.util
import inspect
import math
import pickle
import sys
import textwrap
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

try:
    import functions
except Exception as err:  # noqa: BLE001 - a broken student file is reported, not raised
    functions, IMPORT_ERROR = None, err
else:
    IMPORT_ERROR = None


def load_sibling(folder, name):
    """The module `name` of the kit folder `folder` next to this one (backprop/ and
    neuralnet/ are separate script folders), loaded from its file."""
    path = Path(__file__).resolve().parent.parent / folder / f"{name}.py"
    if not path.is_file():
        raise ImportError(f"{path} not found: backprop.py needs {folder}/{name}.py of the "
                          "homework kit; restore it from the starter kit")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gradient_check = load_sibling("neuralnet", "gradient_check")

DATA_FILE = Path(__file__).resolve().parent / "backprop-data.pkl"
NAMES = ("f1", "f2", "f3", "f4")
REQUIRED = ("f3",)
FORWARD_RTOL, FORWARD_ATOL = 1e-10, 1e-12
GRAD_TOL = 1e-7
F4_GRAD_TOL = 1e-6  # any graph: its higher derivatives may be large
STEPS = (1e-3, 1e-5)  # a kink within 2h of an input can spoil the larger step, not both
MAX_DETAILS = 6  # lines shown for the first failing case of a function
F4_SEED, F4_DRAWS = 4, 4
STABILITY_HINTS = {
    "f2": "exp(2x) overflows for x > 354 and b**2 already for x > 177; dividing by b twice "
          "avoids the second",
    "f3": "exp(s) overflows for s > 709 and underflows to 0 for s < -745; subtracting "
          "max(s1, s2) from both scores first (the max trick) avoids both",
}
MISTAKE_HINTS = {  # texts for the keys of gradient_check.GENERIC_HINTS
    "nan": "not a finite number: an overflow or a division by zero?",
    "inf": "not a finite number: an overflow or a division by zero?",
    "zeros": "0: the gradient never reached this input (a missing copy?)",
    "swapped": "equals the expected {name}: gradients returned in the wrong order?",
    "double": "twice the expected value: a factor of 2 too many",
    "half": "half the expected value: a factor of 2 missing",
}
FAN_OUT_HINTS = {
    "f1": "an add node passes its gradient unchanged to each input; a product x*w sends "
          "grad*w to x and grad*x to w",
    "f2": "e feeds both t and b, so grad_e = grad_e_from_t + grad_e_from_b",
    "f3": "e1 feeds p1 and d (e2 feeds p2 and d), so each gradient is the sum of its copies",
    "f4": "a node that feeds several others must sum its gradient copies",
}


class NotAttempted(Exception):
    """The function is a stub: it raises NotImplementedError or returns None."""


class Mistake(Exception):
    """The function runs but breaks the (output, grads) contract; the message says how."""


@dataclass
class Result:
    """The outcome of checking one function."""

    name: str
    status: str = "PASS"  # PASS, FAIL or "not attempted"
    cases: int = 0
    forward: str = "ok"
    numeric_err: float = 0.0
    data_err: float | None = None
    details: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    failed_cases: list = field(default_factory=list)

    def fail(self, detail, case=None):
        """Record a failure; only the lines of the first failing case are kept."""
        self.status = "FAIL"
        if case not in self.failed_cases:
            self.failed_cases.append(case)
        if case == self.failed_cases[0] and len(self.details) < MAX_DETAILS:
            self.details.append(detail if case is None else f"{case}: {detail}")


def rel_error(a, b):
    """
    Relative error |a - b| / (|a| + |b|) of two numbers. The denominator has a floor of 1e-6,
    so gradients that are 0 up to rounding (|a|, |b| < 1e-6) are compared by their absolute
    difference.
    """
    return gradient_check.rel_error(a, b, floor=1e-6)


def numeric_errors(func, args, index, grad):
    """
    The derivative of func(*args)[0] with respect to args[index], by centred differences.

    Returns a tuple of:
    - numeric: the derivative with the first of STEPS
    - error: smallest relative error of `grad` against the derivatives with each step
    """
    def output(*point):
        return to_number(func(*point)[0], "the output")

    numerics = [gradient_check.numeric_derivative(output, args, index, h) for h in STEPS]
    return numerics[0], min(rel_error(grad, numeric) for numeric in numerics)


def to_number(value, what):
    """value as a float; Mistake if it is None or not a single number."""
    if value is None:
        raise Mistake(f"{what} is None (not implemented)")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise Mistake(f"{what} is not a number: {value!r:.60}") from None
    if array.size != 1:
        raise Mistake(f"{what} should be one number, got an array of shape {array.shape}")
    return float(array.reshape(()))


def call(func, args, grad_names):
    """
    func(*args) checked against the (output, grads) contract.

    Returns (output, grads): a float and a list of floats, one per name in grad_names.
    Raises NotAttempted for a stub and Mistake for a wrong return shape.
    """
    try:
        result = func(*args)
    except NotImplementedError:
        raise NotAttempted from None
    if result is None:
        raise NotAttempted
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise Mistake(f"must return (output, grads), got {result!r:.80}")
    output, grads = result
    if isinstance(grads, np.ndarray):
        grads = list(grads.ravel())
    if output is None and (grads is None or all(g is None for g in grads)):
        raise NotAttempted
    if not isinstance(grads, (tuple, list)):
        raise Mistake(f"grads must be a tuple ({', '.join(grad_names)}), got {grads!r:.60}")
    if len(grads) != len(grad_names):
        raise Mistake(f"returned {len(grads)} gradient{'s' * (len(grads) != 1)}, expected "
                      f"{len(grad_names)}: one per "
                      f"argument ({', '.join('grad_' + n for n in grad_names)})")
    output = to_number(output, "the output")
    return output, [to_number(g, f"grad_{n}") for g, n in zip(grads, grad_names, strict=True)]


def diagnose(got, expected, others=()):
    """The likely mistake when the number `got` should be `expected` (others: (name, value)
    pairs of the other gradients), or ''."""
    return gradient_check.diagnose(expected, got, hints=MISTAKE_HINTS, others=others)


def describe(name, names, args):
    """f3(s1=1.0, s2=2.0, y=1)"""
    return f"{name}(" + ", ".join(f"{n}={a!r}" for n, a in zip(names, args, strict=True)) + ")"


def mismatch(what, expected, got, others=()):
    """'grad_s1 expected -0.731, got 0.731 (the sign is flipped)'"""
    text = f"{what} expected {expected:.6g}, got {got:.6g}"
    reason = diagnose(got, expected, others)
    return f"{text} ({reason})" if reason else text


def student_location(err):
    """'functions.py:42: <code>' of the innermost traceback frame in functions.py."""
    if isinstance(err, SyntaxError) and err.filename:
        return f"{Path(err.filename).name}:{err.lineno}"
    frames = traceback.extract_tb(err.__traceback__)
    own = Path(getattr(functions, "__file__", "functions.py")).resolve()
    mine = [f for f in frames if Path(f.filename).resolve() == own]
    outside = [f for f in frames if Path(f.filename).resolve() != Path(__file__).resolve()]
    frame = (mine or outside or frames)[-1]
    line = f": {frame.line.strip()}" if frame.line else ""
    return f"{Path(frame.filename).name}:{frame.lineno}{line}"


def error_detail(err):
    """What went wrong: a Mistake's message, or an exception and where the student raised it."""
    if isinstance(err, Mistake):
        return str(err)
    return f"{type(err).__name__}: {err} (at {student_location(err)})"


def numeric_checks(func, args, grads, spec):
    """([numeric derivative], [relative error]) per gradient; discrete ones are not checked."""
    pairs = [(grad, 0.0) if index in spec.get("discrete", ()) else
             numeric_errors(func, args, index, grad)
             for index, grad in zip(spec["grad_index"], grads, strict=True)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def check_output(result, label, output, expected):
    """Record a non-finite or (when `expected` is given) wrong output; False if not finite."""
    if not math.isfinite(output):
        result.forward = "WRONG"
        result.fail(f"the output is {output} (an overflow or a division by zero?)", label)
        return False
    if expected is not None and \
            not abs(output - expected) <= FORWARD_ATOL + FORWARD_RTOL * abs(expected):
        result.forward = "WRONG"
        result.fail(mismatch("the output", expected, output), label)
    return True


def check_case(result, func, label, args, spec):
    """
    Check one call func(*args). spec: {"grad_names", "grad_index": position of each
    gradient's argument in args, "tol", and optionally "output", "grads" (expected values)}.
    """
    output, grads = call(func, args, spec["grad_names"])
    if not check_output(result, label, output, spec.get("output")):
        return
    numerics, errors = numeric_checks(func, args, grads, spec)
    has_data = "grads" in spec
    expected = spec["grads"] if has_data else numerics
    names = [f"grad_{n}" for n in spec["grad_names"]]
    for k, (name, grad) in enumerate(zip(names, grads, strict=True)):
        data_err = rel_error(grad, expected[k]) if has_data else 0.0
        result.numeric_err = max(result.numeric_err, errors[k])
        result.data_err = max(result.data_err, data_err) if has_data else None
        if max(errors[k], data_err) < spec["tol"]:
            continue
        if has_data and data_err < spec["tol"]:  # the right gradient of a wrong output
            if result.forward == "ok":  # else the output's line says it already
                result.fail(f"{name} = {grad:.6g} is right but the numeric derivative of your "
                            f"output is {numerics[k]:.6g}: check the output", label)
            continue
        others = [(n, e) for j, (n, e) in enumerate(zip(names, expected, strict=True)) if j != k]
        result.fail(mismatch(name, expected[k], grad, others), label)
        if not diagnose(grad, expected[k], others) and result.forward != "WRONG":
            result.notes.append(f"hint: {FAN_OUT_HINTS[result.name]}")


def run_cases(result, func, cases, spec_of):
    """Check each (label, args) of cases with spec_of(i); exceptions become FAIL details."""
    for i, (label, args) in enumerate(cases):
        result.cases += 1
        try:
            check_case(result, func, label, args, spec_of(i))
        except NotAttempted:
            if i == 0:
                raise
            result.fail("returned None or raised NotImplementedError", label)
        except Mistake as err:
            result.fail(str(err), label)
        except Exception as err:  # noqa: BLE001 - a bug in the student's function
            result.fail(error_detail(err), label)
    if len(result.failed_cases) > 1:
        result.details.append(f"(wrong at {len(result.failed_cases)} of {result.cases} inputs)")
    result.notes = list(dict.fromkeys(result.notes))


def check_data_function(name, func, spec):
    """f1, f2 or f3 at the cases of the data file, then the stability note."""
    result = Result(name, data_err=0.0)
    args_of = [tuple(c["inputs"][a] for a in spec["args"]) for c in spec["cases"]]
    cases = [(describe(name, spec["args"], args), args) for args in args_of]
    grad_index = [spec["args"].index(a) for a in spec["grad_args"]]

    def spec_of(i):
        case = spec["cases"][i]
        return {"grad_names": spec["grad_args"], "grad_index": grad_index, "tol": GRAD_TOL,
                "output": case["output"], "grads": case["grads"]}

    run_cases(result, func, cases, spec_of)
    if result.status == "PASS":
        note = stability_note(name, func, spec)
        if note:
            result.notes.append(note)
    return result


def stability_note(name, func, spec):
    """A note on the first large-input case whose output or gradients are off, or None."""
    for case in spec.get("stability_cases", ()):
        args = tuple(case["inputs"][a] for a in spec["args"])
        label = describe(name, spec["args"], args)
        try:
            output, grads = call(func, args, spec["grad_args"])
        except Exception as err:  # noqa: BLE001 - math.exp raises OverflowError
            got = f"raises {type(err).__name__}"
        else:
            names = ["the output", *(f"grad_{n}" for n in spec["grad_args"])]
            wrong = [f"{n} = {v:.6g} (expected {w:.6g})" for n, v, w in
                     zip(names, [output, *grads], [case["output"], *case["grads"]], strict=True)
                     if rel_error(v, w) >= GRAD_TOL]
            if not wrong:
                continue
            got = "gives " + ", ".join(wrong)
        return (f"note: {label} {got}: {STABILITY_HINTS.get(name, 'large inputs overflow')}. "
                "Optional: the homework only asks for moderate inputs.")
    return None


def f4_argument_names(func):
    """Names of f4's positional arguments; NotAttempted if it takes none."""
    params = inspect.signature(func).parameters.values()
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        raise Mistake("f4 takes *args: give it named arguments, or define F4_INPUTS as "
                      "tuples in functions.py")
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not names:
        raise NotAttempted
    return names


def f4_given_inputs(given, names):
    """F4_INPUTS of functions.py as a list of tuples in argument order; Mistake if malformed."""
    cases = []
    for i, entry in enumerate(given):
        if isinstance(entry, dict):
            if set(entry) != set(names):
                raise Mistake(f"F4_INPUTS[{i}] has the keys {sorted(entry)}, but f4 takes "
                              f"({', '.join(names)})")
            entry = tuple(entry[n] for n in names)
        if not isinstance(entry, (tuple, list)) or len(entry) != len(names):
            raise Mistake(f"F4_INPUTS[{i}] = {entry!r:.60} is not {len(names)} values for "
                          f"f4({', '.join(names)})")
        cases.append(tuple(entry))
    if not cases:
        raise Mistake("F4_INPUTS is empty")
    return cases


def f4_random_inputs(func, names):
    """
    Random inputs at which f4 runs and gives a finite output: mixed signs first, positive
    ones if none of those does (an f4 may take log or sqrt of an input). Inputs outside f4's
    domain (ValueError, ArithmeticError, a non-finite output) are skipped; any other
    exception is a bug. Returns a list of tuples.
    """
    rng = np.random.default_rng(F4_SEED)
    size = (F4_DRAWS, len(names))
    magnitudes = rng.uniform(0.3, 2.0, size=(2, *size))
    signs = rng.choice([-1.0, 1.0], size=size)
    first_error = None
    for draws in (signs * magnitudes[0], magnitudes[1]):
        usable = []
        for args in (tuple(round(float(v), 2) for v in row) for row in draws):
            try:
                output, _ = call(func, args, names)
            except NotAttempted:
                raise
            except Mistake as err:
                raise Mistake(f"{describe('f4', names, args)}: {err}") from None
            except (ValueError, ArithmeticError) as err:  # math domain error, overflow, ...
                first_error = first_error or (args, err)
                continue
            except Exception as err:  # noqa: BLE001 - a bug, whatever the inputs
                raise Mistake(f"{describe('f4', names, args)}: {error_detail(err)}") from None
            if math.isfinite(output):
                usable.append(args)
        if usable:
            return usable
    if first_error:
        args, err = first_error
        raise Mistake(f"{describe('f4', names, args)}: {error_detail(err)}" +
                      "; if f4 needs special inputs, list them in F4_INPUTS")
    raise Mistake("f4's output is not finite at any random input; list inputs in F4_INPUTS")


def returned_gradients(func, args):
    """How many gradients func(*args) returns, or None if that cannot be told."""
    try:
        return len(func(*args)[1])
    except Exception:  # noqa: BLE001 - call() reports it properly later
        return None


def check_f4(func, given=None):
    """f4 with any arguments: one gradient per argument, each equal to the numeric one."""
    result = Result("f4", forward="finite")
    names = f4_argument_names(func)
    cases = f4_random_inputs(func, names) if given is None else f4_given_inputs(given, names)
    discrete = [k for k, v in enumerate(cases[0])
                if isinstance(v, (int, np.integer)) and not isinstance(v, bool)]
    spec = {"grad_names": names, "grad_index": list(range(len(names))), "tol": F4_GRAD_TOL,
            "discrete": discrete}
    if discrete and returned_gradients(func, cases[0]) == len(names) - len(discrete):
        kept = [k for k in range(len(names)) if k not in discrete]
        spec.update(grad_names=[names[k] for k in kept], grad_index=kept, discrete=[])
    run_cases(result, func, [(describe("f4", names, a), a) for a in cases], lambda i: spec)
    return result


def check_function(name, data):
    """Result of one function: PASS, FAIL or not attempted (a stub of an optional one)."""
    func = getattr(functions, name, None)
    try:
        if not callable(func):
            raise NotAttempted
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if name == "f4":
                return check_f4(func, getattr(functions, "F4_INPUTS", None))
            return check_data_function(name, func, data[name])
    except NotAttempted:
        result = Result(name, status="not attempted", forward="not implemented")
        if name in REQUIRED:
            result.status = "FAIL"
            result.details.append(f"{name} is not implemented (it is required)" if callable(func)
                                  else f"functions.py defines no {name} (it is required)")
        return result
    except Exception as err:  # noqa: BLE001 - Mistake, or a crash reading the signature
        result = Result(name, forward="error")
        result.fail(error_detail(err))
        return result


def load_data(path=DATA_FILE):
    """Read backprop-data.pkl (expected values of f1-f3); exit with a message if it is
    missing or damaged."""
    path = Path(path)
    if not path.is_file():
        sys.exit(f"backprop: data file {path} not found "
                 "(restore backprop-data.pkl from the homework kit)")
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except Exception as err:  # noqa: BLE001 - any unpickling problem means the same thing
        sys.exit(f"backprop: data file {path} could not be read ({err}); restore "
                 "backprop-data.pkl from the homework kit")


def row(result):
    """One table row, then its details and notes, each on its own indented line."""
    if result.status == "not attempted":
        line = f"{result.name:<9}{'-':>6}  {'not attempted (optional)':<46}-"
    elif result.cases == 0:
        line = f"{result.name:<9}{'-':>6}  {result.forward:<46}FAIL"
    else:
        data = "-" if result.data_err is None else f"{result.data_err:.2e}"
        line = (f"{result.name:<9}{result.cases:>6}  {result.forward:<16}"
                f"{result.numeric_err:>16.2e}{data:>14}  {result.status}")
    lines = [line]
    for text in (*result.details, *result.notes):
        lines += textwrap.wrap(text, width=96, initial_indent="    ", subsequent_indent="      ",
                               break_on_hyphens=False)
    return "\n".join(lines)


def summary(results):
    """The last line: backprop: PASS (...) or backprop: FAIL (<functions>)."""
    failed = [r.name for r in results if r.status == "FAIL"]
    if failed:
        return f"backprop: FAIL ({', '.join(failed)})"
    passed = [r.name for r in results if r.status == "PASS"]
    skipped = [r.name for r in results if r.status == "not attempted"]
    tail = f"; not attempted: {', '.join(skipped)}" if skipped else ""
    return f"backprop: PASS ({', '.join(passed)}{tail})"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-file", default=DATA_FILE, help="default: %(default)s")
    args = parser.parse_args(argv)
    data = load_data(args.data_file)
    if functions is None:
        print(f"backprop: functions.py does not import: {type(IMPORT_ERROR).__name__}: "
              f"{IMPORT_ERROR} (at {student_location(IMPORT_ERROR)})")
        print("backprop: FAIL (functions.py)")
        return 1
    header = f"{'function':<9}{'cases':>6}  {'forward':<16}{'grad vs numeric':>16}" \
             f"{'grad vs data':>14}  result"
    print(f"Task 1: backprop (gradient tolerance {GRAD_TOL:g}; f4 {F4_GRAD_TOL:g})")
    print(header)
    print("-" * len(header))
    results = [check_function(name, data) for name in NAMES]
    for result in results:
        print(row(result))
    print(summary(results))
    return 1 if any(r.status == "FAIL" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
