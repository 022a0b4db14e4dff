"""Reading what the write-up shows from the student's own files: the code of the graded
files, the runs of train.py and test.py, the saved outputs of the notebooks and the answers
in writeup.md. Each reader returns what it found, or a problem in words; handin/writeup.py
turns both into pages.
"""

import ast
import base64
import binascii
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from handin import notebooks as nbread

MAX_IMAGE_SIDE = 2000  # pixels: larger pictures are scaled down before they go in the PDF
MAX_ANSWER_CHARS = 200_000
MAX_OUTPUT_LINES = 14  # of a notebook cell's text output in the code listing (5.1)
MAX_TERMINAL_BYTES = 4 * 2**20  # of a saved terminal session read


# ---- Python files -------------------------------------------------------------------

@dataclass
class Definition:
    """A top-level function or class of a Python file."""
    name: str
    first_line: int  # 1-based, its first decorator or its def/class line
    lines: list  # the source lines, first_line onwards
    is_stub: bool  # still raises NotImplementedError (the starter's stub)


def raises_not_implemented(statement):
    """True for `raise NotImplementedError(...)` (or a `with` block that holds one)."""
    if isinstance(statement, ast.With):
        return any(raises_not_implemented(inner) for inner in statement.body)
    if not isinstance(statement, ast.Raise) or statement.exc is None:
        return False
    exc = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
    return getattr(exc, "id", None) == "NotImplementedError"


