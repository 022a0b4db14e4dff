"""The graded code tests: what each one calls, on which seeded inputs, and how its outputs
are compared. Their names, files and points are in handin/manifest.py; RUNS holds what runs
each one, by its id there.

Each test runs inside the grading worker (staff/grading/grading_worker.py), in a folder holding our
reference files with one student file swapped in. `run(module, rng)` calls the student's
module and returns a dict name -> float64 array of what it returned (nothing computed from
it); the grader runs the same test on the reference files, with the same `rng` (drawn from a
seed that is fresh for every grading, so no expected value shown in feedback can be replayed),
and compares the two dicts with `compare(student, expected)`, which returns a problem (a
sentence naming the mistake when the numbers show it) or None. A number the student's code
returned appears in a problem only as `shown(value)` (3 significant digits), a shape only as
`shape_text(shape)`: the feedback carries a bounded number of bits (docs/STAFF.md).

Student code is called only through the original starter's API: `fc_backward(grad_out,
cache)` and `relu_backward(grad_out, cache)` with the cache of the student's own forward,
`TwoLayerNet(input_dim, num_classes, hidden_dim, weight_scale)`, and weights read and set
only through `parameters()` (live arrays under any keys, matched to W1, b1, W2, b2 and
checked at initialization by neuralnet/net_contract.py, the rule the student's checks use
too). training_step gets the student's TwoLayerNet when it passed its tests, else ours under
the names of the student's (training_net), learned in a child process that runs the
student's file. Float32 models pass: their inputs are exact in float32, and the tolerance allows
float32 rounding.
"""

import contextlib
import functools
import importlib.util
import json
import os
import select
import signal
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

if __package__:  # imported by grade.py
    from handin import manifest
    from staff.grading.student_view import ROOT, module_from_file

    net_contract = module_from_file(ROOT / "neuralnet" / "net_contract.py")
else:  # in the sandbox's flat harness folder, where grade.py puts copies of these two
    import manifest
    import net_contract

# What the grader's environment has besides numpy (requirements.txt, and
# staff/grading/autograder/requirements-grader.txt): a submission may import these. Anything else
# fails at import, with the reason.
GRADER_PACKAGES = ("scipy", "scikit-learn (sklearn)", "pandas", "matplotlib", "tqdm",
                   "OpenCV (cv2)")


class WrongOutput(Exception):
    """The student's function returned something of the wrong type or structure."""


@dataclass(frozen=True)
class CodeTest:
    """A code test of the manifest (its id, title, points and file) and what runs it."""

    id: str
    name: str  # the title; results.json names the test manifest.test(id).name
    points: float
    file: str  # the student file under test, e.g. "layers.py"
    run: object  # run(module, rng) -> dict name -> np.ndarray (inside the worker)
    compare: object = None  # compare(student, expected) -> problem or None; None: compare_arrays

    @property
    def module(self):
        return self.file[:-3]

    def rng(self, seed):
        """The test's random generator for one grading's `seed` (the same in the student's
        run and the reference's)."""
        return np.random.default_rng([seed, zlib.crc32(self.id.encode())])


NOT_IMPLEMENTED = "returned None: not implemented (or a return statement is missing)"


def to_array(value, what):
    """A float64 array from a returned value, or WrongOutput saying what came back."""
    if value is None:
        raise WrongOutput(f"{what}: {NOT_IMPLEMENTED}")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise WrongOutput(f"{what} is a {type(value).__name__}, not a number or array "
                          f"({err})") from None
    return array


def unpack(result, count, what):
    """Check `result` is a tuple/list of `count` items and return it."""
    if result is None:
        raise WrongOutput(f"{what}: {NOT_IMPLEMENTED}")
    if not isinstance(result, (tuple, list)) or len(result) != count:
        kind = type(result).__name__
        length = f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""
        raise WrongOutput(f"{what} must be a tuple of {count} items, got a {kind}{length}")
    return result


def function(module, name):
    """The function `name` of the student's module, or WrongOutput if it is missing."""
    func = getattr(module, name, None)
    if not callable(func):
        raise WrongOutput(f"{module.__name__}.py has no function {name}")
    return func


def exact32(array):
    """`array` rounded to float32 values, as float64 (a float32 model holds it exactly)."""
    return np.asarray(array, dtype=np.float32).astype(np.float64)


