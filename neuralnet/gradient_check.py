"""Numeric gradients, relative errors, and comparisons that name the likely mistake.

Used by every check script of the homework (backprop/backprop.py and the gradcheck/check
scripts of neuralnet/) and by the tests. It needs numpy only.

    grad = numeric_gradient(lambda: np.sum(f(x) * upstream), x)    # same shape as x
    print(rel_error(analytic_grad, grad))                           # ~1e-10 when right
"""

import numpy as np

# (rtol, atol) for comparing values, by the dtype of the array that was returned
VALUE_TOLERANCE = {"float64": (1e-9, 1e-12), "float32": (2e-4, 1e-6)}
GRAD_TOLERANCE = {"float64": 1e-7, "float32": 5e-2}  # max relative error vs numeric
STEP = {"float64": 1e-3, "float32": 1e-2}  # of the numeric differences


class CheckFailed(Exception):
    """A check that cannot go on; the message says what went wrong, for the student."""


def centred_difference(f_at, h):
    """
    (-f(+2h) + 8 f(+h) - 8 f(-h) + f(-2h)) / 12h, the derivative of f at offset 0: a centred
    difference that is exact for polynomials up to degree 4.

    Inputs:
    - f_at: function of the offset (a float) returning a float
    - h: step
    """
    plus2, plus1, minus1, minus2 = (float(f_at(offset)) for offset in (2 * h, h, -h, -2 * h))
    # differences first: equal values then cancel exactly
    return (8 * (plus1 - minus1) - (plus2 - minus2)) / (12 * h)


def numeric_gradient(f, x, h=STEP["float64"]):
    """
    Gradient of the scalar function f() with respect to the array x, which f reads.
    Each entry of x is moved in place by -2h, -h, +h, +2h (centred_difference) and restored.

    Inputs:
    - f: function of no arguments returning a float
    - x: float array of any shape, read by f
    - h: step

    Returns:
    - grad: array shaped like x
    """
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        original = x[idx]

        def f_at(offset, idx=idx, original=original):
            x[idx] = original + offset
            return f()

        try:
            grad[idx] = centred_difference(f_at, h)
        finally:
            x[idx] = original
    return grad


def numeric_derivative(f, args, index, h):
    """
    Partial derivative of the scalar function f(*args) with respect to args[index], where
    args are numbers.

    Inputs:
    - f: function of len(args) numbers returning a float
    - args: tuple of numbers
    - index: position of the argument to differentiate
    - h: step

    Returns:
    - derivative: float
    """
    def f_at(offset):
        shifted = list(args)
        shifted[index] = args[index] + offset
        return f(*shifted)

    return centred_difference(f_at, h)


