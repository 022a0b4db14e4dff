"""Grading of the notebooks (part1.ipynb, part2.ipynb) from their saved outputs, under the
names and points of their tests in handin/manifest.py.

Notebooks are never executed. Their points require a notebook that was really run:
- the starter's code cells, matched by cell id, are all present, and those that ran were run
  in order (execution counts increasing down the starter's cells);
- the test accuracy is the one printed by the evaluation cell, after every cell above it ran;
- the two images are drawn by the display cells, as real PNG images of at least
  MIN_IMAGE_SIDE pixels a side, and the predictions are printed by the same cells.
- no cell shows a run that its own code could not have produced (handin/cell_code.py: the
  starter's NotImplementedError stubs still in place, names no cell defines).
A notebook that fails the first or the last rule scores 0 on its tests and its entries
start with NEEDS_PERSON, as do entries with a self-contradicting output;
`needs_person(entries)` lists them for results.json. A notebook that passes is still a file
the student could have edited by hand with consistent numbers: `spot_checks` names, for each
of its results, what a person should compare.

Bounded work: a notebook is parsed once (its text's digest keys a small cache, so the
submission checker and the grader share the parse), with caps on its size, on the number of
objects and strings it can hold and on nesting, and checked with our own structural rules
(no JSON-schema validation, whose time grows with the outputs). Student text is read in
linear time: each output is cut to MAX_OUTPUT_CHARS_READ characters, a cell to MAX_LINES
lines of at most MAX_LINE_CHARS characters, before any pattern sees it, and the patterns
have no nested or adjacent unbounded repeats; images are checked up to MAX_IMAGES a cell.
"""

import base64
import binascii
import hashlib
import json
import re
import struct
import zlib
from dataclasses import dataclass

from handin import manifest
from handin.cell_code import impossible_cells
from handin.manifest import PART1_FULL_ACCURACY, PART1_MIN_ACCURACY

RUN_TEST, ACCURACY_TEST = manifest.test("part1_run"), manifest.test("part1_accuracy")
IMAGES_TEST, PREDICTIONS_TEST = manifest.test("part2_images"), manifest.test("part2_predictions")
MAX_OUTPUT_CHARS = 2000  # of a results.json entry's output

NEEDS_PERSON = "NEEDS A PERSON: "
SPOT_CHECK = "spot-check: "  # starts each routine line of needs_person: what a person compares
MAX_NOTEBOOK_CHARS = 16 * 2**20  # a notebook with a dozen figures is a few MB
MAX_JSON_ITEMS = 1_000_000  # '{', '[' and '"' in its text: the objects and strings it holds
MAX_JSON_DEPTH = 64  # real notebooks nest about 8 levels deep
MAX_OUTPUT_CHARS_READ = 2**20
MAX_LINES = 2000  # per cell
MAX_LINE_CHARS = 300
MAX_IMAGE_CHARS = 8 * 2**20  # base64 characters of one image
MAX_IMAGES = 2  # images checked per display cell
MIN_IMAGE_SIDE, MAX_IMAGE_SIDE = 64, 4096
MAX_IMAGE_PIXEL_BYTES = 64 * 2**20  # decompressed size of one image's pixel rows
CELL_TYPES = ("code", "markdown", "raw")
OUTPUT_TYPES = ("stream", "display_data", "execute_result", "error")

EVALUATION_MARKER = 'print(f"TEST ACCURACY'  # in the source of part1's evaluation cell
DISPLAY_MARKER = "show_prediction(IMG"  # in the source of part2's display cells
SOLUTION_MARKER = "BEGIN" + " SOLUTION"  # split: the starter must hold no literal marker


@dataclass(frozen=True)
class Spec:
    """What the reference notebook fixes about a submitted one (cell ids; see reference_spec)."""

    name: str
    cells: tuple  # the starter's non-empty code cells, in order
    with_outputs: tuple  # those that show outputs in every run (no solution region in them)
    key_cells: tuple  # part1: the evaluation cell; part2: the two display cells