def own_forward(forward, args):
    """
    (out, cache) from the student's forward on `args`, or None if it raises, returns
    something else, or hangs: it gets half of the test's remaining time (the worker's
    alarm), the rest is the backward's. Backward tests use its cache, as the original API
    does; with None they use the reference's cache layout, so that a broken forward costs
    only its own test.
    """
    remaining = signal.getitimer(signal.ITIMER_REAL)[0]
    start = time.perf_counter()
    if remaining > 0:
        signal.setitimer(signal.ITIMER_REAL, remaining / 2)
    try:
        result = forward(*args)
    except BaseException:  # noqa: BLE001 -- also the alarm; the forward's own test reports it
        result = None
    finally:
        if remaining > 0:
            left = remaining - (time.perf_counter() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.01))
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return None
    return result


def call_backward(backward, args, forward_name, forward_ok):
    """backward(*args), saying so when it fails on a stand-in for a failed forward's cache."""
    try:
        return backward(*args)
    except NotImplementedError:
        raise
    except Exception as err:
        if forward_ok:
            raise
        raise WrongOutput(f"{forward_name} failed, so there is no cache to test the backward "
                          f"with ({type(err).__name__} with a cache of the usual layout)") from None


def f3_cases(rng, y):
    """Scores on the homework's range (|s| of a few units), plus two fixed ones."""
    cases = [(1.0, 2.0, y), (-3.0, 4.5, y)]
    cases += [(float(a), float(b), y) for a, b in rng.normal(0.0, 3.0, size=(6, 2))]
    return cases


def run_f3(module, cases):
    f3 = function(module, "f3")
    values, grads = [], []
    for s1, s2, y in cases:
        L, g = unpack(f3(s1, s2, y), 2, f"f3(s1, s2, {y})'s (L, grads)")
        g = unpack(g, 2, "the gradients returned by f3, (grad_s1, grad_s2),")
        values.append(to_array(L, "L returned by f3"))
        grads.append([to_array(g[0], "grad_s1"), to_array(g[1], "grad_s2")])
    return {"L": np.array(values), "grads": np.array(grads)}


def run_f3_y1(module, rng):
    return run_f3(module, f3_cases(rng, 1))


def run_f3_y2(module, rng):
    return run_f3(module, f3_cases(rng, 2))


def fc_inputs(rng):
    x = rng.normal(size=(5, 4))
    w = rng.normal(size=(4, 3))
    b = rng.normal(size=3)
    return x, w, b


def run_fc_forward(module, rng):
    x, w, b = fc_inputs(rng)
    out, _ = unpack(function(module, "fc_forward")(x, w, b), 2, "fc_forward's (out, cache)")
    return {"out": to_array(out, "out from fc_forward")}


def run_fc_backward(module, rng):
    x, w, b = fc_inputs(rng)
    grad_out = rng.normal(size=(5, 3))
    forward = own_forward(function(module, "fc_forward"), (x, w, b))
    cache = forward[1] if forward else (x, w, b)
    result = call_backward(function(module, "fc_backward"), (grad_out, cache), "fc_forward",
                           forward is not None)
    grads = unpack(result, 3, "fc_backward's (grad_x, grad_w, grad_b)")
    names = ("grad_x", "grad_w", "grad_b")
    out = {name: to_array(g, f"{name} from fc_backward")
           for name, g in zip(names, grads, strict=True)}
    out["grad_b"] = net_contract.as_shape(out["grad_b"], b.shape)  # a (1, Dout) row is fine
    return out


def relu_input(rng):
    """(6, 5) scores with exact zeros (where relu' may be 0 or 1) and entries in (-1, 0)
    (where a wrong mask such as x > -1 shows)."""
    x = rng.normal(size=(6, 5))
    x[0, :3] = 0.0
    x[1, :3] = (-0.5, -0.2, 0.3)
    return x


def run_relu_forward(module, rng):
    x = relu_input(rng)
    out, _ = unpack(function(module, "relu_forward")(x), 2, "relu_forward's (out, cache)")
    return {"out": to_array(out, "out from relu_forward")}


def run_relu_backward(module, rng):
    x = relu_input(rng)
    grad_out = rng.normal(size=(6, 5))
    forward = own_forward(function(module, "relu_forward"), (x,))
    grad_x = call_backward(function(module, "relu_backward"),
                           (grad_out, forward[1] if forward else x), "relu_forward",
                           forward is not None)
    return {"grad_x": to_array(grad_x, "grad_x from relu_backward"),
            "x_is_zero": (x == 0).astype(np.float64), "grad_out": grad_out}


