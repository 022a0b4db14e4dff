"""Autograder: grade one submission and write Gradescope's results.json.

    python -m staff.grading.grade SUBMISSION [--out results.json] [--test-timeout S]
        [--memory-mb MB] [--budget S] [--sandbox auto|bwrap|uid|none] [--allow-readable] [--seed N]

SUBMISSION is the student's zip (checked and extracted with handin/check.py, only into a
temporary folder) or a folder holding the files (Gradescope unpacks uploads into
/autograder/submission; the files may sit in it directly or in one subfolder).

Every test's name and points come from handin/manifest.py. Code tests
(staff/grading/grading_tests.py) run on inputs drawn from a seed that is fresh for every
grading; the reference's outputs for them are computed in this process first
(staff/grading/reference_run.py).
Then each student .py file runs in its own sandbox (staff/grading/sandbox.py: bubblewrap, a fresh
unprivileged uid, or, where neither is possible, a plain subprocess, said so in the results)
with staff/grading/grading_worker.py, a memory limit, a CPU limit and a wall-clock timeout. Next to
it are only the modules it imports: the student's own graded file when it passed its tests
(two_layer_net.py gets the student's layers.py, train.py both), else bytecode compiled from
the reference, so a broken file costs only its own points and no reference source is in
reach; where train.py runs with our two_layer_net, the student's own is staged beside it
under another name (grading_tests.OWN_NET_FILE), for training_step to get our net under the
student's parameter names. The files run in phases (functions.py and layers.py, then
two_layer_net.py, then train.py). The worker sends back only the values the student's
functions returned (staff/grading/grading_channel.py reads them, and treats anything else on the
channel as tampering); the grader compares them and builds every message
(staff/grading/feedback.py).
Notebooks are never executed (handin/notebooks.py); while the code tests run, part1's model
summary is re-derived in the sandbox from the notebook's own code (staff/grading/model_check.py).

Time: one submission takes at most BUDGET seconds of wall-clock time, start to results
(the grader stops itself one second before): the code tests' sandboxes end by 82 s, in
phases that each keep 15 s for each phase after them (a phase that the student's earlier
files left too little time scores 0), and 5 s more are kept for ending their processes;
each test has TEST_TIMEOUT seconds, an import twice that (the reserves scale with
--budget). In "uid" mode the wait for the
machine-wide lock comes before the budget starts. A submission the grader could not grade
(a sandbox that did not start, a reference that failed, the grader's own crash or its own
use of the time) gets results.json with extra_data.failed_to_grade and a needs_person entry
saying why, no test entries and a score of 0 that the output calls "not your score": staff
rerun it. results.json is always written, by this process only, after every student process
is gone. extra_data.sandbox names the isolation used ("none": no isolation).

Exit code: 0 graded, 3 failed to grade (results.json written), 1 the grader crashed
(results.json written, as failed to grade).
"""

import argparse
import contextlib
import json
import os
import py_compile
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from handin import check as checker
from handin import manifest, module_prog
from handin.notebooks import (
    NEEDS_PERSON,
    SPOT_CHECK,
    grade_notebooks,
    grade_part1,
    grade_part2,
    needs_person,
    result,
)
from staff.course import canvas_names, uploads
from staff.grading import feedback, grading_tests, model_check, reference_run, sandbox
from staff.grading import grading_worker as worker
from staff.grading.grading_channel import read_channel

ROOT = Path(__file__).resolve().parents[2]
GRADING_DIR = Path(__file__).resolve().parent


def reference_folder(reference_root, file_name):
    """The folder of the reference files that the student file `file_name` runs with."""
    return Path(reference_root) / manifest.graded_file(file_name).folder


def reference_folders():
    """The kit folders of the graded code files (backprop, neuralnet), sorted."""
    return sorted({manifest.graded_file(name).folder for name in manifest.CODE_FILES})


def helper_names(file_name):
    """
    The module files put next to the student file `file_name` in its sandbox: the
    homework's modules that its record in handin/manifest.py lists. A graded one is the
    student's own when it passed its tests, else (and for the given files) bytecode compiled
    from the reference (never a source file holding a solution region).
    """
    return tuple(f"{module}.py" for module in manifest.graded_file(file_name).imports)


