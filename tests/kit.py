"""Where the kit's folders are, and how the tests run its scripts (shared by every test)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BACKPROP_DIR = ROOT / "backprop"
NEURALNET_DIR = ROOT / "neuralnet"


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


def model_with_weights(cls, case, names):
    """
    cls(*sizes) built through the original API (TwoLayerNet(D, C, H), LinearClassifier(D, C)),
    its parameters set in place to the case's inputs `names` through parameters(), matched
    by name, else by shape and order (any keys; net_contract.py), as gradcheck_classifier.py
    does (build_with_weights).

    Returns a tuple of:
    - model
    - mapping: dict our name (W1, b1, ...) -> the model's key
    """
    from gradcheck_classifier import build_with_weights

    model, mapping, _ = build_with_weights(cls.__name__, cls, list(case["sizes"].values()),
                                           {name: case["inputs"][name] for name in names})
    return model, mapping
