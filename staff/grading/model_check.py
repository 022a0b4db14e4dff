"""Re-derive part1's printed model summary from the notebook's own code, in the sandbox.

Notebooks are never executed, so a notebook whose outputs were pasted from another run (a
forgery made from the starter, every stub replaced by the least code that runs) or whose
model class was changed after its run shows a torchsummary table that its code does not
build. For a part1 that earned points and shows such a table, staff/grading/model_job.py runs in
the sandbox (staff/grading/sandbox.py, the code tests' isolation, with its own memory limit and at
most MODEL_WALL seconds) on the notebook's code only: the definitions of the code cells
above the model cell (the one showing the table), then the model cell, and it summarizes
the model that cell passed to torchsummary. The grader compares that with the printed table
(every row's type, output shape and parameters; the total and trainable parameters):

- the same: the routine spot-check line about the model summary says so;
- different: a flag for a person (`flags`: it keeps the row out of grade-all's Canvas import)
  naming the first difference, with numbers rounded to 3 significant digits; no points are
  taken (an honest student may have edited the class after the run);
- not re-derivable (the code raises there, needs a GPU, data or a network, does not finish,
  no table in the notebook, no torch in the grader's environment): no flag, and the
  spot-check line says why;
- the job's channel carried anything besides READY and one record with this grading's token:
  the result is not used, and a tampering flag.

Time: the job runs in a thread while the first code phase runs (in "uid" mode, one job at a
time, after the code tests, if MIN_WALL seconds are left), and ends by the code tests'
deadline, so it never makes a submission late or "failed to grade"; whatever happens to it
is a spot-check line, never the grader's failure. Every message is built here from the
grader's templates and numbers (the record is parsed with limits: types that are names,
shapes of small integer lists, bounded counts); nothing of the sandbox's text is passed on.
"""

import contextlib
import importlib.util
import json
import os
import re
import secrets
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from handin import notebooks
from handin.cell_code import MAX_CELL_CHARS, python_source
from staff.grading import feedback, sandbox
from staff.grading import model_job as job

GRADING_DIR = Path(__file__).resolve().parent
MODEL_WALL = 20.0  # seconds for the job (torch's import alone takes about 1.5 s)
MIN_WALL = 8.0  # "uid" mode: run it after the code tests only if this much time is left
MEMORY_MB = 4096  # address space: torch needs about 3.5 GB of it
MAX_RECORD = 256 * 2**10  # bytes of the job's record line
MAX_COUNT = 2**53
MAX_DIMS = 8
PART1_TESTS = (notebooks.RUN_TEST.name, notebooks.ACCURACY_TEST.name)

# torchsummary 1.5.1's table, line by line (lines are cut to 300 characters before this)
HEADER = re.compile(r" {0,40}Layer \(type\) {1,40}Output Shape {1,40}Param # {0,40}")
RULE = re.compile(r"={20,300}")
ROW = re.compile(r" {0,100}([^\W\d]\w{0,99})-\d{1,6} {1,100}(\[[-\d, \[\]]{1,200}\])"
                 r" {1,100}([\d,]{1,30}) {0,10}")
TOTAL = re.compile(r"Total params: ([\d,]{1,30})")
TRAINABLE = re.compile(r"Trainable params: ([\d,]{1,30})")
NAME = re.compile(r"[^\W\d]\w{0,99}")


def count(text):
    return int(text.replace(",", ""))


def valid_shape(shape):
    """True for a row's output shape: a list of at most MAX_DIMS integers, or a list of at
    most MAX_DIMS such lists (a module returning a tuple)."""
    def flat(value):
        return (type(value) is list and len(value) <= MAX_DIMS
                and all(type(n) is int and -1 <= n < 2**31 for n in value))
    return flat(shape) or (type(shape) is list and 0 < len(shape) <= MAX_DIMS
                           and all(flat(item) for item in shape))


