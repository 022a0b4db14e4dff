"""The starter version of a notebook: solution regions stubbed, outputs cleared.

In a code cell a region becomes a `# TODO` naming what to write (the marker's hint) and,
where the notebook would otherwise fail later with an obscure error,
`raise NotImplementedError("<names>: ...")`: always inside a function, and at module level
when the region defines names that the code outside the regions uses and that have no
default before it (SETTINGS, IMG1, ...). In a markdown cell the lines between lines
containing BEGIN/END SOLUTION become "*Your answer here.*" and a
`<!-- BEGIN STAFF ONLY -->` ... `<!-- END STAFF ONLY -->` block is dropped. Cell ids stay;
outputs, execution counts and run metadata go.
"""

import ast
import json
import re
import textwrap

from staff.starter.regions import (
    Region,
    StarterError,
    find_regions,
    outside_regions,
    replace_regions,
    stub_message,
)

TOKEN_RE = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"""  # strings
                      r"|[A-Za-z_]\w*|\d[\w.]*|\*\*|//|#.*|\S)")
MD_BEGIN, MD_END = "BEGIN SOLUTION", "END SOLUTION"
MD_STAFF_BLOCK = re.compile(r"\n?<!-- BEGIN STAFF ONLY -->.*?<!-- END STAFF ONLY -->\n?",
                            re.DOTALL)  # a block on its own lines: its lines go
RUN_METADATA = ("execution", "ExecuteTime", "papermill", "collapsed", "scrolled")
NOTEBOOK_RUN_METADATA = ("widgets", "papermill", "execution")


def compiles(source):
    """True if a notebook cell's source compiles (IPython magics and shell lines ignored)."""
    cleaned = "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line
                        for line in source.splitlines())
    try:
        compile(cleaned, "<cell>", "exec")
    except SyntaxError:
        return False
    return True


def identifiers(source):
    """The names in Python `source`, outside strings and comments."""
    return {token for token in TOKEN_RE.findall(source)
            if re.fullmatch(r"[A-Za-z_]\w*", token)}


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


def earlier_assignments(lines, region):
    """Names assigned at the start of a line before `region` in its cell (defaults)."""
    return {match.group(1) for line in lines[:region.start - 1]
            for match in [re.match(r"([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)", line)] if match}


def code_stub(region, used, defaults):
    """
    The stub lines of a code-cell region (see the module docstring).
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


def strip_code_cell(source, path, used=frozenset()):
    """The starter version of a code cell's source, and its Regions (`used`: identifiers of
    the notebook's code outside its regions)."""
    lines = source.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    regions = find_regions(lines, path)
    if not regions:
        return source, []

    def stub(region):
        return code_stub(region, used, earlier_assignments(lines, region))

    out = replace_regions(lines, regions, stub)
    if not compiles("".join(out)):  # a block left with only a comment: add `pass`
        out = replace_regions(lines, regions, lambda r: stub(r) + [f"{r.indent}pass\n"])
    return "".join(out).rstrip("\n"), regions


def strip_markdown_cell(source, path):
    """The starter version of a markdown cell's source, and its Regions (owner
    "<markdown>")."""
    source = MD_STAFF_BLOCK.sub("", source)
    out, regions, inside = [], [], None
    for number, line in enumerate(source.splitlines(), start=1):
        if MD_BEGIN in line and inside is None:
            inside = Region(path, number, 0, "<markdown>")
            out.append("*Your answer here.*")
        elif MD_END in line and inside is not None:
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


def strip_cell(cell, where, used):
    """Strip one nbformat cell in place; returns its Regions."""
    for key in RUN_METADATA:
        cell.metadata.pop(key, None)
    if cell.cell_type == "code":
        cell.source, found = strip_code_cell(cell.source, where, used)
        cell.outputs = []
        cell.execution_count = None
        return found
    if cell.cell_type == "markdown":
        cell.source, found = strip_markdown_cell(cell.source, where)
        return found
    return []


def strip_notebook(text, path):
    """
    Returns a tuple of:
    - the starter notebook's text (nbformat 4, outputs and counts cleared)
    - its Regions (path "<path> cell <N>")
    """
    import nbformat

    nb = nbformat.reads(text, as_version=4)
    used = identifiers("\n".join("\n".join(outside_regions(cell.source.splitlines()))
                                 for cell in nb.cells if cell.cell_type == "code"))
    regions = []
    for number, cell in enumerate(nb.cells, start=1):
        regions += strip_cell(cell, f"{path} cell {number}", used)
    for key in NOTEBOOK_RUN_METADATA:
        nb.metadata.pop(key, None)
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n", regions