HARNESS_FILES = {  # the worker's flat folder: name there -> our file
    "grading_worker.py": GRADING_DIR / "grading_worker.py",
    "grading_tests.py": GRADING_DIR / "grading_tests.py",
    "manifest.py": ROOT / "handin" / "manifest.py",  # grading_tests takes the test files there
    "net_contract.py": ROOT / "neuralnet" / "net_contract.py",  # TwoLayerNet's rules, no answer
}
BUDGET = 90.0  # wall-clock seconds for one submission, start to results (docs/STAFF.md)
FINISH_RESERVE = 3.0  # seconds of the budget kept for the results after the code tests
# of the budget (5 s): ending the last phase's processes, charged to the student's time
# (bwrap's pid 1 waits for its namespace to empty, a tmpfs of many files to go; PID1_WAIT)
TEARDOWN_RESERVE = sandbox.PID1_WAIT / 90
PHASE_RESERVE = 15 / 90  # of the budget: what a phase keeps for each phase after it (15 s)
MIN_PHASE = 5 / 90  # of the budget: the first phase left with less: the grader used the time
TEST_TIMEOUT = 5.0  # seconds per code test
IMPORT_TIMEOUT = 2  # times the test timeout: to import a student file (sklearn takes ~1 s)
MEMORY_MB = 1536  # address-space limit of each worker process
MAX_SOURCE_BYTES = 2**20  # of a student file, read to quote its lines in messages
EXIT_GRADED, EXIT_CRASHED, EXIT_FAILED = 0, 1, 3


@dataclass
class Limits:
    test_timeout: float = TEST_TIMEOUT
    memory_mb: int = MEMORY_MB
    budget: float = BUDGET  # wall-clock seconds for the whole submission
    sandbox: str = "auto"  # a mode of staff/grading/sandbox.py, or "auto" for the best available
    allow_readable: bool = False  # "uid" mode: grade even if the sandbox's uids can read the
    # reference or other uploads (with a warning in the results), instead of refusing
    seed: int = None  # the seed of the test inputs; None: a fresh one (the default)


class GraderFailure(Exception):
    """The grader could not grade the submission: never the student's score."""


def locate_in_folder(folder):
    """
    Find the required files in `folder` or in one of its subfolders (the one holding most).

    Returns:
    - files: dict required name -> Path (regular files only; symlinks are ignored)
    """
    candidates = [folder] + sorted(p for p in folder.iterdir()
                                   if p.is_dir() and not p.is_symlink()
                                   and p.name not in checker.IGNORED_DIRS)
    best = {}
    for candidate in candidates:
        found = {name: candidate / name for name in checker.REQUIRED_FILES
                 if (candidate / name).is_file() and not (candidate / name).is_symlink()}
        if len(found) > len(best):
            best = found
    return best


def prepare_submission(submission, work_dir, notes, flags):
    """
    Get the student's files into work_dir from a zip or a folder: where `make submission`
    puts them (the folder or one subfolder of it); when that finds less than all of them in
    a readable upload, wherever they are in it (find_anywhere), flagged for a person. A zip
    that handin/check.py rejects (unsafe entries, a bomb) scores 0 with the reason, as
    `make check` tells the student before they upload it.

    Returns:
    - files: dict required name -> Path (missing names are absent); None if rejected
    """
    submission = Path(submission)
    files = files_as_submitted(submission, work_dir, notes)
    if files is None or len(files) == len(checker.REQUIRED_FILES):
        return files
    found = find_anywhere(submission, work_dir)
    if found is None or len(found.files) <= len(files):
        return files
    notes.append("the graded files were not all in one folder, as make submission writes "
                 "them: they were found elsewhere in the upload and graded, and a person will "
                 "check the layout")
    flags.extend(found.flags)
    return found.files


def files_as_submitted(submission, work_dir, notes):
    """The files where `make submission` puts them: dict required name -> Path, or None if
    the zip is rejected (the reasons in notes)."""
    if submission.is_dir():
        files = locate_in_folder(submission)
        zips = sorted(p for p in submission.iterdir() if p.suffix == ".zip" and p.is_file())
        if files or len(zips) != 1:
            return files
        submission = zips[0]  # the upload was a zip that Gradescope did not unpack
    if not submission.is_file():
        notes.append(f"submission {submission} not found")
        return None
    dest = Path(work_dir) / "extracted"
    dest.mkdir()
    report = checker.extract_submission(submission, dest)
    notes.extend(f"check: {e}" for e in report.errors)
    notes.extend(f"check: {w}" for w in report.warnings)
    if report.rejected:
        return None
    return locate_in_folder(dest)