def table_at(lines, start):
    """The torchsummary table whose header is lines[start], as a summary dict, or None."""
    rows, index = [], start + 2
    if start + 1 >= len(lines) or not RULE.fullmatch(lines[start + 1]):
        return None
    while index < len(lines) and not RULE.fullmatch(lines[index]):
        match = ROW.fullmatch(lines[index])
        if not match or len(rows) == job.MAX_LAYERS:
            return None
        try:
            shape = json.loads(match.group(2))
        except (ValueError, RecursionError):
            return None
        if not valid_shape(shape):
            return None
        rows.append([match.group(1), shape, count(match.group(3))])
        index += 1
    totals = [pattern.fullmatch(lines[i]) if i < len(lines) else None
              for pattern, i in ((TOTAL, index + 1), (TRAINABLE, index + 2))]
    if not all(totals):
        return None
    return {"layers": rows, "total": count(totals[0].group(1)),
            "trainable": count(totals[1].group(1))}


def printed_summary(lines):
    """The first torchsummary table in a cell's output lines (see table_at), or None."""
    for start, line in enumerate(lines):
        if HEADER.fullmatch(line):
            table = table_at(lines, start)
            if table is not None:
                return table
    return None


def built_summary(record):
    """The summary of an "ok" record, checked with limits; None if it is malformed."""
    layers, total, trainable = (record.get(k) for k in ("layers", "total", "trainable"))
    if not (type(layers) is list and len(layers) <= job.MAX_LAYERS
            and all(type(n) is int and 0 <= n <= MAX_COUNT for n in (total, trainable))):
        return None
    for row in layers:
        if not (type(row) is list and len(row) == 3 and type(row[0]) is str
                and NAME.fullmatch(row[0]) and valid_shape(row[1])
                and type(row[2]) is int and 0 <= row[2] <= MAX_COUNT):
            return None
    return {"layers": layers, "total": total, "trainable": trainable}


@dataclass
class Result:
    """What the job's channel said: kind "ok" (summary), "error" (kind, type), "tampered",
    "not_started" or "no_result"."""

    kind: str
    summary: dict = None
    error: str = ""
    error_type: str = ""


def read_result(outcome, token):
    """The Result of a finished job (outcome: sandbox.Outcome). Accepted: READY, then one
    record line with `token`, then nothing; anything else on the channel is tampering."""
    first, _, rest = outcome.output.partition(b"\n")
    if first != job.READY:
        return Result("not_started")
    line, newline, after = rest.partition(b"\n")
    if outcome.overflow or after:
        return Result("tampered")
    if not newline:
        return Result("tampered" if line else "no_result")
    try:
        record = json.loads(line) if len(line) <= MAX_RECORD else None
    except (ValueError, RecursionError):
        record = None
    if not isinstance(record, dict) or record.get("token") != token:
        return Result("tampered")
    if record.get("status") == "ok":
        summary = built_summary(record)
        return Result("ok", summary) if summary else Result("error", error="unreadable")
    kind = record.get("kind") if record.get("kind") in job.ERROR_KINDS else "raised"
    kind_type = record.get("type") if record.get("type") in feedback.ALLOWED_TYPES else ""
    return Result("error", error=kind, error_type=kind_type)


def count_text(n):
    """A parameter count as feedback writes numbers: 3 significant digits ("about 289,000")."""
    if n < 1000:
        return str(n)
    rounded = round(n, 3 - len(str(n)))
    return f"{rounded:,}" if rounded == n else f"about {rounded:,}"


ROW_PARTS = ("type", "output shape", "parameter count")


