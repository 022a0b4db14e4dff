"""The graded code tests: what each one calls, on which seeded inputs, for how many points.

Each test runs inside the grading worker (staff/grading_worker.py), in a folder holding our
reference files with one student file swapped in. `run(module, rng)` calls the student's
module and returns a dict name -> array of outputs; the grader runs the same test on the
reference files and compares the two dicts (values and shapes), unless the test has its own
`compare`. Inputs are built directly (e.g. the caches passed to backward functions), so a
bug in one function never costs the points of another.
"""

import zlib
from dataclasses import dataclass

import numpy as np


class WrongOutput(Exception):
    """The student's function returned something of the wrong type or structure."""


@dataclass(frozen=True)
class CodeTest:
    id: str
    name: str
    points: float
    file: str  # the student file under test, e.g. "layers.py"
    run: object  # run(module, rng) -> dict name -> np.ndarray (inside the worker)
    compare: object = None  # compare(student, expected) -> problem or None; None: allclose

    @property
    def module(self):
        return self.file[:-3]

    def seed(self):
        return zlib.crc32(self.id.encode())


def to_array(value, what):
    """A float64 array from a returned value, or WrongOutput saying what came back."""
    if value is None:
        raise WrongOutput(f"{what} is None; did you forget a return statement?")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise WrongOutput(f"{what} is a {type(value).__name__}, not a number or array "
                          f"({err})") from None
    return array


def unpack(result, count, what):
    """Check `result` is a tuple/list of `count` items and return it."""
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


# ----------------------------------------------------------------------------- functions.py


def f3_cases(rng, y_values, scale):
    cases = []
    for y in y_values:
        for _ in range(4):
            s1, s2 = (float(v) for v in rng.normal(0.0, scale, size=2))
            cases.append((s1, s2, y))
    return cases


def run_f3(module, cases):
    f3 = function(module, "f3")
    values, grads = [], []
    for s1, s2, y in cases:
        L, g = unpack(f3(s1, s2, y), 2, f"f3({s1:.3g}, {s2:.3g}, {y}) return value (L, grads)")
        g = unpack(g, 2, "the gradients returned by f3, (grad_s1, grad_s2),")
        values.append(to_array(L, "L returned by f3"))
        grads.append([to_array(g[0], "grad_s1"), to_array(g[1], "grad_s2")])
    return {"L": np.array(values), "grads": np.array(grads)}


def run_f3_y1(module, rng):
    return run_f3(module, f3_cases(rng, [1], 2.0))


def run_f3_y2(module, rng):
    return run_f3(module, f3_cases(rng, [2], 2.0))


def run_f3_large(module, rng):
    cases = [(1000.0, -1000.0, 2), (-800.0, 750.0, 1), (710.0, 705.0, 1), (-720.0, -730.0, 2)]
    cases += f3_cases(rng, [1, 2], 300.0)
    return run_f3(module, cases)


# ----------------------------------------------------------------------------- layers.py


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
    grads = unpack(function(module, "fc_backward")(grad_out, (x, w, b)), 3,
                   "fc_backward's (grad_x, grad_w, grad_b)")
    names = ("grad_x", "grad_w", "grad_b")
    pairs = zip(names, grads, strict=True)
    return {name: to_array(g, f"{name} from fc_backward") for name, g in pairs}


def run_relu_forward(module, rng):
    x = rng.normal(size=(6, 5))
    out, _ = unpack(function(module, "relu_forward")(x), 2, "relu_forward's (out, cache)")
    return {"out": to_array(out, "out from relu_forward")}


def run_relu_backward(module, rng):
    x = rng.normal(size=(6, 5))
    grad_out = rng.normal(size=(6, 5))
    grad_x = function(module, "relu_backward")(grad_out, x)
    return {"grad_x": to_array(grad_x, "grad_x from relu_backward")}


def run_softmax(module, x, y):
    loss, grad = unpack(function(module, "softmax_loss")(x, y), 2, "softmax_loss's (loss, grad_x)")
    return {"loss": to_array(loss, "loss from softmax_loss"),
            "grad_x": to_array(grad, "grad_x from softmax_loss")}


def run_softmax_small(module, rng):
    x = rng.normal(size=(7, 4))
    y = rng.integers(0, 4, size=7)
    return run_softmax(module, x, y)


def run_softmax_large(module, rng):
    x = rng.normal(scale=500.0, size=(6, 5))
    x[0] = [1000.0, -1000.0, 0.0, 999.0, 2.0]
    y = rng.integers(0, 5, size=6)
    return run_softmax(module, x, y)


