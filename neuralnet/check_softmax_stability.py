"""Task 2 check: softmax_loss on very large and very spread-out scores.

    python neuralnet/check_softmax_stability.py
    cd neuralnet && python check_softmax_stability.py     (same thing)

Each row is one example whose exact loss and gradient are in neuralnet-data.pkl.
- Rows like [1000, 999, 998]: exp(1000) overflows to inf, so a softmax that exponentiates
  the raw scores returns nan. Subtracting each row's maximum first makes them exact: such a
  row must PASS (a nan there is a FAIL).
- Rows like [1e4, 0, -1e4] with label 1: even after subtracting the maximum, the label's
  probability exp(-1e4) underflows to 0, so -log(p) is inf while the gradient stays right.
  That is what the homework's formula gives; it gets a NOTE, not a FAIL, with the fix.
Exits with status 1 if any row failed.
"""

import sys

import numpy as np
from checks import call, load_data, student_imports, unpack
from gradient_check import CheckFailed, compare

with student_imports(__name__):
    from layers import softmax_loss

OVERFLOW_FIX = ("exp overflowed to inf (inf / inf), or underflowed to 0 for every class "
                "(0 / 0). Subtract each row's maximum score before exp: the probabilities stay "
                "the same, and exp never overflows")
UNDERFLOW_NOTE = ("the label's probability underflows to 0, so -log(p) = inf (the gradient is "
                  "right). To be exact for any scores, compute the loss from log-softmax: "
                  "loss = log(sum(exp(x - max))) - (x[y] - max)")


def judge(case, loss, grad):
    """
    Returns a tuple of:
    - verdict: "PASS", "NOTE" or "FAIL"
    - message: why (None for PASS)
    """
    with_nan = [name for name, value in (("the loss", loss), ("grad_x", grad))
                if np.any(np.isnan(np.asarray(value, dtype=np.float64)))]
    if with_nan:
        return "FAIL", f"nan in {' and '.join(with_nan)}: {OVERFLOW_FIX}"
    kind = "float32" if case["dtype"] == "float32" else None  # float32 in: float32 rounding
    problems = [p for p in (compare("loss", case["outputs"]["loss"], loss, kind=kind),
                            compare("grad_x", case["outputs"]["grad_x"], grad, kind=kind)) if p]
    if not problems:
        return "PASS", None
    underflow = np.isposinf(np.asarray(loss, dtype=np.float64)).all() and len(problems) == 1
    if case["kind"] == "extreme" and underflow:
        return "NOTE", UNDERFLOW_NOTE
    if np.isinf(np.asarray(loss, dtype=np.float64)).any():
        problems.append("an inf where subtracting the row maximum keeps everything finite")
    return "FAIL", "; ".join(problems)


def check_row(case):
    """Returns (verdict, message, loss) for one row of data["softmax_stability"]."""
    x = case["inputs"]["x"].astype(case["dtype"])
    y = case["inputs"]["y"].copy()
    try:
        loss, grad = unpack("softmax_loss", call("softmax_loss", softmax_loss, x, y),
                            ("loss", "grad_x"))
    except CheckFailed as failure:
        return "FAIL", str(failure), None
    verdict, message = judge(case, loss, grad)
    return verdict, message, loss


def main():
    data = load_data()
    print("Task 2: softmax_loss on large scores (expected values from neuralnet-data.pkl)")
    header = f"{'scores, label, dtype':<40}{'expected loss':>14}{'your loss':>14}  result"
    print(header)
    print("-" * len(header))
    verdicts = []
    for case in data["softmax_stability"]:
        verdict, message, loss = check_row(case)
        got = "-" if loss is None else f"{float(np.asarray(loss).ravel()[0]) + 0.0:.10g}"
        print(f"{case['case']:<40}{case['outputs']['loss']:>14.10g}{got:>14}  {verdict}")
        if message:
            print("    " + message.replace("\n", "\n    "))
        verdicts.append(verdict)
    failed, notes = verdicts.count("FAIL"), verdicts.count("NOTE")
    if failed:
        print(f"check_softmax_stability: FAIL (softmax_loss: {failed} of {len(verdicts)} cases)")
        return 1
    extra = f"; {notes} notes on underflow" if notes else ""
    print(f"check_softmax_stability: PASS (all {len(verdicts)} cases{extra})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