@dataclass
class Found:
    files: dict  # required name -> Path
    flags: list  # for a person: where they were found


def find_anywhere(submission, work_dir):
    """The graded files located by name anywhere in the upload (a whole-project zip, deeper
    folders, a zip inside the zip), as grade-all finds them (staff/course/uploads.py); None if none
    is found."""
    scratch = Path(work_dir) / "found"
    scratch.mkdir()
    upload = canvas_names.Upload(submission, "", "", original=submission.name)
    work = uploads.find_work([upload], scratch)
    if work.problem or work.folder is None:
        return None
    files = {name: work.folder / name for name in checker.REQUIRED_FILES
             if (work.folder / name).is_file()}
    flags = work.flags or [f"layout repaired: graded the files found in {work.graded}"]
    return Found(files, flags)


def worker_job(code_dir, harness_dir, tests, limits, wall, seed):
    """A sandbox.Job running the worker on one file's tests (configuration on stdin)."""
    config = {"harness": "{harness}", "code": "{code}", "tests": [t.id for t in tests],
              "seed": seed, "test_timeout": limits.test_timeout,
              "import_timeout": IMPORT_TIMEOUT * limits.test_timeout}
    return sandbox.python_job(worker.BOOTSTRAP, {"code": code_dir, "harness": harness_dir},
                              wall, limits.memory_mb, config)


def file_wall(tests, limits):
    """Wall-clock seconds for the worker of one file (the import, all its tests, start-up)."""
    return limits.test_timeout * (IMPORT_TIMEOUT + len(tests)) + 3


def ending(outcome, file_name, wall):
    """None if the worker finished normally, else a sentence saying how it ended."""
    code = outcome.returncode
    if outcome.timed_out:
        return f"the grader stopped {file_name} after {wall:.0f} s (an infinite loop?)"
    if outcome.too_many_processes:
        return (f"the process running {file_name} started more than {sandbox.NPROC} "
                "processes or threads and was stopped")
    if outcome.overflow:
        return (f"the process running {file_name} sent more than "
                f"{sandbox.OUTPUT_CAP // 2**20} MB back to the grader and was stopped")
    if code is not None and (code < 0 or code > 128):
        number = -code if code < 0 else code - 128  # bwrap reports 128 + signal
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ \
            else number
        return f"the process running {file_name} was killed by signal {name} " \
               "(a crash, or the CPU-time or memory limit)"
    if code:
        return f"the process running {file_name} exited with code {code} before this " \
               "test ran (does the file call exit() or os._exit()?)"
    return None


def start_problem(outcome):
    """Why a sandbox sent no READY: the first line of its stderr (bwrap's, Python's, the
    harness's: no student code had run), else how it ended."""
    for line in outcome.errors.decode("ascii", "replace").splitlines():
        text = "".join(c for c in line if c.isprintable()).strip()
        if text:
            return text[:200]
    if outcome.timed_out:
        return "it did not start before its time was up"
    return f"it exited with code {outcome.returncode} without a word"


def helper_paths(file_name, files, reference_root, passed):
    """
    dict helper name -> (the file it is made from, the student's own?) for a sandbox. A
    graded file is the student's own when it passed all its tests, and the helpers that
    import it are the student's own too (our two_layer_net.pyc runs only with our layers).
    """
    folder = reference_folder(reference_root, file_name)
    graded = [name for name in helper_names(file_name) if name in manifest.CODE_FILES]
    own = {name: name in files and all(t.id in passed for t in manifest.CODE_TESTS
                                       if t.file == name) for name in graded}
    for _ in graded:  # until stable: a helper importing ours makes `name` ours
        own = {name: own[name] and all(own[other] for other in graded
                                       if name in helper_names(other))
               for name in graded}
    return {name: (files[name], True) if own.get(name) else (folder / name, False)
            for name in helper_names(file_name)}


