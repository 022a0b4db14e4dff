"""Grading worker: runs the code tests of ONE student file, inside the sandbox.

    python -I -B -c BOOTSTRAP < CONFIG

Started by grade.py through staff/grading/sandbox.py, with its configuration as one JSON line on
stdin (never on the command line, which other processes can read):

    {"harness": DIR, "code": DIR, "tests": [ID, ...], "seed": N, "test_timeout": S,
     "import_timeout": S}

BOOTSTRAP reads it, puts the harness folder (this file, grading_tests.py, manifest.py) on
sys.path and calls main(config).

DIR holds the student's file and the helper modules it may import (our bytecode, or the
student's own file). The worker imports everything it needs, writes READY as the first line
of its channel, and only then imports the student module; so a channel without READY means
the sandbox (or the harness) did not start, never that the student's code stopped it. Then it
runs each test under its own alarm on inputs drawn from `seed` (fresh for every grading:
CodeTest.rng), and writes one JSON line per test, in order, to its ORIGINAL stdout, the only
channel back to the grader (what the student code prints goes to stderr):

    {"id", "status": "ok", "outputs": {name: {"shape": [...], "data": base64}}}
    {"id", "status": "error", "kind": one of ERROR_KINDS, "type", "line", "text", "phase"}

"data" holds the array as little-endian float64: the values the student's functions
returned, nothing computed from them. Records are written as tests finish, so if the whole
process is killed (a C-level infinite loop, memory), the tests already done still count. It
never compares anything, and it is never trusted: the student's code runs in this process
and can write anything on the channel, so the grader decodes each line with the limits
below, treats a line it did not expect (a record out of order or repeated) as tampering,
compares the values with the reference's itself, and builds every message the student sees.
"""

import base64
import importlib
import json
import os
import signal
import sys
import traceback
from pathlib import Path

import numpy as np

if __package__:  # imported by grade.py
    from staff.grading import grading_tests
else:  # run as a script in the sandbox's flat harness folder, beside grading_tests.py
    import grading_tests

READY = b'{"harness": "ready"}'  # the first line of the channel, before any student code runs
ERROR_KINDS = ("wrong_output", "timeout", "memory", "not_implemented", "exit", "exception")
MAX_ARRAYS = 16  # arrays per test
MAX_ELEMENTS = 100_000  # elements per array
MAX_DIMS = 4
MAX_TEXT = 300  # characters of a WrongOutput message
MAX_LINE = 4 * 2**20  # bytes of one record (a test sends a few KB; the grader skips longer)
MAX_CONFIG = 4096  # bytes of the configuration line


class TimeLimit(BaseException):  # noqa: N818 -- BaseException: `except Exception` can't hide it
    """Raised by the alarm when a test runs past its time limit."""


def on_alarm(signum, frame):
    raise TimeLimit()


def student_line(tb, code_dir, file_name):
    """The line of the student's file where the exception happened (innermost), or None."""
    target = str(Path(code_dir, file_name))
    line = None
    for frame in traceback.extract_tb(tb):
        if frame.filename == target:
            line = frame.lineno
    return line


def error_record(err, code_dir, file_name):
    """The error fields of a record: a kind, the exception type, the student's line."""
    if isinstance(err, grading_tests.WrongOutput):
        kind = "wrong_output"
    elif isinstance(err, TimeLimit):
        kind = "timeout"
    elif isinstance(err, MemoryError):
        kind = "memory"
    elif isinstance(err, NotImplementedError):
        kind = "not_implemented"
    elif isinstance(err, SystemExit):
        kind = "exit"
    else:
        kind = "exception"
    text = str(err)[:MAX_TEXT] if kind == "wrong_output" else ""
    return {"kind": kind, "type": type(err).__name__[:60], "text": text,
            "line": student_line(err.__traceback__, code_dir, file_name)}


def encode_arrays(outputs):
    """dict name -> array as JSON-ready {"shape", "data"} (little-endian float64, base64)."""
    encoded = {}
    for name, value in outputs.items():
        array = np.asarray(value, dtype="<f8")
        encoded[str(name)] = {"shape": list(array.shape),
                              "data": base64.b64encode(array.tobytes()).decode("ascii")}
    return encoded


class Recorder:
    """Writes READY, then one JSON line per test on the channel (the original stdout)."""

    def __init__(self, channel):
        self.channel = channel

    def ready(self):
        self.channel.write(READY + b"\n")
        self.channel.flush()

    def write(self, test_id, status, outputs=None, error=None, phase="test"):
        record = {"id": test_id, "status": status}
        if outputs is not None:
            record["outputs"] = encode_arrays(outputs)
        if error is not None:
            record.update(error, phase=phase)
        self.channel.write(json.dumps(record).encode() + b"\n")
        self.channel.flush()


def timed(func, timeout):
    """Call func() with an alarm of `timeout` seconds."""
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return func()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def check_outputs(outputs):
    """Outputs must be a dict of float64 arrays (the tests build them that way)."""
    arrays = isinstance(outputs, dict) and all(isinstance(v, np.ndarray) for v in outputs.values())
    if not arrays:
        raise grading_tests.WrongOutput("the test produced no arrays")
    return outputs


def run_tests(tests, config, recorder):
    """Import the student module, then run each test; records every outcome."""
    code_dir, file_name = config["code"], tests[0].file
    try:
        module = timed(lambda: importlib.import_module(tests[0].module), config["import_timeout"])
    except BaseException as err:  # anything at import time, including exit() and time limits
        error = error_record(err, code_dir, file_name)
        for test in tests:
            recorder.write(test.id, "error", error=error, phase="import")
        return
    for test in tests:
        rng = test.rng(config["seed"])
        try:
            outputs = timed(lambda t=test, r=rng: t.run(module, r), config["test_timeout"])
            recorder.write(test.id, "ok", check_outputs(outputs))
        except BaseException as err:  # student code may raise anything
            recorder.write(test.id, "error", error=error_record(err, code_dir, file_name))


BOOTSTRAP = (f"import json, sys; config = json.loads(sys.stdin.readline({MAX_CONFIG})); "
             "sys.path[0:0] = [config['harness']]; import grading_worker; "
             "grading_worker.main(config)")


def main(config):
    """Run the tests of `config` (see the module docstring); never returns."""
    tests = [t for t in grading_tests.code_tests() if t.id in config["tests"]]
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # the student's prints go to stderr, never onto the channel
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    sys.path[0] = config["code"]  # the student's module and its helpers, nothing else of ours
    signal.signal(signal.SIGALRM, on_alarm)
    recorder = Recorder(channel)
    recorder.ready()
    run_tests(tests, config, recorder)
    channel.flush()
    os._exit(0)  # skip atexit handlers and finalizers the student code may have registered

