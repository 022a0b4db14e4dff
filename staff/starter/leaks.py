"""Answers leaked into the kit: solution lines, and the graded formulas written out.

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

Each returns a list of problems ("<file>:<line>: <what>").
"""

import ast
import keyword
import re

from staff.starter.files import code_sources, kit_files, numbered_lines, source_lines
from staff.starter.notebooks import TOKEN_RE
from staff.starter.regions import outside_regions

ARITHMETIC = {"+", "-", "*", "/", "@", "**", "//"}
KEPT_NAMES = {"np", "numpy", "math", "torch", "nn", "F", "self", "range", "len", "sum", "max",
              "min", "abs", "True", "False", "None"}
LIBRARY_CALL_RE = re.compile(r"\b(?:np|numpy|math|torch|nn|F|TF)\.[\w.]+\(")
MIN_FORMULA_OPERATORS = 2  # `_0 = _1 @ _2 + _3` counts; `_0 = _1 - _2` is too generic
MIN_LEAK_CHARS = 12  # shorter region lines (`x = 0`) are too generic to count as a leak
TRIVIAL_RE = re.compile(r"^(?:(?:return|yield)\b[\w\s,().]*|pass|else:|try:|continue|break)$")

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


def reference_outside_lines(root, regions):
    """The lines of the reference files that have solution regions, outside those regions
    (the code the starter hands out anyway)."""
    paths = sorted({region.path.split(" cell ")[0] for region in regions})
    return [line for path in paths if (root / path).is_file()
            for line in outside_regions(source_lines(root / path))]


def leak_candidates(regions, root):
    """
    Returns a tuple of dicts key -> "path:line (owner)" (see solution_keys):
    - the non-trivial region lines, stripped
    - the region formulas, normalized for whitespace and variable names
    Lines that the reference has outside its regions do not count; tests and scripts do
    not excuse a line (they are what the check searches).
    """
    exact, formulas = solution_keys(regions, reference_outside_lines(root, regions),
                                    MIN_LEAK_CHARS)
    exact = {key: where for key, where in exact.items() if not TRIVIAL_RE.match(key)}
    return exact, formulas


def solution_line_leaks(out, exact, formulas):
    """Problems: a kit line equal to a solution line, verbatim or as the same formula."""
    problems = []
    for path in kit_files(out, (".py", ".ipynb", ".md", ".txt")):
        relative = path.relative_to(out).as_posix()
        for where, line in numbered_lines(path):
            key = line.strip()
            if key in exact:
                problems.append(f"{relative}{where}: solution line from {exact[key]}: {key}")
            elif key and not key.startswith("#") and normalize(key)[0] in formulas:
                problems.append(f"{relative}{where}: the formula of solution line from "
                                f"{formulas[normalize(key)[0]]} (other names): {key}")
    return problems



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


def formula_leaks(out):
    """Problems: a graded formula written out anywhere in the kit's code."""
    problems = []
    for path in kit_files(out, (".py", ".ipynb")):
        relative = path.relative_to(out).as_posix()
        for label, source in code_sources(path):
            lines = source.splitlines()
            for number, what in formulas_in_source(source):
                problems.append(f"{relative}{label}:{number}: {what}: "
                                f"{lines[number - 1].strip()}")
    return problems
