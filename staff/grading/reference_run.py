"""The reference's outputs for one grading: every code test run on the reference solution,
in the grader's own process, with the grading's fresh seed.

The reference is trusted course code, so it runs without a sandbox, and in-process: its
modules are imported once per process (about 1 s, matplotlib included) and each grading
then costs a few tens of milliseconds. They import each other by plain name (`from layers
import fc_forward`), so student_view.modules_apart imports them with their folders on
sys.path and takes them out of sys.modules again: the grader's process keeps no module
named `layers` or `train`, and a module of that name imported elsewhere (another copy of the
kit) never stands in for the reference's. While the tests run, the reference's modules are
put back under their plain names (grading_tests' runs import `layers` and `two_layer_net`
inside the worker's folder).
"""

import contextlib
import os
import sys
from pathlib import Path

import numpy as np

from staff.grading import grading_worker as worker
from staff.grading.student_view import modules_apart

_LOADED = {}  # (reference root, folders) -> {module name: module}


class ReferenceFailure(Exception):
    """The reference solution failed its own tests (or could not be imported)."""


@contextlib.contextmanager
def plain_names(modules):
    """`modules` (name -> module) in sys.modules for the duration; what was there before
    under those names is put back afterwards."""
    saved = {name: sys.modules.get(name) for name in modules}
    sys.modules.update(modules)
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def load(root, folders, wanted):
    """The reference's modules `wanted` (plain names) and every module of `folders` they
    import, imported once per process."""
    key = (str(Path(root).resolve()), tuple(folders))
    if key not in _LOADED:
        os.environ.setdefault("MPLBACKEND", "Agg")  # train.py imports matplotlib.pyplot
        try:
            _LOADED[key] = modules_apart(root, folders, wanted)
        except Exception as err:
            raise ReferenceFailure(f"the reference could not be imported: "
                                   f"{type(err).__name__}: {err}") from err
    return _LOADED[key]


def reference_outputs(root, folders, tests, seed):
    """
    dict test id -> the reference's outputs (name -> float64 array) for `tests`, on the
    inputs of `seed`. `folders`: the reference folders the tested modules live in.
    """
    modules = load(root, folders, sorted({t.module for t in tests}))
    expected = {}
    with plain_names(modules):
        for test in tests:
            try:
                outputs = test.run(modules[test.module], test.rng(seed))
                expected[test.id] = {name: np.asarray(value, dtype=np.float64)
                                     for name, value in worker.check_outputs(outputs).items()}
            except Exception as err:
                raise ReferenceFailure(f"the reference fails its own test {test.id}: "
                                       f"{type(err).__name__}: {err}") from err
    return expected

