"""Run chosen code cells of a notebook (.ipynb, or its jupytext .py twin) in a namespace of
their own, so that tests and benchmarks can use a notebook's functions and classes without
executing its demonstration cells."""

import types

import jupytext


def code_cells(path):
    """The code cells of the notebook or jupytext script at `path` (nbformat cells)."""
    return [cell for cell in jupytext.read(path).cells if cell.cell_type == "code"]


def run_tagged_cells(path, tags, namespace=None):
    """
    Execute, in the order given, the one code cell carrying each tag in `tags`.

    Returns the namespace dict (created if None). Raises ValueError when a tag marks no
    cell or more than one.
    """
    namespace = {} if namespace is None else namespace
    cells = code_cells(path)
    for tag in tags:
        tagged = [cell for cell in cells if tag in cell.metadata.get("tags", [])]
        if len(tagged) != 1:
            raise ValueError(f"{path}: expected one code cell tagged {tag!r}, "
                             f"found {len(tagged)}")
        exec(compile(tagged[0].source, f"{path}:{tag}", "exec"), namespace)
    return namespace


def load_as_module(path, name, skip_tag="demo"):
    """Execute every code cell of `path` not tagged `skip_tag` in a fresh module; return it."""
    module = types.ModuleType(name)
    module.__file__ = str(path)
    for cell in code_cells(path):
        if skip_tag not in cell.metadata.get("tags", []):
            exec(compile(cell.source, str(path), "exec"), module.__dict__)
    return module