def compare_relu_backward(student, expected):
    """grad_x; where x == 0 both 0 and grad_out are right (ReLU has no derivative there:
    the masks x > 0 and x >= 0 both pass), everywhere else it must match."""
    want = gradient_check().allow_relu_kink(expected["grad_x"], student["grad_x"],
                                            expected["x_is_zero"] == 1, expected["grad_out"])
    return compare_arrays({"grad_x": student["grad_x"]}, {"grad_x": want})


def run_softmax(module, x, y, suffix=""):
    loss, grad = unpack(function(module, "softmax_loss")(x, y), 2, "softmax_loss's (loss, grad_x)")
    return {f"loss{suffix}": to_array(loss, "loss from softmax_loss"),
            f"grad_x{suffix}": to_array(grad, "grad_x from softmax_loss")}


def run_softmax_small(module, rng):
    x = rng.normal(size=(7, 4))
    y = rng.integers(0, 4, size=7)
    return run_softmax(module, x, y)


def run_softmax_large(module, rng):
    """
    Scores beyond +-710 (exp overflows to inf, or underflows to 0 for all classes) that
    all lie within 600 of each other: subtracting the max (of each row, or of the whole
    batch) before exp makes every probability >= exp(-600), so -log(p) stays exact.
    """
    out = {}
    for sign, suffix in ((1.0, "_high"), (-1.0, "_low")):
        x = sign * rng.uniform(750.0, 1300.0, size=(5, 4))
        y = rng.integers(0, 4, size=5)
        out.update(run_softmax(module, x, y, suffix))
    return out


def run_l2_regularization(module, rng):
    w = rng.normal(size=(4, 3))
    loss, grad = unpack(function(module, "l2_regularization")(w, 0.7), 2,
                        "l2_regularization's (loss, grad_w)")
    return {"loss": to_array(loss, "loss from l2_regularization"),
            "grad_w": to_array(grad, "grad_w from l2_regularization")}


NET_SIZES = (12, 4, 10)  # input_dim, num_classes, hidden_dim: all four shapes differ
WEIGHT_SCALE = 0.01
PARAM_NAMES = net_contract.PARAM_NAMES
TRAIN_REG = 0.3


def param_shapes(sizes):
    """dict W1, b1, W2, b2 -> shape for TwoLayerNet(input_dim, num_classes, hidden_dim)."""
    return net_contract.param_shapes(*sizes)


def net_class(module):
    """The student's TwoLayerNet class, or WrongOutput if it is missing."""
    cls = getattr(module, "TwoLayerNet", None)
    if not isinstance(cls, type):
        raise WrongOutput(f"{module.__name__}.py has no class TwoLayerNet")
    return cls


def new_net(module, sizes, weight_scale=WEIGHT_SCALE):
    """TwoLayerNet(input_dim, num_classes, hidden_dim, weight_scale), positionally."""
    return net_class(module)(*sizes, weight_scale)


def model_params(model):
    """model.parameters(), checked to be a dict of numpy arrays."""
    params = model.parameters()
    if params is None:
        raise WrongOutput(f"TwoLayerNet.parameters() {NOT_IMPLEMENTED}")
    if not isinstance(params, dict):
        raise WrongOutput("TwoLayerNet.parameters() must return a dict name -> array, got a "
                          f"{type(params).__name__}")
    return params


def match_params(params, sizes):
    """
    Match the student's parameter keys to W1, b1, W2, b2 (net_contract.match_parameters: a
    key of that name if its shape fits, else the first unused key, in dict order, whose
    array fits; a bias may be (n,) or (1, n)).

    Returns:
    - keys: dict W1, b1, W2, b2 -> the student's key
    """
    try:
        return net_contract.match_parameters(params, param_shapes(sizes))
    except net_contract.ParameterMismatch as err:
        raise WrongOutput(
            f"TwoLayerNet{sizes}.parameters() holds no array of shape {err.shape} for "
            f"{err.name}; it holds {net_contract.describe(params)}") from None


def set_params(model, values, sizes):
    """Copy `values` (W1, b1, W2, b2) into the model's live arrays. Returns the key matching."""
    params = model_params(model)
    keys = match_params(params, sizes)
    for name, key in keys.items():
        params[key][...] = values[name].reshape(params[key].shape)
    again = model_params(model)
    for name, key in keys.items():
        if key not in again or not np.allclose(np.asarray(again[key], dtype=np.float64).ravel(),
                                               values[name].ravel()):
            raise WrongOutput("TwoLayerNet.parameters() must return the model's own arrays "
                              "(not copies): the grader sets the weights through them")
    return keys


