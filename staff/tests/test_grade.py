"""staff/grading/grade.py on a corpus of generated submissions, each with its exact expected score:
the reference (full), the starter (0 on every code test), one bug per graded function (loses
exactly its points), hangs (within the time budget), crashes at import, stderr noise,
notebooks without outputs or with a low accuracy, malicious and malformed zips, and
Gradescope's folder layout."""

import functools
import json
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

from handin import manifest, notebooks
from staff.grading import grade, grading_tests, sandbox
from staff.starter.notebooks import strip_notebook
from staff.starter.regions import strip_python
from staff.tests.corpus import (
    ORIGINAL_STUBS,
    PY_FILES,
    ROOT,
    add_entry,
    make_submission_zip,
    original_solution,
    part1_text,
    part2_text,
    symlink_attr,
    unrun_notebook_text,
    write_submission_dir,
    zip_folder,
)

LIMITS = grade.Limits(test_timeout=2.0)
TESTS = manifest.CODE_TESTS
ID_BY_NAME = {t.name: t.id for t in manifest.TESTS}
POINTS = {t.id: t.points for t in TESTS}
FULL = manifest.TOTAL_POINTS


def reference(file_name):
    return (ROOT / PY_FILES[file_name]).read_text()


def mutate(file_name, old, new, count=1):
    """The reference file with `old` replaced by `new` (which must occur `count` times)."""
    text = reference(file_name)
    assert text.count(old) == count, f"{old!r} not found {count} time(s) in {file_name}"
    return text.replace(old, new)


def scores(results):
    """dict test id -> score."""
    return {ID_BY_NAME[entry["name"]]: entry["score"] for entry in results["tests"]}


def outputs(results):
    return {ID_BY_NAME.get(e["name"], e["name"]): e["output"] for e in results["tests"]}


def assert_gradescope_format(results):
    assert set(results) >= {"score", "max_score", "execution_time", "tests", "output"}
    assert results["max_score"] == FULL
    for entry in results["tests"]:
        assert set(entry) == {"name", "score", "max_score", "status", "output", "visibility"}
        assert 0 <= entry["score"] <= entry["max_score"]
        assert entry["status"] == ("passed" if entry["score"] == entry["max_score"] else "failed")
    assert results["score"] == pytest.approx(sum(e["score"] for e in results["tests"]))
    json.dumps(results)


def grade_zip(tmp_path, overrides=None, omit=()):
    results = grade.grade(make_submission_zip(tmp_path, overrides=overrides, omit=omit),
                          limits=LIMITS)
    assert_gradescope_format(results)
    return results


def assert_lost_exactly(results, lost):
    """Every code test in `lost` scores 0, every other code test full marks."""
    got = scores(results)
    for test in TESTS:
        want = 0 if test.id in lost else test.points
        assert got[test.id] == want, (test.id, outputs(results)[test.id])


def test_reference_gets_full_marks_under_the_manifests_names(tmp_path):
    results = grade_zip(tmp_path)
    assert results["score"] == results["max_score"] == manifest.TOTAL_POINTS
    assert [e["name"] for e in results["tests"]] == [t.name for t in manifest.TESTS]
    assert all(e["status"] == "passed" for e in results["tests"])


def test_starter_gets_zero_on_every_code_test(tmp_path):
    starter = {name: strip_python(reference(name), name)[0] for name in PY_FILES}
    starter["part1.ipynb"] = strip_notebook(part1_text(), "part1.ipynb")[0]
    starter["part2.ipynb"] = strip_notebook(part2_text(), "part2.ipynb")[0]
    results = grade_zip(tmp_path, starter)
    assert results["score"] == 0
    for test_id, text in outputs(results).items():
        if test_id in POINTS:
            assert "not implemented" in text, (test_id, text)


