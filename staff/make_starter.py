"""Build the student starter kit: `make starter`.

    python staff/make_starter.py [--out dist/hw4-starter] [--zip dist/hw4-starter.zip]
                                 [--skip-run-checks]

Copies the student-facing part of this repository and removes the solutions:
  * each `# BEGIN SOLUTION` ... `# END SOLUTION` region of a .py file becomes
    `raise NotImplementedError("<function>: ...")` at the region's indentation;
  * in notebook code cells a region becomes a `# TODO` naming what to write (the text after
    the marker, `# BEGIN SOLUTION: <hint>`, says what) and, where the notebook would
    otherwise fail later with an obscure error, `raise NotImplementedError("<names>: ...")`:
    always inside a function, and at module level when the region defines names that the
    code outside the regions uses and that have no default before it (SETTINGS, IMG1, ...);
    in markdown cells a region becomes "*Your answer here.*"; cell ids are kept;
  * the `# BEGIN HYPERPARAMETERS` block of train.py is reset to the homework's weak defaults
    (the markers stay);
  * `# BEGIN STAFF ONLY` ... `# END STAFF ONLY` blocks of .py files are dropped, and so are
    requirements whose comment names staff/;
  * notebook outputs, execution counts and run metadata are cleared, python_backup/ is
    regenerated from the cleared notebooks;
  * staff/, bench/, the hidden tests, results, checkpoints, data, and generators that hold
    closed-form answers are not shipped; the student-visible tests (STUDENT_TESTS) ship as
    they are (a shipped file that imports a staff-only module is a failed self-check).
A student README.md and a small Makefile (staff/starter_files/), and tools/ (the submission
packager and checker, plus the staff modules they import) are added; copied staff files
name their shipped place. The result is written to a folder and a zip, then checked (see
verify()): no solution line survives anywhere (verbatim, or as the same formula with other
variable names), no shipped file writes out a graded formula and none mentions staff-only
files or commands (staff/starter_checks.py); every .py compiles and every notebook is valid
and empty of outputs; the drivers/check scripts run and report "not implemented" without a
traceback; the student-visible tests pass on the reference and fail on the starter only
with NotImplementedError, covering every stubbed function.

Exit codes: 0 built and verified, 1 a check failed (the problems are listed), 2 usage error.
"""

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from staff import starter_checks
from staff.layout import DRIVER_SCRIPTS

ROOT = Path(__file__).resolve().parents[1]
STAFF_DIR = Path(__file__).resolve().parent
STAMP = ".hw4-starter"  # marks a folder this script wrote (so --out may replace it)

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
HP_BEGIN, HP_END = "# BEGIN HYPERPARAMETERS", "# END HYPERPARAMETERS"
HOMEWORK_HYPERPARAMETERS = {  # the weak defaults the homework hands out (train.py main)
    "num_train": "20000",
    "hidden_dim": "16",
    "batch_size": "128",
    "num_epochs": "10",
    "learning_rate": "1e-4",
    "reg": "1.0",
}

SHIPPED = (  # paths relative to the root; folders are copied recursively (minus SKIPPED)
    "backprop", "neuralnet", "tests", "handin", "part1.ipynb", "part2.ipynb",
    "requirements.txt", "requirements-dev.txt", ".gitignore",
)
STARTER_FILES = ("README.md", "Makefile", "pyproject.toml")  # from staff/starter_files/
NOT_SHIPPED_FILES = {  # staff-only files inside shipped folders
    "backprop/make_backprop_data.py": "computes the answers in closed form",
}
# Optional in the homework: their stubs are "not attempted" (skipped), so no test must fail.
OPTIONAL_FUNCTIONS = {"backprop/functions.py": ("f1", "f2", "f4")}
SKIPPED_NAMES = {"__pycache__", ".ipynb_checkpoints", ".cache", "results", "checkpoints", "data",
                 "cifar-10-batches-py", "FashionMNIST", ".DS_Store"}
