"""What every check asks of TwoLayerNet: the shapes of its parameters, how they are found in
whatever parameters() returns, and the initialization rule. numpy only.

The homework fixes the API, TwoLayerNet(input_dim, num_classes, hidden_dim, weight_scale)
with parameters() returning the model's own arrays, and leaves the rest to you: the keys
(W1, fc1_W, w1, weight1, ...), weights kept as attributes or in a dict, a bias of shape
(H,) or (1, H). gradcheck_classifier.py, check_training_step.py, the tests and the
autograder all use these functions, so a network passes or fails by one rule everywhere.

    shapes = param_shapes(input_dim, num_classes, hidden_dim)   # W1, b1, W2, b2 -> shape
    keys = match_parameters(model.parameters(), shapes)         # W1 -> your key, ...
    problems = init_problems({name: init_summary(params[key]) for name, key in keys.items()},
                             weight_scale)
"""

import numpy as np

PARAM_NAMES = ("W1", "b1", "W2", "b2")
WEIGHTS, BIASES = ("W1", "W2"), ("b1", "b2")
INIT_TOLERANCE = 0.2  # the weights' standard deviation may differ this much from weight_scale


class ParameterMismatch(ValueError):
    """parameters() holds no array for one of W1, b1, W2, b2 (`name`, of shape `shape`)."""

    def __init__(self, message, name, shape):
        super().__init__(message)
        self.name, self.shape = name, shape


def param_shapes(input_dim, num_classes, hidden_dim):
    """
    Returns:
    - shapes: dict W1, b1, W2, b2 -> shape, in that order: W1 (D, H), b1 (H,), W2 (H, C),
      b2 (C,)
    """
    return {"W1": (input_dim, hidden_dim), "b1": (hidden_dim,),
            "W2": (hidden_dim, num_classes), "b2": (num_classes,)}


def fits(shape, wanted):
    """True if an array of `shape` can hold a parameter of shape `wanted`: the same shape,
    or (1, n) for a bias of shape (n,) (a row that broadcasts over the batch)."""
    return tuple(shape) == tuple(wanted) or (len(wanted) == 1 and tuple(shape) == (1, wanted[0]))


def as_shape(array, wanted):
    """`array` (a parameter or a gradient) viewed in the shape `wanted` when it fits (a (1, n)
    bias as (n,)); anything else unchanged, so that a comparison reports its shape."""
    array = np.asarray(array)
    return array.reshape(wanted) if array.shape != tuple(wanted) and fits(array.shape, wanted) \
        else array


def describe(params):
    """"'W1' (4, 6), 'b1' (6,), ..." of a dict key -> array."""
    return ", ".join(f"{key!r} {np.shape(value)}" for key, value in params.items()) or "nothing"


def match_parameters(params, shapes, owner="TwoLayerNet"):
    """
    Find each of our parameters among the model's keys: the key of the same name if its
    array fits (see fits), else the first unused key, in the dict's order, whose array fits.

    Inputs:
    - params: what model.parameters() returned (dict key -> array, any keys)
    - shapes: dict our name -> shape, in order (param_shapes)

    Returns:
    - keys: dict our name -> the model's key

    Raises ParameterMismatch when there is no array for one of them, and ValueError when
    params is not a dict.
    """
    if not isinstance(params, dict):
        raise ValueError(f"{owner}.parameters() must return a dict name -> array, got "
                         f"{type(params).__name__}")
    free = [key for key, value in params.items() if isinstance(value, np.ndarray)]
    keys = {}
    for name, shape in shapes.items():
        same = [key for key in free if key == name and fits(params[key].shape, shape)]
        found = same or [key for key in free if fits(params[key].shape, shape)]
        if not found:
            raise ParameterMismatch(f"{owner}.parameters() has no array of shape {shape} for "
                                    f"{name} (it has {describe(params)})", name, shape)
        keys[name] = found[0]
        free.remove(found[0])
    return keys


def init_summary(array):
    """
    The numbers the initialization rule looks at.

    Returns:
    - summary: dict std (the standard deviation of the entries), nonzero (how many entries
      are not 0), size
    """
    array = np.asarray(array, dtype=np.float64)
    return {"std": float(np.std(array)), "nonzero": int(np.count_nonzero(array)),
            "size": int(array.size)}


def init_problems(summaries, weight_scale, labels=None):
    """
    The initialization rule: biases all 0, weights with a standard deviation within
    INIT_TOLERANCE of weight_scale. Any normal generator passes (np.random.randn(...) *
    weight_scale, np.random.normal(scale=weight_scale, ...), a seeded Generator): with 1000
    entries or more the estimate is within 20% by more than 6 standard errors.

    Inputs:
    - summaries: dict W1, b1, W2, b2 -> init_summary of that parameter
    - weight_scale: the value given to TwoLayerNet
    - labels: dict our name -> how to call it in a message (default: the name)

    Returns:
    - problems: one sentence per parameter that breaks the rule (empty if none does)
    """
    labels = labels or {}
    problems = []
    for name in BIASES:
        if summaries[name]["nonzero"]:
            problems.append(f"{labels.get(name, name)} must start at 0 "
                            f"({summaries[name]['nonzero']} entries are not 0)")
    for name in WEIGHTS:
        std = summaries[name]["std"]
        if not (1 - INIT_TOLERANCE) * weight_scale < std < (1 + INIT_TOLERANCE) * weight_scale:
            problems.append(f"{labels.get(name, name)} has standard deviation {std:.3g}; "
                            f"expected about weight_scale = {weight_scale:g} (draw normal "
                            "samples and multiply them by weight_scale)")
    return problems