def own_net_source(helpers, files):
    """
    dict grading_tests.OWN_NET_FILE -> the student's two_layer_net.py, for a file that runs
    with our two_layer_net (its helpers, from helper_paths) though the student handed one
    in: training_step then gets our net under the names the student's own net gives its
    parameters (grading_tests.training_net). Else empty.
    """
    name = "two_layer_net.py"
    if name in helpers and not helpers[name][1] and name in files:
        return {grading_tests.OWN_NET_FILE: files[name]}
    return {}


def tests_by_file():
    """dict student file -> its code tests, in report order."""
    by_file = {}
    for test in grading_tests.code_tests():
        by_file.setdefault(test.file, []).append(test)
    return by_file


def phases(by_file):
    """The files in the order they can run: a file waits for the graded files among its
    helpers (it may get the student's own, once they passed their tests)."""
    waits = {f: {h for h in helper_names(f) if h in by_file} for f in by_file}
    order, done = [], set()
    while len(done) < len(by_file):
        ready = [f for f in by_file if f not in done and waits[f] <= done]
        order.append(ready)
        done.update(ready)
    return order


@dataclass
class Grading:
    """What the code tests of one submission share."""

    files: dict  # student file name -> Path
    by_file: dict  # student file name -> its tests
    expected: dict  # test id -> the reference's outputs
    reference_root: Path
    limits: Limits
    mode: sandbox.Mode
    seed: int
    deadline: float  # time.monotonic() when the code tests' time is up
    stage: Path = None  # the folders bound into the sandboxes
    harness: Path = None
    passed: set = field(default_factory=set)  # ids of the tests passed so far
    flags: list = field(default_factory=list)  # for a person (tampering)
    ran_phase: bool = False  # a phase of student code has run


def grade_code(files, reference_root, limits, mode, seed, deadline):
    """Returns (the results.json entries of every code test in report order, flags)."""
    by_file = tests_by_file()
    tests = [t for file_tests in by_file.values() for t in file_tests]
    try:
        expected = reference_run.reference_outputs(
            reference_root, reference_folders(), tests, seed)
    except reference_run.ReferenceFailure as err:
        raise GraderFailure(str(err)) from err
    grading = Grading(files, by_file, expected, reference_root, limits, mode, seed, deadline)
    entries = {}
    with sandbox.staging(mode, "hw4-stage-") as stage:
        grading.stage, grading.harness = stage, stage_harness(stage)
        plan = phases(by_file)
        for number, phase in enumerate(plan):
            for file_name in phase:
                if file_name not in files:
                    entries[file_name] = zero_code_entries(
                        by_file[file_name], f"{file_name} is missing from the submission")
            later = len(plan) - number - 1
            entries.update(run_phase(grading, [f for f in phase if f in files], later))
    return [entry for file_name in by_file for entry in entries[file_name]], grading.flags


def phase_walls(grading, present, later):
    """
    dict file -> its worker's wall-clock seconds in this phase (files of a phase run at
    once; in "uid" mode one after another, sharing the phase's time); None when the phases
    before this one (the student's code, ending it included) left it too little time.
    GraderFailure when the first phase has too little: the grader itself used the time.
    """
    budget = grading.limits.budget
    cap = grading.deadline - time.monotonic() - PHASE_RESERVE * budget * later
    if cap < MIN_PHASE * budget:
        if grading.ran_phase:
            return None
        raise GraderFailure(f"the grader itself used up the submission's {grading.limits.budget:g}"
                            " s before the code tests were done (a slow or overloaded machine?)")
    walls = {f: min(file_wall(grading.by_file[f], grading.limits), cap) for f in present}
    total = sum(walls.values())
    if grading.mode.name == "uid" and total > cap:
        walls = {f: wall * cap / total for f, wall in walls.items()}
    return walls