def net_values(rng, sizes, bias_scale=1.0):
    """Random W1, b1, W2, b2 (nonzero biases), exact in float32."""
    return {name: exact32(rng.normal(scale=1.0 if name[0] == "W" else bias_scale, size=shape))
            for name, shape in param_shapes(sizes).items()}


def grads_by_name(grads, keys, sizes, what):
    """Gradients under the student's keys -> dict W1, b1, W2, b2 -> float64 array."""
    if grads is None:
        raise WrongOutput(f"{what}: {NOT_IMPLEMENTED}")
    if not isinstance(grads, dict):
        raise WrongOutput(f"{what} must be a dict with the keys of parameters(), got a "
                          f"{type(grads).__name__}")
    out = {}
    for name, shape in param_shapes(sizes).items():
        key = keys[name]
        if key not in grads:
            raise WrongOutput(f"{what} has no gradient under {key!r} (the key of parameters() "
                              f"holding {name}, shape {shape}); its keys: {list(grads)}")
        array = to_array(grads[key], f"the gradient {key!r}")
        if len(shape) == 1 and array.shape == (1, shape[0]):
            array = array.reshape(shape)
        out[name] = array
    return out


def init_inputs(rng):
    """
    The init test's (input_dim, num_classes, hidden_dim) and weight_scale, fresh for every
    grading: three different sizes, each weight matrix >= 1200 entries, weight_scale
    log-uniform in [1e-3, 1e-1] (a hard-coded 0.01 does not pass).
    """
    while True:
        sizes = (int(rng.integers(30, 61)), int(rng.integers(30, 46)), int(rng.integers(40, 71)))
        if len(set(sizes)) == 3:
            return sizes, float(10 ** rng.uniform(-3, -1))


def run_net_init(module, rng):
    """The parameters of a new TwoLayerNet as they are (W1, b1, W2, b2), and its sizes and
    weight_scale (for the comparison)."""
    sizes, weight_scale = init_inputs(rng)
    model = net_class(module)(*sizes, weight_scale)
    params = model_params(model)
    keys = match_params(params, sizes)
    out = {name: to_array(params[keys[name]], f"parameters()[{keys[name]!r}]")
           for name in PARAM_NAMES}
    out["sizes"] = np.array(sizes, dtype=np.float64)
    out["weight_scale"] = np.array(weight_scale)
    return out


def init_problem(params, sizes, weight_scale):
    """
    Why the initial W1, b1, W2, b2 of TwoLayerNet(*sizes, weight_scale) break
    net_contract's initialization rule (the one the student's own checks use), or None:
    the shapes, biases all 0, weights with a standard deviation within 20% of weight_scale.
    """
    for name, shape in param_shapes(sizes).items():
        if name not in params or not net_contract.fits(params[name].shape, shape):
            return f"{name} has the wrong shape"
    summaries = {name: net_contract.init_summary(params[name]) for name in PARAM_NAMES}
    return "; ".join(net_contract.init_problems(summaries, weight_scale)) or None


def compare_net_init(student, expected):
    """The student's parameters against the init rule, for the sizes and weight_scale of
    this grading (the reference run's, which drew the same ones)."""
    sizes = tuple(int(n) for n in expected["sizes"])
    return init_problem(student, sizes, float(expected["weight_scale"]))


def net_inputs(rng, count):
    """X: (count, input_dim), exact in float32."""
    return exact32(rng.normal(size=(count, NET_SIZES[0])))


def run_net_forward(module, rng):
    model = new_net(module, NET_SIZES)
    set_params(model, net_values(rng, NET_SIZES), NET_SIZES)
    X = net_inputs(rng, 6)
    result = unpack(model.forward(X), 2, "TwoLayerNet.forward's (scores, cache)")
    return {"scores": to_array(result[0], "scores from TwoLayerNet.forward")}


def usual_net_cache(X, values):
    """(fc1_cache, relu_cache, fc2_cache) as the reference builds it, with our layers.py."""
    import layers  # the reference layers.py, next to the student's two_layer_net.py

    hidden, fc1_cache = layers.fc_forward(X, values["W1"], values["b1"])
    hidden, relu_cache = layers.relu_forward(hidden)
    _, fc2_cache = layers.fc_forward(hidden, values["W2"], values["b2"])
    return fc1_cache, relu_cache, fc2_cache


