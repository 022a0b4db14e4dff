"""What the starter kit must not ship: answers, and mentions of staff-only files or commands.

Used by staff/make_starter.py on the built kit. Three checks, each returning a list of
problems ("<file>:<line>: <what>"):

* solution_line_leaks: a line of a solution region of the reference that shows up anywhere
  in the kit, either verbatim (whitespace ignored) or as the same formula with other
  variable names (`dx = dout @ w.T` and `grad_x = g @ W.T` normalize alike). Lines that
  the reference also has outside its regions (the code the starter hands out anyway) and
  short or formula-free lines (`N = x.shape[0]`, `loss, grad = softmax_loss(s, y)`) do not
  count.
* formula_leaks: a targeted detector of the known shapes of the graded formulas, run on
  every .py file and notebook code cell of the kit (the regions are stubs there, so
  whatever it finds is outside them): a matrix product with a transposed operand (the
  fc_backward formulas), log-sum-exp, exp(...) divided by a sum or by another exp (softmax,
  f2, f3), tanh (f2 in closed form), np.maximum(0, x) and a product or np.where with
  `x > 0` (relu), reg times a weight (l2_regularization). Shipped tests and scripts must
  compare against stored values (the .pkl data files) instead.
* staff_mentions: a mention of a staff-only file, folder or command (BENCHMARKS.md,
  `make homework`, staff/, bench/, the data generators, "our tuned settings", ...) in any
  text file of the kit.
"""

import ast
import json
import keyword
import re
from pathlib import Path

ARITHMETIC = {"+", "-", "*", "/", "@", "**", "//"}
KEPT_NAMES = {"np", "numpy", "math", "torch", "nn", "F", "self", "range", "len", "sum", "max",
              "min", "abs", "True", "False", "None"}
