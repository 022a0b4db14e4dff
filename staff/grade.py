"""Autograder: grade one submission and write Gradescope's results.json.

    python staff/grade.py SUBMISSION [--out results.json] [--test-timeout S] [--memory-mb MB]

SUBMISSION is the student's zip (checked and extracted with check_submission.py, only into a
temporary folder) or a folder holding the files (Gradescope unpacks uploads into
/autograder/submission; the files may sit in it directly or in one subfolder).

Code tests (staff/grading_tests.py): each student .py file is run in its own subprocess
(staff/grading_worker.py) with a memory limit (RLIMIT_AS), a CPU limit and a wall-clock
timeout, inside a temporary folder holding OUR reference versions of the other files, so a
broken file costs only its own points. The outputs on seeded inputs are compared with those
of the reference files. Notebooks are never executed: their saved outputs are read.

results.json is always written, even for an unreadable or unsafe zip (score 0, with the
reason). Exit code: 0 when results.json was written.
"""

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import check_submission as checker
import grading_tests
import numpy as np
from grade_notebooks import (  # noqa: F401 (accuracy_points is re-exported for the tests)
    NEEDS_PERSON,
    PART1_ACCURACY_POINTS,
    PART1_RUN_POINTS,
    PART2_IMAGE_POINTS,
    PART2_PREDICTION_POINTS,
    accuracy_points,
    grade_part1,
    grade_part2,
    needs_person,
    result,
)

ROOT = Path(__file__).resolve().parents[1]
STAFF_DIR = Path(__file__).resolve().parent
WORKER = STAFF_DIR / "grading_worker.py"
FILE_FOLDERS = {  # student file -> folder of the reference files it runs with
    "functions.py": "backprop",
    "layers.py": "neuralnet",
    "two_layer_net.py": "neuralnet",
    "train.py": "neuralnet",
}
# Reference files copied next to each student file: only what it imports (None: the whole
# folder), so student code sees as little of the reference solution as possible.
SANDBOX_FILES = {
    "functions.py": (),
    "layers.py": (),
    "two_layer_net.py": ("classifier.py", "layers.py"),
    "train.py": None,
}
TEST_TIMEOUT = 10.0  # seconds per code test
MEMORY_MB = 1536  # address-space limit of each worker process
FSIZE_MB = 64  # largest file a worker may write


@dataclass
class Limits:
    test_timeout: float = TEST_TIMEOUT
    memory_mb: int = MEMORY_MB


# ----------------------------------------------------------------------------- finding files


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


# ----------------------------------------------------------------------------- code tests


def limit_resources(memory_mb, cpu_seconds):
    """preexec_fn of the worker: memory, CPU time, file size and no core dumps."""
    def apply():
        memory = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = int(cpu_seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_MB * 2**20, FSIZE_MB * 2**20))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def worker_env(sandbox):
    """A small environment: single-threaded BLAS, no user site packages, no display."""
    env = {key: os.environ[key] for key in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT")
           if key in os.environ}
    env.update({
        "HOME": str(sandbox), "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "MPLCONFIGDIR": str(Path(sandbox) / ".mpl"),
    })
    return env


def make_sandbox(work_dir, label, reference_root, file_name, student_path):
    """A folder with the reference .py files of the file's task, the student's file swapped in."""
    sandbox = Path(work_dir) / f"sandbox-{label}"
    sandbox.mkdir(parents=True)
    folder = reference_root / FILE_FOLDERS[file_name]
    names = SANDBOX_FILES[file_name]
    paths = sorted(folder.glob("*.py")) if names is None else [folder / n for n in names]
    for path in paths + [folder / file_name]:
        shutil.copyfile(path, sandbox / path.name)
    if student_path is not None:
        shutil.copyfile(student_path, sandbox / file_name)
    return sandbox


def run_worker(sandbox, out_dir, tests, limits):
    """
    Run the worker on one file's tests.

    Returns:
    - ending: None if it finished, else a sentence saying how it ended (timeout, signal)
    """
    wall = limits.test_timeout * (len(tests) + 1) + 10
    command = [sys.executable, str(WORKER), "--sandbox", str(sandbox), "--out", str(out_dir),
               "--tests", ",".join(t.id for t in tests),
               "--test-timeout", str(limits.test_timeout)]
    process = subprocess.Popen(
        command, cwd=sandbox, env=worker_env(sandbox), stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        preexec_fn=limit_resources(limits.memory_mb, wall),
    )
    try:
        code = process.wait(timeout=wall)
    except subprocess.TimeoutExpired:
        kill_group(process)
        return f"the grader stopped {tests[0].file} after {wall:g} s (an infinite loop?)"
    kill_group(process)  # anything the student code left running
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else -code
        return f"the process running {tests[0].file} was killed by signal {name} " \
               "(a crash, or the CPU-time or memory limit)"
    if code != 0:
        return f"the process running {tests[0].file} exited with code {code} before this " \
               "test ran (does the file call exit() or os._exit()?)"
    return None


