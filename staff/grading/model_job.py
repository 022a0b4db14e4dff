"""Re-deriving part1's model summary from the notebook's own code, inside the sandbox.

    python -I -B -c BOOTSTRAP < CONFIG      CONFIG: {"harness": DIR, "token": HEX, "seconds": S}

Started by staff/grading/model_check.py through staff/grading/sandbox.py. DIR holds this file
and CELLS_FILE:
the Python source (IPython lines made plain) of the code cells that ran above the model cell
(the cell whose saved output shows a torchsummary table), then the model cell's. The job
imports torch, replaces torchsummary's `summary` by a recorder (which then calls the real
one), writes READY on its channel (its original stdout) before any of the notebook's code
runs, and then:

1. from the cells above, runs the definitions the model cell needs: of their top-level
   statements that define something (imports, def, class, assignments, and if/try blocks
   made only of these), those that bind a name the model cell reads, or that the statements
   chosen so far read (their functions' and classes' code included), found walking back from
   the model cell (`needed_definitions`); each on its own under an alarm: one that fails (no
   data, no network, no GPU here) leaves the names it binds unbound, and the rest go on.
   Nothing else runs: no training, no data loading the model does not need, no plots, no
   downloads (sockets and new processes are refused, so a download fails at once where the
   sandbox has a network);
2. runs the model cell's statements in order until one has called `summary`; a statement
   that raises before that ends it;
3. summarizes the model that cell passed to `summary` (or, when the cell ran through without
   calling it, the cell's `model`), as torchsummary does but with its own hooks and no
   printing (torchsummary itself crashes on a model without parameters, which a forged
   notebook's model is), on an input of the size the cell asked for, and writes ONE record:

       {"token", "status": "ok", "layers": [[type, output shape, params], ...], "total": N,
        "trainable": N}
       {"token", "status": "error", "kind": one of ERROR_KINDS, "type": exception type}

What the notebook's code prints goes to /dev/null. The record is never trusted: the code ran
in this process and can write anything; the grader reads the channel with limits, accepts
only READY and one record carrying the token it sent on stdin, and builds every message.
"""

import ast
import builtins
import contextlib
import inspect
import json
import math
import os
import signal
import symtable
import sys
import time
import types

READY = b'{"harness": "ready"}'  # the first line of the channel, before any notebook code
CELLS_FILE = "cells.json"
ERROR_KINDS = ("raised", "timeout", "memory", "exit", "syntax", "no_summary", "no_torch",
               "too_many_layers")
MAX_LAYERS = 1000  # rows of a summary (the homework's network has about 20)
MAX_CONFIG = 4096  # bytes of the configuration line
STATEMENT_SECONDS = 5.0  # each statement of the cells above the model cell
MODEL_RESERVE = 0.2  # of the job's time: kept for the model cell when the cells above run
RECORD_RESERVE = 1.5  # seconds kept to write the record before the sandbox's deadline
INPUT_SIZE = (1, 28, 28)  # a Fashion-MNIST image: the input when the cell never called summary
DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
               ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Pass)
DYNAMIC = frozenset({"exec", "eval", "globals", "locals", "vars"})
REFUSED_EVENTS = ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
                  "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
                  "os.fork", "os.forkpty")


class Timeout(BaseException):  # noqa: N818 -- BaseException: `except Exception` can't hide it
    """Raised by the alarm when a statement runs past its time."""


def on_alarm(signum, frame):
    raise Timeout()


def defines_only(statement):
    """True for a statement that only defines names: an import, def, class, assignment, or
    an if/try block made only of these (`try: import x` / `except: pass`)."""
    if isinstance(statement, DEFINITIONS):
        return True
    if isinstance(statement, ast.Expr):  # a docstring
        return isinstance(statement.value, ast.Constant)
    if isinstance(statement, ast.If):
        return all(defines_only(s) for s in statement.body + statement.orelse)
    if isinstance(statement, ast.Try):
        blocks = [statement.body, statement.orelse, statement.finalbody,
                  *(handler.body for handler in statement.handlers)]
        return all(defines_only(s) for block in blocks for s in block)
    return False


def bound_names(statement):
    """Names a top-level statement binds in the module (not those of its functions)."""
    names, stack = set(), [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"}
        elif isinstance(node, ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return names


def table_names(table, module=True):
    """(names a symtable's code binds in the module, global names it reads anywhere: at
    module level, in class bodies, and in the functions it defines)."""
    bound, read = set(), set()
    for symbol in table.get_symbols():
        if symbol.is_referenced() and (module or symbol.is_global()):
            read.add(symbol.get_name())
        if module and (symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace()):
            bound.add(symbol.get_name())
    for child in table.get_children():
        read |= table_names(child, module=False)[1]
    return bound, read


def mutated_names(statement):
    """Names whose objects a statement changes by assigning to a subscript or an attribute
    of them (`HP["lr"] = 0.1`), outside the functions and classes it defines."""
    names, stack = set(), [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, ast.Store):
            base = node.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                names.add(base.id)
        if node is statement or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                      ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))
    return names