def difference(printed, built):
    """The first way the built summary differs from the printed one (a phrase), or None."""
    if count_text(printed["total"]) != count_text(built["total"]):
        return (f"the table shows {count_text(printed['total'])} parameters, the code builds "
                f"{count_text(built['total'])}")
    rows, built_rows = printed["layers"], built["layers"]
    if len(rows) != len(built_rows):
        return f"the table shows {len(rows)} layers, the code builds {len(built_rows)}"
    for number, (row, built_row) in enumerate(zip(rows, built_rows, strict=True), start=1):
        for part, mine, theirs in zip(ROW_PARTS, row, built_row, strict=True):
            if mine != theirs:
                return f"layer {number} of {len(rows)} has another {part} in the code"
    if printed["total"] != built["total"]:
        return "the table's total of parameters is not the sum of its layers'"
    if printed["trainable"] != built["trainable"]:
        return (f"the table shows {count_text(printed['trainable'])} trainable parameters, the "
                f"code builds {count_text(built['trainable'])}")
    return None


ERROR_NOTES = {
    "timeout": "its code did not finish in time there",
    "memory": "its code ran out of memory there",
    "exit": "its code called exit() there",
    "syntax": "the model cell is not Python the grader can read",
    "no_summary": "the model cell calls no torchsummary summary and defines no `model`",
    "no_torch": "torch cannot be imported in the sandbox",
    "too_many_layers": f"the model has more than {job.MAX_LAYERS} layers",
    "unreadable": "its result could not be read",
}
SANDBOX = "the sandbox has no GPU, data or network"


def error_note(result):
    if result.error == "raised":
        return f"its code raised {result.error_type or 'an exception'} ({SANDBOX})"
    return ERROR_NOTES.get(result.error, "its code failed there")


def part1_earned(entries):
    return any(e["score"] > 0 for e in entries if e["name"] in PART1_TESTS)


def model_cell(nb):
    """(index among the code cells, the cell, its printed summary) of the first code cell
    whose outputs show a torchsummary table; None if none does."""
    for index, cell in enumerate(notebooks.code_cells(nb, empty=True)):
        printed = printed_summary(notebooks.cell_lines(cell))
        if printed is not None:
            return index, cell, printed
    return None


def job_sources(cells, index):
    """The Python sources the job runs: the code cells above `index` that ran (IPython lines
    made plain), then the model cell's; None if the model cell cannot be given to it."""
    sources = []
    for cell in cells[:index + 1]:
        source = notebooks.as_text(cell.get("source"))
        converted = python_source(source) if len(source) <= MAX_CELL_CHARS else None
        if cell is cells[index]:
            return sources + [converted[0]] if converted else None
        if converted and notebooks.run_count(cell) is not None:
            sources.append(converted[0])
    return None


