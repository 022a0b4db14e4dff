"""Check a homework submission zip before it is uploaded or graded.

    python -m handin.check name.zip [--json]

The zip must hold exactly one folder (normally the uniqname) with the six graded files
directly inside it. The archive is inspected before anything is extracted, and files are
only ever extracted into a fresh temporary folder.

Exit codes:
    0  the submission is fine (warnings, e.g. extra files, may still be printed)
    1  the submission is incomplete or broken: missing files, a .py file that does not
       parse, a notebook that is not valid UTF-8 JSON, is not the starter notebook (its
       cells are matched by id) or was run out of order, files not in one folder
    2  usage error: bad arguments, or the zip file does not exist
    3  the archive was rejected: not a readable zip, or unsafe (absolute or `..` paths,
       symlinks, encrypted entries, too many entries, paths too deep or long, zip bomb), or
       a file built to break tools (a source nested too deeply or too large to parse, a
       notebook nested too deeply)

Notebooks are checked as the grader reads them (handin/notebooks.py): what would cost
points is a warning, what would make the grader give 0 and call a person is an error. A
notebook without outputs is a warning (its points will be 0), so that the code can be
checked before the notebooks are run. So is a required function that still raises
NotImplementedError as the starter's stub does.
"""

import argparse
import ast
import difflib
import json
import shutil
import stat
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from handin import manifest, module_prog
from handin.manifest import GRADED_FILES
from handin.notebooks import code_cells, malformed_notebook, notebook_findings, read_notebook

REQUIRED_FILES = tuple(GRADED_FILES)

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_REJECTED = 0, 1, 2, 3

MAX_ENTRIES = 200  # a submission has 6 files; 200 leaves room for junk but not for abuse
MAX_TOTAL_BYTES = 200 * 2**20  # uncompressed; notebooks with plots are a few MB
MAX_RATIO = 100  # uncompressed / compressed, for the archive and for each large entry
RATIO_MIN_BYTES = 2**20  # entries smaller than this are never called bombs
MAX_PATH_DEPTH = 16  # folders in an entry's path; deeper ones only serve to break tools
MAX_PATH_CHARS = 512
MAX_SOURCE_BYTES = 2**20  # of a .py file; the reference files are under 30 KB

IGNORED_DIRS = ("__MACOSX",)
IGNORED_NAMES = (".DS_Store", "Thumbs.db", "desktop.ini")


class RejectedArchive(Exception):
    """The archive is unreadable or unsafe; nothing from it may be extracted."""


@dataclass
class Report:
    """What the checker found. `exit_code` is one of the EXIT_* codes."""

    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    rejected: bool = False
    folder: str | None = None
    files: dict = field(default_factory=dict)  # required name -> path inside the zip

    @property
    def exit_code(self):
        if self.rejected:
            return EXIT_REJECTED
        return EXIT_INVALID if self.errors else EXIT_OK

    def as_dict(self):
        return {
            "ok": self.exit_code == EXIT_OK,
            "exit_code": self.exit_code,
            "rejected": self.rejected,
            "folder": self.folder,
            "files": self.files,
            "errors": self.errors,
            "warnings": self.warnings,
        }


def entry_parts(name):
    """Split a zip entry name into path parts, treating backslashes as separators."""
    return [part for part in name.replace("\\", "/").split("/") if part not in ("", ".")]


def shown(name, limit=80):
    """A file name for messages: repr, cut to `limit` characters."""
    text = repr(name)
    return text if len(text) <= limit else text[:limit] + f"... ({len(name)} characters)"


def path_limit_reason(name):
    """Returns why a zip entry name is too long or too deep to extract safely, or None."""
    if len(name) > MAX_PATH_CHARS:
        return f"a path of {len(name)} characters (at most {MAX_PATH_CHARS} are allowed)"
    depth = len(entry_parts(name))
    if depth > MAX_PATH_DEPTH:
        return f"a path {depth} folders deep (at most {MAX_PATH_DEPTH} are allowed)"
    return None


def unsafe_path_reason(name):
    """Returns why a zip entry name could escape the extraction folder, or None."""
    normalized = name.replace("\\", "/")
    if normalized.startswith("/"):
        return "absolute path"
    if len(normalized) >= 2 and normalized[1] == ":":
        return "absolute path with a drive letter"
    if ".." in entry_parts(name):
        return "'..' in the path"
    if "\x00" in name:
        return "NUL byte in the name"
    return None


def entry_file_type(info):
    """Returns the unix file type bits stored for a zip entry (0 if none were stored)."""
    return stat.S_IFMT(info.external_attr >> 16)