SKIPPED_SUFFIXES = (".pyc", ".npz", ".zip", ".tar.gz", ".pt", ".pth", ".json", ".pdf", ".png")
MIN_LEAK_CHARS = 12  # shorter region lines (`x = 0`) are too generic to count as a leak
TRIVIAL_RE = re.compile(r"^(?:(?:return|yield)\b[\w\s,().]*|pass|else:|try:|continue|break)$")
NOTEBOOK_RUN_METADATA = ("execution", "ExecuteTime", "papermill", "collapsed", "scrolled")


class StarterError(Exception):
    """A solution marker problem or a failed self-check; the message says where."""


@dataclass
class Region:
    path: str
    start: int  # 1-based line of the BEGIN marker
    end: int
    owner: str  # enclosing function, e.g. "TwoLayerNet.forward", or "<module>"
    indent: str = ""
    hint: str = ""  # text after the marker: "# BEGIN SOLUTION: the forward pass"
    lines: list = field(default_factory=list)  # the solution lines inside


# ----------------------------------------------------------------------------- regions


def indentation(line):
    return line[: len(line) - len(line.lstrip())]


def marker(line, name):
    """True if the stripped line is the marker `name`, optionally followed by ': hint'."""
    stripped = line.strip()
    return stripped == name or stripped.startswith(name + ":") or stripped.startswith(name + " ")


def owner_of(lines, index, indent):
    """The function (Class.method) enclosing line `index`, found by scanning upwards."""
    names, limit = [], len(indent)
    for line in reversed(lines[:index]):
        match = re.match(r"(\s*)(?:async\s+)?(def|class)\s+(\w+)", line)
        if match and len(match.group(1)) < limit:
            if match.group(2) == "def" and names and not names[-1][1]:
                continue  # a def enclosing a def already found: keep the innermost
            names.append((match.group(3), match.group(2) == "class"))
            limit = len(match.group(1))
            if limit == 0:
                break
    return ".".join(name for name, _ in reversed(names)) or "<module>"


def find_regions(lines, path, begin=BEGIN, end=END):
    """Returns the Regions of `lines` (a list of lines); raises StarterError on bad markers."""
    regions, current = [], None
    for index, line in enumerate(lines):
        if marker(line, begin):
            if current is not None:
                raise StarterError(f"{path}:{index + 1}: {begin} inside the region opened at "
                                   f"line {current.start}")
            current = Region(path, index + 1, 0, owner_of(lines, index, indentation(line)),
                             indentation(line), line.strip()[len(begin):].lstrip(": ").strip())
        elif marker(line, end):
            if current is None:
                raise StarterError(f"{path}:{index + 1}: {end} without {begin}")
            if indentation(line) != current.indent:
                raise StarterError(f"{path}:{index + 1}: {end} is not indented like its {begin} "
                                   f"(line {current.start})")
            current.end = index + 1
            regions.append(current)
            current = None
        elif current is not None:
            current.lines.append(line)
    if current is not None:
        raise StarterError(f"{path}:{current.start}: {begin} is never closed by {end}")
    return regions


def stub_message(region):
    what = region.hint or "write this part"
    return f"{region.owner}: not implemented yet ({what})" if region.owner != "<module>" \
        else f"not implemented yet ({what})"


def replace_regions(lines, regions, make_stub):
    """Lines with each region (markers included) replaced by make_stub(region) lines."""
    out, index = [], 0
    for region in regions:
        out.extend(lines[index:region.start - 1])
        out.extend(make_stub(region))
        index = region.end
    out.extend(lines[index:])
    return out


def python_stub(region):
    return [f"{region.indent}raise NotImplementedError({json.dumps(stub_message(region))})\n"]


def reset_hyperparameters(lines, path):
    """Reset the assignments inside the hyperparameter block (its markers stay, to show
    students where to edit)."""
    blocks = find_regions(lines, path, HP_BEGIN, HP_END)
    if not blocks:
        return lines
    seen = set()

    def reset(block):
        out = [f"{block.indent}{HP_BEGIN}\n"]
        for line in block.lines:
            match = re.match(r"(\s*)(\w+)(\s*=\s*)([^#\n]*?)(\s*#.*)?(\n?)$", line)
            if match and match.group(2) in HOMEWORK_HYPERPARAMETERS:
                name = match.group(2)
                seen.add(name)
                value = HOMEWORK_HYPERPARAMETERS[name]
                line = f"{match.group(1)}{name}{match.group(3)}{value}{match.group(5) or ''}\n"
            out.append(line)
        return out + [f"{block.indent}{HP_END}\n"]

    result = replace_regions(lines, blocks, reset)
    missing = sorted(set(HOMEWORK_HYPERPARAMETERS) - seen)
    if missing:
        raise StarterError(f"{path}: the hyperparameter block does not assign {missing}")
    return result


