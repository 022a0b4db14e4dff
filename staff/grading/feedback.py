"""What a student reads about a code test: every message built by the grader.

Nothing the worker writes reaches a student as text. An error record brings only a kind
(one of grading_worker.ERROR_KINDS), an exception type (shown only if it is a builtin or
numpy exception), a line number (the grader quotes that line from its own copy of the
student's file) and, for a structural problem (`WrongOutput`), a text that must match one of
the messages grading_tests.py can raise (found in its source): the grader writes its own copy
of that message, with each `{...}` filled in only from a small set of values (a string of
grading_tests.py, a type name, a number below 100, a shape of at most 2 small dimensions, or
one of grading_tests.py's labels with one such value), at most MAX_FILLED of them, the rest
"…". A wrong value is described by grading_tests.py's comparison with the returned numbers
rounded (`shown`: 3 significant digits) and shapes bounded (`shape_text`).

`leak_bits()` counts what a submission can still send out this way (docs/STAFF.md).
"""

import ast
import builtins
import functools
import importlib.util
import math
import re
from dataclasses import dataclass
from pathlib import Path

from handin import manifest
from staff.grading import grading_tests
from staff.grading import grading_worker as worker

ROOT = Path(__file__).resolve().parents[2]

MAX_FILLED = 2  # values of the worker's text written into one structural message
MAX_QUOTED_LINE = 2000  # a student line number beyond this is not quoted
TYPE_NAMES = ("NoneType", "tuple", "list", "dict", "ndarray", "float", "int", "bool", "str",
              "float64", "float32", "int64", "int32", "complex", "bytes", "set", "generator",
              "function", "method", "Tensor", "matrix")
ALLOWED_TYPES = tuple(sorted(
    {name for name, value in vars(builtins).items()
     if isinstance(value, type) and issubclass(value, BaseException)}
    | {"LinAlgError", "AxisError", "WrongOutput", "TimeLimit"}))
UNKNOWN = "…"
GENERIC_WRONG_OUTPUT = "returned something of the wrong type or structure"
ERROR_TEXTS = {
    "timeout": "took longer than {timeout:g} s and was stopped (an infinite loop?)",
    "memory": "ran out of memory (the grader's memory limit was reached)",
    "not_implemented": "not implemented (raises NotImplementedError)",
    "exit": "the code called exit() / sys.exit()",
}


@dataclass(frozen=True)
class Template:
    """A message of grading_tests.py: constant parts and the fields between them."""

    parts: tuple  # str (constant) or None (a field), in order; no two fields side by side

    @property
    def fields(self):
        return sum(part is None for part in self.parts)

    def match(self, text):
        """The fields' values if `text` is this message (each field ends where the next
        constant first occurs, the last constant ends the text), else None. Linear time."""
        values, position, pending = [], 0, False
        for index, part in enumerate(self.parts):
            if part is None:
                pending = True
                continue
            last = index == len(self.parts) - 1
            if last:
                start = len(text) - len(part) if text.endswith(part) else -1
            else:
                start = text.find(part, position) if pending else position
            if start < position or not text.startswith(part, start):
                return None
            if pending:
                values.append(text[position:start])
            position, pending = start + len(part), False
        if pending:
            values.append(text[position:])
        elif position != len(text):
            return None
        return values

    def fill(self, values):
        """The message with the worker's `values` in its fields, each made safe."""
        values, filled, out = list(values), 0, []
        for part in self.parts:
            if part is not None:
                out.append(part)
                continue
            value = safe_value(values.pop(0)) if filled < MAX_FILLED else UNKNOWN
            filled += value != UNKNOWN
            out.append(value)
        return "".join(out)


