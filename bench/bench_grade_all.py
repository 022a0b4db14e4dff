"""How long `make grade-all` takes on a generated course: grading and the similarity report.

    flock /tmp/hw4-cpu.lock .venv/bin/python bench/bench_grade_all.py [--count 300] [--jobs 2]
                                                [--out DIR] [--json-file FILE]

Writes a Canvas "Download Submissions" folder of --count students (every one unique, so no
result comes from the cache): the reference solution (25 %, the only ones with the
notebooks' solution code: a group that copied), the starter kit (15 %), one case of the
mistakes corpus each (staff/corpus/mistakes.py, 45 %: mistakes and correct variants), and messy
uploads (15 %: empty file, truncated zip, not a zip, a .rar, zip inside a zip, loose files,
a whole-project zip, two zips of which the draft's name sorts last). A tenth of the students
are late, and a tenth also have an older upload. Then grades them
with staff/course/grade_all.py (JOBS=--jobs, fresh output folder) and times, separately, the
grading (target: 300 in at most 10 min on 2 cores) and the similarity report (target: at
most 1 min). Prints the numbers as a BENCHMARKS.md block.
"""

import argparse
import functools
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from handin.manifest import GRADED_FILES
from staff.corpus import mistakes
from staff.course import grade_all
from staff.starter.notebooks import strip_notebook
from staff.starter.regions import strip_python
from staff.tests.corpus import PY_FILES, part1_text, part2_text

ROOT = Path(__file__).resolve().parents[1]

GRADE_TARGET_S, SIMILARITY_TARGET_S, TARGET_COUNT = 600, 60, 300
BROKEN = ("empty", "truncated", "not_a_zip", "zip_in_zip", "loose", "whole_project", "rar",
          "two_zips")


STUB_RAISE = re.compile(r"^(\s*)raise NotImplementedError\((.*)\)$", re.M)


def filled_stub(match):
    """The least code that replaces a kit stub: its names set to None, or `pass`."""
    names = re.match(r'"([\w, ]+): not defined yet', match.group(2))
    return match.group(1) + (f"{names.group(1).replace(', ', ' = ')} = None" if names else "pass")


@functools.cache
def kit_notebooks():
    """The corpus's run notebooks (outputs as grade.py expects) with the starter kit's code
    in every cell, each stub replaced by the least code that lets it run (so that the
    notebooks are not flagged as outputs without code): the notebooks of a student who wrote
    almost nothing of them, as far as the similarity report is concerned."""
    texts = {}
    for name, text in (("part1.ipynb", part1_text()), ("part2.ipynb", part2_text())):
        kit = json.loads(strip_notebook((ROOT / name).read_text(), name)[0])
        sources = {cell.get("id"): STUB_RAISE.sub(filled_stub, "".join(cell["source"]))
                   for cell in kit["cells"]}
        nb = json.loads(text)
        for cell in nb["cells"]:
            if cell["cell_type"] == "code" and cell.get("id") in sources:
                cell["source"] = sources[cell["id"]]
        texts[name] = json.dumps(nb)
    return texts


@functools.cache
def reference_files():
    return {name: (ROOT / relative).read_text() for name, relative in PY_FILES.items()}


@functools.cache
def starter_files():
    return {name: strip_python(text, PY_FILES[name])[0]
            for name, text in reference_files().items()}


@functools.cache
def corpus_files(index):
    """The reference with case `index` of the mistakes corpus applied."""
    case = mistakes.CASES[index % len(mistakes.CASES)]
    name = Path(case.file).name
    return {**reference_files(), name: mistakes.edited_source(case)}


PATTERN = "RCBSCRCBCSRCCBRSCRCC"  # 20 students: R(eference) 5, S(tarter) 3, C(orpus) 9, B(roken) 3
KINDS = {"R": "reference", "S": "starter", "C": "corpus"}


def kind_of(i):
    """What student i hands in (deterministic, so every run grades the same course)."""
    letter = PATTERN[i % len(PATTERN)]
    if letter != "B":
        return KINDS[letter]
    cycle, slot = divmod(i, len(PATTERN))
    broken_before = cycle * PATTERN.count("B") + PATTERN[:slot].count("B")
    return BROKEN[broken_before % len(BROKEN)]


def files_of(i, kind):
    """dict file name -> text of student i's six files, unique to the student."""
    if kind == "reference":
        files = {**reference_files(), "part1.ipynb": part1_text(), "part2.ipynb": part2_text()}
    else:
        files = {**(starter_files() if kind == "starter" else corpus_files(i)), **kit_notebooks()}
    mark = f"\n# submitted by student{i:04d}\n"
    return {name: text + mark if name.endswith(".py") else text for name, text in files.items()}


def write_zip(path, files, folder="hw4"):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(f"{folder}/{name}", text)
    return path


