"""Autograder: grade one submission and write Gradescope's results.json.

    python -m staff.grade SUBMISSION [--out results.json] [--test-timeout S] [--memory-mb MB]
        [--submission-timeout S] [--sandbox auto|bwrap|uid|none] [--reference-cache FILE]

SUBMISSION is the student's zip (checked and extracted with handin/check.py, only into a
temporary folder) or a folder holding the files (Gradescope unpacks uploads into
/autograder/submission; the files may sit in it directly or in one subfolder).

Every test's name and points come from handin/manifest.py. Code tests
(staff/grading_tests.py): the reference outputs are computed first (once per process, or
read from --reference-cache). Then each student .py file runs in its own sandbox
(staff/sandbox.py: bubblewrap, an unprivileged uid, or, where neither is possible, a plain
subprocess, said so in the results) with staff/grading_worker.py, a memory limit, a CPU
limit and a wall-clock timeout. Next to it are only the modules it imports, as bytecode
compiled from the reference (train.py gets the student's own two_layer_net.py when it passed
its tests), so a broken file costs only its own points and no reference source is in reach.
The worker's outputs come back on its stdout, and are decoded here with size limits; every
message the student sees is built here. Notebooks are never executed (handin/notebooks.py).

results.json is always written, by this process only, after every student process is gone,
even for an unreadable or unsafe zip (score 0, with the reason). extra_data.sandbox names the
isolation used. Exit code: 0 when results.json was written.
"""

import argparse
import ast
import base64
import builtins
import functools
import hashlib
import importlib.util
import json
import os
import py_compile
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handin import check as checker
from handin import manifest
from handin.notebooks import NEEDS_PERSON, grade_part1, grade_part2, needs_person, result
from staff import grading_tests, sandbox
from staff import grading_worker as worker

ROOT = Path(__file__).resolve().parents[1]
STAFF_DIR = Path(__file__).resolve().parent


def reference_folder(reference_root, file_name):
    """The folder of the reference files that the student file `file_name` runs with."""
    return Path(reference_root) / manifest.graded_file(file_name).folder


def helper_names(file_name):
    """The module files put next to the student file `file_name` in its sandbox: the
    homework's modules that its record in handin/manifest.py lists, as bytecode compiled
    from the reference (never a source file holding a solution region)."""
    return tuple(f"{module}.py" for module in manifest.graded_file(file_name).imports)


# A helper that is itself a graded student file is the student's own source when it passed
# these tests (train.py runs with the student's TwoLayerNet when it works), else ours.
STUDENT_HELPER_TESTS = {"two_layer_net.py": ("net_init", "net_forward", "net_backward")}
HARNESS_FILES = {  # the worker's flat folder: name there -> our file
    "grading_worker.py": STAFF_DIR / "grading_worker.py",
    "grading_tests.py": STAFF_DIR / "grading_tests.py",
    "manifest.py": ROOT / "handin" / "manifest.py",  # grading_tests takes the test files there
    "net_contract.py": ROOT / "neuralnet" / "net_contract.py",  # TwoLayerNet's rules, no answer
}
TEST_TIMEOUT = 10.0  # seconds per code test
MEMORY_MB = 1536  # address-space limit of each worker process
SUBMISSION_TIMEOUT = 300.0  # wall-clock seconds for all the student code of one submission
MAX_SOURCE_BYTES = 2**20  # of a student file, read to quote its lines in messages


@dataclass
class Limits:
    test_timeout: float = TEST_TIMEOUT
    memory_mb: int = MEMORY_MB
    submission_timeout: float = SUBMISSION_TIMEOUT
    sandbox: str = "auto"  # a mode of staff/sandbox.py, or "auto" for the best available
    reference_cache: Path = None  # file of the reference outputs (see reference_outputs)


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


def prepare_submission(submission, work_dir, notes):
    """
    Get the student's files into work_dir from a zip or a folder.

    Returns:
    - files: dict required name -> Path (missing names are absent); None if rejected
    """
    submission = Path(submission)
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


