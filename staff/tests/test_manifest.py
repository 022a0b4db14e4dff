"""handin/manifest.py is the one list of graded tests: docs/POINTS.md is its output, each code
test has one run function in staff/grading/grading_tests.py (also in the sandbox's flat harness
folder), the notebook graders score exactly its notebook tests, and the points add up to the
homework's. That the grader gives the reference TOTAL_POINTS under the manifest's names is
test_grade.py's test_reference_gets_full_marks_under_the_manifests_names."""

import ast
import subprocess
import sys
from pathlib import Path

from handin import manifest, notebooks
from staff.grading import grade, grading_tests
from staff.tests.corpus import ROOT


def test_points_md_is_the_generators_output():
    command = [sys.executable, "-m", "handin.manifest"]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout == manifest.document()
    assert (ROOT / "docs" / "POINTS.md").read_text() == run.stdout, \
        "docs/POINTS.md is out of date: python -m handin.manifest > docs/POINTS.md"


ORIGINAL_IMPORTS = {  # the homework's modules the original starter's version imports
    "two_layer_net.py": {"classifier", "layers"},
    "train.py": {"data", "linear_classifier", "two_layer_net", "optim", "layers", "utils",
                 "classifier"},
}


def test_each_graded_file_runs_with_the_modules_its_original_imports():
    """The records the grader stages each file's sandbox from: every module the original
    starter's version imports is listed, and each one is a module of the file's folder."""
    assert manifest.GRADED_FILES == {f.name: f.path for f in manifest.FILES}
    for record in manifest.FILES:
        assert manifest.graded_file(record.name) is record
        assert set(record.imports) >= ORIGINAL_IMPORTS.get(record.name, set())
        for module in record.imports:
            assert (ROOT / record.folder / f"{module}.py").is_file(), (record.name, module)
        assert grade.helper_names(record.name) == tuple(f"{m}.py" for m in record.imports)


def test_table_has_one_row_per_test_and_the_total():
    rows = manifest.points_table().splitlines()[2:]
    assert len(rows) == len(manifest.TESTS) + 1
    assert [float(row.rsplit("|", 2)[1]) for row in rows[:-1]] == \
        [t.points for t in manifest.TESTS]
    assert rows[-1] == "| **Total** | | **80** |"


def test_ids_and_names_are_unique_and_files_graded():
    assert len({t.id for t in manifest.TESTS}) == len(manifest.TESTS)
    assert len({t.name for t in manifest.TESTS}) == len(manifest.TESTS)
    assert {t.file for t in manifest.CODE_TESTS} == set(manifest.CODE_FILES)
    assert {t.file for t in manifest.NOTEBOOK_TESTS} == set(manifest.NOTEBOOKS)
    assert all(manifest.test(t.id) is t for t in manifest.TESTS)


def runs_keys():
    """The keys of the RUNS dict literal in grading_tests.py, as written (repeats kept)."""
    tree = ast.parse(Path(grading_tests.__file__).read_text())
    literal = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                   and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["RUNS"])
    return [key.value for key in literal.keys]


def test_each_code_test_has_exactly_one_run_function():
    keys = runs_keys()
    assert sorted(keys) == sorted(t.id for t in manifest.CODE_TESTS)
    tests = grading_tests.code_tests()
    assert [(t.id, t.name, t.file, t.points) for t in tests] == \
        [(t.id, t.title, t.file, t.points) for t in manifest.CODE_TESTS]
    assert all(callable(t.run) and (t.compare is None or callable(t.compare)) for t in tests)


def test_notebook_graders_score_exactly_the_manifests_notebook_tests():
    entries = notebooks.part1_entries(None, "missing") + notebooks.part2_entries(None, "missing")
    assert [(e["name"], e["max_score"]) for e in entries] == \
        [(t.name, t.points) for t in manifest.NOTEBOOK_TESTS]


def test_points_add_up_to_the_homeworks():
    points = {t.id: t.points for t in manifest.TESTS}
    assert sum(points[t.id] for t in manifest.CODE_TESTS) == 45
    assert manifest.TOTAL_POINTS == grade.max_points() == sum(points.values()) == 80
    pairs = (("f3_y1", "f3_y2"), ("fc_forward", "fc_backward"),
             ("relu_forward", "relu_backward"), ("softmax_loss", "softmax_large"),
             ("training_step_loss", "training_step_grads"))
    assert [points[a] + points[b] for a, b in pairs] == [10, 5, 5, 5, 5]
    assert points["l2_regularization"] == 5
    assert points["net_init"] + points["net_forward"] + points["net_backward"] == 10
    assert points["part1_run"] + points["part1_accuracy"] == 25


def test_manifest_needs_only_the_standard_library():
    """The sandbox imports it (a copy in the worker's flat folder) beside numpy only."""
    tree = ast.parse(Path(manifest.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= set(sys.stdlib_module_names), imported


def test_grading_tests_runs_from_the_flat_harness_folder(tmp_path):
    harness = grade.stage_harness(tmp_path)
    code = ("import grading_tests, sys; assert 'handin' not in sys.modules; "
            "print(','.join(t.id for t in grading_tests.code_tests()))")
    run = subprocess.run([sys.executable, "-B", "-s", "-c", code], cwd=harness,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [",".join(t.id for t in manifest.CODE_TESTS)]