def run_net_backward(module, rng):
    model = new_net(module, NET_SIZES)
    values = net_values(rng, NET_SIZES)
    keys = set_params(model, values, NET_SIZES)
    X = net_inputs(rng, 6)
    grad_scores = exact32(rng.normal(size=(6, NET_SIZES[1])))
    forward = own_forward(model.forward, (X,))
    cache = forward[1] if forward else usual_net_cache(X, values)
    grads = call_backward(model.backward, (grad_scores, cache), "TwoLayerNet.forward",
                          forward is not None)
    grads = grads_by_name(grads, keys, NET_SIZES, "TwoLayerNet.backward's result")
    out = {f"grad_{name}": grad for name, grad in grads.items()}
    try:  # for the feedback only: whether the forward whose cache was used is right
        out["forward_scores"] = to_array(forward[0], "scores")
    except (TypeError, WrongOutput):  # no forward (None), or no scores
        pass
    return out


def compare_net_backward(student, expected):
    """The gradients; if wrong, says whether the student's forward (whose cache it used) is."""
    names = [f"grad_{n}" for n in PARAM_NAMES]
    problem = compare_arrays({n: student[n] for n in names if n in student},
                             {n: expected[n] for n in names})
    if problem and "forward_scores" in student and compare_arrays(
            {"scores": student["forward_scores"]}, {"scores": expected["forward_scores"]}):
        problem += (" (backward runs on the cache of your forward, whose scores are wrong "
                    "too: fix forward first)")
    return problem


OWN_NET_FILE = "own-two_layer_net.py"  # the student's two_layer_net.py, staged beside train.py
# where it runs with ours (a name no import statement can reach: only loaded by its path)
MAX_NAMES_BYTES = 2**16  # of the names a child process sends back
METHODS = ("parameters", "forward", "backward", "predict", "save", "load")  # not attributes
CHILD_SECONDS = 2.5  # staged_net_names' child where no test alarm runs (outside the worker)


@dataclass(frozen=True)
class NetNames:
    """
    The names the student's own TwoLayerNet gives its parameters W1, b1, W2, b2.

    keys: dict our name -> the student's key in parameters(), in the order of that dict
    attrs: dict attribute of the model -> our name of the parameter array it holds (each key
      of parameters() too: Classifier reads `model.<key>` from self.params)
    dicts: dict attribute of the model holding a dict of parameter arrays (model.params)
      -> dict its key -> our name
    """

    keys: dict
    attrs: dict
    dicts: dict

    @classmethod
    def checked(cls, data):
        """NetNames from what a child process sent (own_net_names' JSON), or None if
        malformed. An attribute named like a method of NamedLikeOwn or its own is left out."""
        try:
            keys, attrs = dict(data["keys"]), dict(data["attrs"])
            dicts = {attr: dict(entries) for attr, entries in dict(data["dicts"]).items()}
        except (KeyError, TypeError, ValueError):
            return None
        named = [*attrs.values()] + [n for entries in dicts.values() for n in entries.values()]
        if sorted(keys) != sorted(PARAM_NAMES) \
                or not all(isinstance(key, str) for key in keys.values()) \
                or len(set(keys.values())) != len(keys) or not all(n in PARAM_NAMES for n in named):
            return None
        attrs = {**{key: name for name, key in keys.items()}, **attrs}
        return cls(keys, {a: n for a, n in attrs.items() if usable_attribute(a)},
                   {a: e for a, e in dicts.items() if usable_attribute(a)})


def usable_attribute(name):
    """Whether NamedLikeOwn may hold a parameter (or a dict of them) as attribute `name`."""
    return name not in METHODS and not name.startswith(("_grader", "__"))