def is_ignored(name):
    """True for macOS/Windows metadata that zip tools add (never checked or extracted)."""
    parts = entry_parts(name)
    if not parts:
        return True
    if parts[0] in IGNORED_DIRS:
        return True
    return parts[-1] in IGNORED_NAMES or parts[-1].startswith("._")


def safety_problems(infos, *, max_entries, max_total_bytes, max_ratio):
    """Returns a list of reasons to reject the archive (empty if it is safe)."""
    problems = []
    if len(infos) > max_entries:
        return [f"the zip has {len(infos)} entries; at most {max_entries} are allowed"]
    for info in infos:
        name = shown(info.filename)
        reason = unsafe_path_reason(info.filename)
        if reason:
            problems.append(f"{name}: {reason} (zip-slip)")
        reason = path_limit_reason(info.filename)
        if reason:
            problems.append(f"{name}: {reason}")
        file_type = entry_file_type(info)
        if file_type == stat.S_IFLNK:
            problems.append(f"{name} is a symbolic link; zip the file itself")
        elif file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
            problems.append(f"{name} is not a regular file or folder")
        if info.flag_bits & 0x1:
            problems.append(f"{name} is encrypted; submit a zip without a password")
        if info.file_size >= RATIO_MIN_BYTES and \
                info.file_size > max_ratio * max(info.compress_size, 1):
            problems.append(
                f"{name} expands from {info.compress_size} to {info.file_size} "
                f"bytes (ratio over {max_ratio}): looks like a zip bomb"
            )
    total = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    if total > max_total_bytes:
        problems.append(
            f"the files add up to {total} bytes uncompressed; at most {max_total_bytes} "
            "are allowed (remove data sets, checkpoints and large images)"
        )
    elif total >= RATIO_MIN_BYTES and total > max_ratio * max(packed, 1):
        problems.append(
            f"the zip expands from {packed} to {total} bytes (ratio over {max_ratio}): "
            "looks like a zip bomb"
        )
    return problems


def open_archive(path):
    """Open a zip file; raises RejectedArchive if it is not a readable zip."""
    try:
        archive = zipfile.ZipFile(path)
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as err:
        raise RejectedArchive(f"{path} is not a readable zip file ({err})") from err
    return archive, infos


def check_archive_safety(archive, infos, limits):
    """Raise RejectedArchive listing every unsafe entry."""
    problems = safety_problems(infos, **limits)
    if problems:
        raise RejectedArchive("unsafe archive: " + "; ".join(problems))
    bad = None
    try:
        bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as err:
        raise RejectedArchive(f"the zip is corrupt ({err})") from err
    if bad is not None:
        raise RejectedArchive(f"the zip is corrupt: {bad!r} fails its CRC check")


DEFAULT_LIMITS = {
    "max_entries": MAX_ENTRIES,
    "max_total_bytes": MAX_TOTAL_BYTES,
    "max_ratio": MAX_RATIO,
}


