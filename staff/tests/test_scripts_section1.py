"""Section 1 scripts run as subprocesses: from the root, from their folder, and as starter code."""

import shutil

import functions
import pytest
from kit import BACKPROP_DIR, NEURALNET_DIR, ROOT, run_script

import backprop
from staff.reference.layout import DRIVER_SCRIPTS
from staff.starter.regions import strip_python

SCRIPTS = [
    (BACKPROP_DIR / "backprop.py", "backprop: PASS", 4),
    (NEURALNET_DIR / "gradcheck_layers.py", "gradcheck_layers: PASS", 10),
    (NEURALNET_DIR / "check_softmax_stability.py", "check_softmax_stability: PASS", 8),
    (NEURALNET_DIR / "gradcheck_classifier.py", "gradcheck_classifier: PASS", 3),
    (NEURALNET_DIR / "check_training_step.py", "check_training_step: PASS", 1),
]
IDS = [script.name for script, _, _ in SCRIPTS]


@pytest.mark.parametrize("script, summary, rows", SCRIPTS, ids=IDS)
@pytest.mark.parametrize("where", ["root", "own folder"])
def test_script_passes(script, summary, rows, where):
    result = run_script(script, cwd=ROOT if where == "root" else script.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary in result.stdout
    assert result.stdout.count("PASS") == rows + 1  # one per row, plus the summary
    assert "FAIL" not in result.stdout and result.stderr == ""


def starter_copy(tmp_path):
    """Copy backprop/ and neuralnet/ to tmp_path with every solution region stubbed out."""
    for folder in (BACKPROP_DIR, NEURALNET_DIR):
        target = tmp_path / folder.name
        shutil.copytree(folder, target, ignore=shutil.ignore_patterns("__pycache__"))
        for path in target.glob("*.py"):
            path.write_text(strip_python(path.read_text(), path.name)[0])
    return tmp_path


@pytest.mark.parametrize("script, summary, rows", SCRIPTS, ids=IDS)
def test_starter_code_reports_not_implemented(tmp_path, script, summary, rows):
    copy = starter_copy(tmp_path) / script.parent.name / script.name
    result = run_script(copy, cwd=copy.parent)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "not implemented" in result.stdout
    assert "PASS" not in result.stdout
    assert ": FAIL" in result.stdout.splitlines()[-1]


@pytest.mark.parametrize("script, summary, rows", SCRIPTS[1:], ids=IDS[1:])
def test_check_script_names_a_file_of_yours_that_does_not_import(tmp_path, script, summary,
                                                                 rows):
    """layers.py with a syntax error: every check script of neuralnet/ says so in two lines,
    with the student's line, as backprop.py does for functions.py; no traceback."""
    folder = tmp_path / "neuralnet"
    shutil.copytree(NEURALNET_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    layers = folder / "layers.py"
    layers.write_text(layers.read_text() + "\ndef broken(:\n")
    line = len(layers.read_text().splitlines())
    result = run_script(folder / script.name, cwd=folder)
    name = script.stem
    assert result.returncode == 1 and result.stderr == "", result.stderr
    assert result.stdout == (f"{name}: layers.py does not import: SyntaxError: invalid syntax "
                             f"(at layers.py:{line}: def broken(:)\n{name}: FAIL (layers.py)\n")


def test_driver_reports_a_wrong_function(monkeypatch, capsys):
    f2 = functions.f2

    def wrong_f2(x):
        y, (grad_x,) = f2(x)
        return y, (1.01 * grad_x,)

    monkeypatch.setattr(backprop.functions, "f2", wrong_f2)
    assert backprop.main([]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "backprop: FAIL (f2)"
    f2_row = next(line for line in lines if line.startswith("f2 "))
    assert f2_row.endswith("FAIL") and " ok " in f2_row


def test_driver_reports_a_crashing_function(monkeypatch, capsys):
    def crashing_f1(*args):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(backprop.functions, "f1", crashing_f1)
    assert backprop.main([]) == 1
    out = capsys.readouterr().out
    # the line that raised, not the driver's call
    assert "ZeroDivisionError: oops (at test_scripts_section1.py:" in " ".join(out.split())
    assert out.splitlines()[-1] == "backprop: FAIL (f1)"


def test_driver_missing_data_file(tmp_path):
    result = run_script(BACKPROP_DIR / "backprop.py", "--data-file", tmp_path / "none.pkl")
    assert result.returncode != 0
    assert "none.pkl not found" in result.stderr and "Traceback" not in result.stderr


def test_every_section1_script_is_a_driver_that_make_homework_and_check_code_run():
    for script, _, _ in SCRIPTS:
        assert str(script.relative_to(ROOT)) in DRIVER_SCRIPTS
