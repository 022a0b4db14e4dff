"""The READMEs and docs/ name only things that exist: files, modules and make targets; every
staff tool they name answers --help."""

import os
import re
import subprocess
import sys

import pytest
from kit import ROOT

DOCS = ("README.md", "docs/STAFF.md", "docs/REFERENCE.md", "docs/ANCHORS.md",
        "BENCHMARKS.md")
PATH_RE = re.compile(r"`((?:backprop|neuralnet|tests|handin|staff|bench|docs)/[\w./-]*)`")
LINK_RE = re.compile(r"\]\(([\w./-]+)(?:#[\w-]*)?\)")
MODULE_RE = re.compile(r"python -m ((?:staff|handin)(?:\.\w+)+)")
MAKE_RE = re.compile(r"`make ([a-z][\w-]*)")
STAFF_TOOL_RE = re.compile(r"(?:python -m |`)(staff(?:\.\w+)+)")  # `python -m X`, or `X` in a table
# written by runs: data, and the outputs of train.py --config best / overfit
MADE_BY_RUNS = ("neuralnet/.cache", "neuralnet/cifar-10-batches-py", "neuralnet/runs")


def makefile_targets(path):
    return set(re.findall(r"^([a-z][\w-]*):", path.read_text(), re.M))


def named_paths(doc):
    """Repository paths a doc names in backticks or links, relative to the root."""
    text = (ROOT / doc).read_text()
    paths = {p.rstrip("/.") for p in PATH_RE.findall(text)}
    for link in LINK_RE.findall(text):
        if not link.startswith("http"):
            paths.add((ROOT / doc).parent.joinpath(link).resolve().relative_to(ROOT).as_posix())
    return {p for p in paths if "*" not in p and "<" not in p and not p.startswith(MADE_BY_RUNS)}


@pytest.mark.parametrize("doc", DOCS)
def test_every_named_path_exists(doc):
    missing = sorted(p for p in named_paths(doc) if not (ROOT / p).exists())
    assert not missing, f"{doc} names paths that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS)
def test_every_named_module_exists(doc):
    modules = MODULE_RE.findall((ROOT / doc).read_text())
    missing = [m for m in modules if not (ROOT / (m.replace(".", "/") + ".py")).is_file()
               and not (ROOT / m.replace(".", "/") / "__main__.py").is_file()]
    assert not missing, f"{doc} names modules that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS)
def test_every_named_make_target_exists(doc):
    targets = makefile_targets(ROOT / "Makefile")
    student = makefile_targets(ROOT / "staff/starter_files/Makefile")
    named = set(MAKE_RE.findall((ROOT / doc).read_text()))
    missing = sorted(named - targets - student)
    assert not missing, f"{doc} names make targets that exist in no Makefile: {missing}"


def staff_tools():
    """The staff modules README.md and docs/STAFF.md tell a person to run."""
    named = set()
    for doc in ("README.md", "docs/STAFF.md"):
        named.update(STAFF_TOOL_RE.findall((ROOT / doc).read_text()))
    return sorted(m for m in named if (ROOT / (m.replace(".", "/") + ".py")).is_file()
                  or (ROOT / m.replace(".", "/") / "__main__.py").is_file())


def test_the_docs_name_the_staff_tools():
    assert {"staff.grading.grade", "staff.course.grade_all", "staff.starter",
            "staff.reference.make_backprop_data"} <= set(staff_tools())


@pytest.mark.parametrize("module", staff_tools())
def test_every_named_staff_tool_answers_help_and_writes_nothing(module):
    """STAFF.md: `python -m staff.<job>.<tool> --help` gives its options, in a usage line that
    runs as written (argparse alone says `grade.py`); a tool without options must not do its
    job instead (the data writers rewrote the committed pickles)."""
    before = {p: p.stat().st_mtime_ns for p in ROOT.glob("*/*-data.pkl")}
    run = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT, timeout=120,
                         capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"usage: python -m {module} "), run.stdout[:300]  # copyable
    assert {p: p.stat().st_mtime_ns for p in before} == before


def test_root_readme_is_short_and_its_lines_fit():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 120
    too_long = [n for n, line in enumerate(lines, 1) if len(line) > 100 and "|" not in line]
    assert not too_long, f"README.md lines over 100 characters: {too_long}"