def write_student(course, i):
    """Write student i's upload(s) into the Canvas folder; returns the kind."""
    kind = kind_of(i)
    late = "LATE_" if i % 10 == 3 else ""
    prefix = f"student{i:04d}_{late}{1000 + i}_{50000 + i}_"
    if i % 10 == 7:  # an older upload, superseded
        write_zip(course / f"student{i:04d}_{1000 + i}_{40000 + i}_hw4.zip",
                  files_of(i, "starter"))
    if kind == "loose":
        for name, text in files_of(i, "corpus").items():
            (course / f"{prefix}{name}").write_text(text)
        return kind
    target = course / f"{prefix}hw4.zip"
    if kind == "empty":
        target.write_bytes(b"")
    elif kind == "not_a_zip":
        (course / f"{prefix}hw4.pdf").write_bytes(b"%PDF-1.4 not a zip\n")
    elif kind == "truncated":
        data = write_zip(target, files_of(i, "corpus")).read_bytes()
        target.write_bytes(data[: len(data) // 2])
    elif kind == "zip_in_zip":
        inner = write_zip(course / "inner.tmp", files_of(i, "corpus"))
        with zipfile.ZipFile(target, "w") as archive:
            archive.write(inner, "hw4.zip")
        inner.unlink()
    elif kind == "whole_project":
        files = {GRADED_FILES[name]: text for name, text in files_of(i, "corpus").items()}
        files.update({f"neuralnet/{n}": (ROOT / "neuralnet" / n).read_text()
                      for n in ("classifier.py", "data.py", "optim.py", "utils.py")})
        write_zip(target, files, folder="hw4-project")
    elif kind == "rar":
        (course / f"{prefix}hw4.rar").write_bytes(b"Rar!\x1a\x07\x00 not a zip")
    elif kind == "two_zips":
        write_zip(course / f"{prefix}final.zip", files_of(i, "corpus"))
        write_zip(course / f"{prefix}zz-draft.zip", dict(list(files_of(i, "starter").items())[:2]))
    else:
        write_zip(target, files_of(i, kind))
    return kind


def build_course(course, count):
    """The Canvas folder; returns dict kind -> number of students."""
    course.mkdir(parents=True)
    kinds = {}
    for i in range(count):
        kind = write_student(course, i)
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def run(out, course, jobs):
    """Time the grading and the similarity report; returns the numbers."""
    start = time.monotonic()
    code = grade_all.main([str(course), "--out", str(out), "--jobs", str(jobs),
                           "--no-similarity", "--quiet"])
    grading = time.monotonic() - start
    start = time.monotonic()
    leads = grade_all.run_similarity(out, 0.5, quiet=True)
    similarity = time.monotonic() - start
    rows = list(csv_rows(out / "gradebook.csv"))
    return {"exit_code": code, "grading_s": round(grading, 1),
            "similarity_s": round(similarity, 1), "students": len(rows),
            "not_graded": sum(1 for r in rows if r["Failed to grade"]),
            "grader_failed": sum(1 for r in rows
                                 if r["Failed to grade"].startswith("the grader failed")),
            "needs_a_person": sum(1 for r in rows if r["Needs a person"]),
            "in_canvas_import": sum(1 for r in rows if r["In Canvas import"] == "yes"),
            "similar_pairs": leads.estimated, "listed_pairs": len(leads.pairs),
            "similarity_problem": leads.problem}


def csv_rows(path):
    import csv

    with open(path, newline="") as handle:
        yield from csv.DictReader(handle)


def report(numbers, args):
    per = numbers["grading_s"] / max(numbers["students"], 1)
    scaled = per * TARGET_COUNT
    lines = [
        f"bench_grade_all: {args.count} students, JOBS={args.jobs}, "
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"{time.strftime('%Y-%m-%d')}",
        f"  grading:    {numbers['grading_s']:.1f} s ({per:.2f} s per submission; "
        f"{scaled / 60:.1f} min for {TARGET_COUNT}; target {GRADE_TARGET_S // 60} min: "
        f"{'met' if scaled <= GRADE_TARGET_S else 'NOT met'})",
        f"  similarity: {numbers['similarity_s']:.1f} s, {numbers['similar_pairs']} pairs of "
        f"files above 50%, {numbers['listed_pairs']} listed (target {SIMILARITY_TARGET_S} s for "
        f"{TARGET_COUNT}{'' if args.count == TARGET_COUNT else ', measured on ' + str(args.count)})"
        f"{'; ' + numbers['similarity_problem'] if numbers['similarity_problem'] else ''}",
        f"  rows: {numbers['students']}, not graded: {numbers['not_graded']} (the grader "
        f"failed on {numbers['grader_failed']}; the rest are unreadable uploads), "
        f"need a person: {numbers['needs_a_person']}, in canvas_import.csv: "
        f"{numbers['in_canvas_import']}, kinds: {numbers['kinds']}",
    ]
    return "\n".join(lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=TARGET_COUNT)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, help="keep the course and grades here "
                        "(default: a temporary folder, removed)")
    parser.add_argument("--json-file", type=Path, help="also write the numbers as JSON")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    work = args.out or Path(tempfile.mkdtemp(prefix="hw4-bench-grade-all-"))
    if (work / "course").exists():
        shutil.rmtree(work / "course")
        shutil.rmtree(work / "grades", ignore_errors=True)
    try:
        kinds = build_course(work / "course", args.count)
        numbers = {**run(work / "grades", work / "course", args.jobs), "kinds": kinds}
    finally:
        if args.out is None:
            shutil.rmtree(work, ignore_errors=True)
    print(report(numbers, args))
    if args.json_file:
        args.json_file.write_text(json.dumps({"count": args.count, "jobs": args.jobs,
                                              **numbers}, indent=2) + "\n")
    return 0 if numbers["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