def own_net_names(path, sizes=NET_SIZES, weight_scale=WEIGHT_SCALE):
    """
    The names of the student's TwoLayerNet (two_layer_net.py at `path`), built as
    TwoLayerNet(*sizes, weight_scale) and its parameters() matched to W1, b1, W2, b2 by
    net_contract.match_parameters, as a JSON-able dict of NetNames' fields. Imports and runs
    the student's file: call it in a child process only (in_child).
    """
    spec = importlib.util.spec_from_file_location("two_layer_net", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["two_layer_net"] = module  # in the child: the student's file under its own name
    spec.loader.exec_module(module)
    model = new_net(module, sizes, weight_scale)
    params = model_params(model)
    keys = match_params(params, sizes)
    name_of = {key: name for name, key in keys.items()}
    ours = {id(params[key]): name for name, key in keys.items()}  # the arrays, by identity

    def holding(entries, by_key=False):
        """entries' keys whose values are parameter arrays (or, by_key, any array under a
        key of parameters(): a dict that parameters() copies) -> our name."""
        return {str(k): ours.get(id(v)) or name_of[k] for k, v in entries.items()
                if id(v) in ours or (by_key and isinstance(v, np.ndarray) and k in name_of)}

    found = {str(k): v for k, v in getattr(model, "__dict__", {}).items()}
    return {"keys": [(name_of[key], key) for key in params if key in name_of],
            "attrs": holding(found),
            "dicts": {attr: holding(value, True) for attr, value in found.items()
                      if isinstance(value, dict) and holding(value, True)}}


def in_child(func, seconds):
    """
    func() in a forked child process, whose doings (the student's code it runs) cannot reach
    this one: its result as JSON, or None if it failed, sent more than MAX_NAMES_BYTES or ran
    past `seconds` (then it is killed, with its process group).
    """
    try:
        read_end, write_end = os.pipe()
        pid = os.fork()
    except OSError:  # no process to spare (the sandbox's limit)
        return None
    if pid == 0:
        child_main(func, write_end)
    os.close(write_end)
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)  # here too: the child may not have run yet
    try:
        data = read_until(read_end, time.monotonic() + seconds)
    finally:
        os.close(read_end)
        for kill in (os.killpg, os.kill):  # its group, and itself if it has none
            with contextlib.suppress(OSError):
                kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    try:
        return json.loads(data) if data else None
    except (ValueError, RecursionError):  # not JSON, or nested too deep
        return None


def child_main(func, write_end):
    """The child of in_child: run func(), write its result as JSON; never returns."""
    status = 1
    try:
        with contextlib.suppress(OSError):  # without a group of its own, it is killed alone
            os.setpgid(0, 0)
        os.closerange(3, write_end)  # the grader's channel among them: not the child's to use
        os.closerange(write_end + 1, max(os.sysconf("SC_OPEN_MAX"), write_end + 2))
        data = json.dumps(func()).encode()
        while data:
            data = data[os.write(write_end, data):]
        status = 0
    finally:  # whatever func raised (exit() and the like too)
        os._exit(status)


def read_until(fd, deadline):
    """All of what `fd` carries until its end, or None past `deadline` or MAX_NAMES_BYTES."""
    data = b""
    while len(data) <= MAX_NAMES_BYTES:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, MAX_NAMES_BYTES)
        if not chunk:
            return data
        data += chunk
    return None


@functools.cache
def staged_net_names(path):
    """NetNames of the student's two_layer_net.py staged at `path`, or None when it cannot be
    imported, built or matched within half of the test's remaining time (once per worker)."""
    remaining = signal.getitimer(signal.ITIMER_REAL)[0]
    seconds = remaining / 2 if remaining > 0 else CHILD_SECONDS
    data = in_child(functools.partial(own_net_names, path), seconds)
    return NetNames.checked(data) if isinstance(data, dict) else None


class NamedLikeOwn:
    """
    Our TwoLayerNet `net` under the student's names (NetNames): parameters() and backward's
    grads under the student's keys, each parameter as `model.<key>` and in the attributes
    and dicts (model.params, ...) the student's model keeps it in. All of them are the live
    arrays of `net`, so every number is our net's.
    """

    def __init__(self, net, names):
        params = net.parameters()
        self._grader_net, self._grader_keys = net, names.keys
        self._grader_params = {key: params[name] for name, key in names.keys.items()}
        for attr, entries in names.dicts.items():
            setattr(self, attr, {key: params[name] for key, name in entries.items()})
        for attr, name in names.attrs.items():
            setattr(self, attr, params[name])

    def parameters(self):
        return self._grader_params

    def forward(self, X):
        return self._grader_net.forward(X)

    def backward(self, grad_scores, cache):
        grads = self._grader_net.backward(grad_scores, cache)
        return {key: grads[name] for name, key in self._grader_keys.items()}

    def predict(self, X):
        return self._grader_net.predict(X)

    def __getattr__(self, name):
        """Anything else (input_dim, ...) is our net's."""
        if name.startswith("_grader"):
            raise AttributeError(name)
        return getattr(self._grader_net, name)


def training_net():
    """
    The TwoLayerNet that training_step gets: the one the grader put next to train.py (the
    student's when it passed its tests, else ours), and ours under the student's names when
    the student's two_layer_net.py is staged beside it (OWN_NET_FILE) and can be built.
    """
    import two_layer_net  # the one that the grader put next to the student's train.py

    model = new_net(two_layer_net, NET_SIZES)
    own = Path(two_layer_net.__file__).with_name(OWN_NET_FILE)
    names = staged_net_names(str(own)) if own.is_file() else None
    return NamedLikeOwn(model, names) if names else model


