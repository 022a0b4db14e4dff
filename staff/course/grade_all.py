"""Grade a whole course: `make grade-all SUBMISSIONS=<folder or zip> [JOBS=n] [OUT=dir]`.

    python -m staff.course.grade_all SUBMISSIONS [--out grades] [--jobs N] [--timeout S] [--force]
                              [--assignment NAME] [--assignment-id ID] [--include-flagged]
                              [--roster gradebook.csv] [--sandbox MODE]
                              [--threshold 0.5] [--no-similarity] [--similarity-timeout S]
                              [--previous-terms DIR] [--gradescope-csv FILE]

SUBMISSIONS is a folder of submissions (exactly `uniqname.zip` files or `uniqname/` folders,
as `make submission` writes them) or Canvas's "Download Submissions" zip (or that zip
unpacked); staff/course/canvas_names.py says which file names are read and how. The work is found
wherever it is in a student's uploads (staff/course/uploads.py: nested folders, a whole-project
zip, a zip inside the zip, several zips, loose files); an upload the grader reads as it is
is graded as it is, anything else from a clean folder of the chosen files. Each student is
graded by its own `python -m staff.grading.grade SUBMISSION --out results.json` process, exactly as
`make grade` runs it (same sandbox), JOBS at a time (default: one per core).

Resumable: every graded upload is recorded in OUT/manifest.jsonl under the SHA-256 of its
bytes (of the chosen files, when they were repaired) and a fingerprint of the grader and the
reference; a rerun (or a run after a killed one) reuses those results and grades only new or
changed uploads. --force regrades all. A failure to grade is recorded too, never reused: its
row says how many earlier runs failed on the same upload.

Never stops on a bad submission, and never loses one silently: every upload gets a row
saying what was done and why, and every row a person should settle (unreadable, no graded
file found, chosen among several, layout repaired, notebooks the grader flags, failed to
grade, a name that is not a student's, two rows for one Canvas id, a file holding the
reference's solution markers) is
flagged and left out of canvas_import.csv
(--include-flagged puts the flagged rows that have a score back in); gradebook.csv keeps
every row. Canvas matches the score column by "Name (id)": give --assignment "Homework 4
(12345)" or --assignment-id 12345 (or a --roster export holding that column).

Outputs in OUT (default grades/, private to you: mode 0700, like everything grade-all
stages): gradebook.csv, canvas_import.csv, results/<student>.json, logs/, summary.html,
similarity/ (course_summary.py, similarity.py). The similarity report runs in its own
process with a fixed hash seed (the same inputs give the same leads) and a time limit
(--similarity-timeout); if it is stopped, summary.html and the console say so.

--gradescope-csv adds the students of a Gradescope "Download Grades" export to the same
gradebook and summary page (SUBMISSIONS may then be left out).

Exit codes: 0 outputs written (some submissions may have failed to grade: see the summary),
2 usage error, 130 interrupted (rerun the same command to resume).
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from handin import check as checker
from handin import module_prog
from handin.notebooks import SPOT_CHECK
from staff.course import canvas_names, course_summary, uploads
from staff.course.course_summary import Row
from staff.grading import make_autograder
from staff.starter.regions import BEGIN

ROOT = Path(__file__).resolve().parents[2]
GRADER = ROOT / "staff" / "grading" / "grade.py"
GRADER_INPUTS = (*make_autograder.GRADER_FILES, "backprop/*.py",
                 "neuralnet/*.py")  # a change to any of these regrades everything
MAX_UPLOAD_BYTES = 2**31  # one upload in Canvas's download (a whole project may be large)
TIMEOUT = 600.0  # seconds per submission (grade.py has its own limits per test)
SIMILARITY_TIMEOUT = 900.0  # seconds for the similarity report (300 students: about 1 min)
HASH_SEED = "0"  # the similarity process's PYTHONHASHSEED: copydetect hashes with hash()
SANDBOX_MODES = ("auto", "bwrap", "uid", "none")  # staff/grading/sandbox.py's (grade.py --sandbox)
NO_ISOLATION = ("graded WITHOUT isolation (sandbox none): the student's code ran with your "
                "own permissions")
TITLE = "Homework 4 - Machine Learning: course summary"


class UsageError(Exception):
    """Bad command-line input; the message says what to do."""


def course_zip_kind(archive):
    """'submission' if the zip holds graded files itself (one student's zip), else 'course'."""
    for info in archive.infolist():
        parts = checker.entry_parts(info.filename)
        if parts and parts[-1] in checker.REQUIRED_FILES and len(parts) <= 2:
            return "submission"
    return "course"


def unique_target(dest, name):
    """dest/name, or dest/name~N if that is taken (or is '..')."""
    target, count = dest / name, 1
    while target.exists():
        target, count = dest / f"{name}~{count}", count + 1
    return target


def unpack_course_zip(zip_path, dest):
    """
    Unpack Canvas's download into dest (flat: file names only, never paths). Each upload
    goes through handin/check.py's checks of one entry (no link, no '..', no bomb, at most
    MAX_UPLOAD_BYTES, counted while copying).

    Returns dict file name -> why it could not be unpacked (its file is left empty).
    """
    problems = {}
    private_dir(dest)
    with zipfile.ZipFile(zip_path) as archive:
        if course_zip_kind(archive) == "submission":
            raise UsageError(f"{zip_path} holds the graded files itself: it is one student's "
                             "submission. Grade it with make grade ZIP=...")
        for info in archive.infolist():
            if info.is_dir() or checker.is_ignored(info.filename):
                continue
            target = unique_target(dest, checker.entry_parts(info.filename)[-1])
            try:
                unpack_upload(archive, info, target)
            except (ValueError, zipfile.BadZipFile, OSError, EOFError, RuntimeError,
                    NotImplementedError) as err:
                target.write_bytes(b"")
                problems[target.name] = f"could not be unpacked from {zip_path.name}: {err}"
    return problems


def unpack_upload(archive, info, target):
    """Copy one upload out of Canvas's zip (ValueError if it is unsafe or too large)."""
    problems = checker.safety_problems([info], max_entries=1, max_total_bytes=MAX_UPLOAD_BYTES,
                                       max_ratio=checker.MAX_RATIO)
    if problems:
        raise ValueError("; ".join(problems))
    written = 0
    with archive.open(info) as source, open(target, "wb") as sink:
        while block := source.read(2**20):
            written += len(block)
            if written > MAX_UPLOAD_BYTES:
                raise ValueError(f"larger than {MAX_UPLOAD_BYTES // 2**20} MB")
            sink.write(block)


def inbox(submissions, out):
    """
    The folder holding one entry per upload.

    Returns a tuple of:
    - folder: SUBMISSIONS itself, or where its zip was unpacked (OUT/inbox/...)
    - problems: dict file name -> why it could not be unpacked
    """
    submissions = Path(submissions)
    if submissions.is_dir():
        return submissions, {}
    if not submissions.is_file():
        raise UsageError(f"{submissions} not found: give a folder of submissions or Canvas's "
                         "Download Submissions zip")
    if not zipfile.is_zipfile(submissions):
        raise UsageError(f"{submissions} is neither a folder nor a zip")
    digest = file_digest([submissions])[:16]
    dest = private_dir(Path(out) / "inbox") / f"{submissions.stem}-{digest}"
    done = dest / ".unpacked.json"
    if done.is_file():
        return dest, json.loads(done.read_text())
    if dest.exists():
        shutil.rmtree(dest)  # an unpacking that was interrupted
    problems = unpack_course_zip(submissions, dest)
    done.write_text(json.dumps(problems))
    return dest, problems


def file_digest(paths):
    """SHA-256 of the files' bytes (several files: their names and bytes; a folder: its files)."""
    digest = hashlib.sha256()
    files = []
    for path in paths:
        if path.is_dir():
            files += [(f.relative_to(path).as_posix(), f) for f in sorted(path.rglob("*"))
                      if f.is_file() and not f.is_symlink()]
        else:
            files.append((path.name, path))
    for name, path in files:
        if len(files) > 1:
            digest.update(name.encode() + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda h=handle: h.read(2**20), b""):
                digest.update(block)
    return digest.hexdigest()


def grader_fingerprint(root=ROOT):
    """SHA-256 over the grader's and the reference's source: results from another one are stale."""
    paths = sorted({p for pattern in GRADER_INPUTS for p in Path(root).glob(pattern)})
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class Manifest:
    """
    OUT/manifest.jsonl: one JSON line per graded upload, written after its results are in
    OUT/.cache/<sha256>.json. Lines of another grader fingerprint, or cut short by a kill,
    are ignored.
    """

    def __init__(self, out, fingerprint):
        self.path = Path(out) / "manifest.jsonl"
        self.cache = Path(out) / ".cache"
        self.cache.mkdir(parents=True, exist_ok=True)
        self.fingerprint = fingerprint
        self.entries = {}
        self.failures = {}  # sha256 -> how many earlier runs failed to grade it
        self.lock = threading.Lock()
        lines = self.path.read_text().splitlines() if self.path.is_file() else []
        for line in lines:
            try:
                entry = json.loads(line)
                if entry["grader"] != fingerprint:
                    continue
                if entry.get("failed"):
                    self.failures[entry["sha256"]] = self.failures.get(entry["sha256"], 0) + 1
                else:
                    self.entries[entry["sha256"]] = entry
            except (ValueError, KeyError, TypeError, AttributeError):
                continue

    def results_path(self, sha):
        return self.cache / f"{sha}.json"

    def lookup(self, sha):
        """(results dict, entry) recorded for `sha`, or None."""
        entry = self.entries.get(sha)
        if entry is None:
            return None
        try:
            return json.loads(self.results_path(sha).read_text()), entry
        except (OSError, ValueError):
            return None

    def add(self, sha, student, seconds, failed=""):
        """Record a graded upload (its results are in the cache), or one that failed to grade
        (`failed`: why; never reused, only counted by later runs)."""
        entry = {"sha256": sha, "grader": self.fingerprint, "student": student,
                 "seconds": round(seconds, 2), "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        if failed:
            entry["failed"] = failed[:300]
        with self.lock:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            if not failed:
                self.entries[sha] = entry


@dataclass
class Context:
    out: Path
    grader: Path
    timeout: float
    force: bool
    manifest: Manifest
    options: list = field(default_factory=list)  # extra grade.py options (--sandbox)
    unpack_problems: dict = field(default_factory=dict)
    running: set = field(default_factory=set)  # grade.py processes now running
    stop: threading.Event = field(default_factory=threading.Event)


def slug(text):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "student"


def assign_slugs(submissions):
    """dict student key -> unique file-system-safe name."""
    slugs, taken = {}, set()
    for submission in submissions:
        base = candidate = slug(submission.student)
        count = 1
        while candidate.lower() in taken:
            count += 1
            candidate = f"{base}-{count}"
        taken.add(candidate.lower())
        slugs[submission.student] = candidate
    return slugs


def new_row(submission, student):
    """The row of a submission, before grading: who, which files, the name's flags."""
    row = Row(student=student, name=submission.name, user_id=submission.user_id,
              sis_login=submission.name if submission.plain else "",
              file=", ".join(u.path.name for u in submission.chosen),
              older=", ".join(u.path.name for u in submission.older),
              late=submission.late, resubmitted=submission.resubmitted,
              notes=list(submission.notes))
    if submission.misnamed:
        row.flag(submission.misnamed)
    return row


def prepare(submission, row, ctx, scratch):
    """
    Find the work in the submission's uploads (staff/course/uploads.py) and note what was done.

    Returns a tuple (uploads.Work, cache key), or (None, None) if nothing can be graded (the
    row then says why).
    """
    paths = [u.path for u in submission.chosen]
    problem = next((ctx.unpack_problems[p.name] for p in paths if p.name in ctx.unpack_problems),
                   None)
    if problem:
        row.fail(problem)
        return None, None
    work = uploads.find_work(submission.chosen, scratch)
    if work.problem:
        row.fail(work.problem)
        return None, None
    row.file = work.graded
    row.layout = "; ".join(work.layout)
    for reason in work.flags:
        row.flag(reason)
    key = file_digest([work.source])
    return work, key


def kill_group(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def last_line(path):
    try:
        lines = Path(path).read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def run_grader(source, ctx, log):
    """
    grade.py on one submission.

    Returns a tuple of:
    - results: the results.json dict (None if none was written)
    - seconds: wall-clock time
    - problem: why the grading failed ("" if it did not)
    """
    options = ctx.options
    partial = Path(tempfile.mkdtemp(prefix="partial-", dir=ctx.manifest.cache)) / "results.json"
    command = [*grader_command(ctx.grader), str(source), "--out", str(partial), *options]
    start = time.monotonic()
    with open(log, "wb") as handle:
        process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=handle,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        ctx.running.add(process)
        try:
            code = process.wait(timeout=ctx.timeout)
        except subprocess.TimeoutExpired:
            kill_group(process)
            code = None
        finally:
            ctx.running.discard(process)
    seconds = time.monotonic() - start
    results = load_results(partial)
    shutil.rmtree(partial.parent, ignore_errors=True)
    if ctx.stop.is_set():
        return None, seconds, "interrupted"
    if code is None:
        return None, seconds, f"grading took longer than {ctx.timeout:g} s and was stopped"
    if code != 0 or results is None:
        return results, seconds, f"grade.py exited with code {code}: {last_line(log)}"
    return results, seconds, ""


def load_results(path):
    """The results.json dict if it is complete and well formed, else None."""
    try:
        results = json.loads(Path(path).read_text())
        float(results["score"]), float(results["max_score"])
        for test in results["tests"]:
            float(test["score"]), float(test["max_score"]), str(test["name"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return results


def sandbox_mode(results):
    """How grade.py isolated the student code (its extra_data.sandbox; '' if it does not say:
    a grader that crashed before choosing a mode)."""
    extra = results.get("extra_data")
    return str(extra.get("sandbox") or "") if isinstance(extra, dict) else ""


def fill_from_results(row, results, earlier=0):
    """Score, per-test points and reasons, sandbox mode, and grade.py's own flags: its
    'needs a person' notes, and a failure on the grader's side (failed_to_grade; `earlier`:
    how many earlier runs failed on this upload)."""
    row.score, row.max_score = float(results["score"]), float(results["max_score"])
    row.tests = {str(t["name"]): (float(t["score"]), float(t["max_score"]))
                 for t in results["tests"]}
    row.failures = {str(t["name"]): str(t.get("output", ""))[:300] for t in results["tests"]
                    if float(t["score"]) < float(t["max_score"])}
    row.sandbox = sandbox_mode(results)
    if row.sandbox == "none":
        row.notes.append(NO_ISOLATION)
    flagged = results.get("needs_person")
    for reason in flagged if isinstance(flagged, list) else []:  # grade.py's "test: reason"
        if not str(reason).startswith(SPOT_CHECK):  # routine: every graded notebook
            row.flag(str(reason)[:300])
    failed = failed_to_grade(results)
    if failed:
        row.fail(again(f"the grader failed: {failed}", earlier))


def again(reason, earlier):
    """A failure to grade, saying how often earlier runs failed on the same upload: one that
    keeps failing is for a person to grade (and to look at: an attack on the grader's time or
    sandbox fails every time)."""
    if not earlier:
        return reason
    return (f"{reason} (failed on the same upload in {earlier} earlier run(s) too: grade it "
            "by hand, and look at its code for an attack on the grader)")


def failed_to_grade(results):
    """Why grade.py could not grade the submission (its extra_data.failed_to_grade), or ""."""
    extra = results.get("extra_data")
    reason = extra.get("failed_to_grade") if isinstance(extra, dict) else None
    return str(reason)[:300] if reason else ""


def grade_one(submission, student, ctx):
    """The graded Row of one submission (never raises: problems end up in the row)."""
    row = new_row(submission, student)
    try:
        with tempfile.TemporaryDirectory(prefix="scratch-", dir=ctx.out / ".scratch") as scratch:
            grade_prepared(submission, row, ctx, Path(scratch))
    except Exception as err:  # one bad submission must never stop the course
        row.fail(f"grade_all could not handle it: {type(err).__name__}: {err}")
    return row


def grade_prepared(submission, row, ctx, scratch):
    """Grade (or reuse the recorded results of) one submission, filling its row."""
    work, sha = prepare(submission, row, ctx, scratch)
    if work is None:
        return
    texts = write_code(work, ctx.out / "similarity" / "code" / f"{row.student}.json", row)
    marked = [name for name, text in texts.items() if BEGIN in text]
    if marked:
        row.flag(f"{', '.join(marked)}: the reference solution's '{BEGIN}' markers: a copy "
                 "of the staff solution? (see the similarity leads)")
    cached = None if ctx.force else ctx.manifest.lookup(sha)
    if cached is not None:
        results, entry = cached
        row.cached, row.seconds = True, entry.get("seconds")
    else:
        log = ctx.out / "logs" / f"{row.student}.log"
        results, seconds, problem = run_grader(work.source, ctx, log)
        row.seconds = seconds
        if problem == "interrupted":
            row.fail(problem)
            return
        failed = problem or failed_to_grade(results)
        if failed:  # a failure on the grader's side is retried, and counted
            ctx.manifest.add(sha, row.student, seconds, failed)
        else:
            write_json(results, ctx.manifest.results_path(sha))
            ctx.manifest.add(sha, row.student, seconds)
        if problem:
            row.fail(again(problem, ctx.manifest.failures.get(sha, 0)))
            return
    row.results = f"results/{row.student}.json"
    write_json(results, ctx.out / row.results)
    fill_from_results(row, results, ctx.manifest.failures.get(sha, 0))


def write_code(work, path, row):
    """Write the code the similarity report compares (graded name -> code text) to `path`;
    returns it ({} if it cannot be read: the grade still stands)."""
    try:
        texts = uploads.folder_code(work.folder)
    except (OSError, ValueError, RecursionError) as err:
        row.notes.append(f"left out of the similarity report: {type(err).__name__}")
        return {}
    path.write_text(json.dumps(texts), encoding="utf-8")
    return texts


def write_json(data, path):
    """Write JSON atomically (two threads may write the same cached results at once)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.partial")
    partial.write_text(json.dumps(data, indent=2) + "\n")
    partial.replace(path)


MARKER = ".hw4-grade-all"  # marks a folder this script writes (its subfolders are replaced)


def private_dir(path):
    """Create `path` (and its parents) if needed, readable by its owner only (mode 0700):
    students' uploads, their code and their grades are staged there."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def claim_out(out):
    """Create OUT, or check that an existing one is grade_all's (never replace other files)."""
    out = Path(out)
    if out.exists() and not (out / MARKER).is_file():
        if not out.is_dir() or any(out.iterdir()):
            raise UsageError(f"{out} exists and was not written by grade_all: give a new or "
                             "empty folder as OUT (or the OUT of an earlier grade-all run)")
    private_dir(out)
    (out / MARKER).write_text("written by staff/course/grade_all.py\n")


def fresh_dirs(out):
    """
    results/, similarity/ and the scratch folders (left by a killed run) are rebuilt on every
    run; the cache is kept. Every folder is private (private_dir).
    """
    leftovers = [out / "results", out / "similarity", out / ".scratch",
                 *(out / ".cache").glob("partial-*")]
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)
    for name in ("results", "logs", "similarity", "similarity/code", ".scratch", ".cache"):
        private_dir(out / name)


def grade_course(submissions, ctx, jobs, progress=True):
    """Grade every submission, `jobs` at a time. Returns the Rows, sorted by student."""
    slugs = assign_slugs(submissions)
    rows, failures = [], 0
    pool = ThreadPoolExecutor(max_workers=jobs)
    futures = [pool.submit(grade_one, s, slugs[s.student], ctx) for s in submissions]
    bar = tqdm(total=len(futures), desc="grading", unit="submission", disable=not progress,
               file=sys.stderr)
    try:
        for future in as_completed(futures):
            row = future.result()
            rows.append(row)
            failures += bool(row.failed)
            bar.set_postfix(failed=failures, cached=sum(r.cached for r in rows), refresh=False)
            bar.update()
    except KeyboardInterrupt:
        ctx.stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        for process in list(ctx.running):
            kill_group(process)
        raise
    finally:
        bar.close()
    pool.shutdown()
    return sorted(rows, key=lambda r: r.student)


def apply_roster(rows, roster):
    """
    Fill Canvas's identity columns from a gradebook export (matched by Canvas ID, else by
    SIS Login ID = the file's name); students without a submission get a row.
    """
    by_id = {r["ID"]: r for r in roster if r["ID"]}
    by_login = {r["SIS Login ID"].lower(): r for r in roster if r["SIS Login ID"]}
    seen = set()
    for row in rows:
        record = by_id.get(row.user_id) if row.user_id else by_login.get(row.name.lower())
        if record is None:
            if row.source != "Gradescope":
                row.flag("not in the roster")
            continue
        seen.add(id(record))
        row.name, row.user_id = record["Student"], record["ID"]
        row.sis_user_id, row.sis_login = record["SIS User ID"], record["SIS Login ID"]
        row.section = record["Section"]
    for record in roster:
        if id(record) not in seen:
            rows.append(Row(student=slug(record["SIS Login ID"] or record["ID"]),
                            name=record["Student"], user_id=record["ID"],
                            sis_user_id=record["SIS User ID"], sis_login=record["SIS Login ID"],
                            section=record["Section"], failed="no submission"))
    return rows


def flag_shared_ids(rows):
    """Flag every row whose Canvas ID is another row's too (two uploads matched to one roster
    student, `jdoe.zip` and `JDoe.zip`; a student renamed during the term): Canvas would keep
    whichever row comes last, so none of them is imported until a person picks one."""
    by_id = {}
    for row in rows:
        if row.user_id:
            by_id.setdefault(row.user_id, []).append(row)
    for user_id, shared in by_id.items():
        if len(shared) > 1:
            files = ", ".join(row.file or row.student for row in shared)
            for row in shared:
                row.flag(f"Canvas id {user_id} has {len(shared)} rows ({files}): keep the "
                         "one that is this student's")
    return rows


def run_similarity(out, threshold, quiet, timeout=SIMILARITY_TIMEOUT, previous=None):
    """
    The similarity report over OUT/similarity/code, in its own process (python -m
    staff.course.similarity) with PYTHONHASHSEED fixed and a time limit. Returns a
    course_summary.Leads (its `problem` says why there are no leads, if there are none).
    """
    folder = (out / "similarity").resolve()
    command = [sys.executable, "-m", "staff.course.similarity", str(folder), "--threshold",
               str(threshold)]
    if previous is not None:
        command += ["--previous-terms", str(Path(previous).resolve())]
    env = dict(os.environ, PYTHONHASHSEED=HASH_SEED)
    start = time.monotonic()
    log = folder / "similarity.log"
    problem = ""
    with open(log, "wb") as handle:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                   stdout=handle, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(process)
            problem = (f"the similarity report was stopped after {timeout:g} s "
                       "(--similarity-timeout); rerun with a longer limit")
        except KeyboardInterrupt:
            kill_group(process)
            raise
    seconds = time.monotonic() - start
    leads = None if problem else load_leads(folder / course_summary.LEADS_FILE)
    if not problem and (code != 0 or leads is None):
        problem = f"the similarity report failed (exit code {code}): {last_line(log)}"
    if problem:
        if not quiet:
            print(f"similarity: NO LEADS: {problem}", file=sys.stderr)
        return course_summary.Leads([], 0, threshold, seconds, problem)
    leads.seconds = seconds
    for pair in leads.pairs:
        pair.report = f"similarity/{pair.report}" if pair.report else ""
    if not quiet:
        print(f"similarity: {leads.estimated} pair(s) of files above {threshold:.0%}, "
              f"{len(leads.pairs)} listed ({seconds:.1f} s)")
    return leads


def load_leads(path):
    """leads.json (similarity.py) as a course_summary.Leads (None if unreadable)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        pairs = [course_summary.Pair(**pair) for pair in data["pairs"]]
        return course_summary.Leads(pairs, int(data["estimated"]), float(data["threshold"]),
                                    0.0, previous=int(data["previous"]),
                                    notes=[str(n) for n in data["problems"]])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def grader_command(grader):
    """The command that grades one submission: ours as a module, a test's stand-in as a script."""
    if grader.resolve() == GRADER:
        return [sys.executable, "-m", "staff.grading.grade"]
    return [sys.executable, str(grader)]


def grade_folder(args, out):
    """Grade SUBMISSIONS into OUT. Returns (rows, Leads or None)."""
    folder, problems = inbox(args.submissions, out)
    submissions = canvas_names.group_submissions(folder, checker.REQUIRED_FILES)
    if not submissions:
        raise UsageError(f"no submissions found in {args.submissions}")
    fresh_dirs(out)
    ctx = Context(out=out, grader=args.grader, timeout=args.timeout, force=args.force,
                  manifest=Manifest(out, grader_fingerprint()), unpack_problems=problems)
    if args.sandbox != "auto":
        ctx.options = ["--sandbox", args.sandbox]
    if args.sandbox == "none":
        print(f"grade_all: WARNING: --sandbox none: every submission will be {NO_ISOLATION}",
              file=sys.stderr)
    start = time.monotonic()
    rows = grade_course(submissions, ctx, args.jobs, progress=not args.quiet)
    if not args.quiet:
        print(f"graded {len(rows)} submission(s) in {time.monotonic() - start:.1f} s "
              f"({sum(r.cached for r in rows)} from an earlier run, "
              f"{sum(bool(r.failed) for r in rows)} failed to grade, "
              f"{sum(bool(r.needs_person) for r in rows)} need a person)")
    leads = None
    if not args.no_similarity:
        leads = run_similarity(out, args.threshold, args.quiet, args.similarity_timeout,
                               args.previous_terms)
    return rows, leads


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog=module_prog(__spec__),
        description="Grade every submission of the course.")
    parser.add_argument("submissions", type=Path, nargs="?",
                        help="folder of submissions, or Canvas's Download Submissions zip")
    parser.add_argument("--out", type=Path, default=Path("grades"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at once (default: one per core)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT,
                        help="seconds before one submission's grading is stopped")
    parser.add_argument("--force", action="store_true", help="regrade even unchanged uploads")
    parser.add_argument("--sandbox", choices=SANDBOX_MODES, default="auto",
                        help="how grade.py isolates student code (default: the best available)")
    parser.add_argument("--assignment", default=course_summary.DEFAULT_ASSIGNMENT,
                        help="the score column: Canvas's 'Name (id)' header of the assignment, "
                             "e.g. 'Homework 4 (12345)' (the id is the number at the end of "
                             "the assignment's Canvas URL)")
    parser.add_argument("--assignment-id", type=int,
                        help="Canvas's id of the assignment (appended to --assignment)")
    parser.add_argument("--include-flagged", action="store_true",
                        help="also put the flagged rows that have a score into "
                             "canvas_import.csv (never those that failed to grade)")
    parser.add_argument("--roster", type=Path,
                        help="Canvas gradebook export: names, SIS ids and sections")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="similarity above which a pair is listed (0-1)")
    parser.add_argument("--no-similarity", action="store_true")
    parser.add_argument("--similarity-timeout", type=float, default=SIMILARITY_TIMEOUT,
                        help="seconds before the similarity report is stopped")
    parser.add_argument("--previous-terms", type=Path,
                        help="folder of previous terms' submissions (zips, or an earlier "
                             "OUT/similarity/code) to compare every submission with")
    parser.add_argument("--gradescope-csv", type=Path,
                        help="Gradescope 'Download Grades' CSV to add to the gradebook/summary")
    parser.add_argument("--grader", type=Path, default=GRADER,
                        help="the per-submission grader (default staff/grading/grade.py; "
                             "for tests)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or messages")
    args = parser.parse_args(argv)
    if args.submissions is None and args.gradescope_csv is None:
        parser.error("give SUBMISSIONS, --gradescope-csv FILE, or both")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.previous_terms is not None and not args.previous_terms.is_dir():
        parser.error(f"--previous-terms {args.previous_terms}: not a folder")
    try:
        args.assignment = course_summary.assignment_column(args.assignment, args.assignment_id)
    except ValueError as err:
        parser.error(str(err))
    return args


def assignment_from_roster(args):
    """The roster's 'Name (id)' column for --assignment when it has no id ("" if none)."""
    if args.roster is None or course_summary.has_assignment_id(args.assignment):
        return ""
    matches = [column for column in course_summary.roster_assignments(args.roster)
               if course_summary.ASSIGNMENT_RE.match(column).group("title") == args.assignment]
    return matches[0] if len(matches) == 1 else ""


def notices(rows, leads, canvas):
    """Warnings for the console and the top of summary.html."""
    found = []
    bare = [r for r in rows if r.sandbox == "none"]
    if bare:
        found.append(f"{len(bare)} submission(s) were {NO_ISOLATION} (the Sandbox column "
                     "says which); grade them again where bubblewrap or a spare uid works")
    if canvas is not None and not course_summary.has_assignment_id(canvas.column):
        found.append(f"canvas_import.csv's score column '{canvas.column}' has no Canvas "
                     "assignment id: Canvas would create a new assignment. Give "
                     "ASSIGNMENT=\"Homework 4 (12345)\" (or --assignment-id 12345): the id "
                     "is the number at the end of the assignment's Canvas URL")
    if leads is not None and leads.problem:
        found.append(f"no similarity leads: {leads.problem}")
    return found


def write_outputs(rows, leads, args, out):
    canvas = course_summary.write_gradebooks(rows, out, args.assignment, args.include_flagged)
    sources = [str(p) for p in (args.submissions, args.gradescope_csv) if p]
    warnings = notices(rows, leads, canvas)
    course_summary.write_summary(rows, out / "summary.html", TITLE, leads,
                                 "from " + " and ".join(sources), canvas, warnings)
    for warning in warnings:
        print(f"grade_all: WARNING: {warning}", file=sys.stderr)
    if args.quiet:
        return
    print(f"canvas_import.csv: {canvas.exported} row(s) under '{canvas.column}'; "
          f"{len(canvas.left_out)} left out:")
    for row, reason in canvas.left_out:
        print(f"  {row.name}: {reason[:160]}")
    print(f"wrote {out / 'gradebook.csv'}, {out / 'canvas_import.csv'}, "
          f"{out / 'summary.html'}")


def main(argv=None):
    args = parse_args(argv)
    out = args.out
    try:
        claim_out(out)
        column = assignment_from_roster(args)
        if column:
            args.assignment = column
            if not args.quiet:
                print(f"score column: '{column}', the roster's column of that assignment")
        rows, leads = grade_folder(args, out) if args.submissions else ([], None)
        if args.gradescope_csv:
            rows = course_summary.merge_rows(
                rows, course_summary.read_gradescope_csv(args.gradescope_csv))
        if args.roster:
            rows = apply_roster(rows, course_summary.read_roster(args.roster))
        rows = flag_shared_ids(rows)
    except (UsageError, ValueError, OSError, zipfile.BadZipFile) as err:
        print(f"grade_all: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: the finished submissions are recorded in "
              f"{out / 'manifest.jsonl'}; run the same command again to resume",
              file=sys.stderr)
        return 130
    write_outputs(rows, leads, args, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
