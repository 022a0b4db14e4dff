"""Which outputs of a notebook no run of its own code could have produced.

A notebook edited by hand from the starter (outputs pasted under cells whose code still
raises the starter's NotImplementedError, or that use names no cell defines) was never run.
`impossible_cells(cells)` reads the code cells (statically, never running them) and returns,
for each cell that shows a clean run (an execution count, no error), why that run cannot
have happened:

- the cell itself still raises NotImplementedError at its top level (the starter's stub of
  a name it must define);
- it calls, at its top level, a function or class that is still the starter's stub (its body
  only raises NotImplementedError, or it can still reach the starter kit's `raise
  NotImplementedError("...: not implemented yet ...")`, which below a `return` it cannot;
  for a class, its __init__, forward or __call__), directly or through functions that call
  it by name, as the names stand at that point of the notebook (a later cell may define the
  function again);
- it uses a name that no cell defines (nor Python or IPython), where that is knowable: a
  star import, exec/eval/globals() or %run anywhere turn this check off for the whole
  notebook;
- it has a block with no code (the starter's raise deleted, leaving a def or class holding
  only its TODO comment): an IndentationError in every Python and IPython.

It flags only what is certain from the code as written: attribute calls (`model.forward`)
are not followed, nor calls in a branch (`if`, `try`, `and`/`or`); a cell that does not
parse (IPython syntax) turns the name check off; and a name bound anywhere (a loop variable,
an import, `global` in a function) counts as defined.
"""

import ast
import builtins
import re
import symtable
from dataclasses import dataclass, field

MAX_CELL_CHARS = 100_000  # a longer cell is not analysed (nothing is held against it)
IPYTHON_NAMES = frozenset({"display", "get_ipython", "In", "Out", "exit", "quit", "_", "__",
                           "___", "_i", "_ii", "_iii", "_oh", "_dh", "_sh"})
PYTHON_CELL_MAGICS = ("%%capture", "%%time", "%%timeit")  # the rest of the cell is Python
DYNAMIC_CALLS = frozenset({"exec", "eval", "globals"})
STUB_METHODS = ("__init__", "forward", "__call__")
MAGIC_ASSIGNMENT = re.compile(r"^(\s*[A-Za-z_][\w, ]*)=\s*[%!]")
MAX_SHOWN = 3  # names listed in a reason
STARTER_STUB = re.compile(r"not (?:implemented|defined) yet")  # the starter kit's stub message


@dataclass
class Function:
    calls: frozenset  # names it calls (not inside functions nested in it)
    stub: bool  # its body only raises NotImplementedError


@dataclass
class CellCode:
    """What one code cell's source does, as far as this analysis needs."""

    statements: list = field(default_factory=list)  # (calls, bindings) per top-level statement
    raises_stub: bool = False  # a top-level `raise NotImplementedError`
    references: frozenset = frozenset()  # names read when the cell runs (module level)
    defines: frozenset = frozenset()  # names bound, up to a top-level stub raise
    unknowable: bool = False  # binds names this analysis cannot see
    parsed: bool = True
    empty_block: bool = False  # a def, class, if or loop with no code (only a comment)


def python_source(source):
    """(Python source of a cell with IPython's lines made plain, names a magic binds,
    unknowable?), or None for a cell magic whose body is not Python."""
    lines = source.splitlines()
    bound, unknowable = set(), False
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].split()
        if magic[0] not in PYTHON_CELL_MAGICS:
            return None  # %%bash, %%html, %%writefile...: no Python names
        if magic[0] == "%%capture" and len(magic) > 1 and magic[-1].isidentifier():
            bound.add(magic[-1])
        lines = lines[1:]
    out = []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("%run", "%store", "%load")):
            unknowable = True
        if stripped.startswith(("%", "!")):
            out.append(line[:len(line) - len(stripped)] + "pass")
        elif MAGIC_ASSIGNMENT.match(line):
            out.append(MAGIC_ASSIGNMENT.match(line).group(1) + "= None")
        else:
            out.append(line)
    return "\n".join(out), bound, unknowable