def strip_python(text, path):
    """
    Returns a tuple of:
    - the starter version of a .py file's text
    - its Regions
    """
    lines = text.splitlines(keepends=True)
    regions = find_regions(lines, path)
    lines = replace_regions(lines, regions, python_stub)
    lines = reset_hyperparameters(lines, path)
    return "".join(lines), regions


# ----------------------------------------------------------------------------- notebooks


def compiles(source):
    """True if a notebook cell's source compiles (IPython magics and shell lines ignored)."""
    cleaned = "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line
                        for line in source.splitlines())
    try:
        compile(cleaned, "<cell>", "exec")
    except SyntaxError:
        return False
    return True


def assigned_names(region):
    """Names a module-level region binds by assignment, def or class, in order (imports
    and loop variables do not count: they are not what the student is asked to define)."""
    try:
        tree = ast.parse(textwrap.dedent("".join(region.lines)))
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return list(dict.fromkeys(names))


def notebook_code_stub(region, used, defaults):
    """
    The stub of a notebook code region: a `# TODO` naming what to write, and a
    NotImplementedError naming it wherever the notebook would otherwise fail later with an
    obscure error (in a function; at module level when the region defines names that the
    code around the regions uses and that have no default before the region).
    used: identifiers of the notebook's code outside its regions; defaults: names assigned
    earlier in the region's cell.
    """
    what = region.hint or "write this part"
    if region.owner != "<module>":
        return [f"{region.indent}# TODO: {region.owner}: {what}\n",
                f"{region.indent}raise NotImplementedError({json.dumps(stub_message(region))})\n"]
    names = [name for name in assigned_names(region) if name in used]
    if not names:
        return [f"{region.indent}# TODO: {what}\n"]
    listed = ", ".join(names)
    if all(name in defaults for name in names):
        return [f"{region.indent}# TODO: set {listed} ({what})\n"]
    message = json.dumps(f"{listed}: not defined yet ({what})")
    return [f"{region.indent}# TODO: define {listed} ({what})\n",
            f"{region.indent}raise NotImplementedError({message})\n"]


def identifiers(source):
    """The names in Python `source`, outside strings and comments."""
    return {token for token in starter_checks.TOKEN_RE.findall(source)
            if re.fullmatch(r"[A-Za-z_]\w*", token)}


def earlier_assignments(lines, region):
    """Names assigned at the start of a line before `region` in its cell (defaults)."""
    return {match.group(1) for line in lines[:region.start - 1]
            for match in [re.match(r"([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)", line)] if match}


def strip_code_cell(source, path, used=frozenset()):
    """The starter version of a code cell's source, and its Regions (see notebook_code_stub;
    `used`: identifiers of the notebook's code outside its regions)."""
    lines = source.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    regions = find_regions(lines, path)
    if not regions:
        return source, []

    def stub(region):
        return notebook_code_stub(region, used, earlier_assignments(lines, region))

    out = replace_regions(lines, regions, stub)
    if not compiles("".join(out)):  # a block left with only a comment: add `pass`
        out = replace_regions(lines, regions, lambda r: stub(r) + [f"{r.indent}pass\n"])
    return "".join(out).rstrip("\n"), regions


MD_BEGIN = re.compile(r"BEGIN SOLUTION")
MD_END = re.compile(r"END SOLUTION")


MD_STAFF_BLOCK = re.compile(r"\n?<!-- BEGIN STAFF ONLY -->.*?<!-- END STAFF ONLY -->\n?",
                            re.DOTALL)  # a block on its own lines: its lines go