def string_parts(node, constants):
    """The parts of a string expression: constants, None for each field; None if it is not
    a string expression."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name) and node.id in constants:
        return [constants[node.id]]
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(value.value)
            elif isinstance(value.value, ast.Name) and value.value.id in constants \
                    and value.format_spec is None and value.conversion == -1:
                parts.append(constants[value.value.id])
            else:
                parts.append(None)
        return parts
    return None


def merged(parts):
    """Adjacent constants joined, adjacent fields made one; empty constants dropped."""
    out = []
    for part in parts:
        if part == "" or part is None and out and out[-1] is None:
            continue
        if part is not None and out and out[-1] is not None:
            out[-1] += part
        else:
            out.append(part)
    return tuple(out)


@functools.lru_cache(maxsize=1)
def grader_strings():
    """
    From the source of grading_tests.py and grading_worker.py: the WrongOutput messages (as
    Templates), the labels (other f-strings with one field), and every string constant.
    """
    constants, messages, labels, words = {}, [], [], set()
    for module in (grading_tests, worker):
        tree = ast.parse(Path(module.__file__).read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str):
                constants.update({t.id: node.value.value for t in node.targets
                                  if isinstance(t, ast.Name)})
        in_messages = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "WrongOutput" \
                    and node.args:
                parts = string_parts(node.args[0], constants)
                if parts is not None:
                    messages.append(Template(merged(parts)))
                    in_messages.add(id(node.args[0]))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                words.add(node.value)
            elif isinstance(node, ast.JoinedStr) and id(node) not in in_messages:
                parts = merged(string_parts(node, constants))
                if sum(part is None for part in parts) == 1:
                    labels.append(Template(parts))
    words |= {t.title for t in manifest.CODE_TESTS} | set(manifest.CODE_FILES) \
        | {name[:-3] for name in manifest.CODE_FILES}
    words.discard("")
    def constant_length(t):
        return -len("".join(part or "" for part in t.parts))

    return (sorted(set(messages), key=constant_length), sorted(set(labels), key=constant_length),
            frozenset(words))


SMALL_NUMBER = re.compile(r"-?\d{1,2}")
SMALL_SHAPE = re.compile(r"\((?:\d{1,2}(?:, \d{1,2})?,?)?\)")


def plain_value(value):
    """`value` if it is one of the plain values a message may show, else None."""
    words = grader_strings()[2]
    if value in words or value in TYPE_NAMES or value in (repr(w) for w in TYPE_NAMES):
        return value
    if SMALL_NUMBER.fullmatch(value) or SMALL_SHAPE.fullmatch(value):
        return value
    return None


def safe_value(value):
    """A field of a structural message as the grader writes it (see the module docstring)."""
    plain = plain_value(value)
    if plain is not None:
        return plain
    for label in grader_strings()[1]:
        match = label.match(value)
        if match and plain_value(match[0]) is not None:
            return "".join(part if part is not None else match[0] for part in label.parts)
    return UNKNOWN


def wrong_output_text(text):
    """The grader's own copy of a structural problem the worker reported."""
    text = text[:worker.MAX_TEXT] if isinstance(text, str) else ""
    for message in grader_strings()[0]:
        values = message.match(text)
        if values is not None:
            return message.fill(values)
    return GENERIC_WRONG_OUTPUT


def student_line_text(student_source, file_name, line):
    """' (at FILE line N: CODE)' from the grader's own copy of the student's file."""
    lines = student_source.splitlines()
    if line is None or not 1 <= line <= min(len(lines), MAX_QUOTED_LINE):
        return ""
    return f" (at {file_name} line {line}: {lines[line - 1].strip()[:120]})"


def error_message(error, file_name, student_source, timeout):
    """The explanation the student sees for an error record; built here, never passed on."""
    kind = error["kind"]
    if kind == "bad_output":
        return f"the process running {file_name} sent outputs the grader could not read"
    kind_type = error["type"] if error["type"] in ALLOWED_TYPES else "an exception"
    if kind == "wrong_output":  # raised by the test's own checks: no line of the student's
        text = f"wrong return value: {wrong_output_text(error['text'])}"
    else:
        text = ERROR_TEXTS.get(kind, f"raised {kind_type}").format(timeout=timeout)
        text += student_line_text(student_source, file_name, error["line"])
    if error["type"] == "ModuleNotFoundError":
        text += missing_module_text(file_name, student_source, error["line"])
    if error["phase"] == "import":
        text = f"could not import {file_name}: {text}"
    return text


IMPORTED = re.compile(r"^\s*(?:from\s+([A-Za-z_][\w.]*)\s+import\b|import\s+([\w.\s,]+))")