def dynamic(statements):
    """True if the code may read names this analysis cannot see (exec, eval, globals())."""
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
               and node.func.id in DYNAMIC for statement in statements
               for node in ast.walk(statement))


def needed_definitions(definitions, model_statements):
    """
    The statements of `definitions` (the cells above, in order) that the model cell needs:
    walking back from it, each statement that binds, or changes the object of, a name still
    needed (and every star import); what it reads is then needed too, and a name it binds
    for sure is no longer (an earlier binding of it is not what the model cell sees). All of
    them when the code reads names dynamically.
    """
    if dynamic(definitions + model_statements):
        return definitions
    try:
        needed = table_names(symtable.symtable(
            ast.unparse(ast.Module(model_statements, [])), "<cell>", "exec"))[1]
        chosen = []
        for statement in reversed(definitions):
            bound, read = table_names(symtable.symtable(ast.unparse(statement), "<s>", "exec"))
            star = isinstance(statement, ast.ImportFrom) and statement.names[0].name == "*"
            if star or (bound | mutated_names(statement)) & needed:
                chosen.append(statement)
                if not isinstance(statement, (ast.If, ast.Try)):
                    needed -= bound
                needed |= read
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return definitions
    return chosen[::-1]


def parsed(source):
    """The statements of a cell's source, or None if it is not Python."""
    try:
        return ast.parse(source).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def run_statement(statement, namespace, seconds):
    """Execute one top-level statement in `namespace` under an alarm of `seconds`."""
    code = compile(ast.Module(body=[statement], type_ignores=[]), "<notebook>", "exec")
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01))
    try:
        exec(code, namespace)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def run_definitions(statements, namespace, until):
    """Step 1 of the module docstring, by `until` (time.monotonic()). Returns False if the
    time ran out first."""
    for statement in statements:
        seconds = min(STATEMENT_SECONDS, until - time.monotonic())
        if seconds <= 0:
            return False
        try:
            run_statement(statement, namespace, seconds)
        except BaseException:  # noqa: BLE001 -- the notebook's code may raise anything
            for name in bound_names(statement):
                namespace.pop(name, None)
    return True


class SummaryRecorder:
    """Stands in for torchsummary's `summary` (the module's attribute, so that `from
    torchsummary import summary` gets it): while `on`, records (model, input_size,
    batch_size) of each call, then calls the real one (if torchsummary is installed)."""

    def __init__(self, real):
        self.real = real
        self.on = False
        self.calls = []

    def __call__(self, *args, **kwargs):
        if self.on:
            try:
                bound = inspect.signature(signature).bind(*args, **kwargs)
                bound.apply_defaults()
                self.calls.append((bound.arguments["model"], bound.arguments["input_size"],
                                   bound.arguments["batch_size"]))
            except TypeError:
                pass
        if self.real is not None:
            return self.real(*args, **kwargs)
        return None


def signature(model, input_size, batch_size=-1, device="cuda"):
    """torchsummary 1.5.1's `summary` signature (read by SummaryRecorder)."""


def install_recorder():
    """Put a SummaryRecorder where torchsummary's `summary` is (a stand-in module if it is
    not installed). Returns it."""
    try:
        import torchsummary
        import torchsummary.torchsummary as inner
        recorder = SummaryRecorder(inner.summary)
        torchsummary.summary = inner.summary = recorder
    except ImportError:
        recorder = SummaryRecorder(None)
        module = types.ModuleType("torchsummary")
        module.summary = recorder
        sys.modules["torchsummary"] = module
    return recorder


def class_name(module):
    """A module's name in a torchsummary table."""
    return str(module.__class__).split(".")[-1].split("'")[0]


def module_params(module):
    """(parameters, trainable or None) of one row, as torchsummary counts them: the sizes of
    `weight` and `bias`, trainable when the weight requires a gradient."""
    params, trainable = 0, None
    weight, bias = getattr(module, "weight", None), getattr(module, "bias", None)
    if hasattr(weight, "size"):
        params += math.prod(list(weight.size()))
        trainable = bool(weight.requires_grad)
    if hasattr(bias, "size"):
        params += math.prod(list(bias.size()))
    return int(params), trainable