BUGS = {  # name: (file, old, new, lost test ids)
    "f3 wrong loss": ("functions.py", "L = -logp\n", "L = -logp + 0.1\n", {"f3_y1", "f3_y2"}),
    "fc_forward no bias": ("layers.py", "    out += b\n", "    out += 0 * b\n", {"fc_forward"}),
    "fc_backward mean": ("layers.py", "grad_b = grad_out.sum(axis=0)",
                         "grad_b = grad_out.mean(axis=0)", {"fc_backward"}),
    "relu_forward abs": ("layers.py", "out = np.maximum(x, 0)", "out = np.abs(x)",
                         {"relu_forward"}),
    "relu_backward sign": ("layers.py", "grad_x = grad_out * (x > 0)",
                           "grad_x = grad_out * (x < 0)", {"relu_backward"}),
    "softmax not averaged": ("layers.py", "    grad_x /= n\n", "", {"softmax_loss",
                                                                    "softmax_large"}),
    "softmax without max shift": ("layers.py", "shifted = x - x.max(axis=1, keepdims=True)",
                                  "shifted = x.astype(float)", {"softmax_large"}),
    "l2_regularization factor": ("layers.py", "grad_w = reg * w", "grad_w = 2 * reg * w",
                                 {"l2_regularization"}),
    "init biases one": ("two_layer_net.py", '"b1": np.zeros(hidden_dim, dtype=dtype)',
                        '"b1": np.ones(hidden_dim, dtype=dtype)', {"net_init"}),
    "init weights too large": ("two_layer_net.py",
                               "random_weights(rng, (input_dim, hidden_dim), weight_scale, dtype)",
                               "random_weights(rng, (input_dim, hidden_dim), 10 * weight_scale, "
                               "dtype)", {"net_init"}),
    "forward without relu": ("two_layer_net.py", "hidden, relu_cache = relu_forward(hidden)",
                             "relu_cache = hidden", {"net_forward", "net_backward"}),
    "backward without relu": ("two_layer_net.py",
                              "grad_hidden = relu_backward(grad_hidden, relu_cache)", "pass",
                              {"net_backward"}),
    "training_step regularizes biases": ("train.py", "if param.ndim >= 2:", "if True:",
                                         {"training_step_loss", "training_step_grads"}),
}


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_one_bug_loses_exactly_its_points(tmp_path, bug):
    file_name, old, new, lost = BUGS[bug]
    results = grade_zip(tmp_path, {file_name: mutate(file_name, old, new)})
    assert_lost_exactly(results, lost)
    assert results["score"] == FULL - sum(POINTS[t] for t in lost)


ALTERNATIVES = {  # correct code written differently: (file, old, new)
    "relu as a product": ("layers.py", "out = np.maximum(x, 0)", "out = x * (x > 0)"),
    "fc_forward with np.dot": ("layers.py", "    out = x @ w\n    out += b\n",
                               "    out = np.dot(x, w) + b\n"),
    "f3 without the max shift": ("functions.py", "m = max(s1, s2)\n", "m = 0.0\n"),
    "init with another generator": (
        "two_layer_net.py",
        "random_weights(rng, (input_dim, hidden_dim), weight_scale, dtype)",
        "np.random.default_rng(123).normal(0, weight_scale, (input_dim, hidden_dim))"
        ".astype(dtype)"),
}


def test_correct_alternatives_get_full_marks(tmp_path):
    overrides = {}
    for file_name, old, new in ALTERNATIVES.values():
        text = overrides.get(file_name, reference(file_name))
        assert text.count(old) == 1, old
        overrides[file_name] = text.replace(old, new)
    assert grade_zip(tmp_path, overrides)["score"] == FULL


SLOW_IMPORT_LIMITS = grade.Limits(test_timeout=10.0)  # `import cv2, sklearn` take ~1 s


def test_original_starter_stubs_score_zero_as_not_implemented(tmp_path):
    results = grade_zip(tmp_path, ORIGINAL_STUBS)
    assert_lost_exactly(results, set(POINTS))
    for test_id in POINTS:
        assert "not implemented" in outputs(results)[test_id], outputs(results)[test_id]


ORIGINAL = original_solution("dict_W1")  # whole solutions: test_mistakes.py runs them all


def original(file_name, old, new, solution=ORIGINAL):
    """The original-style solution's file with `old` replaced by `new` (once)."""
    text = solution[file_name]
    assert text.count(old) == 1, f"{old!r} not found once in the original {file_name}"
    return text.replace(old, new)