def run_phase(grading, present, later):
    """Run the student files `present` (`later`: phases after this one); returns dict file
    -> entries."""
    if not present:
        return {}
    walls = phase_walls(grading, present, later)
    if walls is None:
        return {f: zero_code_entries(grading.by_file[f], "did not run: the submission's code "
                                     "in the files before it used up its time")
                for f in present}
    grading.ran_phase = True
    jobs, folders = [], []
    for file_name in present:
        helpers = helper_paths(file_name, grading.files, grading.reference_root, grading.passed)
        folders.append(stage_code(grading.stage, file_name, grading.files[file_name], helpers,
                                  own_net_source(helpers, grading.files)))
        jobs.append(worker_job(folders[-1], grading.harness, grading.by_file[file_name],
                               grading.limits, walls[file_name], grading.seed))
    try:
        outcomes = sandbox.Runner(grading.mode).run_all(jobs)
    except OSError as err:  # the sandbox (or Python) could not even be started
        raise GraderFailure(f"could not start the sandbox ({grading.mode.name} mode): "
                            f"{err}") from err
    finally:
        for folder in folders:  # nothing of this phase is left for a later one to find
            shutil.rmtree(folder, ignore_errors=True)
    return {file_name: score_file(grading, file_name, outcome, walls[file_name])
            for file_name, outcome in zip(present, outcomes, strict=True)}


def score_file(grading, file_name, outcome, wall):
    """The entries of one file's tests from its worker's outcome; notes the tests passed."""
    tests = grading.by_file[file_name]
    channel = read_channel(outcome.output, tests)
    if not channel.started:
        raise GraderFailure(f"the sandbox for {file_name} did not start "
                            f"({grading.mode.name} mode): {start_problem(outcome)}")
    why = ending(outcome, file_name, wall)
    with open(grading.files[file_name], "rb") as f:  # for the lines quoted in messages
        source = f.read(MAX_SOURCE_BYTES).decode("utf-8", errors="replace")
    entries = [score_code_test(test, channel.records.get(test.id), why, grading.expected[test.id],
                               source, grading.limits, test.id in channel.tampered)
               for test in tests]
    if channel.foreign and not channel.tampered:
        # no count: the output shows this line, and a count would be a number of the
        # student code's choosing (feedback.tampering_flag_bits)
        grading.flags.append(f"{file_name}: tampering: lines on the grader's channel that its "
                             "worker did not write")
    grading.passed.update(t.id for t, e in zip(tests, entries, strict=True)
                          if e["score"] >= e["max_score"])
    return entries


def code_test_name(test):
    """A code test's name in results.json."""
    return manifest.test(test.id).name


def zero_code_entries(tests, reason):
    """0 points for each of `tests`, all for the same reason."""
    return [result(code_test_name(t), 0, t.points, reason) for t in tests]


TAMPERED = (NEEDS_PERSON + "tampering: while this test ran, the grader's channel carried a "
            "record the grader did not ask for (one out of order, repeated, or not its "
            "worker's): 0 points")


def score_code_test(test, record, why, expected, student_source, limits, tampered=False):
    """Full points if the outputs match the reference's, else 0 with the reason."""
    name = code_test_name(test)
    if tampered:
        return result(name, 0, test.points, TAMPERED)
    if record is None:
        return result(name, 0, test.points, f"did not finish: {why or 'no result'}")
    if record.status != "ok":
        message = feedback.error_message(record.error, test.file, student_source,
                                         limits.test_timeout)
        return result(name, 0, test.points, message)
    compare = test.compare or grading_tests.compare_arrays
    try:
        problem = compare(record.outputs, expected)
    except (KeyError, ValueError, TypeError, IndexError) as err:
        problem = f"unexpected outputs ({type(err).__name__})"
    if problem:
        return result(name, 0, test.points, problem)
    return result(name, test.points, test.points,
                  "matches the reference on this grading's random inputs")


def all_zero(notes):
    """Entries for every test with 0 points (the submission could not be used at all)."""
    reason = "; ".join(notes) or "the submission could not be read"
    return (zero_code_entries(grading_tests.code_tests(), reason)
            + grade_part1(None, reason) + grade_part2(None, reason))


def max_points():
    return manifest.TOTAL_POINTS


def readable_uploads(submission):
    """The submission, and uploads beside it (zips, folders of graded files), that a fresh
    uid could read."""
    path = Path(submission).resolve()
    found = [path] if sandbox.searchable_by_others(path) else []
    if sandbox.searchable_by_others(path.parent):
        for sibling in sorted(path.parent.iterdir())[:1000]:
            upload = sibling.suffix == ".zip" or (sibling.is_dir() and any(
                (sibling / name).exists() for name in checker.REQUIRED_FILES))
            if sibling != path and upload and sandbox.searchable_by_others(sibling):
                found.append(sibling)
    return found


