"""Task 2 check: a naive softmax overflows on large scores, softmax_loss does not.

    python neuralnet/check_softmax_stability.py
    cd neuralnet && python check_softmax_stability.py     (same thing)

For each row of scores it prints the naive loss -log(exp(s_y) / sum exp(s)) (inf or nan once
exp overflows or underflows), the loss from layers.softmax_loss, and the reference value
logsumexp(s) - s_y (np.logaddexp.reduce, in float64). A row passes when softmax_loss and
its gradient are finite and the loss equals the reference. Exits with status 1 otherwise.
"""

import sys

import numpy as np
from layers import softmax_loss

# (scores of one example, label, dtype)
CASES = (
    ([1e4, 0.0, -1e4], 0, np.float64),
    ([1e4, 0.0, -1e4], 1, np.float64),
    ([1e4, 1e4 - 1, 1e4 - 2], 2, np.float64),
    ([-1e4, -1e4, -1e4], 0, np.float64),
    ([800.0, -800.0, 0.0], 2, np.float64),
    ([1e4, 0.0, -1e4], 1, np.float32),
)
RTOL = {np.float64: 1e-12, np.float32: 1e-6}


def naive_softmax_loss(x, y):
    """Cross-entropy through a softmax without the max-subtraction (overflow is silenced)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        exp = np.exp(x)
        probs = exp / exp.sum(axis=1, keepdims=True)
        return float(-np.mean(np.log(probs[np.arange(len(y)), y])))


def reference_loss(x, y):
    """logsumexp(x) - x[y] per row, averaged, computed in float64 by np.logaddexp.reduce."""
    x = x.astype(np.float64)
    return float(np.mean(np.logaddexp.reduce(x, axis=1) - x[np.arange(len(y)), y]))


def check_case(scores, label, dtype):
    """
    Returns a tuple of:
    - naive: the naive loss (inf or nan when it breaks)
    - loss: softmax_loss's value
    - reference: the log-sum-exp value
    - ok: softmax_loss is finite, has a finite gradient of the right dtype, equals reference
    """
    x = np.array([scores], dtype=dtype)
    y = np.array([label])
    loss, grad = softmax_loss(x, y)
    reference = reference_loss(x, y)
    ok = (np.isfinite(loss) and np.all(np.isfinite(grad)) and grad.dtype == x.dtype
          and np.isclose(loss, reference, rtol=RTOL[dtype], atol=1e-12))
    return naive_softmax_loss(x, y), float(loss), reference, bool(ok)


def main():
    print("Task 2: softmax stability (naive softmax vs layers.softmax_loss)")
    header = f"{'scores':<26}{'label':>6}{'dtype':>9}{'naive':>12}{'softmax_loss':>15}" \
             f"{'log-sum-exp':>15}  result"
    print(header)
    print("-" * len(header))
    failed = 0
    for scores, label, dtype in CASES:
        text = "[" + ", ".join(f"{s:g}" for s in scores) + "]"
        try:
            naive, loss, reference, ok = check_case(scores, label, dtype)
        except NotImplementedError:
            row, ok = "  softmax_loss not implemented", False
        else:
            row = f"{naive:>12.6g}{loss:>15.10g}{reference:>15.10g}"
        print(f"{text:<26}{label:>6}{np.dtype(dtype).name:>9}{row}  {'PASS' if ok else 'FAIL'}")
        failed += not ok
    if failed:
        print(f"check_softmax_stability: FAIL ({failed} of {len(CASES)} cases)")
        return 1
    print(f"check_softmax_stability: PASS (all {len(CASES)} cases finite and exact)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