ORIGINAL_MISTAKES = {  # name: (file, old, new, lost test ids, words in the feedback)
    "training_step regularizes biases": (
        "train.py", "for name in ['W1', 'W2']:", "for name in ['W1', 'b1', 'W2', 'b2']:",
        {"training_step_loss", "training_step_grads"}, "regularized"),
    "training_step without the regularization gradient": (
        "train.py", "        grads[name] += dW\n", "",
        {"training_step_grads"}, "missing the regularization gradient"),
    "fc_backward transposed grad_w": (
        "layers.py", "grad_w = x.T.dot(grad_out)", "grad_w = grad_out.T.dot(x)",
        {"fc_backward"}, "transpose"),
    "softmax summed instead of averaged": (
        "layers.py", "    grad_x /= N\n", "", {"softmax_loss", "softmax_large"}, "1/N"),
    "l2_regularization gradient 2 * reg * w": (
        "layers.py", "grad_w = reg * w", "grad_w = 2 * reg * w", {"l2_regularization"},
        "factor of 2"),
    "relu_backward with the mask x > -1": (
        "layers.py", "dx[x <= 0] = 0", "dx[x <= -1] = 0", {"relu_backward"}, "grad_x["),
    "softmax without max-subtraction": (
        "layers.py", "shifted = x - np.max(x, axis=1, keepdims=True)", "shifted = x",
        {"softmax_large"}, "nan"),
    "fc_backward grad_b sign": (
        "layers.py", "grad_b = np.sum(grad_out, axis=0)", "grad_b = -np.sum(grad_out, axis=0)",
        {"fc_backward"}, "wrong sign"),
    "parameters() returns copies": (
        "two_layer_net.py", "params = self.params\n",
        "params = {k: v.copy() for k, v in self.params.items()}\n",
        {"net_forward", "net_backward"}, "not copies"),
    "f3 stub returning None": (
        "functions.py", "    assert y == 1 or y == 2\n", "    return None\n",
        {"f3_y1", "f3_y2"}, "not implemented"),
}


@pytest.mark.parametrize("mistake", sorted(ORIGINAL_MISTAKES))
def test_original_style_mistakes_lose_points_only_at_their_test(tmp_path, mistake):
    file_name, old, new, lost, words = ORIGINAL_MISTAKES[mistake]
    overrides = {**ORIGINAL, file_name: original(file_name, old, new)}
    results = grade.grade(make_submission_zip(tmp_path, overrides=overrides),
                          limits=SLOW_IMPORT_LIMITS)
    assert_lost_exactly(results, lost)
    for test_id in lost:
        assert words in outputs(results)[test_id], (test_id, outputs(results)[test_id])


def test_training_step_reading_attributes_keeps_its_points_with_our_net(tmp_path):
    """A net with a mistake in backward: train.py runs with our TwoLayerNet under the
    student's names, so `l2_regularization(model.W1, reg)` still works (with (1, H) biases in
    the student's net, (H,) in ours). staff/corpus/mistakes.py plants such mistakes in the solutions
    whose training_step names other keys (fc1_W, weight1, layer1_W)."""
    files = original_solution("attrs_W1_bias_rows")
    old = "grad_out1 = relu_backward(grad_out2, cache2)"
    assert files["two_layer_net.py"].count(old) == 1 and "model.W1" in files["train.py"]
    files["two_layer_net.py"] = files["two_layer_net.py"].replace(old, "grad_out1 = grad_out2")
    results = grade.grade(make_submission_zip(tmp_path, overrides=files),
                          limits=SLOW_IMPORT_LIMITS)
    assert_lost_exactly(results, {"net_backward"})


W1_NUMPY_STEP = ("    for k, v in model.parameters().items():\n        if v.ndim == 2:\n"
                 "            loss_k, grad_k = l2_regularization(v, reg)\n")


@pytest.mark.parametrize("keys, lost", [
    ("'w1', 'w2'", set()),
    ("'w1', 'b1', 'w2', 'b2'", {"training_step_loss", "training_step_grads"})])
