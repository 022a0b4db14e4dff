"""neuralnet/gradient_check.py: numeric gradients, relative errors, and the named mistakes,
for arrays and for numbers."""

import math

import gradient_check as gc
import numpy as np
import pytest


def test_numeric_gradient_is_exact_for_quartics_and_restores_x():
    x = np.random.default_rng(0).standard_normal((3, 4))
    before = x.copy()
    grad = gc.numeric_gradient(lambda: np.sum(x ** 4 - 2 * x ** 3), x, h=1e-2)
    np.testing.assert_allclose(grad, 4 * before ** 3 - 6 * before ** 2, rtol=1e-9, atol=1e-9)
    assert np.array_equal(x, before)


def test_numeric_derivative_of_one_argument():
    def f(a, b):
        return a ** 2 * b + math.sin(b)

    assert gc.numeric_derivative(f, (1.5, 0.3), 0, 1e-3) == pytest.approx(2 * 1.5 * 0.3)
    assert gc.numeric_derivative(f, (1.5, 0.3), 1, 1e-3) == pytest.approx(1.5 ** 2 + math.cos(0.3))


def test_rel_error():
    assert gc.rel_error(1.0, 1.0) == 0.0
    assert gc.rel_error(1.0, 3.0) == pytest.approx(0.5)
    assert gc.rel_error(1e-9, 0.0, floor=1e-6) == pytest.approx(1e-3)
    assert gc.rel_error(math.inf, math.inf) == 0.0
    assert gc.rel_error(math.inf, 1.0) == math.inf and gc.rel_error(math.nan, 1.0) == math.inf
    # entries far below the largest are compared on the gradient's scale
    assert gc.rel_error([1.0, 2e-9], [1.0, 1e-9]) < 1e-5
    with pytest.raises(gc.CheckFailed, match="shape"):
        gc.rel_error(np.zeros(3), np.zeros(4))


EXPECTED = np.array([[1.0, -2.0], [0.5, 3.0]])


@pytest.mark.parametrize("got, words", [
    (-EXPECTED, "sign is flipped"),
    (2 * EXPECTED, "factor of 2 too many"),
    (EXPECTED / 2, "factor of 2 missing"),
    (4 * EXPECTED, "N x expected (N = 4"),
    (EXPECTED / 4, "expected / N (N = 4"),
    (np.zeros((2, 2)), "all zeros"),
    (EXPECTED + np.nan, "nan"),
    (EXPECTED * 1.1, ""),
])
def test_diagnose_arrays(got, words):
    hint = gc.diagnose(EXPECTED, got, n=4)
    assert (words in hint) if words else hint == ""


def test_diagnose_numbers_with_hints_and_other_outputs():
    hints = {"zeros": "0: never reached", "swapped": "equals the expected {name}"}
    assert gc.diagnose(0.7, -0.7) == "the sign is flipped"
    assert gc.diagnose(0.7, 0.0, hints=hints) == "0: never reached"
    assert gc.diagnose(0.7, 0.2, hints=hints, others=[("grad_b", 0.2)]) \
        == "equals the expected grad_b"
    assert gc.diagnose(0.0, 5.0) == ""  # nothing turns 0 into 5


def test_diagnose_a_transpose():
    w = np.arange(1.0, 7.0).reshape(2, 3)
    assert gc.diagnose(w, w.T) == "transposed"
    assert gc.diagnose(w, w.T + 1) == ""


def test_compare_names_the_entry_and_a_transpose():
    assert gc.compare("w", EXPECTED, EXPECTED.copy()) is None
    assert gc.compare("w", EXPECTED, -EXPECTED) == \
        "w at [0, 0]: expected 1, got -1 (the sign is flipped)"
    assert gc.compare("w", EXPECTED[:, :1], EXPECTED[:, :1].T) == \
        "w: shape (1, 2), expected (2, 1): transposed"


def test_gradient_problem_blames_a_wrong_gradient():
    x = np.random.default_rng(0).standard_normal(5)
    error, problem = gc.gradient_problem("g", 2 * x, lambda: np.sum(x ** 2), x)
    assert error < 1e-9 and problem is None
    error, problem = gc.gradient_problem("g", 3 * x, lambda: np.sum(x ** 2), x, blame="why")
    assert error > 0.1 and problem.startswith("g: differs from the numeric gradient")
    assert problem.endswith("why")


def test_constant_factor_is_the_one_factor_that_fits_or_none():
    expected = np.random.default_rng(0).normal(size=(4, 3))
    assert gc.constant_factor(expected, -7 * expected) == pytest.approx(-7)
    assert gc.constant_factor(2.0, 1.0) == pytest.approx(0.5)
    noisy = expected * (1 + 0.1 * np.random.default_rng(1).normal(size=(4, 3)))
    assert gc.constant_factor(expected, noisy) is None
    assert gc.constant_factor(np.zeros(3), np.ones(3)) is None
    assert gc.constant_factor(expected, np.full((4, 3), np.nan)) is None
    assert gc.constant_factor(expected, expected.T) is None


def test_the_grader_names_a_factor_as_the_student_checks_do():
    from staff.grading import grading_tests

    want = np.random.default_rng(0).normal(size=(5, 3)) + 2.0
    hint = gc.diagnose(want, 5 * want, n=5)
    problem = grading_tests.compare_arrays({"grad": 5 * want}, {"grad": want})
    assert "N x expected (N = 5" in hint and "a missing 1/N" in problem