def run_training_step(module, rng):
    """training_step on a TwoLayerNet (training_net), weights set."""
    model = training_net()
    values = net_values(rng, NET_SIZES, bias_scale=0.5)  # a bias penalty shows
    keys = set_params(model, values, NET_SIZES)
    X = net_inputs(rng, 8)
    y = rng.integers(0, NET_SIZES[1], size=8)
    result = unpack(function(module, "training_step")(model, X, y, TRAIN_REG), 2,
                    "training_step's (loss, grads)")
    grads = grads_by_name(result[1], keys, NET_SIZES, "the grads returned by training_step")
    out = {f"grad_{name}": grad for name, grad in grads.items()}
    out["loss"] = to_array(result[0], "loss from training_step")
    out.update({f"param_{name}": value for name, value in values.items()})
    return out


def regularization_mistake(name, got, want, expected):
    """Names a regularization mistake that explains got - want for training_step output `name`."""
    params = {n: expected[f"param_{n}"] for n in PARAM_NAMES}
    if name == "loss":
        penalty = {n: TRAIN_REG / 2 * float(np.sum(p ** 2)) for n, p in params.items()}
        candidates = {
            "the biases are regularized: the L2 term is reg / 2 * sum(W**2) for W1 and W2 only":
                penalty["b1"] + penalty["b2"],
            "the L2 regularization reg / 2 * sum(W**2) of W1 and W2 is missing from the loss":
                -penalty["W1"] - penalty["W2"],
            "the L2 term is twice reg / 2 * sum(W**2)": penalty["W1"] + penalty["W2"],
        }
        for text, shift in candidates.items():
            if close(got, want + shift):
                return text
        return None
    param = params[name[len("grad_"):]]
    if close(got, want + TRAIN_REG * param):
        kind = "a bias is regularized" if param.ndim == 1 else "its L2 gradient is counted twice"
        return f"{name} is off by reg * {name[5:]}: {kind}"
    if close(got, want - TRAIN_REG * param):
        return (f"{name} is missing the regularization gradient reg * {name[5:]} (the loss "
                "has reg / 2 * sum(W**2), its gradient reg * W)")
    return None


def compare_training_step(keys):
    """Compares the outputs `keys` of training_step, naming regularization mistakes."""
    def compare(student, expected):
        problem = compare_arrays({k: student[k] for k in keys if k in student},
                                 {k: expected[k] for k in keys})
        if problem is None:
            return None
        for key in keys:
            got = student.get(key)
            if got is not None and got.shape == expected[key].shape \
                    and not close(got, expected[key]):
                mistake = regularization_mistake(key, got, expected[key], expected)
                if mistake:
                    return mistake
        return problem
    return compare


# Loose enough for float32 models and layers (about 1e-7 relative rounding per operation),
# far tighter than any mistake.
RTOL, ATOL = 1e-4, 1e-5


def mismatch(got, want):
    """Where got differs from want beyond RTOL, and ATOL relative to want's largest entry."""
    finite = want[np.isfinite(want)]
    scale = max(float(np.max(np.abs(finite))) if finite.size else 1.0, 1.0)
    return ~np.isclose(got, want, rtol=RTOL, atol=ATOL * scale)


def close(got, want):
    return not np.any(mismatch(got, want))


SHOWN_RANGE = (1e-9, 1e9)  # magnitudes of returned numbers that feedback writes out
SHOWN_DIM, SHOWN_DIMS = 99, 3  # the largest size and number of dimensions of a shown shape


def shown(value):
    """A number the student's code returned, as feedback writes it: 3 significant digits,
    magnitudes between 1e-9 and 1e9 (outside: "about 0", "a huge value")."""
    value = float(value)
    if np.isnan(value):
        return "nan"
    if np.isinf(value):
        return "inf" if value > 0 else "-inf"
    if 0 < abs(value) < SHOWN_RANGE[0]:
        return "about 0"
    if abs(value) >= SHOWN_RANGE[1]:
        return "a huge value" if value > 0 else "a huge negative value"
    return f"{value:.3g}"


def shape_text(shape):
    """A shape the student's code returned, as feedback writes it (a large one unspelled)."""
    shape = tuple(int(n) for n in shape)
    if len(shape) <= SHOWN_DIMS and all(n <= SHOWN_DIM for n in shape):
        return str(shape)
    return "a large shape"