def test_training_step_gets_our_net_under_the_students_keys(tmp_path, keys, lost):
    """dict_w1_numpy with a mistake in backward, its training_step reading model.params['w1']:
    train.py runs with our net under the names of the student's own (built in the sandbox),
    so a right training_step keeps its points, and one regularizing the biases loses them
    for that mistake (not for a KeyError)."""
    solution = original_solution("dict_w1_numpy")
    step = (f"    for k in ({keys}):\n        if k in model.params:\n"
            "            loss_k, grad_k = l2_regularization(model.params[k], reg)\n")
    files = {**solution,
             "two_layer_net.py": original("two_layer_net.py", "relu_backward(grad_a1, cache_relu)",
                                          "grad_a1", solution),
             "train.py": original("train.py", W1_NUMPY_STEP, step, solution)}
    results = grade.grade(make_submission_zip(tmp_path, overrides=files),
                          limits=SLOW_IMPORT_LIMITS)
    assert_lost_exactly(results, {"net_backward", *lost})
    for test_id in lost:
        assert "regularized" in outputs(results)[test_id], outputs(results)[test_id]


def test_the_students_net_file_cannot_change_our_nets_numbers(tmp_path):
    """The student's two_layer_net.py, when ours runs in its place beside train.py, is run
    only in a child process that learns its names: one that sabotages numpy when imported
    costs its own points, never train.py's."""
    solution = original_solution("attrs_fc1_W")
    net = original("two_layer_net.py", "        grad_hidden = relu_backward(grad_hidden, "
                   "relu_cache)\n", "", solution)
    files = {**solution, "two_layer_net.py": net + "\nnp.exp = np.expm1\n"}
    results = grade.grade(make_submission_zip(tmp_path, overrides=files),
                          limits=SLOW_IMPORT_LIMITS)
    assert_lost_exactly(results, {"net_backward"})


def hang_catching_the_alarm():
    while True:
        try:
            while True:
                pass
        except BaseException:  # noqa: BLE001 -- the alarm too
            pass


def sabotage_numpy():
    np.maximum = np.minimum
    return {"sabotaged": True}


def test_a_child_process_cannot_hang_or_change_the_worker():
    maximum = np.maximum
    assert grading_tests.in_child(sabotage_numpy, 5.0) == {"sabotaged": True}
    assert np.maximum is maximum
    start = time.monotonic()
    assert grading_tests.in_child(hang_catching_the_alarm, 0.3) is None
    assert time.monotonic() - start < 3
    assert grading_tests.in_child(lambda: "x" * grading_tests.MAX_NAMES_BYTES, 5.0) is None
    assert grading_tests.in_child(lambda: exit(0), 5.0) is None


@pytest.mark.parametrize("solution, old, new, expected", [
    ("attrs_fc1_W", "", "", {
        "keys": [["W1", "fc1_W"], ["b1", "fc1_b"], ["W2", "fc2_W"], ["b2", "fc2_b"]],
        "attrs": {"fc1_W": "W1", "fc1_b": "b1", "fc2_W": "W2", "fc2_b": "b2"}, "dicts": {}}),
    ("dict_w1_numpy", "return self.params\n", "return {k: v.copy() for k, v in "
     "self.params.items()}\n", {  # copies: the dict is found by its keys
        "keys": [["W1", "w1"], ["b1", "b1"], ["W2", "w2"], ["b2", "b2"]], "attrs": {},
        "dicts": {"params": {"w1": "W1", "b1": "b1", "w2": "W2", "b2": "b2"}}}),
    ("dict_w1_numpy", "import numpy as np\n", "import numpy as np\nexit(3)\n", None),
], ids=["attributes", "parameters() copying a dict", "exit at import"])
def test_the_names_of_the_students_net_are_learned_in_a_child(tmp_path, solution, old, new,
                                                               expected):
    path = tmp_path / grading_tests.OWN_NET_FILE
    path.write_text(original("two_layer_net.py", old, new, original_solution(solution))
                    if old else original_solution(solution)["two_layer_net.py"])
    learn = functools.partial(grading_tests.own_net_names, str(path))
    assert grading_tests.in_child(learn, 10.0) == expected