def is_stub(node):
    """True when a function always raises NotImplementedError (the starter's stub: a raise
    in the body itself, not in a branch), or a class has such a method."""
    if isinstance(node, ast.ClassDef):
        return any(is_stub(item) for item in node.body
                   if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return any(raises_not_implemented(statement) for statement in node.body)


def python_definitions(path):
    """
    The top-level functions and classes of the Python file `path`.

    Returns a tuple of:
    - dict name -> Definition (empty when the file is missing or does not parse)
    - problem: why the file could not be read, or None
    """
    if not path.is_file():
        return {}, "not found"
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        tree = ast.parse(text)
    except SyntaxError as err:
        return {}, f"does not parse: {err.msg} (line {err.lineno})"
    lines = text.splitlines()
    found = {}
    for node in tree.body:  # a later binding of a name replaces an earlier one, as in Python
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            found[node.name] = Definition(node.name, first, lines[first - 1:node.end_lineno],
                                          is_stub(node))
        elif isinstance(node, ast.Assign):  # fc_forward = my_fc_forward
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = Definition(target.id, node.lineno,
                                                  lines[node.lineno - 1:node.end_lineno], False)
    return found, None


def numbered(lines, first=1):
    """[(line number, line)] of `lines`, numbered from `first`."""
    return list(enumerate(lines, start=first))


# ---- runs of train.py and test.py ----------------------------------------------------

def settings_in_main(train_py):
    """True when the train.py at `train_py` takes no --config: one written for the original
    starter keeps its settings in main() and writes no summary.json. False when it takes
    --config (the kit's), or cannot be read."""
    try:
        return "--config" not in Path(train_py).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def read_json(path):
    """(the JSON object in `path`, None) or (None, the problem)."""
    if not path.is_file():
        return None, "not found"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        return None, f"is not valid JSON ({err})"
    if not isinstance(data, dict):
        return None, "is not a JSON object"
    return data, None


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(2**20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fraction(value):
    """A JSON accuracy as a float in [0, 1], or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if 0 <= value <= 1 else None


# ---- pictures -------------------------------------------------------------------------

def picture_from_bytes(data):
    """An image file's bytes (PNG, JPEG, ...) as an array (H, W, C), at most MAX_IMAGE_SIDE
    pixels a side; raises ValueError when it is not a readable image."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
            img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
            return np.asarray(img)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as err:
        raise ValueError(f"not a readable image ({err})") from None


def picture_from_file(path):
    return picture_from_bytes(Path(path).read_bytes())


def notebook_picture(encoded):
    """A notebook's base64 image/png output as an array; ValueError if it is broken."""
    problem = nbread.png_problem(encoded)
    if problem:
        raise ValueError(f"the image is {problem}")
    try:
        return picture_from_bytes(base64.b64decode(nbread.as_text(encoded)))
    except binascii.Error as err:
        raise ValueError(f"the image is not base64 ({err})") from None


# ---- notebooks ------------------------------------------------------------------------

@dataclass(frozen=True)
class CellRole:
    """How to find a cell of the starter notebook: its id, else the first cell of its type
    whose source contains `marker`."""
    cell_id: str
    marker: str
    cell_type: str = "code"


@dataclass
class Notebook:
    """A notebook read for the write-up: nb is None when it could not be read (problem)."""
    path: Path
    nb: dict | None
    problem: str | None = None

    @property
    def cells(self):
        cells = self.nb.get("cells") if isinstance(self.nb, dict) else None
        return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []

    def code_cells(self):
        return nbread.code_cells(self.nb) if self.nb is not None else []

    def find(self, role):
        """The cell playing `role` (a CellRole), or None."""
        typed = [c for c in self.cells if c.get("cell_type") == role.cell_type]
        for cell in typed:
            if cell.get("id") == role.cell_id:
                return cell
        return next((c for c in typed if role.marker in nbread.as_text(c.get("source"))), None)

    def has_outputs(self):
        return any(nbread.outputs_of(cell) for cell in self.code_cells())


def read_notebook(path):
    """The notebook at `path` (bounded reading: handin/notebooks.py)."""
    path = Path(path)
    if not path.is_file():
        return Notebook(path, None, f"{path.name} not found")
    nb, problem = nbread.load_notebook(path, path.name)
    return Notebook(path, nb, problem)


def cell_text_outputs(cell):
    """The text a code cell's outputs show (streams, results, errors), as lines."""
    lines = nbread.cell_lines(cell)
    for out in nbread.outputs_of(cell):
        if out.get("output_type") == "error":
            lines.append(f"{nbread.as_text(out.get('ename'))}: "
                         f"{nbread.as_text(out.get('evalue'))}"[:nbread.MAX_LINE_CHARS])
    return [strip_ansi(line) for line in lines]


ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text):
    return ANSI_RE.sub("", text).replace("\r", "")


def head_and_tail(path, limit=MAX_TERMINAL_BYTES):
    """The text of a file of any size: all of it, or its first and last limit/2 bytes."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        if size <= limit:
            data = f.read()
        else:
            data = f.read(limit // 2) + b"\n[...]\n"
            f.seek(size - limit // 2)
            data += f.read()
    return data.decode("utf-8", errors="replace")


def terminal_lines(text):
    """A saved terminal session as the lines it showed: colour codes removed, and of a line
    redrawn with carriage returns (a progress bar) only its last state."""
    lines = []
    for line in ANSI_RE.sub("", text).split("\n"):
        states = [state for state in line.split("\r") if state.strip()]
        lines.append(states[-1] if states else "")
    return lines


def shortened(lines, limit=MAX_OUTPUT_LINES):
    """At most `limit` lines: the first and the last ones, with a line saying how many are
    left out."""
    if len(lines) <= limit:
        return lines
    head = limit // 3
    tail = limit - head - 1
    return [*lines[:head], f"... ({len(lines) - head - tail} more lines) ...", *lines[-tail:]]


def cell_label(cell, number):
    count = nbread.run_count(cell)
    return f"code cell {number}, In [{count if count is not None else ' '}]"


# ---- writeup.md ---------------------------------------------------------------------

HEADING_RE = re.compile(r"^##(?!#)\s*(.*?)\s*#*\s*$")
QUESTION_ID_RE = re.compile(r"^(?:Q(?:uestion)?\s*)?(\d+\.\d+|[A-Z])\b", re.IGNORECASE)
COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)
FIELD_RE = re.compile(r"^\s*(Name|Uniqname)\s*:\s*(.*?)\s*$", re.IGNORECASE)


@dataclass
class Answers:
    """What the student wrote in writeup.md."""
    fields: dict = field(default_factory=dict)  # "name", "uniqname" -> text
    by_question: dict = field(default_factory=dict)  # "4.2" -> text
    stray: list = field(default_factory=list)  # headings that name no question, with text
    problem: tuple | None = None  # (what is wrong, how to fix it)


def without_comments(text):
    return COMMENT_RE.sub("", text)


def read_answers(path, question_ids):
    """The answers in the Markdown file `path`: the text under each `## <id> ...` heading,
    prompts (HTML comments) removed; Name/Uniqname lines before the first heading."""
    answers = Answers()
    if not path.is_file():
        answers.problem = ("not found", "get writeup.md back from the starter kit zip and "
                                        "write your answers in it")
        return answers
    raw = path.read_text(encoding="utf-8", errors="replace")[:MAX_ANSWER_CHARS]
    # prompts become as many newlines as they had, so that line numbers stay right
    text = COMMENT_RE.sub(lambda m: "\n" * m.group().count("\n"), raw)
    if "<!--" in text:  # a prompt never closed: keep the text after it, and say so
        line = text[:text.index("<!--")].count("\n") + 1
        answers.problem = (f"the '<!--' on line {line} is never closed, which would hide "
                           "everything after it", "close it with '-->' (or delete it)")
        text = text.replace("<!--", "")
    current, parts = None, {}
    for line in text.splitlines():
        heading = HEADING_RE.match(line)
        if heading:
            match = QUESTION_ID_RE.match(heading.group(1))
            key = match.group(1).upper() if match else None
            current = key if key in question_ids else ("?", heading.group(1))
            parts.setdefault(current, [])
            continue
        if current is None:
            found = FIELD_RE.match(line)
            if found:
                answers.fields[found.group(1).lower()] = found.group(2)
            continue
        parts[current].append(line)
    for key, lines in parts.items():
        body = "\n".join(lines).strip()
        if isinstance(key, tuple):
            if body:
                answers.stray.append(key[1])
        elif body:
            answers.by_question[key] = body
    return answers


def markdown_pieces(text):
    """Markdown as (kind, text) pieces for the PDF: "p" paragraphs (lines joined), "li" list
    items, "h" headings, "code" fenced blocks (as they are)."""
    pieces, para, fence = [], [], None

    def flush():
        if para:
            pieces.append(("p", " ".join(line.strip() for line in para).replace("**", "")))
            para.clear()

    for line in without_comments(text).splitlines():
        if fence is not None:
            if line.strip().startswith("```"):
                pieces.append(("code", "\n".join(fence)))
                fence = None
            else:
                fence.append(line)
            continue
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            fence = []
        elif not stripped:
            flush()
        elif stripped.startswith("#"):
            flush()
            pieces.append(("h", stripped.lstrip("#").strip()))
        elif re.match(r"^([-*+]|\d+[.)])\s+", stripped):
            flush()
            pieces.append(("li", stripped.replace("**", "")))
        elif para or not pieces or pieces[-1][0] != "li" or not line.startswith(" "):
            para.append(line)
        else:  # an indented continuation of a list item
            pieces[-1] = ("li", pieces[-1][1] + " " + stripped)
    flush()
    if fence is not None:
        pieces.append(("code", "\n".join(fence)))
    return pieces