def worker_job(code_dir, harness_dir, tests, limits, wall):
    """A sandbox.Job running the worker on one file's tests."""
    args = ["{python}", "-B", "-s", "{harness}/grading_worker.py", "--code", "{code}",
            "--tests", ",".join(t.id for t in tests), "--test-timeout", str(limits.test_timeout)]
    env = {"MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONNOUSERSITE": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    return sandbox.Job(args, {"code": code_dir, "harness": harness_dir}, wall, limits.memory_mb,
                       env)


def file_wall(tests, limits):
    """Wall-clock seconds for the worker of one file (all its tests, plus the import)."""
    return limits.test_timeout * (len(tests) + 1) + 10


def ending(outcome, file_name, wall):
    """None if the worker finished normally, else a sentence saying how it ended."""
    code = outcome.returncode
    if outcome.timed_out:
        return f"the grader stopped {file_name} after {wall:g} s (an infinite loop?)"
    if outcome.too_many_processes:
        return (f"the process running {file_name} started more than {sandbox.NPROC} "
                "processes and was stopped")
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


@dataclass
class Record:
    status: str  # "ok" or "error"
    outputs: dict = None  # name -> float64 array (status "ok")
    error: dict = None  # kind, type, line, text, phase (status "error")


def decode_array(item):
    """One {"shape", "data"} entry as a float64 array; sizes checked before allocating."""
    shape = item.get("shape") if isinstance(item, dict) else None
    data = item.get("data") if isinstance(item, dict) else None
    if not (isinstance(shape, list) and len(shape) <= worker.MAX_DIMS and isinstance(data, str)
            and all(type(n) is int and 0 <= n <= worker.MAX_ELEMENTS for n in shape)):
        raise ValueError("malformed array")
    count = int(np.prod(shape, dtype=np.int64))
    if count > worker.MAX_ELEMENTS or len(data) != 4 * -(-8 * count // 3):
        raise ValueError("array too large or truncated")
    raw = base64.b64decode(data, validate=True)
    return np.frombuffer(raw, dtype="<f8", count=count).reshape(shape).astype(np.float64)


def decode_outputs(outputs):
    """The "outputs" of an ok record, or ValueError."""
    if not isinstance(outputs, dict) or len(outputs) > worker.MAX_ARRAYS:
        raise ValueError("malformed outputs")
    return {str(name)[:64]: decode_array(item) for name, item in outputs.items()}


def decode_error(record):
    """The error fields of a record, each checked; unknown values are dropped."""
    kind = record.get("kind") if record.get("kind") in worker.ERROR_KINDS else "exception"
    line = record.get("line")
    text = record.get("text")
    return {"kind": kind, "type": record.get("type") if isinstance(record.get("type"), str) else "",
            "line": line if type(line) is int else None,
            "text": text[:worker.MAX_TEXT] if isinstance(text, str) else "",
            "phase": "import" if record.get("phase") == "import" else "test"}


def decode_records(output, tests):
    """dict test id -> Record from a worker's channel bytes (the first valid record per id)."""
    wanted = {t.id for t in tests}
    records = {}
    for line in output.split(b"\n"):
        if len(line) > worker.MAX_LINE:
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if not isinstance(record, dict) or record.get("id") not in wanted \
                or record["id"] in records:
            continue
        try:
            if record.get("status") == "ok":
                records[record["id"]] = Record("ok", outputs=decode_outputs(record.get("outputs")))
            else:
                records[record["id"]] = Record("error", error=decode_error(record))
        except (ValueError, TypeError):
            records[record["id"]] = Record("error", error={"kind": "bad_output"})
    return records


ALLOWED_TYPES = {name for name, value in vars(builtins).items()
                 if isinstance(value, type) and issubclass(value, BaseException)} \
    | {"LinAlgError", "AxisError", "WrongOutput", "TimeLimit"}
VOCABULARY_EXTRA = {"ndarray", "NoneType", "float64", "float32", "int64", "int32"}


@functools.lru_cache(maxsize=1)
def vocabulary():
    """Words a WrongOutput message may use: those in the strings of grading_tests.py and of
    the manifest (the file names; our copies, read here) and Python's type names."""
    texts = []
    for module in (grading_tests, manifest):
        tree = ast.parse(Path(module.__file__).read_text())
        texts += [node.value for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    words = set(re.findall(r"[A-Za-z_]\w*", "\n".join(texts)))
    return words | set(dir(builtins)) | VOCABULARY_EXTRA


def safe_text(text):
    """A message from the worker, with every word outside the vocabulary replaced by '?'."""
    text = "".join(c for c in text[:worker.MAX_TEXT] if c.isascii() and c.isprintable())
    words = vocabulary()
    return re.sub(r"[A-Za-z_]\w*", lambda m: m.group() if m.group() in words else "?", text)


def student_line_text(student_source, file_name, line):
    """' (at FILE line N: CODE)' from the grader's own copy of the student's file."""
    lines = student_source.splitlines()
    if line is None or not 1 <= line <= len(lines):
        return ""
    return f" (at {file_name} line {line}: {lines[line - 1].strip()[:120]})"


def error_message(error, file_name, student_source, timeout):
    """The explanation the student sees for an error record; built here, never passed on."""
    kind = error["kind"]
    if kind == "bad_output":
        return f"the process running {file_name} sent outputs the grader could not read"
    kind_type = error["type"] if error["type"] in ALLOWED_TYPES else "an exception"
    text = {
        "wrong_output": f"wrong return value: {safe_text(error['text'])}",
        "timeout": f"took longer than {timeout:g} s and was stopped (an infinite loop?)",
        "memory": "ran out of memory (the grader's memory limit was reached)",
        "not_implemented": "not implemented (raises NotImplementedError)",
        "exit": "the code called exit() / sys.exit()",
    }.get(kind, f"raised {kind_type}")
    text += student_line_text(student_source, file_name, error["line"])
    if error["type"] == "ModuleNotFoundError":
        text += missing_module_text(file_name, student_source, error["line"])
    if error["phase"] == "import":
        text = f"could not import {file_name}: {text}"
    return text


IMPORTED = re.compile(r"^\s*(?:from\s+([A-Za-z_][\w.]*)\s+import\b|import\s+([\w.\s,]+))")


def imported_modules(line):
    """The top-level modules an import statement imports (`import a.b, c` -> a, c)."""
    match = IMPORTED.match(line)
    if not match:
        return []
    names = [match.group(1)] if match.group(1) else match.group(2).split(",")
    return [name.strip().split(".")[0].split()[0] for name in names if name.strip()]


def homework_modules():
    """dict module name -> its path in the kit, of every module the homework ships."""
    return {path.stem: path.relative_to(ROOT).as_posix() for folder in ("backprop", "neuralnet")
            for path in sorted((ROOT / folder).glob("*.py"))}


def missing_module_text(file_name, student_source, line):
    """The end of the message for a ModuleNotFoundError: which module (read from the
    student's import line), whether the homework ships it, and what the grader provides."""
    given = manifest.graded_file(file_name).imports
    provided = ("with the homework's modules " + ", ".join(given)) if given else \
        "with no other module of the homework"
    packages = "numpy, " + ", ".join(grading_tests.GRADER_PACKAGES)
    lines = student_source.splitlines()
    names = imported_modules(lines[line - 1]) if line and 1 <= line <= len(lines) else []
    shipped = homework_modules()
    missing = [name for name in names if name not in given and name != file_name[:-3]
               and (name in shipped or importlib.util.find_spec(name) is None)]
    if missing and missing[0] in shipped:
        return (f"; {missing[0]} is a module of the homework ({shipped[missing[0]]}), but the "
                f"original starter's {file_name} does not import it, so the grader runs "
                f"{file_name} {provided} only")
    what = f"{missing[0]} is not a module of the homework and not installed in the grader" \
        if missing else "a module is missing"
    return f"; {what}: it runs {file_name} {provided}, and the packages {packages}"


def compile_helper(source, target):
    """Our module as sourceless bytecode (target: NAME.pyc), for the student's sandbox."""
    py_compile.compile(str(source), cfile=str(target), dfile=f"<{source.name}>", doraise=True)
    os.chmod(target, 0o644)


def stage_folder(parent, name):
    """A folder the sandbox may read, under an unguessable name (its parent is mode 0711, so
    in "uid" mode the processes of another submission cannot find it)."""
    folder = Path(parent) / f"{name}-{secrets.token_hex(8)}"
    folder.mkdir()
    os.chmod(folder, 0o755)
    return folder


def stage_code(stage, file_name, student_path, helpers):
    """
    The code folder of one student file: its source and the helpers.

    helpers: dict module file name -> (Path, the student's own file?): the student's file is
    copied as a source, ours is compiled to bytecode
    """
    folder = stage_folder(stage, f"code-{file_name[:-3]}")
    shutil.copyfile(student_path, folder / file_name)
    os.chmod(folder / file_name, 0o644)
    for name, (path, own) in helpers.items():
        if own:
            shutil.copyfile(path, folder / name)
            os.chmod(folder / name, 0o644)
        else:
            compile_helper(path, folder / (name[:-3] + ".pyc"))
    return folder


def stage_harness(stage):
    """The worker's folder: HARNESS_FILES, flat."""
    folder = stage_folder(stage, "harness")
    for name, path in HARNESS_FILES.items():
        shutil.copyfile(path, folder / name)
        os.chmod(folder / name, 0o644)
    return folder


def helper_paths(file_name, files, reference_root, passed):
    """dict helper name -> (the file it is made from, the student's own?) for a sandbox."""
    folder = reference_folder(reference_root, file_name)
    helpers = {}
    for name in helper_names(file_name):
        needs = STUDENT_HELPER_TESTS.get(name)
        own = bool(needs) and name in files and all(test_id in passed for test_id in needs)
        helpers[name] = (files[name], True) if own else (folder / name, False)
    return helpers


_REFERENCE_CACHE = {}
TRUSTED = sandbox.Mode("none", "the reference solution (trusted)")


def reference_key(reference_root):
    """A hash of everything the reference outputs depend on (for the cache file)."""
    digest = hashlib.sha256(np.__version__.encode())
    paths = list(HARNESS_FILES.values())
    for folder in sorted({reference_folder(reference_root, f) for f in manifest.CODE_FILES}):
        paths += sorted(folder.glob("*.py"))
    for path in paths:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def load_reference_cache(path, reference_root):
    """Fill the per-process cache from a file written by save_reference_cache. Returns
    whether the file was current (made from this reference and these tests)."""
    try:
        data = json.loads(Path(path).read_text())
        if data.get("key") != reference_key(reference_root):
            return False
        for file_name, outputs in data["files"].items():
            _REFERENCE_CACHE[(str(reference_root), file_name)] = \
                {tid: decode_outputs(arrays) for tid, arrays in outputs.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    return True


def save_reference_cache(path, reference_root, by_file):
    """Write the cache file atomically (parallel graders may write it at the same time)."""
    files = {f: {tid: worker.encode_arrays(outputs)
                 for tid, outputs in _REFERENCE_CACHE[(str(reference_root), f)].items()}
             for f in by_file}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=path.name, suffix=".partial", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        json.dump({"key": reference_key(reference_root), "files": files}, f)
    os.replace(partial, path)


def reference_outputs(reference_root, by_file, limits, cache_file=None):
    """
    dict test id -> the reference's outputs: computed once per process (in parallel, before
    any student code runs), or read from `cache_file` when it matches the reference and the
    tests (a file only the grader can write; written there when it did not match).
    """
    current = cache_file is not None and load_reference_cache(cache_file, reference_root)
    todo = [f for f in by_file if (str(reference_root), f) not in _REFERENCE_CACHE]
    trusted = Limits(max(limits.test_timeout, 60.0), MEMORY_MB * 2)
    with tempfile.TemporaryDirectory(prefix="hw4-reference-") as stage:
        harness = stage_harness(stage)
        jobs = [worker_job(reference_folder(reference_root, f), harness, by_file[f], trusted,
                           file_wall(by_file[f], trusted)) for f in todo]
        outcomes = sandbox.Runner(TRUSTED).run_all(jobs)
    for file_name, outcome in zip(todo, outcomes, strict=True):
        records = decode_records(outcome.output, by_file[file_name])
        bad = [t.id for t in by_file[file_name]
               if t.id not in records or records[t.id].status != "ok"]
        if bad:
            raise RuntimeError(f"the reference {file_name} fails its own tests {bad}: "
                               f"{ending(outcome, file_name, 0)} {records}")
        _REFERENCE_CACHE[(str(reference_root), file_name)] = \
            {tid: rec.outputs for tid, rec in records.items()}
    if cache_file is not None and not current:
        save_reference_cache(cache_file, reference_root, by_file)
    expected = {}
    for file_name in by_file:
        expected.update(_REFERENCE_CACHE[(str(reference_root), file_name)])
    return expected


def tests_by_file():
    """dict student file -> its code tests, in report order."""
    by_file = {}
    for test in grading_tests.code_tests():
        by_file.setdefault(test.file, []).append(test)
    return by_file


def phases(by_file):
    """The files in the order they can run: one whose helper may be the student's own
    (train.py) waits for the tests of that helper."""
    late = [f for f in by_file if any(h in STUDENT_HELPER_TESTS for h in helper_names(f))]
    return [[f for f in by_file if f not in late], late]


@dataclass
class Grading:
    """What the code tests of one submission share."""

    files: dict  # student file name -> Path
    by_file: dict  # student file name -> its tests
    expected: dict  # test id -> the reference's outputs
    reference_root: Path
    limits: Limits
    mode: sandbox.Mode
    deadline: float  # time.monotonic() when the submission's time is up
    stage: Path = None  # the folders bound into the sandboxes
    harness: Path = None
    passed: set = None  # ids of the tests passed so far


def grade_code(files, reference_root, limits, mode, deadline):
    """Returns the results.json entries of every code test (in report order)."""
    by_file = tests_by_file()
    expected = reference_outputs(reference_root, by_file, limits, limits.reference_cache)
    grading = Grading(files, by_file, expected, reference_root, limits, mode, deadline,
                      passed=set())
    entries = {}
    grading.stage = Path(tempfile.mkdtemp(prefix="hw4-stage-", dir=sandbox.shared_tmp(mode)))
    try:
        os.chmod(grading.stage, 0o711)  # the sandbox uid may enter its own folders, not list
        grading.harness = stage_harness(grading.stage)
        for phase in phases(by_file):
            for file_name in phase:
                if file_name not in files:
                    entries[file_name] = zero_code_entries(
                        by_file[file_name], f"{file_name} is missing from the submission")
            entries.update(run_phase(grading, [f for f in phase if f in files]))
    finally:
        shutil.rmtree(grading.stage, ignore_errors=True)
    return [entry for file_name in by_file for entry in entries[file_name]]


def run_phase(grading, present):
    """Run the student files `present` at once; returns dict file -> entries."""
    remaining = grading.deadline - time.monotonic()
    if not present:
        return {}
    if remaining <= 1:
        return {f: zero_code_entries(grading.by_file[f], "the submission ran out of its total "
                                     "time") for f in present}
    jobs, walls = [], {}
    for file_name in present:
        tests = grading.by_file[file_name]
        helpers = helper_paths(file_name, grading.files, grading.reference_root, grading.passed)
        code = stage_code(grading.stage, file_name, grading.files[file_name], helpers)
        walls[file_name] = min(file_wall(tests, grading.limits), remaining)
        jobs.append(worker_job(code, grading.harness, tests, grading.limits, walls[file_name]))
    outcomes = sandbox.Runner(grading.mode).run_all(jobs)
    return {file_name: score_file(grading, file_name, outcome, walls[file_name])
            for file_name, outcome in zip(present, outcomes, strict=True)}


def score_file(grading, file_name, outcome, wall):
    """The entries of one file's tests from its worker's outcome; notes the tests passed."""
    tests = grading.by_file[file_name]
    records = decode_records(outcome.output, tests)
    why = ending(outcome, file_name, wall)
    with open(grading.files[file_name], "rb") as f:  # for the lines quoted in messages
        source = f.read(MAX_SOURCE_BYTES).decode("utf-8", errors="replace")
    entries = [score_code_test(test, records.get(test.id), why, grading.expected[test.id],
                               source, grading.limits) for test in tests]
    grading.passed.update(t.id for t, e in zip(tests, entries, strict=True)
                          if e["score"] >= e["max_score"])
    return entries


def code_test_name(test):
    """A code test's name in results.json."""
    return manifest.test(test.id).name


def zero_code_entries(tests, reason):
    """0 points for each of `tests`, all for the same reason."""
    return [result(code_test_name(t), 0, t.points, reason) for t in tests]


def score_code_test(test, record, why, expected, student_source, limits):
    """Full points if the outputs match the reference's, else 0 with the reason."""
    name = code_test_name(test)
    if record is None:
        return result(name, 0, test.points, f"did not finish: {why or 'no result'}")
    if record.status != "ok":
        message = error_message(record.error, test.file, student_source, limits.test_timeout)
        return result(name, 0, test.points, message)
    compare = test.compare or grading_tests.compare_arrays
    try:
        problem = compare(record.outputs, expected)
    except (KeyError, ValueError, TypeError, IndexError) as err:
        problem = f"unexpected outputs ({type(err).__name__})"
    if problem:
        return result(name, 0, test.points, problem)
    return result(name, test.points, test.points, "matches the reference on seeded random inputs")


def all_zero(notes):
    """Entries for every test with 0 points (the submission could not be used at all)."""
    reason = "; ".join(notes) or "the submission could not be read"
    return (zero_code_entries(grading_tests.code_tests(), reason)
            + grade_part1(None, reason) + grade_part2(None, reason))


def max_points():
    return manifest.TOTAL_POINTS


def grade(submission, reference_root=ROOT, limits=None):
    """Grade a submission (zip or folder). Returns the results.json dict."""
    limits = limits or Limits()
    start = time.time()
    deadline = time.monotonic() + limits.submission_timeout
    mode = sandbox.choose_mode(limits.sandbox)
    notes = [] if mode.name != "none" else [f"note: {mode.detail}"]
    with tempfile.TemporaryDirectory(prefix="hw4-grade-") as work_dir:
        files = prepare_submission(submission, work_dir, notes)
        if files is None:
            entries = all_zero(notes)
        else:
            missing = [name for name in checker.REQUIRED_FILES if name not in files]
            if missing:
                notes.append(f"missing files: {', '.join(missing)}")
            entries = grade_code(files, Path(reference_root), limits, mode, deadline)
            entries += grade_part1(files.get("part1.ipynb")) + grade_part2(files.get("part2.ipynb"))
    score = round(sum(entry["score"] for entry in entries), 2)
    total = max_points()
    summary = f"score {score:g} / {total:g}"
    flagged = needs_person(entries)  # notebooks a person should look at
    return {
        "score": score,
        "max_score": total,
        "needs_person": flagged,
        "execution_time": round(time.time() - start, 1),
        "output": "\n".join([summary, *notes, *(NEEDS_PERSON + item for item in flagged)]),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"sandbox": mode.name, "sandbox_detail": mode.detail},
        "tests": entries,
    }


def failure_results(err):
    """results.json for a crash of the grader itself (should not happen; never silent)."""
    return {"score": 0, "max_score": max_points(), "execution_time": 0,
            "output": f"the autograder failed: {type(err).__name__}: {err}. "
                      "Please tell the course staff.",
            "visibility": "visible", "tests": []}


def write_json(data, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=2) + "\n")
    partial.replace(path)


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Grade a submission; write results.json.")
    parser.add_argument("submission", type=Path, help="the zip, or a folder with the files")
    parser.add_argument("--out", type=Path, default=Path("results.json"))
    parser.add_argument("--reference", type=Path, default=ROOT,
                        help="root of the reference solution (default: this repository)")
    parser.add_argument("--test-timeout", type=float, default=TEST_TIMEOUT,
                        help="seconds per code test")
    parser.add_argument("--memory-mb", type=int, default=MEMORY_MB,
                        help="memory (address space) limit of each worker process")
    parser.add_argument("--submission-timeout", type=float, default=SUBMISSION_TIMEOUT,
                        help="wall-clock seconds for all the student code of the submission")
    parser.add_argument("--sandbox", choices=("auto", *sandbox.MODES),
                        default=os.environ.get("HW4_SANDBOX", "auto"),
                        help="how student code is isolated (default: $HW4_SANDBOX, else the "
                             "best available)")
    parser.add_argument("--reference-cache", type=Path, default=None,
                        help="file caching the reference outputs across runs (grade-all, "
                             "autograder); keep it where student code cannot write")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        limits = Limits(args.test_timeout, args.memory_mb, args.submission_timeout,
                        args.sandbox, args.reference_cache)
        data = grade(args.submission, args.reference, limits)
    except Exception as err:  # results.json must exist whatever happens
        data = failure_results(err)
        write_json(data, args.out)
        raise
    write_json(data, args.out)
    print(data["output"])
    print(f"sandbox: {data.get('extra_data', {}).get('sandbox_detail', 'none')}")
    for entry in data["tests"]:
        score, max_score = entry["score"], entry["max_score"]
        print(f"  {score:>5g} / {max_score:<3g} {entry['name']}: {entry['output']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