def test_our_net_under_the_students_names():
    from two_layer_net import TwoLayerNet

    sent = {"keys": [["W2", "fc2_W"], ["b2", "fc2_b"], ["W1", "fc1_W"], ["b1", "fc1_b"]],
            "attrs": {"first": "W1", "forward": "W2", "_grader_net": "b1"},
            "dicts": {"params": {"w1": "W1", "b1": "b1"}, "__dict__": {"x": "W1"}}}
    names = grading_tests.NetNames.checked(sent)
    assert names.attrs == {"fc2_W": "W2", "fc2_b": "b2", "fc1_W": "W1", "fc1_b": "b1",
                           "first": "W1"}  # each key too; no method's or our own name
    assert list(names.dicts) == ["params"]
    net = TwoLayerNet(*grading_tests.NET_SIZES, 0.01, seed=0)
    model = grading_tests.NamedLikeOwn(net, names)
    ours = net.parameters()
    assert list(model.parameters()) == ["fc2_W", "fc2_b", "fc1_W", "fc1_b"]
    assert model.parameters()["fc1_W"] is ours["W1"] is model.fc1_W is model.first
    assert model.params == {"w1": ours["W1"], "b1": ours["b1"]}
    X = np.random.default_rng(0).normal(size=(3, grading_tests.NET_SIZES[0]))
    scores, cache = model.forward(X)  # not shadowed by the attribute "forward"
    grads = model.backward(np.ones_like(scores), cache)
    expected = net.backward(np.ones_like(scores), net.forward(X)[1])
    assert list(grads) == list(model.parameters())
    assert all(np.array_equal(grads[key], expected[name]) for name, key in names.keys.items())
    for bad in ({**sent, "keys": sent["keys"][:3]}, {**sent, "keys": [["W1", "k"]] * 4},
                {**sent, "attrs": {"a": "W9"}}, {**sent, "dicts": "x"}, [], None):
        assert grading_tests.NetNames.checked(bad) is None, bad


