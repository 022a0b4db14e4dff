"""Reading the files of a built kit: text files and notebooks, line by line or cell by cell."""

import json
from pathlib import Path

TEXT_SUFFIXES = (".py", ".ipynb", ".md", ".txt", ".sh", ".toml", ".cfg", ".ini", ".yml", ".yaml")
TEXT_NAMES = ("Makefile", ".gitignore")


def notebook_cells(text):
    """The cells (dicts) of notebook JSON `text`; None if it is not a notebook."""
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return None
    return cells if isinstance(cells, list) else None


def cell_source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def text_blocks(path):
    """[(label, lines)]: ("", the file's lines), or for a notebook (" cell N", its lines)
    for each cell, so that problems can say "part1.ipynb cell 5:2"."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    cells = notebook_cells(text) if Path(path).suffix == ".ipynb" else None
    if cells is None:
        return [("", text.splitlines())]
    return [(f" cell {number}", cell_source(cell).splitlines())
            for number, cell in enumerate(cells, start=1)]


def source_lines(path):
    """The lines of a text file; for a notebook, the lines of its cells' sources."""
    return [line for _, lines in text_blocks(path) for line in lines]


def numbered_lines(path):
    """(where, line) for every line of a text file or notebook: where is ":1", " cell 5:2"."""
    for label, lines in text_blocks(path):
        for number, line in enumerate(lines, start=1):
            yield f"{label}:{number}", line


def code_sources(path):
    """[(label, source)] of a .py file or of each code cell of a notebook."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".py":
        return [("", text)]
    cells = notebook_cells(text) or []
    return [(f" cell {number}", cell_source(cell))
            for number, cell in enumerate(cells, start=1) if cell.get("cell_type") == "code"]


def is_text_file(path):
    return path.is_file() and (path.suffix in TEXT_SUFFIXES or path.name in TEXT_NAMES)


def kit_files(out, suffixes=None):
    """The text files of the kit folder `out` (only those ending in `suffixes` if given),
    sorted."""
    return [path for path in sorted(out.rglob("*")) if is_text_file(path)
            and (suffixes is None or path.suffix in suffixes)]