PART1 = Spec(
    "part1.ipynb",
    cells=("620d6027", "6876ff07", "a4584ae5", "5f5739ee", "026f0f87", "90317748", "1ee7df23",
           "64fa02e9", "a498268f", "0d46fe9b", "0ccd78b8", "71baed09", "6c439f9a", "e9d6bc15",
           "52b83841", "8fb4e91b", "a752862b"),
    with_outputs=("026f0f87", "90317748", "a498268f", "71baed09", "6c439f9a", "e9d6bc15",
                  "52b83841", "8fb4e91b", "a752862b"),
    key_cells=("e9d6bc15",),
)
PART2 = Spec(
    "part2.ipynb",
    cells=("57bfcc7b", "157f1888", "eb6e8591", "1c199548", "9bf604d2", "43e16553", "a6923a7d",
           "4070b260", "56f01629", "5f259c8b", "451d8aa9", "e0c2db3f", "395e4f08", "dad55ca6",
           "49273b2c"),
    with_outputs=("5f259c8b", "395e4f08", "dad55ca6", "49273b2c"),
    key_cells=("395e4f08", "dad55ca6"),
)
SPECS = {spec.name: spec for spec in (PART1, PART2)}


def result(name, score, max_score, output):
    """One entry of results.json's tests list."""
    score = round(float(score), 2)
    return {
        "name": name,
        "score": score,
        "max_score": max_score,
        "status": "passed" if score >= max_score else "failed",
        "output": output[:MAX_OUTPUT_CHARS],
        "visibility": "visible",
    }


def needs_person(entries):
    """'name: reason' of each entry a person should look at (its output starts NEEDS_PERSON)."""
    return [f"{entry['name']}: {entry['output'][len(NEEDS_PERSON):]}" for entry in entries
            if entry["output"].startswith(NEEDS_PERSON)]


def json_depth(data):
    """Nesting depth of parsed JSON (a scalar: 0), without recursion."""
    depth, stack = 0, [(data, 1)] if type(data) in (dict, list) else []
    while stack:
        item, level = stack.pop()
        depth = max(depth, level)
        children = item.values() if type(item) is dict else item
        stack.extend((child, level + 1) for child in children if type(child) in (dict, list))
    return depth


@dataclass(frozen=True)
class Parsed:
    """A notebook's text parsed (see parse_json); `problem` follows the file's name."""

    data: object = None  # the JSON, or None
    problem: str = None  # "is not a readable notebook: ...", or None
    hostile: bool = False  # built to break tools: too large, too many objects, too deep


_PARSED = {}  # sha256 of a notebook's text -> Parsed (no file name in it: any file may hold it)
PARSED_KEPT = 2
TOO_DEEP = f"is nested more than {MAX_JSON_DEPTH} levels deep: not a real notebook"


def parse_json(text, name):
    """
    (the JSON of a notebook's text or None, why it is built to break tools or not JSON,
    whether it is built to break tools); bounded (size, objects and strings, nesting) and
    parsed once per text.
    """
    if len(text) > MAX_NOTEBOOK_CHARS:
        parsed = Parsed(problem=f"is {len(text)} characters long; at most "
                                f"{MAX_NOTEBOOK_CHARS} are allowed", hostile=True)
    else:
        key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        if key not in _PARSED:
            _PARSED[key] = bounded_parse(text)
            while len(_PARSED) > PARSED_KEPT:
                _PARSED.pop(next(iter(_PARSED)))
        parsed = _PARSED[key]
    return parsed.data, parsed.problem and f"{name} {parsed.problem}", parsed.hostile


def bounded_parse(text):
    """The Parsed of a notebook's text no longer than MAX_NOTEBOOK_CHARS."""
    items = text.count("{") + text.count("[") + text.count('"')
    if items > MAX_JSON_ITEMS:
        return Parsed(problem=f"holds {items} JSON objects and strings; a real notebook has "
                              f"far fewer than {MAX_JSON_ITEMS}", hostile=True)
    try:
        data = json.loads(text)
    except RecursionError:
        return Parsed(problem=TOO_DEEP, hostile=True)
    except (ValueError, MemoryError) as err:
        return Parsed(problem=f"is not a readable notebook: {first_line(err)}")
    if json_depth(data) > MAX_JSON_DEPTH:
        return Parsed(problem=TOO_DEEP, hostile=True)
    return Parsed(data)


