"""Build the Gradescope autograder upload: `make autograder`.

    python -m staff.grading.make_autograder [--out dist/autograder.zip]

The zip has setup.sh and run_autograder at its root (Gradescope's contract), the course's
requirements.txt and requirements-grader.txt (setup.sh installs both), the grader
(staff/grading/grade.py and the modules it uses, from staff/ and handin/) and the reference
solution (backprop/*.py, neuralnet/*.py) that the student files are graded against. setup.sh makes
/autograder/source readable by root only, and student code runs sandboxed
(staff/grading/sandbox.py), so no submission can read the reference. Upload it under
"Configure Autograder" with the Ubuntu 24.04 base image.
"""

import argparse
import sys
import zipfile
from pathlib import Path

from handin import module_prog

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = Path(__file__).resolve().parent / "autograder"
ROOT_FILES = {  # name in the zip -> source path
    "setup.sh": TEMPLATES / "setup.sh",
    "run_autograder": TEMPLATES / "run_autograder",
    "requirements.txt": ROOT / "requirements.txt",
    "requirements-grader.txt": TEMPLATES / "requirements-grader.txt",
}
GRADER_FILES = ("staff/__init__.py", "staff/grading/__init__.py", "staff/grading/grade.py",
                "staff/grading/grading_worker.py", "staff/grading/grading_tests.py",
                "staff/grading/grading_channel.py", "staff/grading/feedback.py",
                "staff/grading/reference_run.py", "staff/grading/sandbox.py",
                "staff/grading/student_view.py", "staff/grading/model_check.py",
                "staff/grading/model_job.py",
                "staff/course/__init__.py", "staff/course/uploads.py",
                "staff/course/canvas_names.py",
                "handin/__init__.py", "handin/check.py", "handin/notebooks.py",
                "handin/cell_code.py", "handin/manifest.py")
REFERENCE_FOLDERS = ("backprop", "neuralnet")
EXECUTABLE = ("setup.sh", "run_autograder")
FIXED_DATE = (2020, 1, 1, 0, 0, 0)


def zip_contents(root=ROOT):
    """dict name in the zip -> source Path, in a stable order."""
    contents = dict(ROOT_FILES)
    for relative in GRADER_FILES:
        contents[relative] = root / relative
    for folder in REFERENCE_FOLDERS:
        for path in sorted((root / folder).glob("*.py")):
            contents[f"{folder}/{path.name}"] = path
    missing = [str(path) for path in contents.values() if not path.is_file()]
    if missing:
        raise SystemExit(f"error: cannot build the autograder, missing: {', '.join(missing)}")
    return contents


def build(out, root=ROOT):
    """Write the autograder zip to `out` (replacing it). Returns the names written."""
    contents = zip_contents(root)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in contents.items():
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            mode = 0o755 if name in EXECUTABLE else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    partial.replace(out)
    return list(contents)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog=module_prog(__spec__),
        description="Build the Gradescope autograder zip.")
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "autograder.zip")
    args = parser.parse_args(argv)
    names = build(args.out)
    print(f"wrote {args.out} ({len(names)} files): upload it in Gradescope's "
          "'Configure Autograder' page, base image Ubuntu 24.04")
    return 0


if __name__ == "__main__":
    sys.exit(main())