def extract_safely(archive, infos, dest, max_total_bytes=MAX_TOTAL_BYTES):
    """
    Extract the regular files of a checked archive under `dest` (ignored names skipped).
    Sizes are counted while reading, so a lying header cannot write more than the limit.

    Returns:
    - extracted: list of relative POSIX paths written
    """
    dest = Path(dest).resolve()
    written, extracted = 0, []
    for info in infos:
        if info.is_dir() or is_ignored(info.filename):
            continue
        relative = PurePosixPath(*entry_parts(info.filename))
        target = (dest / relative).resolve()
        if dest not in target.parents:  # belt and braces: checked already
            raise RejectedArchive(f"{info.filename!r} would be extracted outside the folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as src, open(target, "wb") as out:
            while chunk := src.read(2**16):
                written += len(chunk)
                if written > max_total_bytes:
                    raise RejectedArchive("the zip expands beyond the size limit while extracting")
                out.write(chunk)
        extracted.append(str(relative))
    return extracted


def top_level_folder(names, report):
    """
    Find the single top-level folder of the (non-ignored) entry names.

    Returns:
    - the folder name, or None (the reason is added to report.errors)
    """
    tops = sorted({entry_parts(name)[0] for name in names})
    loose = sorted(name for name in names if len(entry_parts(name)) == 1)
    if not tops:
        report.errors.append("the zip is empty; it must hold one folder with your files")
        return None
    if loose:
        report.errors.append(
            f"files at the top level of the zip: {', '.join(loose)}; put all files in one "
            "folder named after your uniqname (make submission UNIQNAME=name does this)"
        )
        return None
    if len(tops) > 1:
        report.errors.append(
            f"the zip has {len(tops)} top-level folders ({', '.join(tops)}); it must have "
            "exactly one, named after your uniqname"
        )
        return None
    return tops[0]


def similar_names(wanted, paths):
    """Paths whose file name looks like `wanted` (same name elsewhere, other case, copies)."""
    stem = wanted.rsplit(".", 1)[0].lower()
    hits = []
    for path in paths:
        name = PurePosixPath(path).name
        lowered = name.lower()
        close = difflib.SequenceMatcher(None, lowered, wanted.lower()).ratio() >= 0.75
        if lowered == wanted.lower() or lowered.startswith(stem) or close:
            hits.append(path)
    return sorted(hits)


def locate_required(folder, paths, report):
    """Fill report.files with required name -> path; report missing files with hints."""
    for wanted in REQUIRED_FILES:
        expected = f"{folder}/{wanted}"
        if expected in paths:
            report.files[wanted] = expected
            continue
        hints = similar_names(wanted, [p for p in paths if p != expected])
        message = f"missing {wanted} (expected at {expected})"
        if hints:
            message += f"; similarly named: {', '.join(hints)} (rename or move it)"
        report.errors.append(message)
    expected_paths = set(report.files.values())
    for path in sorted(paths):
        if path not in expected_paths:
            report.warnings.append(f"extra file {path} will be ignored by the grader")


def parse_problem(source, name):
    """
    Returns a tuple of:
    - problem: why a .py source (bytes or str) does not parse, or None
    - malformed: True when it is built to break tools (too large or too deeply nested to
      parse), which rejects the archive
    """
    if len(source) > MAX_SOURCE_BYTES:
        return f"{name} is {len(source)} bytes long; at most {MAX_SOURCE_BYTES} are allowed", True
    try:
        ast.parse(source, filename=name)
    except SyntaxError as err:  # also invalid UTF-8 and nesting the tokenizer refuses
        return f"{name} does not parse: {err.msg} (line {err.lineno})", False
    except (ValueError, OverflowError) as err:
        return f"{name} does not parse: {err}", False
    except (RecursionError, MemoryError):
        return f"{name} is nested too deeply to parse (an expression or block thousands of " \
            "levels deep)", True
    return None, False


def python_problem(source, name):
    """Returns why a .py source does not parse (or is too large or deep to parse), or None."""
    return parse_problem(source, name)[0]


def notebook_run_stats(nb):
    """
    Returns a tuple (cells, executed, with_outputs): non-empty code cells, how many have an
    execution count, how many have outputs.
    """
    cells = code_cells(nb)
    executed = sum(1 for cell in cells if cell.get("execution_count") is not None)
    with_outputs = sum(1 for cell in cells if cell.get("outputs"))
    return len(cells), executed, with_outputs


def unrun_notebook_warning(name):
    """What a notebook without outputs costs: the code is still graded, the notebook not."""
    base = PurePosixPath(name).name
    points = sum(t.points for t in manifest.NOTEBOOK_TESTS if t.file == base)
    return (f"{name} has no outputs: its {points:g} points will be 0 until you run all its "
            "cells (Runtime > Run all in Colab), save it with its outputs and submit again "
            "(the code files are graded as they are)")


def unwritten_functions(path, name):
    """The functions the homework requires in the graded .py file `name` (at `path`) that
    still raise NotImplementedError as the starter's stubs do: their tests score 0."""
    # imported here: the grader (findings=False) never calls this, and the autograder zip
    # ships handin/check.py without the write-up's modules
    from handin.writeup_questions import required_functions
    from handin.writeup_read import python_definitions

    found, _ = python_definitions(Path(path))
    return [f for f in required_functions().get(name, ()) if f in found and found[f].is_stub]


def unwritten_warning(name, functions):
    return (f"{name}: not written yet (still raising NotImplementedError as in the starter): "
            f"{', '.join(functions)}; their tests score 0 until you write them")


def check_notebook(text, name, report, findings=True):
    """
    Add errors/warnings about one notebook's validity and outputs; with `findings`, also what
    the grader will hold against it (the grader itself reports that in its own entries).
    """
    malformed = malformed_notebook(text, name)
    if malformed:
        report.rejected = True
        report.errors.append(malformed)
        return
    nb, problem = read_notebook(text, name)
    if problem:
        report.errors.append(problem)
        return
    if notebook_run_stats(nb)[2] == 0:
        report.warnings.append(unrun_notebook_warning(name))
        return
    if not findings:
        return
    errors, warnings = notebook_findings(nb, PurePosixPath(name).name, name)
    report.errors.extend(errors)
    report.warnings.extend(warnings)


def check_contents(folder, report, findings=True):
    """Check the extracted required files under `folder` (a Path)."""
    for wanted, inside in report.files.items():
        data = (folder.parent / inside).read_bytes()
        if wanted.endswith(".py"):
            problem, malformed = parse_problem(data, inside)
            report.rejected = report.rejected or malformed
            if problem:
                report.errors.append(problem)
            unwritten = [] if problem or not findings else \
                unwritten_functions(folder.parent / inside, wanted)
            if unwritten:
                report.warnings.append(unwritten_warning(inside, unwritten))
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            report.errors.append(f"{inside} is not UTF-8 text (byte {data[err.start]:#04x} at "
                                 f"position {err.start}); save it from Jupyter or Colab again")
            continue
        check_notebook(text, inside, report, findings)


def inspect_archive(zip_path, limits=None):
    """
    Check an archive's safety and layout without extracting it.

    Returns a tuple of:
    - report: a Report (rejected / errors filled in)
    - archive, infos: the open ZipFile and its entries (None, None if rejected)
    """
    limits = dict(DEFAULT_LIMITS, **(limits or {}))
    report = Report()
    try:
        archive, infos = open_archive(zip_path)
    except RejectedArchive as err:
        report.rejected = True
        report.errors.append(str(err))
        return report, None, None
    try:
        check_archive_safety(archive, infos, limits)
    except RejectedArchive as err:
        archive.close()
        report.rejected = True
        report.errors.append(str(err))
        return report, None, None
    names = [info.filename for info in infos if not info.is_dir() and not is_ignored(info.filename)]
    paths = {"/".join(entry_parts(name)) for name in names}
    report.folder = top_level_folder(paths, report)
    if report.folder is not None:
        locate_required(report.folder, paths, report)
    return report, archive, infos


def extract_submission(zip_path, dest, limits=None, findings=False):
    """
    Check `zip_path`, extract it under `dest` (a fresh folder the caller owns) and check the
    required files. Used by the grader; `findings`: see check_notebook.

    Returns:
    - report: a Report; if not rejected and a folder was found, files are under
      dest / report.folder
    """
    limits = dict(DEFAULT_LIMITS, **(limits or {}))
    report, archive, infos = inspect_archive(zip_path, limits)
    if archive is None:
        return report
    with archive:
        try:
            extract_safely(archive, infos, dest, limits["max_total_bytes"])
        except (RejectedArchive, zipfile.BadZipFile, OSError, EOFError) as err:
            report.rejected = True
            report.errors.append(f"could not extract: {err}")
            return report
    if report.folder is not None:
        try:
            check_contents(Path(dest) / report.folder, report, findings)
        except (RecursionError, MemoryError) as err:  # a file built to break the parsers
            report.rejected = True
            report.errors.append(f"the files could not be checked ({type(err).__name__}): "
                                 "the archive holds a file built to break tools")
    return report


def check_submission(zip_path, limits=None):
    """Full check of a submission zip, extracting only into a temporary folder."""
    tmp = tempfile.mkdtemp(prefix="hw4-check-")
    try:
        return extract_submission(zip_path, tmp, limits, findings=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def print_report(report, zip_path):
    """Human-readable summary on stdout."""
    for error in report.errors:
        print(f"ERROR: {error}")
    for warning in report.warnings:
        print(f"WARNING: {warning}")
    if report.rejected:
        print(f"REJECTED: {zip_path} is not a safe, readable zip (exit {EXIT_REJECTED})")
    elif report.errors:
        print(f"NOT OK: fix the errors above in {zip_path} (exit {EXIT_INVALID})")
    else:
        print(f"OK: {zip_path} holds {report.folder}/ with all {len(REQUIRED_FILES)} files")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog=module_prog(__spec__),
        description="Check a homework submission zip (layout, required files, notebook "
        "outputs, archive safety). Exit codes: 0 ok, 1 invalid submission, 2 usage error, "
        "3 rejected archive.",
    )
    parser.add_argument("zip", type=Path, help="the submission zip, e.g. uniqname.zip")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if not args.zip.is_file():
        message = f"{args.zip} not found (build it with: make submission UNIQNAME=name)"
        if args.json:
            print(json.dumps({"ok": False, "exit_code": EXIT_USAGE, "errors": [message]}))
        else:
            print(f"ERROR: {message}", file=sys.stderr)
        return EXIT_USAGE
    report = check_submission(args.zip)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print_report(report, args.zip)
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