FAILURES = {  # name: (file, old, new, lost test ids, words in the explanation)
    "infinite loop in one function": (
        "layers.py", "    out = np.maximum(x, 0)\n", "    while True:\n        pass\n",
        {"relu_forward"}, "took longer than"),
    "infinite loop at import": (
        "two_layer_net.py", "\nclass TwoLayerNet", "\nwhile True:\n    pass\n\n\nclass TwoLayerNet",
        {"net_init", "net_forward", "net_backward"}, "could not import two_layer_net.py"),
    "exception at import": (
        "functions.py", "\nimport numpy as np\n",
        "\nimport numpy as np\nraise RuntimeError('oops')\n",
        {"f3_y1", "f3_y2"}, "raised RuntimeError"),
    "import of a package the grader lacks": (
        "train.py", "\nimport numpy as np\n", "\nimport numpy as np\nimport xgboost\n",
        {"training_step_loss", "training_step_grads"},
        "xgboost is not a module of the homework and not installed in the grader: it runs "
        "train.py with the homework's modules data, linear_classifier, two_layer_net"),
    "import of a homework module the file is not run with": (
        "two_layer_net.py", "\nimport numpy as np\n", "\nimport numpy as np\nimport optim\n",
        {"net_init", "net_forward", "net_backward"},
        "optim is a module of the homework (neuralnet/optim.py), but the original starter's "
        "two_layer_net.py does not import it"),
    "process exits at import": (
        "train.py", "\nimport numpy as np\n", "\nimport os\nimport numpy as np\nos._exit(3)\n",
        {"training_step_loss", "training_step_grads"}, "did not finish"),
    "memory hog": (
        "layers.py", "    grad_w = x.T @ grad_out\n",
        "    grad_w = x.T @ grad_out + 0 * np.ones((20000, 20000)).sum()\n",
        {"fc_backward"}, "memory"),
    "sys.exit in a function": (
        "layers.py", "    grad_w = reg * w\n", "    raise SystemExit(1)\n",
        {"l2_regularization"}, "exit()"),
    "missing function": (
        "layers.py", "def relu_backward(", "def relu_backward_v2(", {"relu_backward"},
        "has no function relu_backward"),
    "wrong return type": (
        "layers.py", "    return out, (x, w, b)\n", "    return out\n", {"fc_forward"},
        "wrong return value"),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_failures_cost_only_their_tests_with_a_reason(tmp_path, failure):
    file_name, old, new, lost, words = FAILURES[failure]
    results = grade_zip(tmp_path, {file_name: mutate(file_name, old, new)})
    assert_lost_exactly(results, lost)
    for test_id in lost:
        assert words in outputs(results)[test_id]


def test_stderr_and_stdout_noise_cost_nothing(tmp_path):
    noise = ("import sys\nimport warnings\nprint('debug ' * 1000, file=sys.stderr)\n"
             "print('chatty ' * 1000)\nwarnings.warn('noise')\n")
    overrides = {}
    for name in PY_FILES:
        text = reference(name)
        overrides[name] = text.replace("\nimport numpy as np\n",
                                       "\nimport numpy as np\n" + noise, 1)
        assert overrides[name] != text
    overrides["layers.py"] = overrides["layers.py"].replace(
        "    return out, x\n", "    print('relu!', file=sys.stderr)\n    return out, x\n")
    results = grade_zip(tmp_path, overrides)
    assert results["score"] == FULL


@pytest.mark.parametrize("overrides, omit, expected", [
    ({"part1.ipynb": unrun_notebook_text()}, (), {"part1_run": 0, "part1_accuracy": 0}),
    ({"part1.ipynb": part1_text(0.775)}, (), {"part1_accuracy": 5.0}),
    ({"part1.ipynb": part1_text(0.70)}, (), {"part1_accuracy": 0}),
    ({"part1.ipynb": part1_text(None)}, (), {"part1_accuracy": 0}),
    ({"part2.ipynb": part2_text(images=1)}, (), {"part2_images": 2.5, "part2_predictions": 2.5}),
    ({}, ("part2.ipynb",), {"part2_images": 0, "part2_predictions": 0}),
    ({}, ("train.py",), {"training_step_loss": 0, "training_step_grads": 0}),
])
def test_notebooks_and_missing_files(tmp_path, overrides, omit, expected):
    results = grade_zip(tmp_path, overrides, omit)
    got = scores(results)
    full = {t.id: t.points for t in manifest.TESTS}
    assert got == {**full, **expected}


def test_accuracy_formula():
    points = manifest.test("part1_accuracy").points
    assert notebooks.accuracy_points(0.85) == notebooks.accuracy_points(0.99) == points
    assert notebooks.accuracy_points(0.775) == pytest.approx(points / 2)
    assert notebooks.accuracy_points(0.70) == 0 and notebooks.accuracy_points(None) == 0


def rejected(results, words):
    assert results["score"] == 0
    assert words in results["output"]
    assert all(words in e["output"] for e in results["tests"])


@pytest.mark.parametrize("entry, attr, words", [
    ("../evil.py", None, "zip-slip"),
    ("jdoe/link", symlink_attr(), "symbolic link"),
])
def test_malicious_zips_score_zero_with_the_reason(tmp_path, entry, attr, words):
    zip_path = make_submission_zip(tmp_path)
    add_entry(zip_path, entry, b"/etc/passwd", attr=attr)
    results = grade.grade(zip_path, limits=LIMITS)
    assert_gradescope_format(results)
    rejected(results, words)


def test_zip_bomb_and_not_a_zip(tmp_path):
    zip_path = make_submission_zip(tmp_path)
    with zipfile.ZipFile(zip_path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("jdoe/bomb.txt", b"\0" * (20 * 2**20))
    rejected(grade.grade(zip_path, limits=LIMITS), "zip bomb")
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 garbage")
    rejected(grade.grade(bad, limits=LIMITS), "not a readable zip")


def test_layout_mistakes_are_graded_leniently(tmp_path):
    zip_path = make_submission_zip(tmp_path)
    add_entry(zip_path, "other/notes.txt", b"hi")
    results = grade.grade(zip_path, limits=LIMITS)
    assert results["score"] == FULL
    assert "2 top-level folders" in results["output"]
    flat = zip_folder(tmp_path / "src" / "jdoe", tmp_path / "flat.zip", arcroot="")
    assert grade.grade(flat, limits=LIMITS)["score"] == FULL


@pytest.mark.parametrize("layout", ["files", "subfolder", "zip"])
def test_gradescope_submission_folder(tmp_path, layout):
    submission = tmp_path / "submission"
    if layout == "files":
        write_submission_dir(submission)
    elif layout == "subfolder":
        write_submission_dir(submission / "jdoe")
        (submission / "__MACOSX").mkdir()
    else:
        submission.mkdir()
        zip_path = make_submission_zip(tmp_path)
        zip_path.rename(submission / "jdoe.zip")
    assert grade.grade(submission, limits=LIMITS)["score"] == FULL


def test_a_whole_project_upload_is_graded_and_flagged(tmp_path):
    """Gradescope unpacks a zip of the whole kit folder: the graded files sit in backprop/,
    neuralnet/ and the top, among the kit's other files. They are found by name, graded in
    full, and the result is flagged for a person (as grade-all does), never a silent 0."""
    flat = write_submission_dir(tmp_path / "flat")
    project = tmp_path / "submission" / "hw4-starter"
    for name, relative in manifest.GRADED_FILES.items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (flat / name).replace(project / relative)
    (project / "neuralnet" / "data.py").write_text((ROOT / "neuralnet" / "data.py").read_text())
    results = grade.grade(tmp_path / "submission", limits=LIMITS)
    assert results["score"] == FULL, results["output"]
    assert any("layout repaired" in flag for flag in results["needs_person"])
    assert "found elsewhere in the upload and graded" in results["output"]


def test_cli_always_writes_results_json(tmp_path):
    out = tmp_path / "results" / "results.json"
    command = [sys.executable, "-m", "staff.grading.grade", str(tmp_path / "missing.zip"),
               "--out", str(out), "--test-timeout", "2"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    results = json.loads(out.read_text())
    assert results["score"] == 0 and "not found" in results["output"]
    assert len(results["tests"]) == len(manifest.TESTS)


def test_accuracy_and_predictions_read_in_the_notebooks_print_formats():
    grade_notebooks = notebooks
    assert grade_notebooks.accuracies("TEST ACCURACY: 0.9123 (9123/10000), loss 0.25") == \
        [pytest.approx(0.9123)]
    assert grade_notebooks.accuracies("per-class test accuracy: {'Trouser': 0.98}") == []
    lines = ["tabby                      81.23%", "tiger cat   10.10%",
             "rank of the ImageNet horse class 'sorrel': 1",
             "short side 224, crop 224   [-1, 1]   -0.123  5/6"]
    assert [grade_notebooks.prediction(line) for line in lines] == [
        ("tabby", pytest.approx(0.8123)), ("tiger cat", pytest.approx(0.101)), None, None]


def nbformat_reads(text):
    import nbformat

    return nbformat.reads(text, as_version=4)


@pytest.mark.parametrize("name, grader", [
    ("part1.ipynb", grade.grade_part1), ("part2.ipynb", grade.grade_part2)])
def test_committed_notebooks_get_full_notebook_marks(name, grader):
    """Guards the print formats the grader reads against changes in the notebooks."""
    from handin import check as check_submission

    nb = nbformat_reads((ROOT / name).read_text())
    if check_submission.notebook_run_stats(nb)[2] == 0:
        pytest.skip(f"{name} has no outputs in this checkout")
    entries = grader(ROOT / name)
    points = sum(t.points for t in manifest.TESTS if t.file == name)
    assert sum(e["score"] for e in entries) == points, [e["output"] for e in entries]


def test_parameters_are_matched_by_name_then_shape_then_order():
    square = (6, 3, 6)  # input_dim == hidden_dim, and b1 stored as a (1, H) row
    arrays = {"first": np.zeros((6, 6)), "bias_a": np.zeros((1, 6)),
              "second": np.zeros((6, 3)), "bias_b": np.zeros(3)}
    assert grading_tests.match_params(arrays, square) == {
        "W1": "first", "b1": "bias_a", "W2": "second", "b2": "bias_b"}
    ambiguous = (5, 5, 5)  # every weight (5, 5), every bias (5,): dict order decides
    arrays = {"a": np.zeros((5, 5)), "c": np.zeros(5), "b": np.zeros((5, 5)), "d": np.zeros(5)}
    assert grading_tests.match_params(arrays, ambiguous) == {
        "W1": "a", "b1": "c", "W2": "b", "b2": "d"}
    named = {"W2": np.zeros((5, 5)), "b2": np.zeros(5), "W1": np.zeros((5, 5)),
             "b1": np.zeros(5)}
    assert grading_tests.match_params(named, ambiguous) == {n: n for n in named}
    with pytest.raises(grading_tests.WrongOutput, match=r"no array of shape \(5, 5\) for W2"):
        grading_tests.match_params({"a": np.zeros((5, 5)), "c": np.zeros(5)}, ambiguous)


@pytest.mark.parametrize("got, words", [
    (lambda w: w.T, "transpose of the right answer"),
    (lambda w: 7 * w, "a missing 1/N"),
    (lambda w: 2 * w, "a factor of 2 too many"),
    (lambda w: w / 2, "a factor of 2 missing"),
    (lambda w: -w, "wrong sign"),
    (lambda w: np.where(w > 1, np.nan, w), "nan: exp overflowed"),
    (lambda w: np.where(w > 1, np.inf, w), "inf: an underflow"),
    (lambda w: w.ravel(), "in the wrong shape"),
    (lambda w: w + np.eye(4, 3), "grad[0, 0] is"),
    (lambda w: w * (1 + 1e-6), None),  # float32 rounding is not a mistake
])
def test_compare_arrays_names_the_mistake(got, words):
    want = np.random.default_rng(0).normal(size=(4, 3)) + 3.0
    problem = grading_tests.compare_arrays({"grad": got(want)}, {"grad": want})
    assert problem is None if words is None else words in problem, problem


def test_a_stub_returning_none_reads_not_implemented():
    with pytest.raises(grading_tests.WrongOutput, match="returned None: not implemented"):
        grading_tests.to_array(None, "grad_x from relu_backward")
    with pytest.raises(grading_tests.WrongOutput, match="returned None: not implemented"):
        grading_tests.unpack(None, 2, "softmax_loss's (loss, grad_x)")


def grading_with(mode_name, seconds_left):
    return grade.Grading({}, grade.tests_by_file(), {}, ROOT, grade.Limits(),
                         sandbox.Mode(mode_name, "test"), 1, time.monotonic() + seconds_left)


def test_each_phase_keeps_time_for_the_phases_after_it():
    budget = grade.Limits().budget
    reserve = budget * grade.PHASE_RESERVE
    walls = grade.phase_walls(grading_with("bwrap", 87), ["functions.py", "layers.py"], 2)
    for file_name, wall in walls.items():  # each its own time, within the phase's
        assert wall == grade.file_wall(grade.tests_by_file()[file_name], grade.Limits())
        assert wall <= 87 - 2 * reserve
    capped = grade.phase_walls(grading_with("bwrap", 40), ["layers.py"], 1)["layers.py"]
    assert capped <= 40 - reserve
    shared = grade.phase_walls(grading_with("uid", 87), ["functions.py", "layers.py"], 2)
    assert sum(shared.values()) <= 87 - 2 * reserve  # one job after another
    with pytest.raises(grade.GraderFailure, match="the grader itself used up"):
        grade.phase_walls(grading_with("bwrap", 2 * reserve + 1), ["train.py"], 2)


def test_a_phase_left_without_time_by_earlier_student_code_scores_0():
    """Once student code has run (ending it included), a later phase left with too little
    time is the student's: 0 for its tests, never a failure to grade."""
    grading = grading_with("bwrap", 1)
    grading.ran_phase = True
    assert grade.phase_walls(grading, ["train.py"], 0) is None
    entries = grade.run_phase(grading, ["train.py"], 0)["train.py"]
    assert [e["score"] for e in entries] == [0, 0]
    assert all("used up its time" in e["output"] for e in entries)


ALARM_PROOF_HANG = """
while True:
    try:
        while True:
            pass
    except BaseException:  # the alarm too
        pass
"""


def test_code_that_never_ends_in_every_file_ends_within_the_budget(tmp_path):
    """Each file's import catches the alarm and loops on: each sandbox is stopped by its
    phase's wall clock, the grading ends within its budget (here 12 s) with 0 on every code
    test, as the student's time, not a failure to grade."""
    overrides = {name: reference(name) + ALARM_PROOF_HANG for name in PY_FILES}
    limits = grade.Limits(test_timeout=0.5, budget=12.0)
    start = time.monotonic()
    results = grade.grade(make_submission_zip(tmp_path, overrides=overrides), limits=limits)
    assert time.monotonic() - start < limits.budget
    assert "failed_to_grade" not in results["extra_data"], results["output"]
    assert_lost_exactly(results, set(POINTS))
    assert all("did not finish: the grader stopped" in outputs(results)[test_id]
               for test_id in POINTS)


def test_the_grader_stops_itself_at_its_budget():
    with pytest.raises(grade.GraderFailure, match="longer than its budget of 0.2 s"), \
            grade.time_limit(0.2):
        time.sleep(2)