def shape_problem(name, got, want):
    text = f"{name} has shape {shape_text(got.shape)}, expected {want.shape}"
    if got.ndim == 2 and got.T.shape == want.shape and close(got.T, want):
        return text + ": it is the transpose of the right answer"
    if got.size == want.size and close(got.reshape(want.shape), want):
        return text + f": the right values, in the wrong shape (reshape to {want.shape})"
    return text


@functools.cache
def gradient_check():
    """The reference's neuralnet/gradient_check.py, whose constant_factor the student's
    check scripts use too (loaded on the grader's side only, never in the sandbox)."""
    from staff.grading.student_view import ROOT, module_from_file

    return module_from_file(ROOT / "neuralnet" / "gradient_check.py")


def ratio_problem(name, got, want):
    """Names a constant factor between got and want (sign, 2, 1/2, N, 1/N), or None."""
    check = gradient_check()
    ratio = check.constant_factor(want, got, "float32")
    if ratio is None or check.is_factor(ratio, 1):
        return None
    nearest = round(ratio)
    inverse = round(1 / ratio) if ratio else 0
    if check.is_factor(ratio, -1):
        return f"{name} has the wrong sign (it is -1 times the expected values)"
    if check.is_factor(ratio, 2):
        return f"{name} is twice the expected values: a factor of 2 too many"
    if check.is_factor(ratio, 0.5):
        return f"{name} is half the expected values: a factor of 2 missing"
    if 3 <= nearest <= SHOWN_DIM and check.is_factor(ratio, nearest):
        return (f"{name} is {nearest} times the expected values: a missing 1/N (a sum over "
                f"the N = {nearest} examples instead of the mean?)")
    if 3 <= inverse <= SHOWN_DIM and check.is_factor(1 / ratio, inverse):
        return f"{name} is 1/{inverse} of the expected values: divided by N = {inverse} twice?"
    if got.size > 1:
        return f"{name} is {shown(ratio)} times the expected values"
    return None


def value_problem(name, got, want):
    """Why got (same shape as want) differs: nan/inf, a constant factor, or the first entry."""
    if np.any(np.isnan(got)) and not np.any(np.isnan(want)):
        return (f"{name} holds nan: exp overflowed (inf for scores above 709) or underflowed "
                "(0 below -745) for every class, and inf / inf or 0 / 0 is nan; subtract each "
                "row's largest score before exp")
    if np.any(np.isinf(got)) and not np.any(np.isinf(want)):
        return (f"{name} holds inf: an underflow (a probability rounded to 0, and -log(0) = inf) "
                "or an overflow of exp")
    factor = ratio_problem(name, got, want)
    if factor:
        return factor
    wrong = np.argwhere(mismatch(got, want))
    index = tuple(int(i) for i in wrong[0]) if got.ndim and len(wrong) else ()
    where = f"{name}[{', '.join(map(str, index))}]" if index else name
    return f"{where} is {shown(got[index])}, expected {want[index]:.4g}"


def compare_arrays(student, expected):
    """Returns a message naming the first output that differs (and how), or None."""
    for name, want in expected.items():
        got = student.get(name)
        if got is None:
            return f"no value for {name}"
        if got.shape != want.shape:
            return shape_problem(name, got, want)
        if not close(got, want):
            return value_problem(name, got, want)
    return None


RUNS = {  # manifest test id -> (run, compare or None: compare_arrays)
    "f3_y1": (run_f3_y1, None),
    "f3_y2": (run_f3_y2, None),
    "fc_forward": (run_fc_forward, None),
    "fc_backward": (run_fc_backward, None),
    "relu_forward": (run_relu_forward, None),
    "relu_backward": (run_relu_backward, compare_relu_backward),
    "softmax_loss": (run_softmax_small, None),
    "softmax_large": (run_softmax_large, None),
    "l2_regularization": (run_l2_regularization, None),
    "net_init": (run_net_init, compare_net_init),
    "net_forward": (run_net_forward, None),
    "net_backward": (run_net_backward, compare_net_backward),
    "training_step_loss": (run_training_step, compare_training_step(["loss"])),
    "training_step_grads": (run_training_step,
                            compare_training_step([f"grad_{n}" for n in PARAM_NAMES])),
}


def code_tests():
    """The graded code tests, in the manifest's (report) order."""
    return [CodeTest(t.id, t.title, t.points, t.file, *RUNS[t.id]) for t in manifest.CODE_TESTS]
