"""Write neuralnet/neuralnet-data.pkl: inputs and expected outputs of every graded function
of Tasks 2-4, computed by the reference solution (layers.py, two_layer_net.py, train.py).

    python -m staff.reference.make_neuralnet_data        # rewrites neuralnet/neuralnet-data.pkl

The student checks (gradcheck_layers.py, gradcheck_classifier.py, check_softmax_stability.py,
check_training_step.py) and the student tests compare against this file, so that nothing
shipped has to compute the answers. Staff only: it needs the reference solution.

File format (plain Python lists, floats, ints and strings, so any numpy can read it):
a dict function name -> list of cases, each {"case": description, "inputs": {name: value},
"outputs": {name: value}} plus the extra keys below. Arrays are nested lists (labels: ints).
- fc_forward: inputs x, w, b; outputs out.
- fc_backward: inputs x, w, b, grad_out; outputs grad_x, grad_w, grad_b.
- relu_forward: inputs x (with exact zeros); outputs out.
- relu_backward: inputs x (with exact zeros), grad_out; outputs grad_x.
- softmax_loss: inputs x, y; outputs loss, grad_x (ordinary scores).
- softmax_stability: as softmax_loss, one row each, plus "dtype" ("float64" or "float32":
  the dtype to call softmax_loss in; the outputs are exact, computed in float64)
  and "kind": "max" (exact once the row max is subtracted; a softmax without it overflows)
  or "extreme" (a probability underflows to 0 even after subtracting the max).
- l2_regularization: inputs w, reg; outputs loss, grad_w.
- LinearClassifier: "sizes" {input_dim, num_classes}; inputs W, b, X, grad_scores;
  outputs scores, W, b (the gradients).
- TwoLayerNet: "sizes" {input_dim, num_classes, hidden_dim}; inputs W1, b1, W2, b2, X,
  grad_scores; outputs scores, W1, b1, W2, b2 (the gradients). Hidden pre-activations
  are at least 0.3 away from 0.
- training_step: "sizes" as TwoLayerNet; inputs W1, b1, W2, b2, X, y, reg; outputs loss,
  W1, b1, W2, b2; "parts" {data_loss, data_grads: {name: array}, reg_losses: {name: float},
  reg_grads: {name: array}} with the L2 terms of every array (biases included), so that a
  checker can name a mistake without computing any of it.
"""

from pathlib import Path

import numpy as np

from staff.grading.student_view import student_module
from staff.reference import write_data_file

ROOT = Path(__file__).resolve().parents[2]
NEURALNET_DIR = ROOT / "neuralnet"
DATA_FILE = NEURALNET_DIR / "neuralnet-data.pkl"
layers = student_module("layers")
LinearClassifier = student_module("linear_classifier").LinearClassifier
training_step = student_module("train").training_step
TwoLayerNet = student_module("two_layer_net").TwoLayerNet

NET_SIZES = {"input_dim": 7, "num_classes": 4, "hidden_dim": 6}
BATCH = 5
MARGIN = 0.3  # min |hidden pre-activation| of the TwoLayerNet cases (away from the kink)


