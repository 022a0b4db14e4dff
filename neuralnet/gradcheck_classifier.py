"""Task 3 check: LinearClassifier and TwoLayerNet against expected values and numeric
gradients.

    python neuralnet/gradcheck_classifier.py
    cd neuralnet && python gradcheck_classifier.py        (same thing)

Each model is built as TwoLayerNet(D, C, H) (LinearClassifier(D, C)), given the weights of
neuralnet-data.pkl through parameters() (whatever your keys: they are matched to W1, b1,
W2, b2 by shape and order), and run on a batch X with an upstream gradient G. The scores
of forward(X) and the gradients of backward(G, cache) must equal the expected values, and
the gradients must equal numeric ones of f = sum(scores * G). The layers a model uses are
checked first: a model cannot be right while its layers are wrong. Exits with status 1
unless everything passed.
"""

import sys

import numpy as np
from checks import call, function_problems, load_data, run_checks, summarize, unpack
from gradcheck_layers import CHECKS as LAYER_CHECKS
from gradient_check import CheckFailed, compare, dtype_name, gradient_problem
from linear_classifier import LinearClassifier
from two_layer_net import TwoLayerNet

# The scores are piecewise linear in each single parameter and the data keeps every hidden
# pre-activation at least 0.3 from 0, so a large step is exact up to rounding.
MODEL_STEP = 1e-2
MODELS = {  # name -> (class, constructor arguments from case["sizes"], layers it uses, params)
    "LinearClassifier": (LinearClassifier, ("input_dim", "num_classes"),
                         ("fc_forward", "fc_backward"), ("W", "b")),
    "TwoLayerNet": (TwoLayerNet, ("input_dim", "num_classes", "hidden_dim"),
                    ("fc_forward", "fc_backward", "relu_forward", "relu_backward"),
                    ("W1", "b1", "W2", "b2")),
}


def require_passing(owner, functions, data, run_first):
    """Raise CheckFailed naming the first of `functions` (layer or model names) whose
    check fails on `data`: `owner` cannot be checked before it passes."""
    checks = dict(LAYER_CHECKS, **{name: model_check(name) for name in MODELS})
    for name in functions:
        problems = function_problems(name, checks[name], data)
        if problems:
            detail = problems[0] if problems[0].startswith(name) else f"{name} {problems[0]}"
            raise CheckFailed(f"{owner}: cannot be checked until {name} passes (run "
                              f"{run_first}): {detail}")


def match_parameters(owner, params, shapes):
    """
    Match the model's parameter keys to our names by shape, in order.

    Inputs:
    - params: what model.parameters() returned (dict key -> array, any keys)
    - shapes: dict our name -> expected shape, in order (W1, b1, W2, b2)

    Returns:
    - mapping: dict our name -> the model's key
    """
    if not isinstance(params, dict):
        raise CheckFailed(f"{owner}.parameters() must return a dict name -> array, "
                          f"got {type(params).__name__}")
    mapping = {}
    for name, shape in shapes.items():
        key = next((k for k, v in params.items() if k not in mapping.values()
                    and isinstance(v, np.ndarray) and v.shape == shape), None)
        if key is None:
            found = ", ".join(f"{k}: {np.shape(v)}" for k, v in params.items()) or "nothing"
            raise CheckFailed(f"{owner}.parameters() has no array of shape {shape} for "
                              f"{name} (it has {found})")
        mapping[name] = key
    return mapping


def build_with_weights(owner, cls, args, values):
    """
    cls(*args) with its parameters set in place to `values` (dict our name -> array).

    Returns a tuple of:
    - model
    - mapping: dict our name -> the model's key
    - kind: "float32" if the model keeps float32 parameters, else "float64"
    """
    model = call(f"{owner}({', '.join(map(str, args))})", cls, *args)
    params = call(f"{owner}.parameters()", model.parameters)
    mapping = match_parameters(owner, params, {name: v.shape for name, v in values.items()})
    for name, key in mapping.items():
        params[key][...] = values[name]
    again = call(f"{owner}.parameters()", model.parameters)
    for name, key in mapping.items():
        if compare(key, values[name], again.get(key)) is not None:
            raise CheckFailed(f"{owner}.parameters() must return the model's own arrays: "
                              f"setting {key} through it did not change the model")
    kinds = {dtype_name(params[key]) for key in mapping.values()}
    return model, mapping, "float32" if "float32" in kinds else "float64"