def strip_markdown_cell(source, path):
    """Markdown answers between lines containing BEGIN/END SOLUTION become a placeholder;
    `<!-- BEGIN STAFF ONLY -->` ... `<!-- END STAFF ONLY -->` (the reference's own numbers)
    is dropped."""
    source = MD_STAFF_BLOCK.sub("", source)
    out, regions, inside = [], [], None
    for number, line in enumerate(source.splitlines(), start=1):
        if MD_BEGIN.search(line) and inside is None:
            inside = Region(path, number, 0, "<markdown>")
            out.append("*Your answer here.*")
        elif MD_END.search(line) and inside is not None:
            inside.end = number
            regions.append(inside)
            inside = None
        elif inside is not None:
            inside.lines.append(line)
        else:
            out.append(line)
    if inside is not None:
        raise StarterError(f"{path}: markdown BEGIN SOLUTION is never closed")
    return "\n".join(out), regions


def strip_notebook(text, path):
    """
    Returns a tuple of:
    - the starter notebook's text (nbformat 4, outputs and counts cleared)
    - its Regions
    """
    import nbformat

    nb = nbformat.reads(text, as_version=4)
    used = identifiers("\n".join("\n".join(outside_regions(cell.source.splitlines()))
                                  for cell in nb.cells if cell.cell_type == "code"))
    regions = []
    for number, cell in enumerate(nb.cells, start=1):
        where = f"{path} cell {number}"
        for key in NOTEBOOK_RUN_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.source, found = strip_code_cell(cell.source, where, used)
            cell.outputs = []
            cell.execution_count = None
        elif cell.cell_type == "markdown":
            cell.source, found = strip_markdown_cell(cell.source, where)
        else:
            found = []
        regions.extend(found)
    for key in ("widgets", "papermill", "execution"):
        nb.metadata.pop(key, None)
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n", regions


# ----------------------------------------------------------------------------- building


def is_skipped(relative):
    parts = Path(relative).parts
    if any(part in SKIPPED_NAMES for part in parts):
        return True
    return relative.endswith(SKIPPED_SUFFIXES) or relative in NOT_SHIPPED_FILES


def shipped_files(root):
    """Relative POSIX paths of the reference files that go into the starter (sorted)."""
    found = []
    for item in SHIPPED:
        path = root / item
        if path.is_file():
            found.append(item)
        elif path.is_dir():
            for sub in sorted(path.rglob("*")):
                relative = sub.relative_to(root).as_posix()
                if sub.is_file() and not sub.is_symlink() and not is_skipped(relative):
                    found.append(relative)
    return sorted(found)


def drop_staff_requirements(text):
    """A requirements file without what only staff tools need: a line that names staff/
    (`-r staff/...`, or a package whose comment points there), with the comment lines
    right above it."""
    out = []
    for line in text.splitlines(keepends=True):
        if "staff/" in line:
            while out and out[-1].lstrip().startswith("#"):
                out.pop()
        else:
            out.append(line)
    return "".join(out)


def transform(relative, data, regions, strip=True):
    """
    The starter content of one file (bytes), collecting its Regions into `regions`.
    strip=False keeps the solutions (a reference copy laid out like the starter).
    """
    if relative.endswith(".py"):
        if not strip or relative.startswith(("tests/", "handin/")):
            return data
        text, found = strip_python(data.decode("utf-8"), relative)
        regions.extend(found)
        return text.encode()
    if Path(relative).name.startswith("requirements"):
        return drop_staff_requirements(data.decode("utf-8")).encode()
    if relative.endswith(".ipynb") and strip:
        text, found = strip_notebook(data.decode("utf-8"), relative)
        regions.extend(found)
        return text.encode()
    return data