def run_l2_regularization(module, rng):
    w = rng.normal(size=(4, 3))
    loss, grad = unpack(function(module, "l2_regularization")(w, 0.7), 2,
                        "l2_regularization's (loss, grad_w)")
    return {"loss": to_array(loss, "loss from l2_regularization"),
            "grad_w": to_array(grad, "grad_w from l2_regularization")}


# ----------------------------------------------------------------------------- two_layer_net.py

NET_SIZES = {"input_dim": 12, "hidden_dim": 10, "num_classes": 4}
INIT_SIZES = {"input_dim": 50, "hidden_dim": 40, "num_classes": 30}  # >= 1200 weights each
WEIGHT_SCALE = 0.01
PARAM_NAMES = ("W1", "b1", "W2", "b2")


def net_params(rng):
    d, h, c = NET_SIZES["input_dim"], NET_SIZES["hidden_dim"], NET_SIZES["num_classes"]
    return {"W1": rng.normal(size=(d, h)), "b1": rng.normal(size=h),
            "W2": rng.normal(size=(h, c)), "b2": rng.normal(size=c)}


def net_class(module):
    """The student's TwoLayerNet class, or WrongOutput if it is missing."""
    cls = getattr(module, "TwoLayerNet", None)
    if not isinstance(cls, type):
        raise WrongOutput("two_layer_net.py has no class TwoLayerNet")
    return cls


def param_dict(value, what):
    """`value` if it is a dict with exactly the keys W1, b1, W2, b2, else WrongOutput."""
    if not isinstance(value, dict) or set(value) != set(PARAM_NAMES):
        shown = sorted(value) if isinstance(value, dict) else type(value).__name__
        raise WrongOutput(f"{what} a dict with keys W1, b1, W2, b2; got {shown}")
    return value


def bare_net(module, params):
    """A TwoLayerNet with given float64 parameters, built without calling its __init__."""
    model = object.__new__(net_class(module))
    model.input_dim = NET_SIZES["input_dim"]
    model.hidden_dim = NET_SIZES["hidden_dim"]
    model.num_classes = NET_SIZES["num_classes"]
    model.params = params
    return model


def run_net_params(module, rng):
    model = net_class(module)(**INIT_SIZES, weight_scale=WEIGHT_SCALE, dtype=np.float64, seed=0)
    params = param_dict(getattr(model, "params", None), "TwoLayerNet.params must be")
    out = {}
    for name in PARAM_NAMES:
        array = to_array(params[name], f"TwoLayerNet.params[{name!r}]")
        out[f"{name}_shape"] = np.array(array.shape, dtype=np.float64)
        out[f"{name}_std"] = np.array(array.std())
        out[f"{name}_abs_mean"] = np.array(np.abs(array).mean())
    return out


def compare_net_params(student, expected):
    """
    Shapes must match, biases must be 0, weights must have a standard deviation within 20%
    of weight_scale (any random generator passes: with >= 1200 samples the estimate is
    within 20% by more than 8 standard errors).
    """
    for name in PARAM_NAMES:
        if not np.array_equal(student[f"{name}_shape"], expected[f"{name}_shape"]):
            return (f"{name} has shape {tuple(int(v) for v in student[f'{name}_shape'])}, "
                    f"expected {tuple(int(v) for v in expected[f'{name}_shape'])}")
    for name in ("b1", "b2"):
        if student[f"{name}_abs_mean"] != 0:
            return f"{name} must start at zero"
    for name in ("W1", "W2"):
        ratio = float(student[f"{name}_std"]) / WEIGHT_SCALE
        if not 0.8 < ratio < 1.2:
            return (f"{name} has standard deviation {float(student[f'{name}_std']):.3g}; "
                    f"expected about weight_scale = {WEIGHT_SCALE} (normal samples * "
                    "weight_scale)")
    return None


def run_net_forward(module, rng):
    params = net_params(rng)
    X = rng.normal(size=(6, NET_SIZES["input_dim"]))
    result = unpack(bare_net(module, params).forward(X), 2, "TwoLayerNet.forward's (scores, cache)")
    return {"scores": to_array(result[0], "scores from TwoLayerNet.forward")}