def label(name, mapping):
    """Our name of a parameter, with the model's own key when that differs."""
    return name if mapping[name] == name else f"{name} (your {mapping[name]!r})"


def model_grads(owner, model, mapping, grad_scores, cache):
    """backward(grad_scores, cache) as a dict our name -> gradient."""
    grads = call(f"{owner}.backward", model.backward, grad_scores, cache)
    if not isinstance(grads, dict) or set(grads) != set(model.parameters()):
        keys = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
        raise CheckFailed(f"{owner}.backward must return a dict with the keys of "
                          f"parameters() {sorted(model.parameters())}, got {keys}")
    return {name: grads[key] for name, key in mapping.items()}


def check_model(owner, case):
    """Values and numeric gradients of one case of data[owner] (a name of MODELS)."""
    cls, arg_names, _, names = MODELS[owner]
    inputs = case["inputs"]
    model, mapping, kind = build_with_weights(
        owner, cls, [case["sizes"][a] for a in arg_names], {n: inputs[n] for n in names})
    X, upstream = inputs["X"].copy(), inputs["grad_scores"].copy()
    scores, cache = unpack(f"{owner}.forward", call(f"{owner}.forward", model.forward, X),
                           ("scores", "cache"))
    problems = [compare("scores", case["outputs"]["scores"], scores, kind=kind)]
    grads = model_grads(owner, model, mapping, upstream, cache)
    problems += [compare(f"gradient of {label(name, mapping)}", case["outputs"][name],
                         grads[name], len(X), kind=kind) for name in names]
    if any(problems):
        return problems, None
    params = model.parameters()

    def f():
        return np.sum(call(f"{owner}.forward", model.forward, X)[0] * upstream)

    errors = [gradient_problem(f"{owner} {name}", grads[name], f, params[key], MODEL_STEP,
                               kind=kind) for name, key in mapping.items()]
    return [problem for _, problem in errors], max(error for error, _ in errors)


INIT_SIZES = (50, 30, 40)  # input_dim, num_classes, hidden_dim: 1,200+ weights per matrix
INIT_SCALE = 0.01


def init_shapes(input_dim, num_classes, hidden_dim):
    """Expected parameter shapes of TwoLayerNet, in the order W1, b1, W2, b2."""
    return {"W1": (input_dim, hidden_dim), "b1": (hidden_dim,),
            "W2": (hidden_dim, num_classes), "b2": (num_classes,)}


def check_init(case):
    """
    TwoLayerNet(D, C, H, weight_scale): parameter shapes, biases exactly 0, weights with a
    standard deviation within 20% of weight_scale (any random normal generator passes:
    with 1,200+ samples the estimate is within 20% by far more than 5 standard errors).
    """
    args = (*INIT_SIZES, INIT_SCALE)
    model = call(f"TwoLayerNet{args}", MODELS["TwoLayerNet"][0], *args)
    params = call("TwoLayerNet.parameters()", model.parameters)
    mapping = match_parameters("TwoLayerNet", params, init_shapes(*INIT_SIZES))
    problems = []
    for name in ("b1", "b2"):
        if np.any(np.asarray(params[mapping[name]]) != 0):
            problems.append(f"{label(name, mapping)} must start at 0")
    for name in ("W1", "W2"):
        std = float(np.std(params[mapping[name]]))
        if not 0.8 * INIT_SCALE < std < 1.2 * INIT_SCALE:
            problems.append(f"{label(name, mapping)} has standard deviation {std:.3g}; "
                            f"expected about weight_scale = {INIT_SCALE} (draw normal "
                            "samples and multiply them by weight_scale)")
    return problems, None


INIT_CASES = [{"case": f"sizes {INIT_SIZES}, scale {INIT_SCALE}"}]


def model_check(owner, data=None):
    """The check of one case of MODELS[owner]; with `data`, the layers the model uses are
    checked first (on data) and a failing layer is reported as the cause."""
    def check(case):
        if data is not None:
            require_passing(owner, MODELS[owner][2], data, "gradcheck_layers.py")
        return check_model(owner, case)
    return check


def main():
    data = dict(load_data(), **{"TwoLayerNet.__init__": INIT_CASES})
    checks = [("TwoLayerNet.__init__", check_init)]
    checks += [(owner, model_check(owner, data)) for owner in MODELS]
    failed, count = run_checks(
        "Task 3: the classifiers against neuralnet-data.pkl and numeric gradients",
        checks, data)
    return summarize("gradcheck_classifier", failed, count)


if __name__ == "__main__":
    sys.exit(main())