def prepare_out(out):
    """Empty `out` if this script made it (has the stamp); refuse to touch anything else."""
    if out.exists():
        if not (out / STAMP).is_file():
            raise StarterError(f"{out} exists and was not written by make_starter.py; "
                               "remove it or choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / STAMP).write_text("written by staff/make_starter.py; safe to delete\n")


def write_extras(root, out):
    """The student's README, Makefile and pyproject.toml."""
    for name in STARTER_FILES:
        shutil.copyfile(STAFF_DIR / "starter_files" / name, out / name)


def regenerate_backups(out):
    """python_backup/partN.py from the starter notebooks (jupytext, as in the repository)."""
    notebooks = sorted(out.glob("part*.ipynb"))
    if not notebooks:
        return
    (out / "python_backup").mkdir(exist_ok=True)
    import jupytext

    for nb_path in notebooks:
        notebook = jupytext.read(nb_path)
        jupytext.write(notebook, out / "python_backup" / f"{nb_path.stem}.py", fmt="py:percent")


def build(root, out, strip=True):
    """Write the starter kit into `out`. Returns the Regions removed."""
    prepare_out(out)
    regions = []
    for relative in shipped_files(root):
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        data = (root / relative).read_bytes()
        target.write_bytes(transform(relative, data, regions, strip))
        shutil.copymode(root / relative, target)
    write_extras(root, out)
    if strip:
        regenerate_backups(out)
    return regions


def write_zip(folder, zip_path):
    """Zip `folder` under its own name, deterministic order and dates, modes kept."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    partial = zip_path.with_name(zip_path.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.name != STAMP:
                name = f"{folder.name}/{path.relative_to(folder).as_posix()}"
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = (path.stat().st_mode & 0o777 | 0o100000) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    partial.replace(zip_path)


# ----------------------------------------------------------------------------- self-checks


def source_lines(path):
    """The lines of a text file; for a notebook, the lines of its cells' sources."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    if Path(path).suffix != ".ipynb":
        return text.splitlines()
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return text.splitlines()
    lines = []
    for cell in cells:
        source = cell.get("source", "")
        lines.extend(("".join(source) if isinstance(source, list) else source).splitlines())
    return lines


def outside_regions(lines):
    """The lines that are not inside any solution region (markers dropped)."""
    out, inside = [], False
    for line in lines:
        if "BEGIN SOLUTION" in line:
            inside = True
        elif "END SOLUTION" in line:
            inside = False
        elif not inside:
            out.append(line)
    return out


def reference_outside_lines(root, regions):
    """The lines of the reference files that have solution regions, outside those regions
    (the code the starter hands out anyway)."""
    paths = sorted({region.path.split(" cell ")[0] for region in regions})
    return [line for path in paths if (root / path).is_file()
            for line in outside_regions(source_lines(root / path))]


def leak_candidates(regions, root):
    """
    Returns a tuple of dicts key -> "path:line (owner)" (see starter_checks.solution_keys):
    - the non-trivial region lines, stripped
    - the region formulas, normalized for whitespace and variable names
    Lines that the reference has outside its regions do not count; tests and scripts do
    not excuse a line (they are what the check searches).
    """
    exact, formulas = starter_checks.solution_keys(
        regions, reference_outside_lines(root, regions), MIN_LEAK_CHARS)
    exact = {key: where for key, where in exact.items() if not TRIVIAL_RE.match(key)}
    return exact, formulas


def check_leaks(out, candidates):
    """Problems: markers left in, solution lines or graded formulas anywhere in the kit, and
    mentions of staff-only files or commands."""
    problems = []
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".ipynb", ".md", ".txt"):
            relative = path.relative_to(out)
            if relative.parts[0] != "tests" and any(
                    line.strip().startswith(BEGIN) or "<!-- BEGIN SOLUTION" in line
                    for line in source_lines(path)):
                problems.append(f"{relative} still contains a BEGIN SOLUTION marker")
    exact, formulas = candidates
    problems += [f"answer leaked: {p}" for p in starter_checks.solution_line_leaks(
        out, exact, formulas)]
    problems += [f"answer leaked: {p}" for p in starter_checks.formula_leaks(out)]
    problems += [f"staff-only mention: {p}" for p in starter_checks.staff_mentions(out)]
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


def check_staff_imports(root, out):
    """Problems: a shipped .py file importing a module that exists only on the staff side
    (staff/, bench/, a generator that is not shipped)."""
    shipped = {path.stem for path in out.rglob("*.py")}
    staff_only = {Path(path).stem for path in NOT_SHIPPED_FILES} | {"staff", "bench"}
    problems = []
    for path in sorted(out.rglob("*.py")):
        for module in sorted(python_imports(path) & (staff_only - shipped)):
            problems.append(f"{path.relative_to(out)} imports the staff-only module {module}")
    return problems