def rel_error(x, y, floor=1e-12):
    """
    Max over entries of |x - y| / max(|x| + |y|, 1e-3 * max|y|, floor): the relative error,
    except that entries far smaller than the largest of y are compared on y's scale (their
    numeric value is mostly rounding), and entries below `floor` by their difference.
    Equal entries (infinities too) count 0, any other non-finite entry inf.

    Inputs:
    - x, y: arrays of one shape (or numbers); y is the reference, e.g. the numeric gradient
    - floor: smallest denominator

    Returns:
    - error: float
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise CheckFailed(f"gradient has shape {x.shape}, expected {y.shape}")
    scale = 1e-3 * float(np.max(np.abs(y), where=np.isfinite(y), initial=0.0))
    with np.errstate(all="ignore"):
        errors = np.abs(x - y) / np.maximum(np.abs(x) + np.abs(y), max(scale, floor))
    errors = np.where(x == y, 0.0, np.where(np.isfinite(errors), errors, np.inf))
    return float(np.max(errors, initial=0.0))


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


def allow_relu_kink(expected, got, kink, grad_out):
    """
    `expected` (relu_backward's grad_x, 0 where x == 0) with got's value put in where x is
    exactly 0 and got is 0 or grad_out there. ReLU has no derivative at 0, so the homework's
    max(0, x) leaves it open: a mask x > 0 gives 0 there, x >= 0 gives grad_out, and both are
    right. A wrong mask (x > -1) still differs where x != 0.

    Inputs:
    - expected, got: arrays of one shape (got of another shape is left to compare())
    - kink: boolean array, True where the forward input x was exactly 0
    - grad_out: the upstream gradient relu_backward was given
    """
    expected = np.asarray(expected, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    if got.shape != expected.shape:
        return expected
    upstream = np.asarray(grad_out, dtype=np.float64)
    with np.errstate(all="ignore"):
        either = np.isclose(got, 0.0, rtol=0, atol=1e-12) \
            | np.isclose(got, upstream, rtol=1e-4, atol=1e-7)
    return np.where(np.asarray(kink, dtype=bool) & either, got, expected)


GENERIC_HINTS = {
    "nan": "nan: an overflow (exp of a large number?) or 0/0 somewhere",
    "inf": "inf: an overflow, or log(0)",
    "transposed": "transposed",
    "zeros": "all zeros",
    "sign": "the sign is flipped",
    "swapped": "equals the expected {name}: returned in the wrong order?",
    "batch_sum": "N x expected (N = {n}, the batch size): a sum over the batch where the "
                 "mean is asked (missing 1/N)",
    "batch_mean": "expected / N (N = {n}, the batch size): divided by N where the sum over "
                  "the batch is asked",
    "double": "2 x expected: a factor of 2 too many",
    "half": "expected / 2: a factor of 2 missing",
}


def constant_factor(expected, got, kind=None):
    """
    The number r for which `got` equals r * `expected` entry by entry (within the tolerance
    of `kind`), by least squares; None when no single factor fits, when `expected` is all
    zeros, or when `got` has another shape or holds nan or inf.

    Inputs:
    - expected, got: arrays (or numbers)
    """
    expected, got = np.asarray(expected, dtype=np.float64), np.asarray(got, dtype=np.float64)
    norm = float(np.sum(expected * expected))
    if norm == 0 or got.shape != expected.shape or not np.all(np.isfinite(got)):
        return None
    factor = float(np.sum(got * expected)) / norm
    return factor if matches(factor * expected, got, kind) else None


def is_factor(factor, target):
    """True if `factor` (a number, or None) is `target` up to 1e-3 of it."""
    return factor is not None and abs(factor - target) <= 1e-3 * abs(target)


def mistake_tests(expected, got, n, kind, others):
    """(key of GENERIC_HINTS, name, test) in the order diagnose() tries them."""
    factor = constant_factor(expected, got, kind)

    def times(target):
        return lambda: is_factor(factor, target)

    tests = [("zeros", "", lambda: matches(np.zeros_like(expected), got, kind)),
             ("sign", "", times(-1))]
    tests += [("swapped", name, lambda value=value: matches(value, got, kind)
               and not matches(expected, value, kind)) for name, value in others]
    if n and n > 1:
        tests += [("batch_sum", "", times(n)), ("batch_mean", "", times(1 / n))]
    return tests + [("double", "", times(2)), ("half", "", times(0.5))]


def diagnose(expected, got, n=None, hints=None, kind="float64", others=()):
    """
    Name the mistake that turns `expected` into `got`, when the numbers show one: a
    transpose, nan or inf, all zeros, a flipped sign, another output's value, N times or
    1/N times (a sum over the batch where a mean is asked, or the reverse), 2 x or 1/2 x.

    Inputs:
    - expected, got: arrays (of one shape unless got is transposed), or numbers
    - n: batch size, to recognise a sum where a mean is asked (and the reverse)
    - hints: dict key of GENERIC_HINTS -> a more specific text ({n}, {name} are filled in)
    - kind: "float32" or "float64", the tolerance of the comparisons
    - others: (name, expected value) pairs of the other outputs: got may equal one of them

    Returns:
    - hint: the text of the first mistake that fits, or '' if none does
    """
    hints = {**GENERIC_HINTS, **(hints or {})}
    expected, got = np.asarray(expected, dtype=np.float64), np.asarray(got, dtype=np.float64)
    if got.shape != expected.shape:
        transposed = expected.ndim == 2 and got.shape == expected.T.shape \
            and matches(expected, got.T, kind)
        return hints["transposed"] if transposed else ""
    if np.any(np.isnan(got)):
        return hints["nan"]
    if np.any(np.isinf(got)):
        return hints["inf"]
    if matches(np.zeros_like(expected), expected, kind):  # 0 times anything is 0
        return ""
    for key, name, test in mistake_tests(expected, got, n, kind, others):
        if test():
            return hints[key].format(n=n, name=name)
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
        hint = diagnose(expected, values, hints=hints, kind=kind)
        return f"{name}: shape {values.shape}, expected {expected.shape}" \
            + (f": {hint}" if hint else "")
    ok = close(expected, values, kind)
    if np.all(ok):
        return None
    index = tuple(np.argwhere(~ok)[0]) if values.ndim else ()
    hint = diagnose(expected, values, n, hints, kind)
    return (f"{name}{entry_text(index)}: expected {expected[index] + 0.0:.8g}, "
            f"got {values[index] + 0.0:.8g}" + (f" ({hint})" if hint else ""))


def gradient_problem(what, analytic, f, x, h=None, blame="forward and backward disagree",
                     kind=None):
    """
    Compare an analytic gradient with the numeric gradient of f() with respect to x.

    Inputs:
    - what: name of the gradient, for the message
    - analytic: array shaped like x
    - f: function of no arguments returning a float; it reads x
    - x: float array, moved in place and restored
    - h: step (default: STEP of kind)
    - blame: the likely cause, for the message
    - kind: "float32" or "float64" (default: the narrower of analytic's and x's dtypes)

    Returns a tuple of:
    - error: max relative error (rel_error) of analytic against the numeric gradient
    - problem: a message if error is above GRAD_TOLERANCE[kind], else None
    """
    kind = kind or ("float32" if "float32" in (dtype_name(analytic), dtype_name(x))
                    else "float64")
    h = h or STEP[kind]
    with np.errstate(all="ignore"):
        error = rel_error(analytic, numeric_gradient(f, x, h))
    if not error < GRAD_TOLERANCE[kind]:
        return error, (f"{what}: differs from the numeric gradient of your own forward pass "
                       f"(max relative error {error:.1e}): {blame}")
    return error, None
