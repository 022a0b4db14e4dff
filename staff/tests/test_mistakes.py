"""staff/corpus/mistakes.py: the corpus of typical mistakes, correct variants and whole
original-style solutions, and the full run.

The fast tests check the corpus itself (every edit applies exactly once inside a solution
region, the coverage the course asks for) and the helpers. The slow test runs every case
through the drivers, the shipped tests and the grader: each mistake must be caught by all
three; each variant, each whole solution written for the original starter and the unedited
reference accepted by all three (every driver, every shipped test, every code point).
"""

import pytest
from kit import ROOT

from staff.corpus import mistakes

REQUIRED_FUNCTIONS = {
    "f1", "f2", "f3", "f4", "fc_forward", "fc_backward", "relu_forward", "relu_backward",
    "softmax_loss", "l2_regularization", "TwoLayerNet.__init__", "TwoLayerNet.parameters",
    "TwoLayerNet.forward", "TwoLayerNet.backward", "training_step",
}
MISTAKE_NAMES = [c.name for c in mistakes.MISTAKES]
VARIANT_NAMES = [c.name for c in mistakes.VARIANTS]
ALL_NAMES = [c.name for c in mistakes.REFERENCE + mistakes.CASES + mistakes.SOLUTIONS]


def case(name):
    return next(c for c in mistakes.REFERENCE + mistakes.CASES + mistakes.SOLUTIONS
                if c.name == name)


def outside_regions(text):
    """`text` with the inside of every solution region cut out."""
    kept, index = [], 0
    for start, end in mistakes.solution_spans(text):
        kept.append(text[index:start])
        index = end
    return "".join(kept) + text[index:]


def test_corpus_size_and_coverage():
    assert len(mistakes.MISTAKES) >= 25
    assert len(mistakes.VARIANTS) >= 8
    assert len(set(ALL_NAMES)) == len(ALL_NAMES), "case names must be unique"
    assert REQUIRED_FUNCTIONS <= {c.function for c in mistakes.MISTAKES}
    assert {c.file for c in mistakes.REFERENCE} == set(mistakes.TESTS)


def test_whole_original_style_solutions():
    """At least 6, each the four graded files, in the styles the issue names: weights as
    attributes with parameters() building the dict under W1, fc1_W, w1, weight1, ...; f3
    with math.exp; the original train.py's imports; no input validation."""
    assert len(mistakes.SOLUTIONS) >= 6
    texts = {}
    for solution in mistakes.SOLUTIONS:
        folder = ROOT / mistakes.ORIGINAL_SOLUTIONS / solution.name
        assert sorted(p.name for p in folder.glob("*.py")) == sorted(mistakes.TESTS_BY_NAME)
        texts[solution.name] = {p.name: p.read_text() for p in folder.glob("*.py")}
    nets = " ".join(t["two_layer_net.py"] for t in texts.values())
    for key in ("W1", "fc1_W", "w1", "weight1"):
        assert f"'{key}'" in nets, key
    assert "self.fc1_W = " in nets and "self.params = {" in nets
    for files in texts.values():
        assert "from linear_classifier import LinearClassifier" in files["train.py"]
        assert "import matplotlib.pyplot as plt" in files["train.py"]
        assert "ValueError" not in files["layers.py"] + files["two_layer_net.py"]
    assert sum("math.exp(s1)" in t["functions.py"] for t in texts.values()) >= 5


@pytest.mark.parametrize("name", MISTAKE_NAMES)
def test_mistake_is_a_small_edit_inside_a_region(name):
    c = case(name)
    assert all(isinstance(e, (mistakes.Replace, mistakes.Region)) for e in c.edits)
    assert all(e.inside for e in c.edits if isinstance(e, mistakes.Replace))
    reference = (ROOT / c.file).read_text()
    edited = mistakes.edited_source(c)
    assert edited != reference
    assert outside_regions(edited) == outside_regions(reference)
    assert c.driver and c.driver_name and c.tests
    assert all(path.startswith("tests/test_") for path in c.tests)


def test_mistakes_planted_in_whole_solutions_are_small_edits_of_them():
    """Each changes one file of a solution of SOLUTIONS, whose train.py then runs with our
    net: in the full run it must cost points only at its own test (not training_step's)."""
    solutions = {s.name for s in mistakes.SOLUTIONS}
    assert len(mistakes.SOLUTION_MISTAKES) >= 3
    for c in mistakes.SOLUTION_MISTAKES:
        assert c.solution in solutions and c.grader and c.driver_name and not c.correct
        unedited = mistakes.unedited_path(c).read_text()
        edited = mistakes.edited_source(c)
        assert edited != unedited and len(edited.splitlines()) >= len(unedited.splitlines()) - 2


