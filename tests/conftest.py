"""Shared pytest setup: put the student folders on sys.path, as their scripts expect."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BACKPROP_DIR = ROOT / "backprop"
NEURALNET_DIR = ROOT / "neuralnet"

for folder in (BACKPROP_DIR, NEURALNET_DIR):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


def run_script(script, *args, cwd=ROOT, env=None, timeout=300):
    """Run a python script in a subprocess; returns the CompletedProcess (text output)."""
    full_env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, str(script), *map(str, args)],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture
def rng():
    """A seeded random generator, so every test is deterministic."""
    return np.random.default_rng(0)


# BEGIN STAFF ONLY (make_starter drops this block from the student kit)
# staff/ tools (check_submission, grade, make_starter, ...) are imported by the staff tests;
# appended last so they can never shadow a student module.
STAFF_DIR = ROOT / "staff"
if str(STAFF_DIR) not in sys.path:
    sys.path.append(str(STAFF_DIR))
# END STAFF ONLY


def strip_solutions(source):
    """
    Return python `source` with every `# BEGIN SOLUTION` ... `# END SOLUTION` region replaced
    by `raise NotImplementedError(...)` at the same indentation, as the starter kit does.
    """
    out, inside = [], False
    for line in source.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("# BEGIN SOLUTION"):  # optionally followed by ": hint"
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f'{indent}raise NotImplementedError("starter stub")\n')
            inside = True
        elif stripped.startswith("# END SOLUTION"):
            inside = False
        elif not inside:
            out.append(line)
    assert not inside, "unterminated # BEGIN SOLUTION region"
    return "".join(out)


def numeric_gradient(f, x, h=1e-6):
    """Plain centred differences of the scalar f() with respect to the array x (in place)."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        plus = f()
        x[idx] = old - h
        minus = f()
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


def model_with_weights(cls, case, names):
    """
    cls(*sizes) built through the original API (TwoLayerNet(D, C, H), LinearClassifier(D, C)),
    its parameters set in place to the case's inputs `names` through parameters(), matched
    by shape and order (any keys), as gradcheck_classifier.py does (build_with_weights).

    Returns a tuple of:
    - model
    - mapping: dict our name (W1, b1, ...) -> the model's key
    """
    from gradcheck_classifier import build_with_weights

    model, mapping, _ = build_with_weights(cls.__name__, cls, list(case["sizes"].values()),
                                           {name: case["inputs"][name] for name in names})
    return model, mapping