def privacy_problems(mode, reference_root, submission):
    """In "uid" mode (student code runs on this machine's files as a fresh uid): why the
    reference or the uploads are within its reach, each with the fix."""
    if mode.name != "uid":
        return []
    problems = []
    reference = [path for folder in reference_folders()
                 for path in sorted((reference_root / folder).glob("*.py"))
                 if sandbox.searchable_by_others(path)]
    if reference:
        problems.append(f"the reference ({reference[0]}, {len(reference)} files) is readable "
                        f"by other users: chmod 700 {reference_root}")
    uploads = readable_uploads(submission)
    if uploads:
        problems.append(f"{len(uploads)} upload(s) ({uploads[0]}) are readable by other "
                        f"users: chmod 700 {Path(submission).resolve().parent}")
    return problems


def check_privacy(mode, reference_root, submission, limits):
    """Refuse (GraderFailure) when the sandbox could read the reference or the uploads;
    with limits.allow_readable, return the warnings for a person instead."""
    problems = privacy_problems(mode, reference_root, submission)
    if problems and not limits.allow_readable:
        raise GraderFailure("refusing to run student code as a fresh uid here: "
                            + "; ".join(problems) + " (or pass --allow-readable)")
    for problem in problems:
        print(f"WARNING: student code can read this: {problem}", file=sys.stderr)
    return [f"graded although {problem}" for problem in problems]


@contextlib.contextmanager
def time_limit(seconds):
    """GraderFailure if the block runs longer than `seconds` (SIGALRM; main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum, frame):
        raise GraderFailure(f"the grader took longer than its budget of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Graded:
    entries: list
    notes: list = field(default_factory=list)  # shown to the student
    flags: list = field(default_factory=list)  # needs a person (besides the entries' own)
    spot_checks: list = field(default_factory=list)  # what a person may compare


def grade_in_budget(submission, reference_root, limits, mode, seed):
    """Grade within limits.budget seconds (GraderFailure when the grader cannot)."""
    start = time.monotonic()
    notes = [] if mode.name != "none" else [f"note: {mode.detail}"]
    with tempfile.TemporaryDirectory(prefix="hw4-grade-") as work_dir:
        layout_flags = []
        files = prepare_submission(submission, work_dir, notes, layout_flags)
        if files is None:
            return Graded(all_zero(notes), notes)
        flags = layout_flags + check_privacy(mode, reference_root, submission, limits)
        missing = [name for name in checker.REQUIRED_FILES if name not in files]
        if missing:
            notes.append(f"missing files: {', '.join(missing)}")
        notebook_entries, spot_checks = grade_notebooks(files)
        deadline = start + limits.budget - FINISH_RESERVE - TEARDOWN_RESERVE * limits.budget
        with model_check.running(files.get("part1.ipynb"), notebook_entries, mode,
                                 deadline) as model:  # part1's model summary, in parallel
            code, code_flags = grade_code(files, reference_root, limits, mode, seed, deadline)
    return Graded(code + notebook_entries, notes, flags + code_flags + model.flags,
                  model.annotated(spot_checks))


def grade(submission, reference_root=ROOT, limits=None):
    """Grade a submission (zip or folder). Returns the results.json dict."""
    limits = limits or Limits()
    started = time.time()
    mode = sandbox.choose_mode(limits.sandbox)
    seed = limits.seed if limits.seed is not None else secrets.randbits(63)
    try:
        with sandbox.exclusive(mode), time_limit(limits.budget - 1):
            graded = grade_in_budget(Path(submission), Path(reference_root), limits, mode, seed)
    except (GraderFailure, RuntimeError) as failure:
        return failed_results(str(failure), mode, started, seed)
    score = round(sum(entry["score"] for entry in graded.entries), 2)
    flagged = needs_person(graded.entries) + graded.flags
    summary = f"score {score:g} / {max_points():g}"
    return {
        "score": score,
        "max_score": max_points(),
        "needs_person": flagged + [SPOT_CHECK + line for line in graded.spot_checks],
        "execution_time": round(time.time() - started),
        "output": "\n".join([summary, *graded.notes, *(NEEDS_PERSON + item for item in flagged)]),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"sandbox": mode.name, "sandbox_detail": mode.detail, "seed": seed},
        "tests": graded.entries,
    }


def failed_results(reason, mode=None, started=None, seed=None):
    """results.json for a submission the grader could not grade: not a score."""
    extra = {"failed_to_grade": reason}
    if mode is not None:
        extra.update(sandbox=mode.name, sandbox_detail=mode.detail)
    if seed is not None:
        extra["seed"] = seed
    return {
        "score": 0,
        "max_score": max_points(),
        "needs_person": [f"failed to grade: {reason}"],
        "execution_time": round(time.time() - started) if started else 0,
        "output": f"FAILED TO GRADE: {reason}\nThis is not your score: the autograder could "
                  "not grade this submission, and the course staff will grade it again.",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": extra,
        "tests": [],
    }


def compile_helper(source, target):
    """Our module as sourceless bytecode (target: NAME.pyc), for the student's sandbox."""
    py_compile.compile(str(source), cfile=str(target), dfile=f"<{source.name}>", doraise=True)
    os.chmod(target, 0o644)