def imported_modules(line):
    """The top-level modules an import statement imports (`import a.b, c` -> a, c)."""
    match = IMPORTED.match(line)
    if not match:
        return []
    names = [match.group(1)] if match.group(1) else match.group(2).split(",")
    return [name.strip().split(".")[0].split()[0] for name in names if name.strip()]


def homework_modules():
    """dict module name -> its path in the kit, of every module the homework ships."""
    return {path.stem: path.relative_to(ROOT).as_posix() for folder in ("backprop", "neuralnet")
            for path in sorted((ROOT / folder).glob("*.py"))}


def missing_module_text(file_name, student_source, line):
    """The end of the message for a ModuleNotFoundError: which module (read from the
    grader's own copy of the student's import line), whether the homework ships it, and
    what the grader provides."""
    given = manifest.graded_file(file_name).imports
    provided = ("with the homework's modules " + ", ".join(given)) if given else \
        "with no other module of the homework"
    packages = "numpy, " + ", ".join(grading_tests.GRADER_PACKAGES)
    lines = student_source.splitlines()
    names = imported_modules(lines[line - 1]) if line and 1 <= line <= len(lines) else []
    shipped = homework_modules()
    missing = [name for name in names if name not in given and name != file_name[:-3]
               and (name in shipped or importlib.util.find_spec(name) is None)]
    if missing and missing[0] in shipped:
        return (f"; {missing[0]} is a module of the homework ({shipped[missing[0]]}), but the "
                f"original starter's {file_name} does not import it, so the grader runs "
                f"{file_name} {provided} only")
    what = f"{missing[0]} is not a module of the homework and not installed in the grader" \
        if missing else "a module is missing"
    return f"; {what}: it runs {file_name} {provided}, and the packages {packages}"


def log2(count):
    return math.log2(max(count, 1))


NUMBERS = 2 * 900 * 18 + 1 + 6  # shown(): sign, 3 digits, 1e-9 <= |x| < 1e9; 0; nan, inf, ...


def structural_messages():
    """How many different structural (WrongOutput) messages the grader can write."""
    messages, labels, words = grader_strings()
    plain = (len(words) + 2 * len(TYPE_NAMES) + 199
             + sum(100 ** d for d in range(3)))  # small numbers, shapes of <= 2 dimensions
    field = plain + len(labels) * plain + 1  # a plain value, a label holding one, or "…"
    return 1 + sum(field ** min(t.fields, MAX_FILLED) for t in messages)


def error_messages():
    """How many different messages an error record (or an unfinished run) can get."""
    lines = MAX_QUOTED_LINE + 1
    quoted = (len(ERROR_TEXTS) + len(ALLOWED_TYPES) + 1) * lines
    unfinished = 300  # how the process ended: timeout, signals, exit codes, ...
    return 2 * (structural_messages() + quoted) + unfinished + 2  # import or test phase


def value_messages(outputs):
    """How many different messages a comparison of `outputs` (the reference's arrays of one
    test) can write: per output, a shape, a constant factor or the first wrong entry."""
    shapes = 3 * (sum(100 ** d for d in range(grading_tests.SHOWN_DIMS + 1)) + 1)
    total = 50  # the named mistakes (regularization, relu at 0, init, fix forward first...)
    for array in outputs.values():
        total += shapes + 2 + 6 + NUMBERS * (1 + max(array.size, 1))
    return 2 * total


def tampering_flag_bits():
    """What grade.py's per-file flag "FILE: tampering: lines on the grader's channel that its
    worker did not write" can say: whether it is there, one bit a file (it states no count)."""
    return float(len(manifest.CODE_FILES))


def leak_bits(expected, seconds=90):
    """
    An upper bound on what one submission's code can send out through the grader's
    messages: for each code test, log2 of the number of different messages it can get
    (`expected`: test id -> the reference's outputs of one grading); whether each file's
    tampering flag is shown ("flags"); plus the execution time in whole seconds (up to
    `seconds`). Returns dict test id -> bits, "flags" and "total".
    """
    bits = {test_id: log2(1 + error_messages() + value_messages(outputs))
            for test_id, outputs in expected.items()}
    bits["flags"] = tampering_flag_bits()
    bits["total"] = sum(bits.values()) + log2(seconds + 1)
    return bits
