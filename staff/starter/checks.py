"""The fast static checks run on every built kit; each returns a list of problems.

No solution marker or solution line survives and no graded formula is written out
(staff/starter/leaks.py); no shipped text mentions a staff-only file or command and no
shipped .py imports a staff-only module; every .py compiles, every requirements include
exists, every notebook is valid with no outputs and code cells that compile. Running the
kit (its drivers, its tests) is left to staff/tests/test_starter_kit.py.
"""

import ast
import re

from staff.starter import leaks
from staff.starter.files import kit_files, numbered_lines, source_lines
from staff.starter.notebooks import compiles
from staff.starter.regions import BEGIN

STAFF_MENTIONS = (
    (re.compile(r"BENCHMARKS"), "BENCHMARKS.md (staff-only)"),
    (re.compile(r"\bmake (?:homework|starter|autograder|grade|report|bench|data|lint)\b"),
     "a staff make target"),
    (re.compile(r"(?<![\w.-])(?:staff|bench)[/.]\w"), "a staff-only folder or package"),
    (re.compile(r"\b(?:make_backprop_data|make_neuralnet_data|make_autograder|"
                r"grading_tests|grading_worker|staff_corpus|test_staff_\w+|homework\.py|"
                r"grade\.py|report\.py|get_data\.py|fake_fashion_mnist)\b"), "a staff-only file"),
    (re.compile(r"\bour tuned settings", re.IGNORECASE), "the reference's tuned settings"),
    (re.compile(r"reference solution|course tooling", re.IGNORECASE), "the reference solution"),
)


def staff_mentions(out):
    """Problems: a line of a shipped text file that mentions a staff-only file or command."""
    problems = []
    for path in kit_files(out):
        relative = path.relative_to(out).as_posix()
        for where, line in numbered_lines(path):
            what = next((what for pattern, what in STAFF_MENTIONS if pattern.search(line)), None)
            if what:
                problems.append(f"{relative}{where}: mentions {what}: {line.strip()}")
    return problems


def has_marker(path):
    return any(line.strip().startswith(BEGIN) or "<!-- BEGIN SOLUTION" in line
               for line in source_lines(path))


def check_leaks(out, candidates):
    """Problems: markers left in (outside tests/), solution lines or graded formulas
    anywhere in the kit, and mentions of staff-only files or commands. candidates: what
    leaks.leak_candidates returns."""
    problems = [f"{path.relative_to(out)} still contains a BEGIN SOLUTION marker"
                for path in kit_files(out, (".py", ".ipynb", ".md", ".txt"))
                if path.relative_to(out).parts[0] != "tests" and has_marker(path)]
    problems += [f"answer leaked: {p}" for p in leaks.solution_line_leaks(out, *candidates)]
    problems += [f"answer leaked: {p}" for p in leaks.formula_leaks(out)]
    problems += [f"staff-only mention: {p}" for p in staff_mentions(out)]
    return problems


def python_imports(path):
    """Top-level module names that the Python file `path` imports (empty if it does not
    parse: check_files reports that)."""
    try:
        tree = ast.parse(path.read_bytes())
    except SyntaxError:
        return set()
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module.split(".")[0])
    return modules


def check_staff_imports(out):
    """Problems: a shipped .py file importing a module that exists only on the staff side
    (the staff and bench packages)."""
    shipped = {path.stem for path in out.rglob("*.py")}
    staff_only = {"staff", "bench"}
    return [f"{path.relative_to(out)} imports the staff-only module {module}"
            for path in sorted(out.rglob("*.py"))
            for module in sorted(python_imports(path) & (staff_only - shipped))]


def compile_problems(out):
    problems = []
    for path in sorted(out.rglob("*.py")):
        try:
            compile(path.read_bytes(), str(path), "exec")
        except SyntaxError as err:
            problems.append(f"{path.relative_to(out)} does not compile: {err}")
    return problems


def requirement_problems(out):
    """Problems: a requirements file including (`-r`) a file the kit lacks."""
    problems = []
    for path in sorted(out.glob("requirements*.txt")):
        for line in path.read_text().splitlines():
            included = line.strip()[2:].strip() if line.strip().startswith("-r") else None
            if included and not (out / included).is_file():
                problems.append(f"{path.name} includes {included}, which the kit lacks")
    return problems


def notebook_problems(path, name):
    """Problems of one notebook: invalid, outputs left, code cells that do not compile."""
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # nbformat raises many types
        return [f"{name} is not a valid notebook: {err}"]
    cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    problems = []
    if any(cell.outputs or cell.execution_count is not None for cell in cells):
        problems.append(f"{name} still has outputs")
    return problems + [f"{name}: code cell {number} does not compile"
                       for number, cell in enumerate(cells, start=1) if not compiles(cell.source)]


def check_files(out):
    """Problems: .py files that do not compile, missing requirements includes, notebooks
    that are invalid, have outputs or have code cells that do not compile."""
    problems = compile_problems(out) + requirement_problems(out)
    for path in sorted(out.rglob("*.ipynb")):
        problems += notebook_problems(path, path.relative_to(out))
    return problems


def verify(root, out, regions):
    """All static checks of the kit `out` built from `root` with `regions` removed; returns
    the problems (empty: the kit is good)."""
    problems = check_leaks(out, leaks.leak_candidates(regions, root))
    problems += check_staff_imports(out)
    return problems + check_files(out)
