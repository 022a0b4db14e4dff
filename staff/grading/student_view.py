"""The student's view of the kit, for course tooling that imports student files in-process.

Student scripts import their siblings by plain name (`from layers import fc_forward`), as
the homework's layout requires, so their folders must be on sys.path. This is the one place
outside the grading sandbox where the course tooling puts them there: for good
(student_module), or only while importing (modules_apart: the grader's reference, kept out of
sys.modules). A file that imports no sibling (gradient_check.py, f4_graph.py) is loaded by
its path instead (module_from_file), leaving sys.path alone.
"""

import importlib
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STUDENT_FOLDERS = ("backprop", "neuralnet", "tests")  # tests/: the fake data the tests use


def student_module(name, root=ROOT):
    """Import the student-side module `name` (e.g. "layers") with the kit's folders on sys.path."""
    for folder in reversed(STUDENT_FOLDERS):
        path = str(root / folder)
        if path not in sys.path:
            sys.path.insert(0, path)
    return importlib.import_module(name)


def module_from_file(path):
    """The Python file `path` loaded as a module of its own (named after the file), by its
    path and without touching sys.path: for files that import only installed packages."""
    spec = importlib.util.spec_from_file_location(f"hw4_{Path(path).stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def modules_apart(root, folders, names):
    """
    The student-side modules `names` (and every module of `folders` they import), imported
    from `root`'s `folders` with those folders on sys.path only while importing, then taken
    out of sys.modules again: what was there before under their names is put back, and no
    module of that name imported elsewhere stands in for them.

    Returns dict module name -> module.
    """
    own = {path.stem for folder in folders for path in (Path(root) / folder).glob("*.py")}
    saved = {name: sys.modules.pop(name) for name in own if name in sys.modules}
    saved_path = list(sys.path)
    sys.path[:0] = [str(Path(root) / folder) for folder in folders]
    try:
        for name in names:
            importlib.import_module(name)
    finally:
        sys.path[:] = saved_path
        loaded = {name: sys.modules.pop(name) for name in own if name in sys.modules}
        sys.modules.update(saved)
    return loaded