def summarize(torch, model, input_size, batch_size):
    """
    torchsummary's table of `model` as data, without printing: one row per forward call of
    every submodule (not Sequential or ModuleList containers, not the model itself), on
    random input of 2 x `input_size`.

    Returns (rows: list of [type, output shape, parameters], total, trainable).
    """
    sizes = [input_size] if isinstance(input_size, tuple) else list(input_size)
    inputs = [torch.rand(2, *size).type(torch.FloatTensor) for size in sizes]
    rows, hooks = [], []

    def hook(module, args, output):
        if isinstance(output, (list, tuple)):
            shape = [[-1] + list(o.size())[1:] for o in output]
        else:
            shape = list(output.size())
            shape[0] = batch_size
        rows.append([class_name(module), shape, *module_params(module)])
        if len(rows) > MAX_LAYERS:
            raise OverflowError("too many layers")

    def register(module):  # as torchsummary does (model.apply, so a shared module twice)
        if module is not model and not isinstance(module, containers):
            hooks.append(module.register_forward_hook(hook))

    containers = (torch.nn.Sequential, torch.nn.ModuleList)
    model.apply(register)
    try:
        model(*inputs)
    finally:
        for handle in hooks:
            handle.remove()
    total = sum(row[2] for row in rows)
    trainable = sum(row[2] for row in rows if row[3] is True)
    return [row[:3] for row in rows], total, trainable


def the_model(torch, recorder, namespace):
    """(model, input_size, batch_size) to summarize: the first call the model cell made, else
    its `model` when that is a torch module; None if neither."""
    if recorder.calls:
        return recorder.calls[0]
    model = namespace.get("model")
    return (model, INPUT_SIZE, -1) if isinstance(model, torch.nn.Module) else None


def error(kind, err=None):
    return {"status": "error", "kind": kind, "type": type(err).__name__[:60] if err else ""}


def failure(err):
    """The error record of an exception the notebook's code raised."""
    if isinstance(err, Timeout):
        return error("timeout")
    if isinstance(err, MemoryError):
        return error("memory", err)
    if isinstance(err, SystemExit):
        return error("exit", err)
    return error("raised", err)


def derive(torch, sources, recorder, deadline, seconds):
    """Steps 1 to 3 of the module docstring, by `deadline` (time.monotonic(); the job has
    `seconds` in all): the record (without its token)."""
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    *above, model_source = sources
    statements = parsed(model_source)
    if statements is None:
        return error("syntax")
    definitions = [s for source in above for s in parsed(source) or [] if defines_only(s)]
    if not run_definitions(needed_definitions(definitions, statements), namespace,
                           deadline - MODEL_RESERVE * seconds):
        return error("timeout")
    recorder.on = True
    for statement in statements:
        try:
            run_statement(statement, namespace, deadline - time.monotonic())
        except BaseException as err:  # noqa: BLE001
            if not recorder.calls:
                return failure(err)
        if recorder.calls:
            break
    recorder.on = False
    target = the_model(torch, recorder, namespace)
    if target is None:
        return error("no_summary")
    signal.setitimer(signal.ITIMER_REAL, max(deadline - time.monotonic(), 0.01))
    try:
        rows, total, trainable = summarize(torch, *target)
    except OverflowError:
        return error("too_many_layers")
    except BaseException as err:  # noqa: BLE001
        return failure(err)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return {"status": "ok", "layers": rows, "total": total, "trainable": trainable}


def refuse(event, args):
    """Audit hook: no sockets and no new processes (a download or `pip install` fails at
    once where the sandbox has a network). Not a security boundary: the sandbox is."""
    if event in REFUSED_EVENTS:
        raise PermissionError(f"{event} is not available while the grader re-derives the model")


BOOTSTRAP = (f"import json, sys; config = json.loads(sys.stdin.readline({MAX_CONFIG})); "
             "sys.path[0:0] = [config['harness']]; import model_job; model_job.main(config)")


def main(config):
    """Re-derive the summary (see the module docstring); never returns."""
    seconds = float(config["seconds"])
    deadline = time.monotonic() + seconds - RECORD_RESERVE
    channel = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)  # what the notebook's code prints goes nowhere
    with open(os.path.join(config["harness"], CELLS_FILE), encoding="utf-8") as f:
        sources = json.load(f)
    try:
        import torch
        recorder = install_recorder()
    except Exception:  # noqa: BLE001 -- not installed, or it cannot load in this sandbox
        torch = None
    channel.write(READY + b"\n")
    channel.flush()
    os.dup2(devnull, 2)
    signal.signal(signal.SIGALRM, on_alarm)
    if torch is None:
        record = error("no_torch")
    else:
        sys.addaudithook(refuse)
        with contextlib.suppress(BaseException):
            record = error("raised")
            record = derive(torch, sources, recorder, deadline, seconds)
    try:
        line = json.dumps({**record, "token": config["token"]})
    except (TypeError, ValueError, RecursionError):  # the cell's batch_size was no number
        line = json.dumps({**error("raised"), "token": config["token"]})
    channel.write(line.encode() + b"\n")
    channel.flush()
    os._exit(0)  # skip atexit handlers and finalizers the notebook's code may have registered
