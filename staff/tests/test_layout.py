"""The tree as the README describes it: real imports, console scripts that resolve, and the
student side free of course tooling."""

import ast
import importlib
import tomllib

import pytest
from kit import ROOT

# The two places that put folders on sys.path: the student's view for in-process imports of
# student files, and the grading worker inside the sandbox.
SYS_PATH_EDITORS = {"staff/grading/student_view.py", "staff/grading/grading_worker.py"}
STUDENT_SIDE = ("backprop", "neuralnet", "tests", "handin")


def python_files(*folders):
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def edits_sys_path(path):
    """True if the module assigns to, inserts into or extends sys.path."""
    for node in ast.walk(ast.parse(path.read_text())):
        target = node.func.value if isinstance(node, ast.Call) and isinstance(
            node.func, ast.Attribute) else getattr(node, "targets", [None])[0]
        while isinstance(target, ast.Subscript):
            target = target.value
        if isinstance(target, ast.Attribute) and target.attr == "path" \
                and isinstance(target.value, ast.Name) and target.value.id == "sys":
            return True
    return False


def test_only_the_student_view_and_the_sandbox_edit_sys_path():
    editors = {p.relative_to(ROOT).as_posix() for p in
               python_files("staff", "handin", "bench", "tests", "backprop", "neuralnet")
               if edits_sys_path(p)}
    assert editors == SYS_PATH_EDITORS


def test_the_sys_path_finder_sees_an_edit(tmp_path):
    for source in ("import sys\nsys.path.insert(0, 'x')\n", "import sys\nsys.path[:0] = ['x']\n",
                   "import sys\nsys.path.append('x')\n"):
        (tmp_path / "m.py").write_text(source)
        assert edits_sys_path(tmp_path / "m.py"), source
    (tmp_path / "m.py").write_text("import os\nos.path.join('a', 'b')\n")
    assert not edits_sys_path(tmp_path / "m.py")


@pytest.mark.parametrize("path", list(python_files(*STUDENT_SIDE)),
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_student_side_never_imports_course_tooling(path):
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imported.add(node.module.split(".")[0])
    assert not imported & {"staff", "bench"}, f"{path} imports course tooling"


def test_every_console_script_resolves():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts
    for name, target in scripts.items():
        module, _, function = target.partition(":")
        assert callable(getattr(importlib.import_module(module), function)), name