def is_stub_raise(node):
    """`raise NotImplementedError` or `raise NotImplementedError(...)`."""
    if not isinstance(node, ast.Raise) or node.exc is None:
        return False
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def starter_message(node):
    """True for `raise NotImplementedError("...: not implemented yet (...)")`, the stub the
    starter kit puts where the student writes code (also "not defined yet")."""
    if not (is_stub_raise(node) and isinstance(node.exc, ast.Call) and node.exc.args):
        return False
    texts = [n.value for n in ast.walk(node.exc.args[0])
             if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return any(STARTER_STUB.search(text) for text in texts)


BLOCK_ENDS = (ast.Return, ast.Raise, ast.Break, ast.Continue)


def ends_block(statement):
    """True if running `statement` always leaves its block: a return, raise, break or
    continue, or an `if` (or `with`) all of whose branches do."""
    if isinstance(statement, BLOCK_ENDS):
        return True
    if isinstance(statement, ast.If):
        return bool(statement.orelse) and all(
            branch and ends_block(reachable(branch)[-1])
            for branch in (statement.body, statement.orelse))
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return ends_block(reachable(statement.body)[-1])
    return False


def reachable(statements):
    """The statements of a block up to the first one that always leaves it (ends_block):
    what follows never runs (a starter's raise left below the student's `return` is dead
    code)."""
    kept = []
    for statement in statements:
        kept.append(statement)
        if ends_block(statement):
            break
    return kept


def reachable_children(node):
    """The child nodes of `node`, each block of statements cut by `reachable`."""
    children = []
    for _, value in ast.iter_fields(node):
        if isinstance(value, ast.AST):
            children.append(value)
        elif isinstance(value, list):
            items = [item for item in value if isinstance(item, ast.AST)]
            children += reachable(items) if items and isinstance(items[0], ast.stmt) else items
    return children


def is_stub(function):
    """A def that is the starter's stub: its body (docstring and `pass` aside) only raises
    NotImplementedError, or it can still reach the starter kit's `raise
    NotImplementedError` (outside functions nested in it; one after a `return` is dead)."""
    body = [s for s in reachable(function.body) if not isinstance(s, ast.Pass)
            and not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) == 1 and is_stub_raise(body[0]):
        return True
    stack = reachable(function.body)
    while stack:
        node = stack.pop()
        if starter_message(node):
            return True
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                 ast.ClassDef)):
            stack += reachable_children(node)
    return False


def calls_in(nodes, into_functions=False, certain=False):
    """Names called by plain name in `nodes` (not inside nested def/lambda bodies unless
    `into_functions`; decorators, defaults and class bodies run at once, so they count).
    `certain`: only calls that run whenever the code runs (not in the branches of an `if`,
    a `try` or a conditional expression)."""
    names, stack = set(), list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            names.add(node.func.id)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not into_functions:
            stack += node.decorator_list + node.args.defaults + node.args.kw_defaults
            continue
        if isinstance(node, ast.Lambda) and not into_functions:
            stack += node.args.defaults
            continue
        if certain and isinstance(node, (ast.If, ast.IfExp, ast.While)):
            stack.append(node.test)
            continue
        if certain and isinstance(node, (ast.Try, ast.BoolOp)):
            continue
        stack += [child for child in ast.iter_child_nodes(node) if child is not None]
    return names