def kill_group(process):
    """Kill the worker's whole process group (it runs in its own session)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def read_records(out_dir):
    """Returns dict test id -> (status, message, outputs or None) from a worker's output."""
    records = {}
    path = Path(out_dir) / "records.jsonl"
    lines = path.read_text().splitlines() if path.is_file() else []
    for line in lines:
        try:
            record = json.loads(line)
            test_id, status, message = record["id"], record["status"], str(record["message"])
        except (ValueError, KeyError, TypeError):
            continue
        outputs = None
        npz = Path(out_dir) / f"{test_id}.npz"
        if status == "ok" and npz.is_file():
            try:
                with np.load(npz, allow_pickle=False) as archive:
                    outputs = {name: archive[name] for name in archive.files}
            except (ValueError, OSError) as err:
                status, message = "error", f"unreadable outputs ({err})"
        records[test_id] = (status, message, outputs)
    return records


def run_file(work_dir, label, reference_root, file_name, student_path, tests, limits):
    """Sandbox + worker for one file. Returns (records, ending)."""
    sandbox = make_sandbox(work_dir, label, reference_root, file_name, student_path)
    out_dir = Path(work_dir) / f"out-{label}"
    out_dir.mkdir()
    ending = run_worker(sandbox, out_dir, tests, limits)
    return read_records(out_dir), ending


_REFERENCE_CACHE = {}


def reference_outputs(reference_root, file_name, tests, limits):
    """The reference's outputs for one file's tests (computed once per process)."""
    key = (str(reference_root), file_name)
    if key not in _REFERENCE_CACHE:
        with tempfile.TemporaryDirectory(prefix="hw4-ref-") as tmp:
            records, ending = run_file(tmp, "reference", reference_root, file_name, None, tests,
                                       Limits(max(limits.test_timeout, 60.0), MEMORY_MB * 2))
        bad = {tid: rec for tid, rec in records.items() if rec[0] != "ok"}
        if ending or bad or len(records) != len(tests):
            raise RuntimeError(f"the reference {file_name} fails its own tests: {ending} {bad}")
        _REFERENCE_CACHE[key] = {tid: rec[2] for tid, rec in records.items()}
    return _REFERENCE_CACHE[key]


def grade_code(files, work_dir, reference_root, limits):
    """Returns the results.json entries of every code test."""
    entries = []
    by_file = {}
    for test in grading_tests.code_tests():
        by_file.setdefault(test.file, []).append(test)
    for file_name, tests in by_file.items():
        expected = reference_outputs(reference_root, file_name, tests, limits)
        if file_name not in files:
            entries += zero_code_entries(tests, f"{file_name} is missing from the submission")
            continue
        label = file_name.replace(".py", "")
        records, ending = run_file(work_dir, label, reference_root, file_name, files[file_name],
                                   tests, limits)
        for test in tests:
            entries.append(score_code_test(test, records.get(test.id), ending, expected[test.id]))
    return entries


def code_test_name(test):
    """A code test's name in results.json: its title and the student file."""
    return f"{test.name} [{test.file}]"


def zero_code_entries(tests, reason):
    """0 points for each of `tests`, all for the same reason."""
    return [result(code_test_name(t), 0, t.points, reason) for t in tests]


def score_code_test(test, record, ending, expected):
    """Full points if the outputs match the reference's, else 0 with the reason."""
    name = code_test_name(test)
    if record is None:
        return result(name, 0, test.points, f"did not finish: {ending or 'no result'}")
    status, message, outputs = record
    if status != "ok":
        return result(name, 0, test.points, message)
    compare = test.compare or grading_tests.compare_arrays
    try:
        problem = compare(outputs, expected)
    except (KeyError, ValueError, TypeError) as err:
        problem = f"unexpected outputs ({err})"
    if problem:
        return result(name, 0, test.points, problem)
    return result(name, test.points, test.points, "matches the reference on seeded random inputs")


# ----------------------------------------------------------------------------- results.json


def all_zero(notes):
    """Entries for every test with 0 points (the submission could not be used at all)."""
    reason = "; ".join(notes) or "the submission could not be read"
    return (zero_code_entries(grading_tests.code_tests(), reason)
            + grade_part1(None, reason) + grade_part2(None, reason))


def max_points():
    code = sum(t.points for t in grading_tests.code_tests())
    return code + PART1_RUN_POINTS + PART1_ACCURACY_POINTS + PART2_IMAGE_POINTS \
        + PART2_PREDICTION_POINTS


def grade(submission, reference_root=ROOT, limits=None):
    """Grade a submission (zip or folder). Returns the results.json dict."""
    limits = limits or Limits()
    start = time.time()
    notes = []
    with tempfile.TemporaryDirectory(prefix="hw4-grade-") as work_dir:
        files = prepare_submission(submission, work_dir, notes)
        if files is None:
            entries = all_zero(notes)
        else:
            missing = [name for name in checker.REQUIRED_FILES if name not in files]
            if missing:
                notes.append(f"missing files: {', '.join(missing)}")
            entries = grade_code(files, work_dir, Path(reference_root), limits)
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
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        data = grade(args.submission, args.reference, Limits(args.test_timeout, args.memory_mb))
    except Exception as err:  # results.json must exist whatever happens
        data = failure_results(err)
        write_json(data, args.out)
        raise
    write_json(data, args.out)
    print(data["output"])
    for entry in data["tests"]:
        score, max_score = entry["score"], entry["max_score"]
        print(f"  {score:>5g} / {max_score:<3g} {entry['name']}: {entry['output']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