def stage_code(stage, file_name, student_path, helpers, own_sources=None):
    """
    The code folder of one student file: its source and the helpers.

    helpers: dict module file name -> (Path, the student's own file?): the student's file is
    copied as a source, ours is compiled to bytecode
    own_sources: dict name there -> Path of more of the student's files, copied (own_net_source)
    """
    copies = {file_name: student_path, **(own_sources or {}),
              **{name: path for name, (path, own) in helpers.items() if own}}
    folder = sandbox.stage_folder(stage, f"code-{file_name[:-3]}", copies)
    for name, (path, own) in helpers.items():
        if not own:
            compile_helper(path, folder / (name[:-3] + ".pyc"))
    return folder


def stage_harness(stage):
    """The worker's folder: HARNESS_FILES, flat."""
    return sandbox.stage_folder(stage, "harness", HARNESS_FILES)


def write_json(data, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=2) + "\n")
    partial.replace(path)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog=module_prog(__spec__),
        description="Grade a submission; write results.json.")
    parser.add_argument("submission", type=Path, help="the zip, or a folder with the files")
    parser.add_argument("--out", type=Path, default=Path("results.json"))
    parser.add_argument("--reference", type=Path, default=ROOT,
                        help="root of the reference solution (default: this repository)")
    parser.add_argument("--test-timeout", type=float, default=TEST_TIMEOUT,
                        help="seconds per code test")
    parser.add_argument("--memory-mb", type=int, default=MEMORY_MB,
                        help="memory (address space) limit of each worker process")
    parser.add_argument("--budget", type=float, default=BUDGET,
                        help="wall-clock seconds for the whole submission")
    parser.add_argument("--sandbox", choices=("auto", *sandbox.MODES),
                        default=os.environ.get("HW4_SANDBOX", "auto"),
                        help="how student code is isolated (default: $HW4_SANDBOX, else the "
                             "best available)")
    parser.add_argument("--allow-readable", action="store_true",
                        default=os.environ.get("HW4_ALLOW_READABLE") == "1",
                        help='"uid" mode: grade even if student code could read the reference '
                             "or other uploads (default: refuse; $HW4_ALLOW_READABLE=1)")
    parser.add_argument("--seed", type=int, default=None,
                        help="the seed of the test inputs (default: a fresh one; to rerun a "
                             "grading exactly, use its extra_data.seed)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        limits = Limits(args.test_timeout, args.memory_mb, args.budget, args.sandbox,
                        args.allow_readable, args.seed)
        data = grade(args.submission, args.reference, limits)
    except Exception as err:  # results.json must exist whatever happens
        write_json(failed_results(f"the grader crashed: {type(err).__name__}: {err}"), args.out)
        raise
    write_json(data, args.out)
    print(data["output"])
    print(f"sandbox: {data.get('extra_data', {}).get('sandbox_detail', 'none')}")
    for entry in data["tests"]:
        score, max_score = entry["score"], entry["max_score"]
        print(f"  {score:>5g} / {max_score:<3g} {entry['name']}: {entry['output']}")
    if "failed_to_grade" in data["extra_data"]:
        print(f"FAILED TO GRADE: {data['extra_data']['failed_to_grade']}")
        return EXIT_FAILED
    return EXIT_GRADED


if __name__ == "__main__":
    sys.exit(main())
