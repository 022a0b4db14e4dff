"""Task 3 check: LinearClassifier and TwoLayerNet against expected values and numeric
gradients.

    python neuralnet/gradcheck_classifier.py
    cd neuralnet && python gradcheck_classifier.py        (same thing)

Each model is built as TwoLayerNet(D, C, H) (LinearClassifier(D, C)), given the weights of
neuralnet-data.pkl through parameters() (whatever your keys: they are matched to W1, b1,
W2, b2 by name, else by shape and order, as net_contract.py says; a bias may be (H,) or
(1, H)), and run on a batch X with an upstream gradient G. The scores of forward(X) and the
gradients of backward(G, cache) must equal the expected values, and the gradients must equal
numeric ones of f = sum(scores * G). When a model fails and a layer it uses fails its own
check (gradcheck_layers.py), the layer is named as the likely cause. Exits with status 1
unless everything passed.
"""

import sys

import numpy as np
from checks import (
    call,
    function_problems,
    load_data,
    run_checks,
    student_imports,
    summarize,
    unpack,
)
from gradient_check import CheckFailed, compare, dtype_name, gradient_problem
from net_contract import (
    PARAM_NAMES,
    as_shape,
    init_problems,
    init_summary,
    match_parameters,
    param_shapes,
)

with student_imports(__name__):  # your layers.py and two_layer_net.py
    from gradcheck_layers import CHECKS as LAYER_CHECKS
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
                    PARAM_NAMES),
}
SCRIPTS = {"TwoLayerNet": "gradcheck_classifier.py"}  # where a part is checked (else layers)


def cause_notes(owner, parts, data):
    """
    Notes naming each of `parts` (layer or model names) whose own check fails on `data`:
    `owner` uses it, so it may be why `owner` failed. The owner is still checked in full.
    """
    checks = dict(LAYER_CHECKS, **{name: model_check(name) for name in MODELS})
    notes = []
    for name in parts:
        problems = function_problems(name, checks[name], data)
        if problems:
            detail = problems[0].splitlines()[0]
            script = SCRIPTS.get(name, "gradcheck_layers.py")
            notes.append(f"note: {name} fails its own check ({script}: {detail}); {owner} "
                         "uses it, so that may be the cause: fix it first")
    return notes


def match(owner, params, shapes):
    """net_contract.match_parameters, its complaints as CheckFailed."""
    try:
        return match_parameters(params, shapes, owner)
    except ValueError as err:  # ParameterMismatch, or not a dict
        raise CheckFailed(str(err)) from None


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
    mapping = match(owner, params, {name: v.shape for name, v in values.items()})
    for name, key in mapping.items():
        params[key][...] = values[name].reshape(params[key].shape)
    again = call(f"{owner}.parameters()", model.parameters)
    for name, key in mapping.items():
        got = again.get(key)
        if got is None or compare(key, values[name], as_shape(got, values[name].shape)) \
                is not None:
            raise CheckFailed(f"{owner}.parameters() must return the model's own arrays: "
                              f"setting {key} through it did not change the model")
    kinds = {dtype_name(params[key]) for key in mapping.values()}
    return model, mapping, "float32" if "float32" in kinds else "float64"


def label(name, mapping):
    """Our name of a parameter, with the model's own key when that differs."""
    return name if mapping[name] == name else f"{name} (your {mapping[name]!r})"


def model_grads(owner, model, mapping, grad_scores, cache, shapes):
    """backward(grad_scores, cache) as a dict our name -> gradient, in our shapes (`shapes`:
    our name -> shape; a (1, H) bias gradient becomes (H,))."""
    grads = call(f"{owner}.backward", model.backward, grad_scores, cache)
    if not isinstance(grads, dict) or set(grads) != set(model.parameters()):
        keys = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
        raise CheckFailed(f"{owner}.backward must return a dict with the keys of "
                          f"parameters() {sorted(model.parameters())}, got {keys}")
    return {name: as_shape(grads[key], shapes[name]) for name, key in mapping.items()}


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
    grads = model_grads(owner, model, mapping, upstream, cache,
                        {name: inputs[name].shape for name in names})
    problems += [compare(f"gradient of {label(name, mapping)}", case["outputs"][name],
                         grads[name], len(X), kind=kind) for name in names]
    if any(problems):
        return problems, None
    params = model.parameters()

    def f():
        return np.sum(call(f"{owner}.forward", model.forward, X)[0] * upstream)

    errors = [gradient_problem(f"{owner} {name}", grads[name].reshape(params[key].shape), f,
                               params[key], MODEL_STEP, kind=kind)
              for name, key in mapping.items()]
    return [problem for _, problem in errors], max(error for error, _ in errors)


INIT_SIZES = (50, 30, 40)  # input_dim, num_classes, hidden_dim: 1,200+ weights per matrix
INIT_SCALE = 0.01


def check_init(case):
    """
    TwoLayerNet(D, C, H, weight_scale) of INIT_SIZES and INIT_SCALE: parameter shapes, then
    the initialization rule of net_contract.init_problems (biases 0, weights with a standard
    deviation near weight_scale).
    """
    args = (*INIT_SIZES, INIT_SCALE)
    model = call(f"TwoLayerNet{args}", MODELS["TwoLayerNet"][0], *args)
    params = call("TwoLayerNet.parameters()", model.parameters)
    mapping = match("TwoLayerNet", params, param_shapes(*INIT_SIZES))
    summaries = {name: init_summary(params[key]) for name, key in mapping.items()}
    labels = {name: label(name, mapping) for name in mapping}
    return init_problems(summaries, INIT_SCALE, labels), None


INIT_CASES = [{"case": f"sizes {INIT_SIZES}, scale {INIT_SCALE}"}]


def model_check(owner, data=None):
    """The check of one case of MODELS[owner]; with `data`, a failure also names the layers
    it uses that fail their own checks on data (cause_notes)."""
    def check(case):
        try:
            problems, error = check_model(owner, case)
        except CheckFailed as failure:
            problems, error = [str(failure)], None
        if data is not None and any(problems):
            problems = [*problems, *cause_notes(owner, MODELS[owner][2], data)]
        return problems, error
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