@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_variant_applies(name):
    c = case(name)
    assert mistakes.edited_source(c) != (ROOT / c.file).read_text()


SAMPLE = "def f(x):\n    y = 1\n    # BEGIN SOLUTION\n    y = x + 1\n    # END SOLUTION\n" \
         "    return y\n"


@pytest.mark.parametrize("edit, fragment", [
    (mistakes.Replace("return y", "return x"), "not inside a solution region"),
    (mistakes.Replace("y = ", "y == "), "occurs 2 times"),
    (mistakes.Replace("z = 3", "z = 4"), "occurs 0 times"),
    (mistakes.Region("g", "y = 0"), "0 solution regions in g"),
])
def test_edits_that_do_not_fit_are_refused(edit, fragment):
    with pytest.raises(mistakes.CorpusError, match=fragment):
        mistakes.apply_edits(SAMPLE, [edit])


def test_region_edit_replaces_the_body_at_its_indentation():
    edited = mistakes.apply_edits(SAMPLE, [mistakes.Region("f", "\n    z = x\n    y = z * 2\n")])
    assert "    z = x\n    y = z * 2\n    # END SOLUTION" in edited
    assert "x + 1" not in edited


def test_definition_edit_replaces_a_top_level_function():
    edited = mistakes.apply_edits(SAMPLE + "\n\ndef g():\n    return 1\n",
                                  [mistakes.Definition("f", "def f(a, b):\n    return a * b\n")])
    assert edited.startswith("def f(a, b):\n    return a * b\n\n\ndef g():")


@pytest.mark.parametrize("line, script, name, expected", [
    ("gradcheck_layers: FAIL (fc_forward, fc_backward)", "neuralnet/gradcheck_layers.py",
     "fc_backward", True),
    ("gradcheck_layers: FAIL (fc_forward)", "neuralnet/gradcheck_layers.py", "fc", False),
    ("gradcheck_classifier: FAIL (TwoLayerNet.W1)", "neuralnet/gradcheck_classifier.py",
     "TwoLayerNet", True),
    ("gradcheck_layers: FAIL (fc_forward)", "backprop/backprop.py", "fc_forward", False),
    ("gradcheck_layers: PASS (all 9 gradients)", "neuralnet/gradcheck_layers.py",
     "fc_forward", False),
    ("backprop: FAIL (f3)", "backprop/backprop.py", "f3", True),
])
def test_driver_fail_line_must_name_the_function(line, script, name, expected):
    assert mistakes.names_function(line, script, name) is expected


def test_unknown_case_name_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        mistakes.main(["--only", "no_such_case"])
    assert exit_info.value.code == 2
    assert "no_such_case" in capsys.readouterr().err


@pytest.fixture(scope="module")
def outcomes(request):
    """Runs the cases this session selected (all of them by default) once, 2 in parallel."""
    wanted = [item.callspec.params["name"] for item in request.session.items
              if getattr(item, "originalname", None) == "test_case_is_handled_by_every_tool"]
    results = mistakes.run_corpus([case(name) for name in wanted], jobs=2)
    return {o.case.name: o for o in results}


@pytest.mark.slow
@pytest.mark.timeout(900)  # the first one runs the whole corpus (about 110 s of CPU)
@pytest.mark.parametrize("name", ALL_NAMES)
def test_case_is_handled_by_every_tool(name, outcomes):
    """Mistake: the driver names it, a shipped test fails, the grader takes points at its
    test. Variant or reference: every driver and shipped test passes, every code point."""
    outcome = outcomes[name]
    if not outcome.ok:
        pytest.fail("\n".join(mistakes.problems([outcome])), pytrace=False)


def test_an_edit_that_no_longer_applies_is_a_failed_row(tmp_path):
    (tmp_path / "neuralnet").mkdir()
    (tmp_path / "neuralnet" / "layers.py").write_text(SAMPLE)
    stale = mistakes.mistake("stale", "neuralnet/layers.py", [mistakes.Replace("gone", "x")],
                             "f", mistakes.LAYERS_DRIVER)
    outcome = mistakes.run_case(stale, tmp_path, tmp_path, tmp_path)
    assert not outcome.ok
    assert mistakes.problems([outcome]) == [
        "not caught: stale [edit] stale: neuralnet/layers.py: 'gone' occurs 0 times "
        "(must be exactly once)"]