def plain(value):
    """numpy arrays and scalars -> nested lists / Python floats and ints."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def case(description, inputs, outputs, **extra):
    return {"case": description, "inputs": plain(inputs), "outputs": plain(outputs),
            **plain(extra)}


def normal(rng, shape, scale=1.0):
    """Normal samples rounded to 3 decimals (short to print, exact in the file)."""
    return np.round(rng.standard_normal(shape) * scale, 3)


def fc_cases(rng):
    forward, backward = [], []
    for n, din, dout in ((4, 3, 5), (2, 6, 3)):
        x, w, b = normal(rng, (n, din)), normal(rng, (din, dout)), normal(rng, dout)
        grad_out = normal(rng, (n, dout))
        out, cache = layers.fc_forward(x, w, b)
        shapes = f"x {x.shape}, w {w.shape}, b {b.shape}"
        forward.append(case(shapes, {"x": x, "w": w, "b": b}, {"out": out}))
        grad_x, grad_w, grad_b = layers.fc_backward(grad_out, cache)
        backward.append(case(shapes, {"x": x, "w": w, "b": b, "grad_out": grad_out},
                             {"grad_x": grad_x, "grad_w": grad_w, "grad_b": grad_b}))
    return forward, backward


def relu_cases(rng):
    x = normal(rng, (3, 4))
    x[0, 1] = x[1, 3] = x[2, 0] = 0.0  # relu_backward with >= differs exactly here
    grad_out = normal(rng, (3, 4))
    out, cache = layers.relu_forward(x.copy())
    description = f"x {x.shape} with 3 exact zeros"
    return ([case(description, {"x": x}, {"out": out})],
            [case(description, {"x": x, "grad_out": grad_out},
                  {"grad_x": layers.relu_backward(grad_out, cache)})])


def softmax_cases(rng):
    cases = []
    for (n, c), scale in (((5, 4), 1.0), ((3, 6), 10.0)):
        x, y = normal(rng, (n, c), scale), rng.integers(0, c, size=n)
        loss, grad_x = layers.softmax_loss(x, y)
        cases.append(case(f"scores {x.shape} of size ~{scale:g}", {"x": x, "y": y},
                          {"loss": loss, "grad_x": grad_x}))
    return cases


STABILITY_ROWS = (  # (scores, label, dtype, kind); see the module docstring for the kinds
    ([1000.0, 999.0, 998.0], 2, "float64", "max"),
    ([-1000.0, -1000.0, -1000.0], 0, "float64", "max"),
    ([1e4, 1e4 - 1, 1e4 - 2], 0, "float64", "max"),
    ([1e4, 0.0, -1e4], 0, "float64", "max"),
    ([90.0, 89.0, 88.0], 1, "float32", "max"),
    ([1e4, 0.0, -1e4], 1, "float64", "extreme"),
    ([800.0, -800.0, 0.0], 1, "float64", "extreme"),
    ([1e4, 0.0, -1e4], 2, "float32", "extreme"),
)


def stability_cases():
    cases = []
    for scores, label, dtype, kind in STABILITY_ROWS:
        x, y = np.array([scores], dtype=dtype), np.array([label])
        loss, grad_x = layers.softmax_loss(x.astype(np.float64), y)  # exact, whatever the dtype
        description = "[" + ", ".join(f"{s:g}" for s in scores) + f"], label {label}, {dtype}"
        cases.append(case(description, {"x": x.astype(np.float64), "y": y},
                          {"loss": loss, "grad_x": grad_x}, dtype=dtype, kind=kind))
    return cases


def l2_regularization_cases(rng):
    cases = []
    for shape, reg in (((3, 5), 0.3), ((4, 2), 1.7)):
        w = normal(rng, shape)
        loss, grad_w = layers.l2_regularization(w, reg)
        cases.append(case(f"w {shape}, reg {reg:g}", {"w": w, "reg": reg},
                          {"loss": loss, "grad_w": grad_w}))
    return cases


def linear_classifier_cases(rng):
    d, c = NET_SIZES["input_dim"], NET_SIZES["num_classes"]
    model = LinearClassifier(d, c, dtype=np.float64)
    p = model.parameters()
    p["W"][...], p["b"][...] = normal(rng, (d, c)), normal(rng, c)
    X, grad_scores = normal(rng, (BATCH, d)), normal(rng, (BATCH, c))
    scores, cache = model.forward(X)
    grads = model.backward(grad_scores, cache)
    return [case(f"W ({d}, {c}), X ({BATCH}, {d})", {**p, "X": X, "grad_scores": grad_scores},
                 {"scores": scores, **grads}, sizes={"input_dim": d, "num_classes": c})]


def net_with_weights(rng):
    """A float64 reference TwoLayerNet with random weights and biases, and a batch X whose
    hidden pre-activations are all at least MARGIN away from 0."""
    d, c, h = NET_SIZES["input_dim"], NET_SIZES["num_classes"], NET_SIZES["hidden_dim"]
    model = TwoLayerNet(d, c, h, dtype=np.float64)
    p = model.parameters()
    p["W1"][...], p["b1"][...] = normal(rng, (d, h), 0.5), normal(rng, h)
    p["W2"][...], p["b2"][...] = normal(rng, (h, c), 0.5), normal(rng, c)
    while True:
        X = normal(rng, (BATCH, d))
        if np.min(np.abs(X @ p["W1"] + p["b1"])) > MARGIN:
            return model, X


def two_layer_net_cases(rng):
    model, X = net_with_weights(rng)
    grad_scores = normal(rng, (BATCH, NET_SIZES["num_classes"]))
    scores, cache = model.forward(X)
    grads = model.backward(grad_scores, cache)
    p = model.parameters()
    return [case(f"X {X.shape}, hidden {NET_SIZES['hidden_dim']}, biases != 0",
                 {**p, "X": X, "grad_scores": grad_scores}, {"scores": scores, **grads},
                 sizes=NET_SIZES)]


def training_step_cases(rng):
    model, X = net_with_weights(rng)
    y, reg = rng.integers(0, NET_SIZES["num_classes"], size=BATCH), 0.7
    p = {name: value.copy() for name, value in model.parameters().items()}
    loss, grads = training_step(model, X, y, reg)
    scores, cache = model.forward(X)
    data_loss, grad_scores = layers.softmax_loss(scores, y)
    regs = {name: layers.l2_regularization(value, reg) for name, value in p.items()}
    parts = {"data_loss": data_loss, "data_grads": model.backward(grad_scores, cache),
             "reg_losses": {name: r[0] for name, r in regs.items()},
             "reg_grads": {name: r[1] for name, r in regs.items()}}
    return [case(f"X {X.shape}, reg {reg:g}, biases != 0", {**p, "X": X, "y": y, "reg": reg},
                 {"loss": loss, **grads}, sizes=NET_SIZES, parts=parts)]


def build_data():
    """Returns the dict stored in neuralnet-data.pkl (see the module docstring)."""
    rng = np.random.default_rng(2024)
    fc_fwd, fc_bwd = fc_cases(rng)
    relu_fwd, relu_bwd = relu_cases(rng)
    return {
        "fc_forward": fc_fwd, "fc_backward": fc_bwd,
        "relu_forward": relu_fwd, "relu_backward": relu_bwd,
        "softmax_loss": softmax_cases(rng),
        "softmax_stability": stability_cases(),
        "l2_regularization": l2_regularization_cases(rng),
        "LinearClassifier": linear_classifier_cases(rng),
        "TwoLayerNet": two_layer_net_cases(rng),
        "training_step": training_step_cases(rng),
    }


def main(argv=None):
    """No options: --help says what the file is, anything else is an error."""
    write_data_file(__spec__, __doc__, DATA_FILE, build_data, argv)


if __name__ == "__main__":
    main()