class ModelCheck:
    """The re-derivation of one submission's model summary (see the module docstring).
    After `finish`: `flags` (for a person) and `note` (for the spot-check line)."""

    def __init__(self, path, entries, mode, deadline, wall=MODEL_WALL):
        self.mode, self.deadline, self.wall = mode, deadline, wall
        self.flags, self.note, self.sources, self.printed = [], None, None, None
        self.thread = None
        if path is not None and part1_earned(entries):
            try:
                self.plan(path)
            except Exception as err:  # noqa: BLE001 -- an auxiliary check never fails a grading
                self.failed(err)

    def plan(self, path):
        """Read the notebook: what to run and compare, or the note saying why not."""
        nb, _ = notebooks.load_notebook(path, "part1.ipynb")
        found = model_cell(nb) if nb is not None else None
        if found is None:
            self.note = "it could not be re-derived: the notebook shows no torchsummary table"
            return
        index, cell, self.printed = found
        self.label = notebooks.cell_label(cell, notebooks.PART1)
        if importlib.util.find_spec("torch") is None:
            self.note = ("it could not be re-derived: torch is not installed where the grader "
                         "runs")
            return
        self.sources = job_sources(notebooks.code_cells(nb, empty=True), index)
        if self.sources is None:
            self.note = f"it could not be re-derived: {ERROR_NOTES['syntax']}"

    def start(self):
        """Run the job in a thread (not in "uid" mode: one job at a time there)."""
        if self.sources is not None and self.mode.name != "uid":
            self.thread = threading.Thread(target=self.run, name="model-check", daemon=True)
            self.thread.start()

    def wait(self):
        if self.thread is not None:
            self.thread.join()

    def finish(self):
        """After the code tests: in "uid" mode, run the job now if time is left."""
        if self.thread is None and self.sources is not None and self.note is None:
            self.run()

    def run(self):
        wall = min(self.wall, self.deadline - time.monotonic())
        if wall < min(MIN_WALL, self.wall):
            self.note = ("it could not be re-derived: no time was left for it after the code "
                         "tests")
            return
        try:
            outcome, token = run_job(self.sources, self.mode, wall)
            self.conclude(read_result(outcome, token), outcome, wall)
        except Exception as err:  # noqa: BLE001 -- an auxiliary check never fails a grading
            self.failed(err)

    def failed(self, err):
        """The grader's own error (printed for the staff): a note, never a failed grading."""
        traceback.print_exc(file=sys.stderr)
        self.sources = None
        self.note = f"it could not be re-derived: the grader's check failed ({type(err).__name__})"

    def conclude(self, result, outcome, wall):
        """Set the note and flags from the job's Result."""
        why = "it could not be re-derived from the notebook's code in the grader's sandbox: "
        if result.kind == "ok":
            problem = difference(self.printed, result.summary)
            if problem is None:
                self.note = ("re-derived from the notebook's code in the grader's sandbox: the "
                             f"same {len(self.printed['layers'])} layers and "
                             f"{count_text(self.printed['total'])} parameters")
                return
            self.note = "re-derived from the notebook's code, it differs: see the flag"
            self.flags.append(
                f"part1.ipynb: the model summary that {self.label} shows does not match the "
                f"model its code builds (re-derived in the grader's sandbox): {problem}. No "
                "points were taken: a person will compare them (if you changed the model "
                "after running the notebook, run all cells again and resubmit)")
        elif result.kind == "tampered":
            self.note = "not re-derived: see the tampering flag"
            self.flags.append("part1.ipynb: tampering: while the grader re-derived the model "
                              "summary, the notebook's code wrote on the grader's channel")
        elif result.kind == "error":
            self.note = why + error_note(result)
        elif result.kind == "not_started":
            self.note = why + f"its sandbox did not start (exit code {outcome.returncode})"
        elif outcome.timed_out:
            self.note = why + f"its code did not finish within {wall:.0f} s"
        else:
            self.note = why + "the process ended without a result (did the code exit?)"

    def annotated(self, spot_checks):
        """The spot-check lines with the note added to the model summary's line."""
        if self.note is None:
            return spot_checks
        return [f"{line}; {self.note}" if line.startswith(notebooks.MODEL_SPOT_CHECK) else line
                for line in spot_checks]


def run_job(sources, mode, wall):
    """Run model_job.py on `sources` in the sandbox. Returns (sandbox.Outcome, token)."""
    token = secrets.token_hex(16)
    with sandbox.staging(mode, "hw4-model-") as parent:
        folder = sandbox.stage_folder(parent, "job", {"model_job.py": GRADING_DIR / "model_job.py"})
        cells = folder / job.CELLS_FILE
        cells.write_text(json.dumps(sources), encoding="utf-8")
        os.chmod(cells, 0o644)
        task = sandbox.python_job(job.BOOTSTRAP, {"harness": folder}, wall, MEMORY_MB,
                                  {"harness": "{harness}", "token": token, "seconds": wall},
                                  env={"CUDA_VISIBLE_DEVICES": ""})
        outcome = sandbox.Runner(mode).run_all([task])[0]
    return outcome, token


@contextlib.contextmanager
def running(path, entries, mode, deadline):
    """
    Re-derive part1's model summary (path: the notebook, or None; entries: the notebooks'
    results.json entries) while the block runs (the code tests), by `deadline`
    (time.monotonic()). Yields the ModelCheck; its `flags` and `annotated()` are final once
    the block has ended without an exception.
    """
    check = ModelCheck(path, entries, mode, deadline)
    check.start()
    try:
        yield check
    finally:
        check.wait()
    check.finish()