def bindings(statement):
    """dict name -> Function (a def), a bool (a class: True if it is the starter's stub) or
    None (any other value) for what a top-level statement binds."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return {statement.name: Function(frozenset(calls_in(statement.body, certain=True)),
                                         is_stub(statement))}
    if isinstance(statement, ast.ClassDef):
        methods = [s for s in statement.body if isinstance(s, (ast.FunctionDef,
                                                               ast.AsyncFunctionDef))]
        return {statement.name: any(m.name in STUB_METHODS and is_stub(m) for m in methods)}
    names = {}
    for node in ast.walk(statement):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                and node is not statement:
            names[node.name] = None  # defined inside an if/try: a value we do not follow
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names[node.id] = None
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update({(a.asname or a.name).split(".")[0]: None for a in node.names})
    return names


COMPREHENSIONS = ("listcomp", "setcomp", "dictcomp", "genexpr")


def table_names(table):
    """(names read from the module's namespace while the code of `table` runs at once, names
    it binds there): a module's own, a class body's and a comprehension's (they run when
    the cell runs), not a function's (it runs when called); `global` names a function
    assigns count as bound."""
    module = table.get_type() == "module"
    references, defines = set(), set()
    for symbol in table.get_symbols():
        if symbol.is_referenced() and (module or symbol.is_global()):
            references.add(symbol.get_name())
        bound = symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace()
        if bound and (module or symbol.is_declared_global()):
            defines.add(symbol.get_name())
    for child in table.get_children():
        inner_refs, inner_defs = table_names(child)
        defines |= inner_defs
        if child.get_type() == "class" or child.get_name() in COMPREHENSIONS:
            references |= inner_refs
    return references, defines


def read_cell(source):
    """The CellCode of a code cell's source."""
    if len(source) > MAX_CELL_CHARS:
        return CellCode(parsed=False, unknowable=True)
    converted = python_source(source)
    if converted is None:
        return CellCode(parsed=False)
    text, magic_bound, unknowable = converted
    try:
        tree = ast.parse(text)
    except IndentationError as err:  # a bare TODO where code must be: no Python can run it
        return CellCode(parsed=False, unknowable=True,
                        empty_block=str(err.msg).startswith("expected an indented block"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return CellCode(parsed=False, unknowable=True)  # IPython syntax? its names are unknown
    cell = CellCode(unknowable=unknowable)
    end = len(text.splitlines())
    for statement in tree.body:
        if is_stub_raise(statement):
            cell.raises_stub, end = True, statement.lineno - 1
            break
        cell.statements.append((calls_in([statement], certain=True), bindings(statement)))
    try:
        references, _ = table_names(symtable.symtable(text, "<cell>", "exec"))
        _, defines = table_names(symtable.symtable("\n".join(text.splitlines()[:end]) + "\n",
                                                   "<cell>", "exec"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return CellCode(parsed=False, unknowable=True)
    cell.references, cell.defines = frozenset(references), frozenset(defines | magic_bound)
    cell.unknowable |= bool(calls_in(tree.body, into_functions=True) & DYNAMIC_CALLS) or any(
        isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names)
        for node in ast.walk(tree))
    return cell


def stub_path(name, env, seen=()):
    """[name, ..., the stub] if calling `name` (as `env` binds names) reaches a stub."""
    value = env.get(name)
    if value is True or isinstance(value, Function) and value.stub:
        return [name]
    if isinstance(value, Function) and name not in seen:
        for called in sorted(value.calls):
            path = stub_path(called, env, (*seen, name))
            if path:
                return [name, *path]
    return None


def stub_reason(path):
    if len(path) == 1:
        return f"calls {path[0]}, which is still the starter's stub (raises NotImplementedError)"
    return (f"calls {path[0]}, which calls {' -> '.join(path[1:])}, still the starter's stub "
            "(raises NotImplementedError)")


def impossible_cells(cells, ran):
    """
    cells: the notebook's code cells' sources, in order; ran: for each, whether it shows a
    clean run (an execution count and no error).

    Returns dict index -> why that cell's run cannot have happened (see the module
    docstring), for the cells that ran.
    """
    codes = [read_cell(source) for source in cells]
    knowable = not any(code.unknowable for code in codes)
    defined = set().union(*(code.defines for code in codes)) | set(dir(builtins)) | IPYTHON_NAMES
    env, reasons = {}, {}
    for index, code in enumerate(codes):
        problems = []
        for calls, bound in code.statements:
            for name in sorted(calls):
                path = stub_path(name, env)
                if path:
                    problems.append(stub_reason(path))
            env.update(bound)
        if code.raises_stub:
            problems.insert(0, "it still raises the starter's NotImplementedError")
        if code.empty_block:
            problems.append("it has a def, class, if or loop with no code in it (a bare TODO "
                            "where code must be): it cannot run")
        undefined = sorted(code.references - defined) if knowable and code.parsed else []
        if undefined:
            problems.append(f"it uses {', '.join(undefined[:MAX_SHOWN])}, which no cell "
                            "defines")
        if ran[index] and problems:
            reasons[index] = "; ".join(dict.fromkeys(problems))
    return reasons