def check_files(out):
    """Every .py compiles; every notebook is valid nbformat with no outputs."""
    import nbformat

    problems = []
    for path in sorted(out.rglob("*.py")):
        try:
            compile(path.read_bytes(), str(path), "exec")
        except SyntaxError as err:
            problems.append(f"{path.relative_to(out)} does not compile: {err}")
    for path in sorted(out.glob("requirements*.txt")):
        for line in path.read_text().splitlines():
            included = line.strip()[2:].strip() if line.strip().startswith("-r") else None
            if included and not (out / included).is_file():
                problems.append(f"{path.name} includes {included}, which the kit lacks")
    for path in sorted(out.rglob("*.ipynb")):
        try:
            nb = nbformat.read(path, as_version=4)
            nbformat.validate(nb)
        except Exception as err:  # nbformat raises many types
            problems.append(f"{path.relative_to(out)} is not a valid notebook: {err}")
            continue
        cells = [cell for cell in nb.cells if cell.cell_type == "code"]
        if any(cell.outputs or cell.execution_count is not None for cell in cells):
            problems.append(f"{path.relative_to(out)} still has outputs")
        for number, cell in enumerate(cells, start=1):
            if not compiles(cell.source):
                problems.append(f"{path.relative_to(out)}: code cell {number} does not compile")
    return problems


def script_env():
    return dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")


