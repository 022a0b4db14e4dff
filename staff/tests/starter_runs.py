"""Running a built starter kit: its driver scripts, and its student tests (pytest in a
subprocess, the results read from its junit XML). Each check returns a list of problems.
Used by test_starter_kit.py on the real kit and on small synthetic ones."""

import ast
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from staff.starter.regions import find_regions, python_stub, replace_regions

# Optional in the homework: their stubs are "not attempted" (skipped), so no test must fail.
OPTIONAL_FUNCTIONS = {"backprop/functions.py": ("f1", "f2", "f4")}
DRIVER_TIMEOUT, PYTEST_TIMEOUT = 300, 900


def script_env():
    return dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")


def run_script(kit, script, timeout=DRIVER_TIMEOUT):
    """Run `script` (relative to the kit folder) there; the CompletedProcess, text output."""
    return subprocess.run([sys.executable, script], cwd=kit, env=script_env(),
                          capture_output=True, text=True, timeout=timeout)


def starter_driver_problems(kit, script):
    """On the starter a driver must say "not implemented", exit non-zero, no traceback."""
    if not (kit / script).is_file():
        return [f"{script} is missing from the starter"]
    run = run_script(kit, script)
    text = run.stdout + run.stderr
    problems = []
    if run.returncode == 0:
        problems.append(f"{script} exits 0 on the starter (it should fail)")
    if "not implemented" not in text.lower():
        problems.append(f"{script} does not report 'not implemented' on the starter")
    if "Traceback" in text:
        problems.append(f"{script} prints a traceback on the starter: "
                        f"{text.strip().splitlines()[-1]}")
    return problems


def reference_driver_problems(kit, script):
    """On the kit filled with the reference a driver must exit 0 without a traceback."""
    run = run_script(kit, script)
    text = run.stdout + run.stderr
    if run.returncode == 0 and "Traceback" not in text:
        return []
    last = text.strip().splitlines()[-1:] or [""]
    return [f"{script} fails on the kit filled with the reference "
            f"(exit {run.returncode}): {last[0][:200]}"]


def student_tests(kit):
    """The kit's student test files, relative to the kit (sorted)."""
    return sorted(path.relative_to(kit).as_posix() for path in kit.glob("tests/test_*.py"))


def junit_cases(junit):
    """[(test name, skipped, failure text or None)] of a junit XML report."""
    cases = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        text = None if failure is None else (failure.get("message", "") + (failure.text or ""))
        cases.append((f"{case.get('classname')}::{case.get('name')}",
                      case.find("skipped") is not None, text))
    return cases


def run_pytest(folder, tests, junit, timeout=PYTEST_TIMEOUT):
    """Run pytest on `tests` (paths relative to folder); returns its junit_cases."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "--continue-on-collection-errors", f"--junitxml={junit}", "-o", "addopts=",
               *tests]
    subprocess.run(command, cwd=folder, env=script_env(), capture_output=True, text=True,
                   timeout=timeout)
    assert Path(junit).is_file(), f"pytest wrote no report in {folder}"
    return junit_cases(junit)


def reference_failures(cases):
    """Problems: student tests failing on the kit filled with the reference."""
    return [f"student test fails on the reference: {name}"
            for name, _, text in cases if text is not None]


def other_failures(cases):
    """Problems: student tests failing on the starter for another reason than missing code
    (a NotImplementedError, or a script saying which stub stopped it)."""
    problems = []
    for name, _, text in cases:
        if text is not None and "NotImplementedError" not in text \
                and ": not implemented yet" not in text:
            last = text.strip().splitlines()[-1] if text.strip() else ""
            problems.append(f"student test fails on the starter for another reason than "
                            f"missing code: {name}: {last[:200]}")
    return problems


def tested_modules(kit, tests):
    """Names of the modules the student tests import."""
    modules = set()
    for test in tests:
        for node in ast.walk(ast.parse((kit / test).read_text())):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules.add(node.module.split(".")[0])
    return modules


def unnamed_stubs(regions, cases, modules):
    """{(path, owner): region} of the stubbed functions of the tested `modules` whose
    "<owner>: not implemented" message no failing test of `cases` shows."""
    shown = "\n".join(text for _, _, text in cases if text)
    return {(r.path, r.owner): r for r in regions if r.path.endswith(".py")
            and Path(r.path).stem in modules
            and r.owner not in OPTIONAL_FUNCTIONS.get(r.path, ())
            and f"{r.owner}: not implemented" not in shown}


def fails_alone(reference_kit, tests, path, owner, tmp):
    """True if some student test fails on the reference with only `owner` stubbed."""
    variant = tmp / f"only-{owner}"
    shutil.copytree(reference_kit, variant)
    lines = (variant / path).read_text().splitlines(keepends=True)
    regions = [r for r in find_regions(lines, path) if r.owner == owner]
    (variant / path).write_text("".join(replace_regions(lines, regions, python_stub)))
    cases = run_pytest(variant, tests, tmp / f"only-{owner}.xml")
    return any(text and f"{owner}: not implemented" in text for _, _, text in cases)


def uncovered_stubs(reference_kit, starter_cases, regions, tmp):
    """Problems: stubbed functions of tested modules that no student test catches, on the
    starter or (when the tests stop earlier there, e.g. at a stubbed constructor) with that
    function alone stubbed in the reference."""
    tests = student_tests(reference_kit)
    unnamed = unnamed_stubs(regions, starter_cases, tested_modules(reference_kit, tests))
    return [f"no student test fails on the missing {owner} ({path}:{region.start})"
            for (path, owner), region in unnamed.items()
            if not fails_alone(reference_kit, tests, path, owner, tmp)]
