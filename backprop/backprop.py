"""Task 1 driver: check f1-f4 of functions.py against backprop-data.pkl and numeric gradients.

    python backprop/backprop.py          (or: cd backprop && python backprop.py)

For each function and each sample input it checks
  * forward: the output equals the expected value stored in backprop-data.pkl,
  * gradients: the returned gradients equal centred finite differences of the function
    (column "grad vs numeric") and the closed-form gradients in the data file ("grad vs data").
It prints one row per function and exits with status 1 if any function fails.
"""

import argparse
import pickle
import sys
from pathlib import Path

import functions

DATA_FILE = Path(__file__).resolve().parent / "backprop-data.pkl"
FORWARD_RTOL, FORWARD_ATOL = 1e-10, 1e-12
GRAD_TOL = 1e-7
STEP = 1e-3


def rel_error(a, b):
    """
    Relative error |a - b| / (|a| + |b|). The denominator has a floor of 1e-6, so gradients
    that are 0 up to rounding (|a|, |b| < 1e-6) are compared by their absolute difference.
    """
    return abs(a - b) / max(abs(a) + abs(b), 1e-6)


def numeric_derivative(func, inputs, name, h=STEP):
    """
    Fourth-order centred difference of func(**inputs)[0] with respect to inputs[name]:
    (-f(x+2h) + 8 f(x+h) - 8 f(x-h) + f(x-2h)) / 12h, exact for polynomials up to degree 4.
    """
    def f_at(offset):
        shifted = dict(inputs, **{name: inputs[name] + offset})
        return func(**shifted)[0]

    return (8 * (f_at(h) - f_at(-h)) - (f_at(2 * h) - f_at(-2 * h))) / (12 * h)


def check_function(func, spec):
    """
    Run every case of one function.

    Returns:
    - forward_ok: bool, every output matched the data file
    - numeric_err: max relative error of the gradients against finite differences
    - data_err: max relative error of the gradients against the data file
    """
    forward_ok, numeric_err, data_err = True, 0.0, 0.0
    for case in spec["cases"]:
        inputs = case["inputs"]
        output, grads = func(**inputs)
        if len(grads) != len(spec["grad_args"]):
            raise ValueError(f"returned {len(grads)} gradients, expected "
                             f"{len(spec['grad_args'])} ({', '.join(spec['grad_args'])})")
        expected = case["output"]
        if not abs(output - expected) <= FORWARD_ATOL + FORWARD_RTOL * abs(expected):
            forward_ok = False
        for name, grad, grad_expected in zip(spec["grad_args"], grads, case["grads"],
                                             strict=True):
            numeric = numeric_derivative(func, inputs, name)
            numeric_err = max(numeric_err, rel_error(grad, numeric))
            data_err = max(data_err, rel_error(grad, grad_expected))
    return forward_ok, float(numeric_err), float(data_err)


def load_data(path):
    """Read the data file written by make_backprop_data.py; exit with a message if missing."""
    path = Path(path)
    if not path.is_file():
        sys.exit(f"backprop: data file {path} not found "
                 "(regenerate it with: python backprop/make_backprop_data.py)")
    with open(path, "rb") as f:
        return pickle.load(f)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-file", default=DATA_FILE, help="default: %(default)s")
    args = parser.parse_args(argv)
    data = load_data(args.data_file)

    header = f"{'function':<9}{'cases':>6}  {'forward':<16}{'grad vs numeric':>16}" \
             f"{'grad vs data':>14}  result"
    print(f"Task 1: backprop (gradient tolerance {GRAD_TOL:g})")
    print(header)
    print("-" * len(header))
    failed = []
    for name, spec in data.items():
        try:
            forward_ok, numeric_err, data_err = check_function(getattr(functions, name), spec)
        except NotImplementedError:
            row, ok = f"{'not implemented':<16}{'-':>16}{'-':>14}", False
        except Exception as err:  # a bug in a student's function: report it, check the rest
            row, ok = f"error: {type(err).__name__}: {err}", False
        else:
            ok = forward_ok and numeric_err < GRAD_TOL and data_err < GRAD_TOL
            row = f"{'ok' if forward_ok else 'WRONG':<16}{numeric_err:>16.2e}{data_err:>14.2e}"
        print(f"{name:<9}{len(spec['cases']):>6}  {row}  {'PASS' if ok else 'FAIL'}")
        if not ok:
            failed.append(name)
    if failed:
        print(f"backprop: FAIL ({', '.join(failed)})")
        return 1
    print(f"backprop: PASS (all {len(data)} functions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