def run_net_backward(module, rng):
    import layers  # our reference layers, next to the student's two_layer_net.py

    params = net_params(rng)
    X = rng.normal(size=(6, NET_SIZES["input_dim"]))
    grad_scores = rng.normal(size=(6, NET_SIZES["num_classes"]))
    hidden, fc1_cache = layers.fc_forward(X, params["W1"], params["b1"])
    hidden, relu_cache = layers.relu_forward(hidden)
    _, fc2_cache = layers.fc_forward(hidden, params["W2"], params["b2"])
    grads = bare_net(module, params).backward(grad_scores, (fc1_cache, relu_cache, fc2_cache))
    grads = param_dict(grads, "TwoLayerNet.backward must return")
    return {name: to_array(grads[name], f"grads[{name!r}]") for name in PARAM_NAMES}


# ----------------------------------------------------------------------------- train.py


def run_training_step(module, rng):
    from two_layer_net import TwoLayerNet  # our reference model

    model = TwoLayerNet(**NET_SIZES, weight_scale=0.5, dtype=np.float64, seed=3)
    for array in model.parameters().values():  # nonzero biases: a bias penalty would show
        array += rng.normal(scale=0.3, size=array.shape)
    X = rng.normal(size=(8, NET_SIZES["input_dim"]))
    y = rng.integers(0, NET_SIZES["num_classes"], size=8)
    result = unpack(function(module, "training_step")(model, X, y, 0.3), 2,
                    "training_step's (loss, grads)")
    loss, grads = result
    grads = param_dict(grads, "training_step must return grads as")
    out = {f"grad_{name}": to_array(grads[name], f"grads[{name!r}]") for name in PARAM_NAMES}
    out["loss"] = to_array(loss, "loss from training_step")
    return out


def only(keys):
    """A compare function that looks at some outputs only (used to split points)."""
    def compare(student, expected):
        return compare_arrays({k: student[k] for k in keys if k in student},
                              {k: expected[k] for k in keys})
    return compare


# ----------------------------------------------------------------------------- comparison

RTOL, ATOL = 1e-6, 1e-9


def compare_arrays(student, expected):
    """Returns a message naming the first output that differs, or None if all match."""
    for name, want in expected.items():
        if name not in student:
            return f"no value for {name}"
        got = student[name]
        if got.shape != want.shape:
            return f"{name} has shape {got.shape}, expected {want.shape}"
        scale = float(np.max(np.abs(want))) if want.size and np.all(np.isfinite(want)) else 1.0
        if not np.allclose(got, want, rtol=RTOL, atol=ATOL * max(scale, 1.0)):
            if not np.all(np.isfinite(got)):
                return f"{name} holds inf or nan (overflow? check numerical stability)"
            error = float(np.max(np.abs(got - want)))
            return f"{name} is wrong (largest difference from the expected values: {error:.3g})"
    return None


def code_tests():
    """The graded code tests in report order. Points: 45 in all."""
    return [
        CodeTest("f3_y1", "f3: loss and gradients, y = 1", 4, "functions.py", run_f3_y1),
        CodeTest("f3_y2", "f3: loss and gradients, y = 2", 4, "functions.py", run_f3_y2),
        CodeTest("f3_large", "f3: large scores (|s| up to 1000), no overflow", 2,
                 "functions.py", run_f3_large),
        CodeTest("fc_forward", "fc_forward", 2, "layers.py", run_fc_forward),
        CodeTest("fc_backward", "fc_backward", 3, "layers.py", run_fc_backward),
        CodeTest("relu_forward", "relu_forward", 2, "layers.py", run_relu_forward),
        CodeTest("relu_backward", "relu_backward", 3, "layers.py", run_relu_backward),
        CodeTest("softmax_loss", "softmax_loss: loss and gradient", 3, "layers.py",
                 run_softmax_small),
        CodeTest("softmax_large", "softmax_loss: large scores, no overflow", 2, "layers.py",
                 run_softmax_large),
        CodeTest("l2_regularization", "l2_regularization: loss and gradient", 5, "layers.py",
                 run_l2_regularization),
        CodeTest("net_init", "TwoLayerNet.__init__: parameter shapes and initialization", 2,
                 "two_layer_net.py", run_net_params, compare_net_params),
        CodeTest("net_forward", "TwoLayerNet.forward: scores", 4, "two_layer_net.py",
                 run_net_forward),
        CodeTest("net_backward", "TwoLayerNet.backward: gradients", 4, "two_layer_net.py",
                 run_net_backward),
        CodeTest("training_step_loss", "training_step: loss (data loss + L2 on weights)", 2,
                 "train.py", run_training_step, only(["loss"])),
        CodeTest("training_step_grads", "training_step: gradients", 3, "train.py",
                 run_training_step, only([f"grad_{n}" for n in PARAM_NAMES])),
    ]
