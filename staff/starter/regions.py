"""Solution regions of the reference: found, and replaced by stubs.

A region is the lines between `# BEGIN SOLUTION` and `# END SOLUTION` (same indentation;
text after the marker, `# BEGIN SOLUTION: the forward pass`, is a hint saying what to
write). In a .py file it becomes `raise NotImplementedError("<function>: not implemented
yet (<hint>)")` at the region's indentation. The starter build, the grader's tests and the
mistakes corpus all use this module, so they agree on what a student receives.
"""

import json
import re
from dataclasses import dataclass, field

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
DEF_RE = re.compile(r"(\s*)(?:async\s+)?(def|class)\s+(\w+)")


class StarterError(Exception):
    """A solution marker problem or a failed check of the kit; the message says where."""


@dataclass
class Region:
    path: str
    start: int  # 1-based line of the BEGIN marker
    end: int  # 1-based line of the END marker
    owner: str  # enclosing function, e.g. "TwoLayerNet.forward", or "<module>"
    indent: str = ""
    hint: str = ""  # text after the marker: "# BEGIN SOLUTION: the forward pass"
    lines: list = field(default_factory=list)  # the solution lines inside


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
        match = DEF_RE.match(line)
        if match and len(match.group(1)) < limit:
            if match.group(2) == "def" and names and not names[-1][1]:
                continue  # a def enclosing a def already found: keep the innermost
            names.append((match.group(3), match.group(2) == "class"))
            limit = len(match.group(1))
            if limit == 0:
                break
    return ".".join(name for name, _ in reversed(names)) or "<module>"


def open_region(lines, index, path, begin):
    line = lines[index]
    hint = line.strip()[len(begin):].lstrip(": ").strip()
    return Region(path, index + 1, 0, owner_of(lines, index, indentation(line)),
                  indentation(line), hint)


def find_regions(lines, path, begin=BEGIN, end=END):
    """The Regions of `lines` (a list of lines, e.g. text.splitlines(keepends=True));
    raises StarterError on nested, unclosed or misindented markers."""
    regions, current = [], None
    for index, line in enumerate(lines):
        if marker(line, begin):
            if current is not None:
                raise StarterError(f"{path}:{index + 1}: {begin} inside the region opened at "
                                   f"line {current.start}")
            current = open_region(lines, index, path, begin)
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


def stub_message(region):
    what = region.hint or "write this part"
    if region.owner == "<module>":
        return f"not implemented yet ({what})"
    return f"{region.owner}: not implemented yet ({what})"


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


def strip_python(text, path):
    """
    Returns a tuple of:
    - the starter version of a .py file's text (each region a python_stub)
    - its Regions
    """
    lines = text.splitlines(keepends=True)
    regions = find_regions(lines, path)
    return "".join(replace_regions(lines, regions, python_stub)), regions
