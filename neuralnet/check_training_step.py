"""Task 4 check: training_step (train.py) against expected values and numeric gradients.

    python neuralnet/check_training_step.py
    cd neuralnet && python check_training_step.py        (same thing)

Builds your TwoLayerNet(D, C, H), gives it the weights of neuralnet-data.pkl through
parameters() (nonzero biases, matched to W1, b1, W2, b2 by shape and order), and calls
training_step(model, X, y, reg) with reg > 0. The loss and every gradient must equal the
expected values (softmax loss + reg / 2 * sum(W**2) over the weight matrices, never the
biases), and the gradients must equal numeric ones of your own loss. When it fails and
softmax_loss, l2_regularization or your TwoLayerNet fails its own check, that part is named
as the likely cause. Exits with status 1 unless it passed.
"""

import sys

from checks import call, load_data, run_checks, student_imports, student_line, summarize, unpack
from gradient_check import CheckFailed, compare, gradient_problem, matches
from net_contract import BIASES, PARAM_NAMES, WEIGHTS, as_shape

with student_imports(__name__):  # your layers.py and two_layer_net.py (train.py: below)
    from gradcheck_classifier import build_with_weights, cause_notes, label
    from two_layer_net import TwoLayerNet

PARTS = ("softmax_loss", "l2_regularization", "TwoLayerNet")  # what training_step relies on


def variants(case):
    """
    The (loss, grads) that typical mistakes produce, from the parts stored in the data.

    Returns:
    - list of (description, loss, grads dict our name -> array)
    """
    parts, n = case["parts"], len(case["inputs"]["X"])
    data_loss, data_grads = parts["data_loss"], parts["data_grads"]
    reg_losses, reg_grads = parts["reg_losses"], parts["reg_grads"]
    weight_loss = sum(reg_losses[w] for w in WEIGHTS)

    def grads(scale=1.0, reg_names=WEIGHTS, reg_scale=1.0):
        return {name: scale * data_grads[name]
                + (reg_scale * reg_grads[name] if name in reg_names else 0.0)
                for name in PARAM_NAMES}

    return [
        ("the biases are regularized too: regularize only the weight matrices W1, W2",
         weight_loss + data_loss + sum(reg_losses[b] for b in BIASES),
         grads(reg_names=PARAM_NAMES)),
        ("no regularization: add l2_regularization of W1 and W2 (loss and gradient)",
         data_loss, grads(reg_names=())),
        ("the regularization loss is added but not its gradient: add l2_regularization's "
         "gradient to the gradients of W1 and W2", data_loss + weight_loss, grads(reg_names=())),
        ("the regularization gradient is added but not its loss", data_loss, grads()),
        ("2 x the regularization: its loss is reg / 2 * sum(W**2), its gradient reg * W",
         data_loss + 2 * weight_loss, grads(reg_scale=2.0)),
        (f"N x the data loss (N = {n}): the softmax loss is a mean over the batch",
         n * data_loss + weight_loss, grads(scale=n)),
    ]


def name_mistake(case, loss, grads):
    """The description of the variants() that matches (loss, grads), or None: both first,
    then the gradients alone, then a wrong loss alone."""
    found = variants(case)
    for description, v_loss, v_grads in found:
        if matches(v_loss, loss) and all(matches(v_grads[n], grads[n]) for n in PARAM_NAMES):
            return description
    for description, _, v_grads in found:
        if all(matches(v_grads[n], grads[n]) for n in PARAM_NAMES):
            return description
    for description, v_loss, _ in found:
        if matches(v_loss, loss) and not matches(case["outputs"]["loss"], v_loss):
            return description
    return None


def step_grads(model, mapping, grads, shapes):
    """training_step's grads as a dict our name -> gradient, in our shapes (`shapes`)."""
    keys = sorted(model.parameters())
    if not isinstance(grads, dict) or sorted(grads) != keys:
        got = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
        raise CheckFailed(f"training_step must return grads as a dict with the keys of "
                          f"model.parameters() {keys}, got {got}")
    return {name: as_shape(grads[key], shapes[name]) for name, key in mapping.items()}


def check_training_step(case, training_step):
    """Values and numeric gradients of training_step on one case of data["training_step"]."""
    inputs, sizes = case["inputs"], case["sizes"]
    args = [sizes["input_dim"], sizes["num_classes"], sizes["hidden_dim"]]
    model, mapping, kind = build_with_weights("TwoLayerNet", TwoLayerNet, args,
                                              {n: inputs[n] for n in PARAM_NAMES})
    X, y, reg = inputs["X"].copy(), inputs["y"].copy(), inputs["reg"]
    loss, grads = unpack("training_step", call("training_step", training_step, model, X, y,
                                               reg), ("loss", "grads"))
    grads = step_grads(model, mapping, grads, {n: inputs[n].shape for n in PARAM_NAMES})
    problems = [compare("loss", case["outputs"]["loss"], loss, kind=kind)]
    problems += [compare(f"gradient of {label(n, mapping)}", case["outputs"][n], grads[n],
                         kind=kind) for n in PARAM_NAMES]
    if any(problems):
        mistake = name_mistake(case, loss, grads)
        return [p for p in problems if p] + ([f"likely mistake: {mistake}"] if mistake else []), \
            None
    params = model.parameters()
    errors = [gradient_problem(f"training_step {name}", grads[name].reshape(params[key].shape),
                               lambda: call("training_step", training_step, model, X, y,
                                            reg)[0], params[key],
                               kind=kind) for name, key in mapping.items()]
    return [problem for _, problem in errors], max(error for error, _ in errors)


def import_training_step():
    """train.training_step, or CheckFailed saying why train.py cannot be imported."""
    try:
        from train import training_step
    except Exception as err:  # ImportError of a missing package, SyntaxError, ...
        where = student_line(err)
        raise CheckFailed(f"cannot import train.py: {type(err).__name__}: {err}"
                          + (f"\n    at {where}" if where else "")) from None
    return training_step


def step_check(data):
    """The check of one training_step case; a failure also names the parts it relies on
    (softmax_loss, l2_regularization, TwoLayerNet) that fail their own checks."""
    def check(case):
        try:
            problems, error = check_training_step(case, import_training_step())
        except CheckFailed as failure:
            problems, error = [str(failure)], None
        if any(problems):
            problems = [*problems, *cause_notes("training_step", PARTS, data)]
        return problems, error
    return check


def main():
    data = load_data()
    failed, count = run_checks("Task 4: training_step against neuralnet-data.pkl and numeric "
                               "gradients", [("training_step", step_check(data))], data)
    return summarize("check_training_step", failed, count)


if __name__ == "__main__":
    sys.exit(main())