LIBRARY_CALL_RE = re.compile(r"\b(?:np|numpy|math|torch|nn|F|TF)\.[\w.]+\(")
MIN_FORMULA_OPERATORS = 2  # `_0 = _1 @ _2 + _3` counts; `_0 = _1 - _2` is too generic
TOKEN_RE = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"""  # strings
                      r"|[A-Za-z_]\w*|\d[\w.]*|\*\*|//|#.*|\S)")

STAFF_MENTIONS = (
    (re.compile(r"BENCHMARKS"), "BENCHMARKS.md (staff-only)"),
    (re.compile(r"\bmake (?:homework|starter|autograder|grade|report|bench|data|lint)\b"),
     "a staff make target"),
    (re.compile(r"(?<![\w.-])(?:staff|bench)/"), "a staff-only folder"),
    (re.compile(r"\b(?:make_backprop_data|make_neuralnet_data|make_starter|make_autograder|"
                r"grading_tests|grading_worker|staff_corpus|test_staff_\w+|homework\.py|"
                r"grade\.py|report\.py|get_data\.py|fake_fashion_mnist)\b"), "a staff-only file"),
    (re.compile(r"\bour tuned settings", re.IGNORECASE), "the reference's tuned settings"),
    (re.compile(r"reference solution|course tooling", re.IGNORECASE), "the reference solution"),
)
TEXT_SUFFIXES = (".py", ".ipynb", ".md", ".txt", ".sh", ".toml", ".cfg", ".ini", ".yml", ".yaml")
TEXT_NAMES = ("Makefile", ".gitignore")


# ----------------------------------------------------------------------------- text


def text_blocks(path):
    """[(label, lines)]: ("", the file's lines), or for a notebook (" cell N", its lines)
    for each cell, so that problems can say "part1.ipynb cell 5:2"."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    if Path(path).suffix != ".ipynb":
        return [("", text.splitlines())]
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return [("", text.splitlines())]
    blocks = []
    for number, cell in enumerate(cells, start=1):
        source = cell.get("source", "")
        blocks.append((f" cell {number}",
                       ("".join(source) if isinstance(source, list) else source).splitlines()))
    return blocks


def numbered_lines(path):
    """(where, line) for every line of a text file or notebook: where is "1", "cell 5:2"."""
    for label, lines in text_blocks(path):
        for number, line in enumerate(lines, start=1):
            yield f"{label}:{number}", line


def is_text_file(path):
    return path.is_file() and (path.suffix in TEXT_SUFFIXES or path.name in TEXT_NAMES)


def kit_files(out, is_wanted=is_text_file):
    """The files of the kit folder `out` that is_wanted(path) accepts, sorted."""
    return [path for path in sorted(out.rglob("*")) if is_wanted(path)]


# ----------------------------------------------------------------------------- solution lines


def normalize(line):
    """
    Returns a tuple of:
    - the line's code with whitespace, comments and local variable names normalized
      (names become _0, _1, ... in order of appearance; attributes, called functions,
      keywords and module names such as np stay)
    - the number of arithmetic operators in it
    """
    tokens = [t for t in TOKEN_RE.findall(line.strip()) if not t.startswith("#")]
    renamed, out, operators = {}, [], 0
    for index, token in enumerate(tokens):
        is_name = re.fullmatch(r"[A-Za-z_]\w*", token) is not None
        attribute = index > 0 and tokens[index - 1] == "."
        called = index + 1 < len(tokens) and tokens[index + 1] == "("
        if is_name and not (attribute or called or keyword.iskeyword(token)
                            or token in KEPT_NAMES):
            token = renamed.setdefault(token, f"_{len(renamed)}")
        operators += token in ARITHMETIC
        out.append(token)
    return " ".join(out), operators


def solution_keys(regions, outside_lines, min_chars):
    """
    Returns a tuple of dicts key -> "path:line (owner)" for the region lines that count:
    - exact: the stripped line, for lines of at least min_chars characters that compute
      something (an operator or a numpy/math/torch call; a markdown answer always counts):
      `loss.backward()` or `n = x.shape[0]` in a test is not an answer
    - formulas: the normalized line, for lines with at least MIN_FORMULA_OPERATORS operators
    `outside_lines` (lines the reference has outside its regions) never count.
    """
    outside_exact = {line.strip() for line in outside_lines}
    outside_formulas = {normalize(line)[0] for line in outside_lines}
    exact, formulas = {}, {}
    for region in regions:
        where = f"{region.path}:{region.start} ({region.owner})"
        for line in region.lines:
            key = line.strip()
            if not key or key.startswith("#") or key in outside_exact:
                continue
            formula, operators = normalize(key)
            if len(key) >= min_chars and (region.owner == "<markdown>" or operators
                                          or LIBRARY_CALL_RE.search(key)):
                exact.setdefault(key, where)
            if operators >= MIN_FORMULA_OPERATORS and formula not in outside_formulas:
                formulas.setdefault(formula, where)
    return exact, formulas


def solution_line_leaks(out, exact, formulas):
    """Problems: a kit line equal to a solution line, verbatim or as the same formula."""
    problems = []
    for path in kit_files(out, lambda p: p.is_file() and p.suffix in (".py", ".ipynb", ".md",
                                                                     ".txt")):
        relative = path.relative_to(out).as_posix()
        for where, line in numbered_lines(path):
            key = line.strip()
            if key in exact:
                problems.append(f"{relative}{where}: solution line from {exact[key]}: {key}")
            elif key and not key.startswith("#") and normalize(key)[0] in formulas:
                problems.append(f"{relative}{where}: the formula of solution line from "
                                f"{formulas[normalize(key)[0]]} (other names): {key}")
    return problems


# ----------------------------------------------------------------------------- formulas


def called_name(node):
    """`exp` for np.exp(...), math.exp(...) or exp(...); None for anything else."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def is_transposed(node):
    """x.T, x.transpose(...), np.transpose(x)."""
    return (isinstance(node, ast.Attribute) and node.attr == "T") or \
        called_name(node) == "transpose"


def is_zero(node):
    return isinstance(node, ast.Constant) and not isinstance(node.value, bool) \
        and node.value == 0


def is_positive_test(node):
    """x > 0, x >= 0, 0 < x (the relu mask)."""
    return isinstance(node, ast.Compare) and len(node.ops) == 1 and (
        (isinstance(node.ops[0], (ast.Gt, ast.GtE)) and is_zero(node.comparators[0]))
        or (isinstance(node.ops[0], (ast.Lt, ast.LtE)) and is_zero(node.left)))


def mentions_reg(node):
    """reg, self.reg, l2_reg (not reg_scale or reg_grads: those are not the strength)."""
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
    return name == "reg" or name.endswith("_reg")


def calls_in(node, names):
    return any(called_name(sub) in names for sub in ast.walk(node))


def node_formula(node, scope_has_exp=False):
    """What graded formula the AST node `node` is, or None. scope_has_exp: the function
    (or module) around it calls exp (`e = np.exp(s)` then `e / e.sum()`)."""
    if isinstance(node, ast.BinOp):
        operands = (node.left, node.right)
        if isinstance(node.op, ast.MatMult) and any(map(is_transposed, operands)):
            return "a product with a transposed matrix (the fc_backward formulas)"
        if isinstance(node.op, ast.Div) and calls_in(node.right, {"sum", "exp"}) \
                and (calls_in(node, {"exp"}) or scope_has_exp):
            return "exp(...) divided by a sum of exps (softmax, f2, f3)"
        if isinstance(node.op, ast.Mult) and any(map(is_positive_test, operands)):
            return "a product with the mask x > 0 (relu_backward)"
        if isinstance(node.op, ast.Mult) and any(map(mentions_reg, operands)):
            return "reg times the weights (l2_regularization)"
    name = called_name(node)
    if name in ("dot", "matmul", "outer") and (
            any(map(is_transposed, node.args)) or is_transposed(getattr(node.func, "value", None))):
        return "a product with a transposed matrix (the fc_backward formulas)"
    if name in ("logaddexp", "logsumexp"):
        return "log-sum-exp (the softmax_loss formula)"
    if name == "tanh":
        return "tanh (f2 in closed form)"
    if name == "maximum" and any(map(is_zero, node.args)):
        return "np.maximum(0, x) (relu_forward)"
    if name == "where" and node.args and is_positive_test(node.args[0]):
        return "np.where(x > 0, ...) (relu_backward)"
    return None


def formulas_in_source(source):
    """[(line, what)] for each graded formula in Python source (magics ignored)."""
    cleaned = "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line
                        for line in source.splitlines())
    try:
        tree = ast.parse(cleaned)
    except SyntaxError:
        return []  # check_files reports it
    found = {}
    for scope in [tree] + [n for n in ast.walk(tree)
                           if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
        has_exp = calls_in(scope, {"exp"})
        for node in ast.walk(scope):
            what = node_formula(node, has_exp)
            if what and node.lineno not in found:
                found[node.lineno] = what
    return sorted(found.items())


def code_sources(path):
    """[(label, source)] of a .py file or of each code cell of a notebook."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".py":
        return [("", text)]
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return []
    sources = []
    for number, cell in enumerate(cells, start=1):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            sources.append((f" cell {number}",
                            "".join(source) if isinstance(source, list) else source))
    return sources


def formula_leaks(out):
    """Problems: a graded formula written out anywhere in the kit's code."""
    problems = []
    for path in kit_files(out, lambda p: p.is_file() and p.suffix in (".py", ".ipynb")):
        relative = path.relative_to(out).as_posix()
        for label, source in code_sources(path):
            lines = source.splitlines()
            for number, what in formulas_in_source(source):
                problems.append(f"{relative}{label}:{number}: {what}: "
                                f"{lines[number - 1].strip()}")
    return problems


# ----------------------------------------------------------------------------- staff mentions


def staff_mentions(out):
    """Problems: a line of a shipped text file that mentions a staff-only file or command."""
    problems = []
    for path in kit_files(out):
        relative = path.relative_to(out).as_posix()
        for where, line in numbered_lines(path):
            for pattern, what in STAFF_MENTIONS:
                if pattern.search(line):
                    problems.append(f"{relative}{where}: mentions {what}: {line.strip()}")
                    break
    return problems
