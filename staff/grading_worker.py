"""Grading worker: runs the code tests of ONE student file, inside its sandbox folder.

    python staff/grading_worker.py --sandbox DIR --out DIR --tests ID[,ID...] [--test-timeout S]

Started by grade.py in a fresh subprocess (with memory/CPU limits) whose working directory is
the sandbox: our reference files with the student's file swapped in. It imports the student
module, runs each test under its own alarm, and writes for each test one JSON line to
OUT/records.jsonl ({"id", "status": "ok"|"error", "message", "seconds"}) and its outputs to
OUT/<id>.npz. Records are written as tests finish, so if the whole process is killed
(a C-level infinite loop, memory), the tests already done still count. It never compares
anything: the grader compares the outputs with the reference's.
"""

import argparse
import importlib
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path

import grading_tests
import numpy as np


class TimeLimit(BaseException):  # noqa: N818 -- BaseException: `except Exception` can't hide it
    """Raised by the alarm when a test runs past its time limit."""


def on_alarm(signum, frame):
    raise TimeLimit()


def student_frames(tb, sandbox, file_name):
    """The traceback frames that lie in the student's file (most recent last)."""
    target = str(Path(sandbox, file_name).resolve())
    frames = []
    for frame in traceback.extract_tb(tb):
        try:
            if str(Path(frame.filename).resolve()) == target:
                frames.append(frame)
        except (OSError, ValueError):
            continue
    return frames


def explain(err, sandbox, file_name, timeout):
    """A short, readable explanation of why a test failed (with the student's line)."""
    if isinstance(err, grading_tests.WrongOutput):
        return f"wrong return value: {err}"
    if isinstance(err, TimeLimit):
        text = f"took longer than {timeout:g} s and was stopped (an infinite loop?)"
    elif isinstance(err, MemoryError):
        text = "ran out of memory (the grader's memory limit was reached)"
    elif isinstance(err, NotImplementedError):
        text = f"not implemented (raises NotImplementedError: {err})"
    elif isinstance(err, SystemExit):
        text = f"the code called exit() / sys.exit({err.code!r})"
    else:
        message = str(err).strip().splitlines()[0][:300] if str(err).strip() else ""
        text = f"{type(err).__name__}: {message}" if message else type(err).__name__
    frames = student_frames(err.__traceback__, sandbox, file_name)
    if frames:
        last = frames[-1]
        text += f" (at {file_name} line {last.lineno}, in {last.name}: {(last.line or '').strip()})"
    return text


class Recorder:
    """Appends one JSON record per test to OUT/records.jsonl."""

    def __init__(self, out_dir):
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / "records.jsonl"

    def write(self, test_id, status, message="", seconds=0.0, outputs=None):
        if outputs is not None:
            np.savez(self.out_dir / f"{test_id}.npz", **outputs)
        record = {"id": test_id, "status": status, "message": message,
                  "seconds": round(seconds, 3)}
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")


def timed(func, timeout):
    """Call func() with an alarm; returns (result, seconds)."""
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        result = func()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return result, time.perf_counter() - start


def check_outputs(outputs):
    """Outputs must be a dict of float64 arrays (the tests build them that way)."""
    arrays = isinstance(outputs, dict) and all(isinstance(v, np.ndarray) for v in outputs.values())
    if not arrays:
        raise grading_tests.WrongOutput("the test produced no arrays")
    return outputs


def run_tests(tests, sandbox, out_dir, timeout):
    """Import the student module, then run each test; records every outcome."""
    recorder = Recorder(out_dir)
    file_name = tests[0].file
    try:
        module, _ = timed(lambda: importlib.import_module(tests[0].module), timeout)
    except BaseException as err:  # anything at import time, including exit() and time limits
        message = f"could not import {file_name}: {explain(err, sandbox, file_name, timeout)}"
        for test in tests:
            recorder.write(test.id, "error", message)
        return
    for test in tests:
        rng = np.random.default_rng(test.seed())
        try:
            outputs, seconds = timed(lambda t=test, r=rng: t.run(module, r), timeout)
            recorder.write(test.id, "ok", "", seconds, check_outputs(outputs))
        except BaseException as err:  # student code may raise anything
            recorder.write(test.id, "error", explain(err, sandbox, file_name, timeout))


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Run the code tests of one student file.")
    parser.add_argument("--sandbox", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--tests", required=True, help="comma-separated test ids")
    parser.add_argument("--test-timeout", type=float, default=10.0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    wanted = args.tests.split(",")
    tests = [t for t in grading_tests.code_tests() if t.id in wanted]
    sandbox = str(args.sandbox.resolve())
    sys.path[0] = sandbox  # the student's module and our reference files, nothing from staff/
    os.chdir(sandbox)
    signal.signal(signal.SIGALRM, on_alarm)
    run_tests(tests, sandbox, args.out.resolve(), args.test_timeout)
    sys.stdout.flush()
    os._exit(0)  # skip atexit handlers and finalizers the student code may have registered


if __name__ == "__main__":
    main()