def malformed_notebook(text, name):
    """Why a notebook's text is built to break tools (too large, too many objects, nested
    too deeply), or None."""
    _, problem, hostile = parse_json(text, name)
    return problem if hostile else None


def structure_error(nb):
    """Why parsed JSON is not an nbformat 4 notebook as far as grading reads one, or None."""
    if not isinstance(nb, dict) or nb.get("nbformat") != 4:
        return "it is not an nbformat 4 notebook (save it from Jupyter or Colab)"
    if not isinstance(nb.get("cells"), list) or not isinstance(nb.get("metadata"), dict):
        return "it has no list of cells and metadata"
    for number, cell in enumerate(nb["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") not in CELL_TYPES:
            return f"cell {number} is not a code, markdown or raw cell"
        if not isinstance(cell.get("source"), (str, list)):
            return f"cell {number} has no source"
        if cell["cell_type"] == "code" and not (
                isinstance(cell.get("outputs"), list)
                and all(isinstance(o, dict) and o.get("output_type") in OUTPUT_TYPES
                        for o in cell["outputs"])):
            return f"code cell {number} has malformed outputs"
    return None


def read_notebook(text, name):
    """
    Parse and check a notebook (nbformat 4), bounded (see the module docstring).

    Returns a tuple of:
    - nb: the notebook as a dict (None if it could not be read)
    - problem: why it is invalid, or None
    """
    nb, problem, _ = parse_json(text, name)
    if nb is None:
        return None, problem
    problem = structure_error(nb)
    return nb, problem and f"{name} is not a valid notebook: {problem}"


def first_line(err):
    """The first line of an exception's message (its type when it has none), cut to 200."""
    return (str(err).splitlines() or [type(err).__name__])[0][:200]


def load_notebook(path, name, missing_reason=None):
    """Parse a notebook file; on failure, returns (None, problem)."""
    if path is None:
        return None, missing_reason or f"{name} is missing from the submission"
    if path.stat().st_size > 4 * MAX_NOTEBOOK_CHARS:  # UTF-8: at most 4 bytes a character
        return None, f"{name} is {path.stat().st_size} bytes long; not a real notebook"
    nb, problem = read_notebook(path.read_text(encoding="utf-8", errors="replace"), name)
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return None, problem or f"{name} has no cells"
    return nb, None


def code_cells(nb, empty=False):
    """The code cells of a notebook (those with an empty source only if `empty`)."""
    cells = nb.get("cells") if isinstance(nb, dict) else None
    return [cell for cell in (cells if isinstance(cells, list) else [])
            if isinstance(cell, dict) and cell.get("cell_type") == "code"
            and (empty or not is_empty(cell))]


def is_empty(cell):
    return not as_text(cell.get("source")).strip()


def as_text(value):
    """A notebook string field (a string or a list of strings) as one string; '' otherwise."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(part for part in value if isinstance(part, str))
    return ""


def outputs_of(cell):
    outputs = cell.get("outputs")
    return [out for out in outputs if isinstance(out, dict)] if isinstance(outputs, list) else []


def run_count(cell):
    """The cell's execution count (In [n]), or None if it did not run."""
    count = cell.get("execution_count")
    return count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else None


def has_error(cell):
    return any(out.get("output_type") == "error" for out in outputs_of(cell))


def output_text(output):
    """The text an output shows (a stream, or a result's text/plain), capped."""
    if output.get("output_type") == "stream":
        text = output.get("text")
    elif output.get("output_type") in ("execute_result", "display_data"):
        data = output.get("data")
        text = data.get("text/plain") if isinstance(data, dict) else None
    else:
        return ""
    if isinstance(text, list):
        text = "".join(part for part in text[:MAX_LINES] if isinstance(part, str))
    return text[:MAX_OUTPUT_CHARS_READ] if isinstance(text, str) else ""


def cell_lines(cell):
    """The lines a cell's outputs show: at most MAX_LINES, each cut to MAX_LINE_CHARS."""
    lines = []
    for output in outputs_of(cell):
        for line in output_text(output).splitlines():
            if len(lines) == MAX_LINES:
                return lines
            lines.append(line[:MAX_LINE_CHARS])
    return lines


def reference_spec(nb, name):
    """The Spec of a reference notebook (the constants PART1/PART2 are checked against it)."""
    cells = [cell for cell in code_cells(nb) if isinstance(cell.get("id"), str)]
    with_outputs = [cell["id"] for cell in cells
                    if outputs_of(cell) and SOLUTION_MARKER not in as_text(cell.get("source"))]
    marker = EVALUATION_MARKER if name == "part1.ipynb" else DISPLAY_MARKER
    key_cells = [cell["id"] for cell in cells if marker in as_text(cell.get("source"))]
    return Spec(name, tuple(cell["id"] for cell in cells), tuple(with_outputs), tuple(key_cells))


def starter_cells(nb, spec):
    """dict cell id -> the notebook's code cell with that id (emptied or not), for the spec's
    cells found."""
    found = {}
    for cell in code_cells(nb, empty=True):
        if cell.get("id") in spec.cells:
            found.setdefault(cell["id"], cell)
    return found


def where(spec, cell_id):
    """How messages name a starter cell: its number among the starter's code cells."""
    return f"code cell {spec.cells.index(cell_id) + 1} (id {cell_id})"


def structure_problem(nb, spec):
    """Why the notebook is not the starter's, run in order; None when it is."""
    found = starter_cells(nb, spec)
    missing = [cell_id for cell_id in spec.cells if cell_id not in found]
    if missing:
        shown = ", ".join(missing[:4]) + (", ..." if len(missing) > 4 else "")
        return (f"{len(missing)} of the starter's {len(spec.cells)} code cells are missing "
                f"(cell ids {shown}): cells are matched by their id, so fill in the starter "
                "notebook itself rather than a new one")
    last = None
    for cell_id in spec.cells:
        count = run_count(found[cell_id])
        if count is None:
            continue
        if last is not None and count <= last[1]:
            return (f"the cells were not run in order: {where(spec, cell_id)} shows In [{count}] "
                    f"after {where(spec, last[0])} with In [{last[1]}]; restart the kernel, run "
                    "all cells and save")
        last = (cell_id, count)
    return None


def not_run_before(found, spec, cell_id):
    """Starter cells up to and including `cell_id` that did not run."""
    upto = spec.cells[:spec.cells.index(cell_id) + 1]
    return [other for other in upto
            if run_count(found[other]) is None and not is_empty(found[other])]


def ran_cleanly(cell, needs_outputs):
    if is_empty(cell):  # a starter cell the student emptied: nothing to run
        return not needs_outputs
    return run_count(cell) is not None and not has_error(cell) and \
        (bool(outputs_of(cell)) or not needs_outputs)


def trouble_list(spec, cell_ids):
    shown = ", ".join(where(spec, cell_id) for cell_id in cell_ids[:3])
    return shown + (f" and {len(cell_ids) - 3} more" if len(cell_ids) > 3 else "")


# "TEST ACCURACY: 0.9123 (9123/10000)", "test accuracy = 91.2%", "test_acc 0.91" (not
# "per-class test accuracy: {...}"): the number must follow the words directly.
ACCURACY_RE = re.compile(
    r"test[ _-]?acc(?:uracy)?\s*(?:(?:[:=]|is|of)\s*)?(\d{1,3}(?:\.\d{1,12})?)(\s*%)?",
    re.IGNORECASE)
COUNTS_RE = re.compile(r"\((\d{1,9})/(\d{1,9})\)")  # "(9123/10000)"
ACCURACY_TOLERANCE = 1e-4  # the evaluation cell prints 4 decimals


def accuracies(line):
    """The test accuracies a line reports, as fractions in [0, 1]."""
    values = []
    for match in ACCURACY_RE.finditer(line):
        number = float(match.group(1))
        if match.group(2) or number > 1:
            number /= 100
        if 0 <= number <= 1:
            values.append(number)
    return values


def reported_accuracy(cell):
    """(accuracy, line) of the first test-accuracy line a cell's outputs show, or (None, None)."""
    for line in cell_lines(cell):
        values = accuracies(line)
        if values:
            return values[0], line
    return None, None


def accuracy_contradiction(found, value, line):
    """Why the evaluation cell's accuracy contradicts itself or another cell, or None."""
    counts = COUNTS_RE.search(line)
    if counts and int(counts.group(2)) > 0:
        right, total = int(counts.group(1)), int(counts.group(2))
        if abs(right / total - value) > ACCURACY_TOLERANCE:
            return (f"the evaluation cell prints test accuracy {value:.4f} but {right}/{total} "
                    "images right")
    for cell_id, cell in found.items():
        for other in (v for other_line in cell_lines(cell) for v in accuracies(other_line)):
            if abs(other - value) > ACCURACY_TOLERANCE:
                return (f"{where(PART1, cell_id)} reports test accuracy {other:.4f} but the "
                        f"evaluation cell printed {value:.4f}")
    return None


def evaluated_accuracy(found):
    """(accuracy or None, explanation) from part1's evaluation cell."""
    cell_id = PART1.key_cells[0]
    place = f"the evaluation cell, {where(PART1, cell_id)}"
    not_run = not_run_before(found, PART1, cell_id)
    if not_run:
        return None, (f"{trouble_list(PART1, not_run)} did not run, so {place} reports no test "
                      "accuracy of a trained model: run all cells and save")
    if has_error(found[cell_id]):
        return None, f"{place} ended with an error"
    value, line = reported_accuracy(found[cell_id])
    if value is None:
        return None, f"{place} printed no 'TEST ACCURACY: ...' line"
    contradiction = accuracy_contradiction(found, value, line)
    if contradiction:
        return None, NEEDS_PERSON + contradiction
    return value, f"{place} reports test accuracy {value:.2%}"


def accuracy_points(accuracy):
    """Full marks at >= 85%, linear from 0 at 70% to full at 85%, 0 at or below 70%."""
    if accuracy is None or accuracy <= PART1_MIN_ACCURACY:
        return 0.0
    fraction = (accuracy - PART1_MIN_ACCURACY) / (PART1_FULL_ACCURACY - PART1_MIN_ACCURACY)
    return ACCURACY_TEST.points * min(1.0, fraction)


def run_check(found, spec):
    """(fraction of the starter's code cells that ran cleanly, explanation)."""
    if not any(outputs_of(cell) for cell in found.values()):
        return 0.0, "no outputs: run all cells and save before submitting"
    troubles = [cell_id for cell_id in spec.cells
                if not ran_cleanly(found[cell_id], cell_id in spec.with_outputs)]
    total = len(spec.cells)
    text = f"{total - len(troubles)} of the starter's {total} code cells ran without an error"
    if troubles:
        text += f"; not run, failed or without their outputs: {trouble_list(spec, troubles)}"
    return 1 - len(troubles) / total, text


def cell_label(cell, spec):
    """How messages name a code cell: by its place among the starter's, else its id."""
    cell_id = cell.get("id")
    if cell_id in spec.cells:
        return where(spec, cell_id)
    return f"an added code cell (id {str(cell_id)[:20]})"


def impossible_problem(nb, spec):
    """Why some cell shows a run its own code could not have produced (handin/cell_code.py),
    or None."""
    cells = code_cells(nb, empty=True)
    ran = [run_count(cell) is not None and not has_error(cell) for cell in cells]
    reasons = impossible_cells([as_text(cell.get("source")) for cell in cells], ran)
    if not reasons:
        return None
    listed = "; ".join(f"{cell_label(cells[index], spec)}: {why}"
                       for index, why in list(reasons.items())[:2])
    more = f"; and {len(reasons) - 2} more cells" if len(reasons) > 2 else ""
    return f"outputs without code that could have produced them: {listed}{more}"


def unusable(nb, problem, spec, tests):
    """
    0 points for each of `tests` (manifest.GradedTest) when the notebook is missing (nb
    None, with `problem`), not built from the starter's cells of `spec`, or shows outputs
    its code could not have produced (both flagged for a person); None when it can be
    graded.
    """
    if nb is not None:
        structure = structure_problem(nb, spec) or impossible_problem(nb, spec)
        problem = structure and NEEDS_PERSON + structure
    if nb is None or problem:
        return [result(test.name, 0, test.points, problem) for test in tests]
    return None


def part1_entries(nb, problem):
    """results.json entries of part1 (nb None: both 0 with `problem`)."""
    zeros = unusable(nb, problem, PART1, [RUN_TEST, ACCURACY_TEST])
    if zeros:
        return zeros
    found = starter_cells(nb, PART1)
    fraction, run_text = run_check(found, PART1)
    accuracy, acc_text = evaluated_accuracy(found)
    return [result(RUN_TEST.name, RUN_TEST.points * fraction, RUN_TEST.points, run_text),
            result(ACCURACY_TEST.name, accuracy_points(accuracy), ACCURACY_TEST.points,
                   acc_text)]


def grade_part1(path, missing_reason=None):
    return part1_entries(*load_notebook(path, "part1.ipynb", missing_reason))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # color type -> samples per pixel


def png_chunks(data):
    """(type, body) of each chunk of a PNG, up to IEND; raises ValueError on a broken one."""
    chunks, pos = [], len(PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 8 + length
        if end + 4 > len(data):
            break
        body = data[pos + 8:end]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[end:end + 4])[0]:
            raise ValueError(f"its {kind!r} chunk fails its CRC check")
        chunks.append((kind, body))
        if kind == b"IEND":
            return chunks
        pos = end + 4
    raise ValueError("it is truncated")


def inflated_size(data, limit):
    """Size of zlib `data` decompressed (at most limit + 1), or None if it is not valid zlib."""
    inflater, size, pending = zlib.decompressobj(), 0, data
    try:
        while size <= limit:
            out = inflater.decompress(pending, 2**20)
            size += len(out)
            pending = inflater.unconsumed_tail
            if not pending and len(out) < 2**20:
                break
    except zlib.error:
        return None
    return size if inflater.eof or size > limit else None


def png_problem(encoded):
    """Why a notebook's base64 image/png is not a real picture of plausible size; None if it is."""
    text = as_text(encoded)
    if len(text) > MAX_IMAGE_CHARS:
        return f"over {MAX_IMAGE_CHARS} base64 characters"
    try:
        data = base64.b64decode(text)
        if not data.startswith(PNG_SIGNATURE):
            return "not a PNG"
        chunks = png_chunks(data)
    except (binascii.Error, ValueError) as err:
        return f"a broken PNG ({err})"
    if chunks[0][0] != b"IHDR" or len(chunks[0][1]) != 13:
        return "a PNG without its IHDR header"
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    if min(width, height) < MIN_IMAGE_SIDE or max(width, height) > MAX_IMAGE_SIDE:
        return (f"{width}x{height} pixels (a real figure has {MIN_IMAGE_SIDE} to "
                f"{MAX_IMAGE_SIDE} pixels a side)")
    if color not in PNG_SAMPLES or depth not in (1, 2, 4, 8, 16):
        return f"a PNG of unknown color type {color} / bit depth {depth}"
    expected = height * (1 + (width * PNG_SAMPLES[color] * depth + 7) // 8)
    if expected > MAX_IMAGE_PIXEL_BYTES:
        return f"{width}x{height} pixels, too large to check"
    size = inflated_size(b"".join(body for kind, body in chunks if kind == b"IDAT"), expected)
    if size is None or (size != expected and not interlace):
        return f"a PNG whose pixel data does not fill its {width}x{height} pixels"
    return None


def cell_pngs(cell):
    """The image/png data of a cell's displayed outputs."""
    pngs = []
    for output in outputs_of(cell):
        data = output.get("data")
        if output.get("output_type") in ("display_data", "execute_result") \
                and isinstance(data, dict) and "image/png" in data:
            pngs.append(data["image/png"])
    return pngs


LABEL_RE = re.compile(r"[A-Za-z][\w ,'/.()-]*")
RANK_RE = re.compile(r"\d{1,3}[.)]")
PROBABILITY_RE = re.compile(r"0?\.\d{1,12}|1\.0{1,12}")
PERCENT_RE = re.compile(r"\d{1,3}(?:\.\d{1,12})?")


def prediction(line):
    """
    (label, probability) of a line listing one predicted class, else None:
    'tabby cat   81.23%', '  1. tabby: 0.812', 'tabby - 81 %'.
    """
    text = line.strip()
    percent = text.endswith("%")
    if percent:
        text = text[:-1].rstrip()
    parts = text.rsplit(None, 1)
    if len(parts) != 2 or not (PERCENT_RE if percent else PROBABILITY_RE).fullmatch(parts[1]):
        return None
    label = parts[0]
    rank = RANK_RE.match(label)
    if rank:
        label = label[rank.end():].lstrip()
    if label[-1:] in (":", "=", "-"):
        label = label[:-1].rstrip()
    value = float(parts[1]) / (100 if percent else 1)
    return (label, value) if LABEL_RE.fullmatch(label) and value <= 1 else None


def count_predictions(cell):
    """Lines of a cell's outputs that list a predicted class with its probability."""
    return sum(1 for line in cell_lines(cell) if prediction(line))


def display_check(found, cell_id):
    """(shows a real image, prints >= 2 predictions, image note, prediction note) of a cell."""
    cell, place = found[cell_id], where(PART2, cell_id)
    not_run = not_run_before(found, PART2, cell_id)
    if not_run:
        note = f"{place}: {trouble_list(PART2, not_run)} did not run"
        return False, False, note, note
    if has_error(cell):
        note = f"{place} ended with an error"
        return False, False, note, note
    predictions = count_predictions(cell)
    prediction_note = f"{place} lists {predictions} predicted classes with probabilities"
    pngs = cell_pngs(cell)
    problems = [png_problem(png) for png in pngs[:MAX_IMAGES]]
    if None in problems:
        image_note = f"{place} shows an image"
    elif problems:
        image_note = NEEDS_PERSON + f"{place} shows an image that is {problems[0]}"
    else:
        image_note = f"{place} shows no image"
    return None in problems, predictions >= 2, image_note, prediction_note


def part2_entries(nb, problem):
    """results.json entries of part2 (nb None: both 0 with `problem`)."""
    zeros = unusable(nb, problem, PART2, [IMAGES_TEST, PREDICTIONS_TEST])
    if zeros:
        return zeros
    found = starter_cells(nb, PART2)
    checks = [display_check(found, cell_id) for cell_id in PART2.key_cells]
    images, predictions = sum(c[0] for c in checks), sum(c[1] for c in checks)
    shares = len(PART2.key_cells)
    image_text = f"{images} of the {shares} display cells show a real image: " + "; ".join(
        c[2].removeprefix(NEEDS_PERSON) for c in checks)
    if any(c[2].startswith(NEEDS_PERSON) for c in checks):
        image_text = NEEDS_PERSON + image_text
    images_points, predictions_points = IMAGES_TEST.points, PREDICTIONS_TEST.points
    return [
        result(IMAGES_TEST.name, images_points * images / shares, images_points, image_text),
        result(PREDICTIONS_TEST.name, predictions_points * predictions / shares,
               predictions_points,
               f"{predictions} of the {shares} display cells list 2 or more predicted classes "
               "with probabilities: " + "; ".join(c[3] for c in checks)),
    ]


def grade_part2(path, missing_reason=None):
    return part2_entries(*load_notebook(path, "part2.ipynb", missing_reason))


# Starter cells a person compares, found by what their code holds.
MODEL_MARKER, SUMMARY_MARKER, TRAINING_MARKER = "class FashionCNN", "summary(model", \
    "= train_one_epoch("
MODEL_SPOT_CHECK = "part1.ipynb: compare the model summary"  # the grader may add a note
VALIDATION_RE = re.compile(r"val loss \d{1,3}\.\d{1,6} acc (\d\.\d{1,6})")


def starter_cell_with(found, spec, marker):
    """The id of the first starter cell of `spec` whose source holds `marker`, or None."""
    return next((cell_id for cell_id in spec.cells if cell_id in found
                 and marker in as_text(found[cell_id].get("source"))), None)


def cell_with(found, spec, marker):
    """How messages name the first starter cell whose source holds `marker` ('its cell' if
    none does)."""
    cell_id = starter_cell_with(found, spec, marker)
    return where(spec, cell_id) if cell_id is not None else "its cell"


def last_validation(found):
    """The last validation accuracy the training log shows, as text, or None."""
    cell_id = starter_cell_with(found, PART1, TRAINING_MARKER)
    if cell_id is None:
        return None
    values = [m.group(1) for line in cell_lines(found[cell_id])
              for m in [VALIDATION_RE.search(line)] if m]
    return values[-1] if values else None


def spot_checks(name, nb, entries):
    """
    What a person should compare for each result of a notebook that earned points (a file
    edited by hand with consistent numbers cannot be told from a real run otherwise).
    """
    if nb is None or not any(entry["score"] > 0 for entry in entries):
        return []
    spec = SPECS[name]
    found = starter_cells(nb, spec)
    if name == "part1.ipynb":
        accuracy, _ = evaluated_accuracy(found)
        validation = last_validation(found)
        shown = f"{accuracy:.2%}" if accuracy is not None else "(none)"
        summary, model = (cell_with(found, spec, m) for m in (SUMMARY_MARKER, MODEL_MARKER))
        return [f"{MODEL_SPOT_CHECK} of {summary} with the FashionCNN class of {model}",
                f"part1.ipynb: compare the test accuracy {shown} of the evaluation cell with the "
                f"last validation accuracy ({validation or 'not found'}) of the training log "
                f"in {cell_with(found, spec, TRAINING_MARKER)}"]
    cells = " and ".join(where(spec, cell_id) for cell_id in spec.key_cells)
    return [f"part2.ipynb: look at the images of {cells}: photos, the ones IMG1 and IMG2 name",
            f"part2.ipynb: compare the classes listed by {cells} with their bar charts and "
            "with what each image shows"]


def grade_notebooks(files):
    """
    The results.json entries of both notebooks (files: name -> Path; a missing one absent),
    each parsed once, and the spot-check lines for a person.
    """
    entries, checks = [], []
    for name, graded_by in (("part1.ipynb", part1_entries), ("part2.ipynb", part2_entries)):
        nb, problem = load_notebook(files.get(name), name)
        graded = graded_by(nb, problem)
        entries += graded
        checks += spot_checks(name, nb, graded)
    return entries, checks


def notebook_findings(nb, name, label=None):
    """
    What the grader will hold against a parsed notebook `name` (part1.ipynb or part2.ipynb),
    for the submission checker; messages name it `label` (default: name).

    Returns a tuple of:
    - errors: reasons the notebook earns no points and goes to a person (not the starter's
      cells, run out of order, forged-looking outputs)
    - warnings: the other tests it loses points on, with the grader's explanation
    """
    entries = (part1_entries if name == "part1.ipynb" else part2_entries)(nb, None)
    errors = [f"{label or name}: {entry['output'][len(NEEDS_PERSON):]}" for entry in entries
              if entry["output"].startswith(NEEDS_PERSON)]
    warnings = [f"{entry['name']}: {entry['output']}" for entry in entries
                if entry["score"] < entry["max_score"]
                and not entry["output"].startswith(NEEDS_PERSON)]
    return list(dict.fromkeys(errors)), warnings