def run_driver(kit, script, timeout, label, problems):
    """Run `script` in the kit folder; None (and a problem noted) if it did not finish."""
    try:
        return subprocess.run([sys.executable, script], cwd=kit, env=script_env(),
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        problems.append(f"{script} did not finish in {timeout} s on the {label}")
        return None


def check_drivers(out, scripts=DRIVER_SCRIPTS, timeout=300):
    """The driver/gradcheck scripts must say "not implemented", exit non-zero, no traceback."""
    problems = []
    for script in scripts:
        if not (out / script).is_file():
            problems.append(f"{script} is missing from the starter")
            continue
        run = run_driver(out, script, timeout, "starter", problems)
        if run is None:
            continue
        text = run.stdout + run.stderr
        if run.returncode == 0:
            problems.append(f"{script} exits 0 on the starter (it should fail)")
        if "not implemented" not in text.lower():
            problems.append(f"{script} does not report 'not implemented' on the starter")
        if "Traceback" in text:
            problems.append(f"{script} prints a traceback on the starter: "
                            f"{text.strip().splitlines()[-1]}")
    return problems


def run_pytest(folder, tests, junit, timeout=900):
    """Run pytest on `tests` (paths relative to folder); returns the parsed junit cases."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "--continue-on-collection-errors", f"--junitxml={junit}", "-o", "addopts=",
               *tests]
    try:
        subprocess.run(command, cwd=folder, env=script_env(), capture_output=True, text=True,
                       timeout=timeout)
    except subprocess.TimeoutExpired:
        raise StarterError(f"the student tests did not finish in {timeout} s in {folder}") \
            from None
    if not Path(junit).is_file():
        raise StarterError(f"pytest wrote no report in {folder}")
    cases = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        skipped = case.find("skipped") is not None
        name = f"{case.get('classname')}::{case.get('name')}"
        text = None if failure is None else (failure.get("message", "") + (failure.text or ""))
        cases.append((name, skipped, text))
    return cases


def check_reference_drivers(reference_kit, scripts=DRIVER_SCRIPTS, timeout=300):
    """The kit filled with the reference: every driver/check script exits 0, no traceback."""
    problems = []
    for script in scripts:
        if not (reference_kit / script).is_file():
            continue  # check_drivers reports it
        run = run_driver(reference_kit, script, timeout, "reference", problems)
        if run is None:
            continue
        if run.returncode != 0 or "Traceback" in run.stdout + run.stderr:
            last = (run.stdout + run.stderr).strip().splitlines()[-1:] or [""]
            problems.append(f"{script} fails on the kit filled with the reference "
                            f"(exit {run.returncode}): {last[0][:200]}")
    return problems


def check_student_tests(root, out, regions):
    """
    Student tests and drivers: on the kit filled with the reference, all tests pass and
    every driver exits 0; on the starter every test failure is a NotImplementedError; and
    every stubbed function of a tested module makes a test fail (with its own "<function>:
    not implemented" message), on the starter or, when the tests stop earlier there (e.g.
    at a stubbed constructor), with that function alone stubbed in the reference.
    """
    tests = sorted(path.relative_to(out).as_posix() for path in out.glob("tests/test_*.py"))
    if not tests:
        return ["no student-visible tests in the starter"]
    with tempfile.TemporaryDirectory(prefix="hw4-starter-") as tmp:
        reference_kit = Path(tmp) / "reference"
        build(root, reference_kit, strip=False)
        drivers = [s for s in DRIVER_SCRIPTS if (reference_kit / s).is_file()]
        problems = check_reference_drivers(reference_kit, drivers)
        reference = run_pytest(reference_kit, tests, Path(tmp) / "ref.xml")
        starter = run_pytest(out, tests, Path(tmp) / "starter.xml")
        problems += classify_failures(reference, starter)
        covered = "\n".join(text for _, _, text in starter if text)
        tested = tested_modules(out, tests)
        uncovered = {(r.path, r.owner): r for r in regions if r.path.endswith(".py")
                     and Path(r.path).stem in tested
                     and r.owner not in OPTIONAL_FUNCTIONS.get(r.path, ())
                     and f"{r.owner}: not implemented" not in covered}
        for (path, owner), region in uncovered.items():
            if not fails_alone(reference_kit, tests, path, owner, Path(tmp)):
                problems.append(f"no student test fails on the missing {owner} "
                                f"({path}:{region.start})")
    return problems


def classify_failures(reference, starter):
    """Problems: tests failing on the reference, or on the starter for another reason."""
    problems = [f"student test fails on the reference: {name}"
                for name, _, text in reference if text is not None]
    for name, _, text in starter:
        if text is not None and "NotImplementedError" not in text:
            last = text.strip().splitlines()[-1] if text.strip() else ""
            problems.append(f"student test fails on the starter for another reason than "
                            f"missing code: {name}: {last[:200]}")
    return problems


def fails_alone(reference_kit, tests, path, owner, tmp):
    """True if some student test fails on the reference with only `owner` stubbed."""
    variant = tmp / f"only-{owner}"
    shutil.copytree(reference_kit, variant)
    lines = (variant / path).read_text().splitlines(keepends=True)
    regions = [r for r in find_regions(lines, path) if r.owner == owner]
    (variant / path).write_text("".join(replace_regions(lines, regions, python_stub)))
    cases = run_pytest(variant, tests, tmp / f"only-{owner}.xml")
    return any(text and f"{owner}: not implemented" in text for _, _, text in cases)


def tested_modules(out, tests):
    """Names of the modules the student tests import."""
    modules = set()
    for test in tests:
        for node in ast.walk(ast.parse((out / test).read_text())):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules.add(node.module.split(".")[0])
    return modules


def verify(root, out, regions, run_checks=True):
    """All self-checks; returns the list of problems (empty: the starter is good)."""
    problems = check_leaks(out, leak_candidates(regions, root))
    problems += check_staff_imports(root, out)
    problems += check_files(out)
    if run_checks:
        problems += check_drivers(out)
        problems += check_student_tests(root, out, regions)
    return problems


# ----------------------------------------------------------------------------- command line


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Build and check the student starter kit.")
    parser.add_argument("--root", type=Path, default=ROOT, help="the reference repository")
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "hw4-starter",
                        help="folder to write (replaced if this script wrote it before)")
    parser.add_argument("--zip", type=Path, default=ROOT / "dist" / "hw4-starter.zip",
                        help="zip to write (replaced)")
    parser.add_argument("--skip-run-checks", action="store_true",
                        help="skip running the drivers and the student tests (fast)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        regions = build(args.root, args.out)
        files = shipped_files(args.root)
        problems = verify(args.root, args.out, regions, not args.skip_run_checks)
    except StarterError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"CHECK FAILED: {problem}", file=sys.stderr)
    if problems:
        print(f"the starter in {args.out} is NOT ready ({len(problems)} problems)",
              file=sys.stderr)
        return 1
    write_zip(args.out, args.zip)
    print(f"starter kit: {args.out}/ and {args.zip} ({len(regions)} solution regions removed, "
          f"{len(files)} files); all self-checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
