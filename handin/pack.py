"""Package the graded files into the zip to upload: `make submission UNIQNAME=name`.

    python -m handin.pack UNIQNAME [--root .] [--out-dir .] [--force]

Writes UNIQNAME.zip holding one folder UNIQNAME/ with exactly the six graded files:
backprop/functions.py, neuralnet/{layers,train,two_layer_net}.py, part1.ipynb and
part2.ipynb. Refuses, saying why, when a file is missing, a .py file does not parse or a
notebook is not valid, and never replaces an existing zip unless --force is given. A
notebook without outputs (not run yet) goes in with a loud warning: its points will be 0
until it is run and saved, but the zip can be checked (make check) for the code. The
finished zip is checked with handin.check.

Exit codes: 0 written, 1 refused (missing file, notebook without outputs, zip exists,
the check failed), 2 usage error (bad uniqname).
"""

import argparse
import re
import sys
import time
import zipfile
from pathlib import Path

from handin import check as checker
from handin import module_prog
from handin.manifest import CODE_FILES, GRADED_FILES

ROOT = Path(__file__).resolve().parents[1]

UNIQNAME_RE = re.compile(r"^[a-z][a-z0-9]{0,31}$")
ZIP_EPOCH = 315532800  # 1980-01-01: the earliest date a zip entry can hold


class Refused(Exception):
    """The zip cannot be built; the message says why and what to do."""


def check_uniqname(name):
    """Returns the uniqname, or raises argparse.ArgumentTypeError explaining the format."""
    if not UNIQNAME_RE.match(name or ""):
        raise argparse.ArgumentTypeError(
            f"uniqname {name!r} is not valid: use your lowercase uniqname (letters and digits, "
            "starting with a letter), e.g. make submission UNIQNAME=jdoe"
        )
    return name


def collect_files(root):
    """
    Find the graded files under `root` and check them.

    Returns:
    - files: dict name in the zip -> Path
    """
    files, problems = {}, []
    for name, relative in GRADED_FILES.items():
        path = root / relative
        if not path.is_file():
            problems.append(f"{relative} not found under {root}")
            continue
        files[name] = path
    for name, path in files.items():
        if name.endswith(".ipynb"):
            problems.extend(notebook_problems(path, name))
        else:
            problem = checker.python_problem(path.read_bytes(), str(path))
            if problem:
                problems.append(problem)
    if problems:
        raise Refused("; ".join(problems))
    return files


def notebook_problems(path, name):
    """Why a notebook cannot be submitted (invalid, or not run), as a list of messages."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return [f"{path} is not UTF-8 text: save it from Jupyter or Colab again"]
    nb, problem = checker.read_notebook(text, str(path))
    if problem:
        return [problem]
    cells, executed, with_outputs = checker.notebook_run_stats(nb)
    if with_outputs == 0:
        return []  # zipped anyway: main() warns loudly (unrun_notebooks)
    if executed < cells:
        print(f"WARNING: {name}: {cells - executed} of {cells} code cells were not run",
              file=sys.stderr)
    return []


def unrun_notebooks(root):
    """The graded notebooks under `root` that have no outputs (not run, or not saved)."""
    unrun = []
    for name, relative in GRADED_FILES.items():
        if name.endswith(".ipynb"):
            nb, problem = checker.read_notebook((root / relative).read_text(encoding="utf-8"),
                                                name)
            if problem is None and checker.notebook_run_stats(nb)[2] == 0:
                unrun.append(name)
    return unrun


def loud_warning(lines):
    """`lines` framed so that they stand out at the end of the output."""
    bar = "!" * 78
    return "\n".join([bar, *lines, bar])


def zip_date(path):
    """The file's modification time as a zip entry's date: grade-all tells a final zip from
    a draft by its newest entry, and the same unchanged files still give the same zip."""
    return time.localtime(max(path.stat().st_mtime, ZIP_EPOCH))[:6]


def write_zip(files, uniqname, zip_path):
    """Write the zip (to a temporary name first, so a failure leaves no half-written zip)."""
    partial = zip_path.with_name(zip_path.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{uniqname}/{name}", date_time=zip_date(files[name]))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name].read_bytes())
    partial.replace(zip_path)


def build_submission(uniqname, root=ROOT, out_dir=Path("."), force=False):
    """
    Build and check out_dir/UNIQNAME.zip.

    Returns:
    - zip_path: the written zip
    """
    zip_path = Path(out_dir) / f"{uniqname}.zip"
    if zip_path.exists() and not force:
        raise Refused(
            f"{zip_path} already exists; delete it or rerun with --force "
            "(make submission UNIQNAME=name FORCE=1) to replace it"
        )
    files = collect_files(Path(root))
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    write_zip(files, uniqname, zip_path)
    report = checker.check_submission(zip_path)
    if report.exit_code != checker.EXIT_OK:
        zip_path.unlink()
        raise Refused(f"{zip_path} fails the check (removed it): {'; '.join(report.errors)}")
    return zip_path


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog=module_prog(__spec__),
        description="Zip the graded files for upload.")
    parser.add_argument("uniqname", type=check_uniqname, help="your uniqname, e.g. jdoe")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="folder holding backprop/, neuralnet/ and the notebooks")
    parser.add_argument("--out-dir", type=Path, default=Path("."),
                        help="where to write UNIQNAME.zip (default: current folder)")
    parser.add_argument("--force", action="store_true", help="replace an existing zip")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        zip_path = build_submission(args.uniqname, args.root, args.out_dir, args.force)
    except Refused as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    print(f"wrote {zip_path}: {args.uniqname}/ with {', '.join(sorted(GRADED_FILES))}")
    unwritten = unwritten_code(Path(args.root))
    unrun = unrun_notebooks(Path(args.root))
    if unwritten or unrun:
        print(loud_warning([f"WARNING: {text}." for text in unwritten] + [
            f"WARNING: {checker.unrun_notebook_warning(name)}." for name in unrun] + [
            f"Check the code now with: make check ZIP={zip_path.name}; finish what is "
            "missing and make the zip again (FORCE=1) before you upload it."]),
            file=sys.stderr)
    else:
        print("upload this zip to Gradescope")
    return 0


def unwritten_code(root):
    """A warning per graded .py file whose required functions still raise
    NotImplementedError (the starter's stubs)."""
    warnings = []
    for name in CODE_FILES:
        unwritten = checker.unwritten_functions(root / GRADED_FILES[name], name)
        if unwritten:
            warnings.append(checker.unwritten_warning(name, unwritten))
    return warnings


if __name__ == "__main__":
    sys.exit(main())
