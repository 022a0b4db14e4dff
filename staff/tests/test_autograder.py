"""staff/grading/make_autograder.py: the Gradescope zip's layout, and run_autograder end to end on a
simulated /autograder folder (reference submission -> full marks; broken Python -> a
results.json that says so)."""

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile

import pytest

from staff.grading import grade, make_autograder, sandbox
from staff.tests.corpus import write_submission_dir


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("ag") / "autograder.zip"
    make_autograder.build(out)
    return out


def install(zip_path, root):
    """Unpack the zip like Gradescope does (into root/source), keeping the modes."""
    source = root / "source"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(source)
        for info in archive.infolist():
            os.chmod(source / info.filename, (info.external_attr >> 16) & 0o777)
    return source


def run_autograder(source, root, python=sys.executable):
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=python)
    return subprocess.run(["bash", str(source / "run_autograder")], env=env,
                          capture_output=True, text=True, timeout=600)


def test_zip_layout(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        setup = archive.read("setup.sh").decode()
    for name in ("setup.sh", "run_autograder"):
        assert "/" not in name and name in infos
        assert (infos[name].external_attr >> 16) & stat.S_IXUSR
    assert "requirements.txt" in infos and "-r requirements.txt" in setup
    assert "requirements-grader.txt" in infos and "-r requirements-grader.txt" in setup
    assert "bubblewrap" in setup and "reference_outputs" not in setup  # nothing cached
    for name in make_autograder.GRADER_FILES + ("neuralnet/layers.py", "backprop/functions.py"):
        assert name in infos
    assert not any(name.startswith(("tests/", "bench/", "results/")) for name in infos)


def test_the_grader_imports_only_what_the_zip_holds(autograder_zip, tmp_path):
    """Every module of ours that grade.py imports is in the zip (here our own install of the
    packages would hide a missing one: it must not be where they come from)."""
    source = install(autograder_zip, tmp_path)
    listing = ("import staff.grading.grade, sys; print('\\n'.join(m.__file__ for n, m in "
               "list(sys.modules.items()) if n.split('.')[0] in ('staff', 'handin')))")
    run = subprocess.run([sys.executable, "-c", listing], cwd=source, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    files = run.stdout.split()
    assert files and all(path.startswith(str(source)) for path in files), files


def test_shell_scripts_parse(autograder_zip, tmp_path):
    source = install(autograder_zip, tmp_path)
    for name in ("setup.sh", "run_autograder"):
        check = subprocess.run(["bash", "-n", str(source / name)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr


def test_run_autograder_grades_the_reference(autograder_zip, tmp_path):
    source = install(autograder_zip, tmp_path)
    write_submission_dir(tmp_path / "submission" / "jdoe")
    run = run_autograder(source, tmp_path)
    assert run.returncode == 0, run.stderr
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["score"] == results["max_score"] == grade.max_points()


def test_run_autograder_without_python_still_writes_results(autograder_zip, tmp_path):
    """...and never keeps a results.json that grade.py did not write (a forged old one)."""
    source = install(autograder_zip, tmp_path)
    (tmp_path / "submission").mkdir()
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "results.json").write_text('{"score": 80, "tests": []}')
    run = run_autograder(source, tmp_path, python=str(tmp_path / "no-python"))
    assert run.returncode == 0
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["score"] == 0 and "did not finish" in results["output"]
    assert results["output"].startswith("FAILED TO GRADE")
    assert results["extra_data"]["failed_to_grade"]


def test_run_autograder_keeps_the_graders_own_failure_report(autograder_zip, tmp_path):
    """A reference that fails is the grader's failure: "failed to grade", never a score."""
    source = install(autograder_zip, tmp_path)
    (source / "neuralnet" / "layers.py").write_text("raise ImportError('broken reference')\n")
    write_submission_dir(tmp_path / "submission" / "jdoe")
    run = run_autograder(source, tmp_path)
    assert run.returncode == 0
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["score"] == 0 and results["tests"] == []
    reason = results["extra_data"]["failed_to_grade"]
    assert "broken reference" in reason
    assert results["needs_person"] == [f"failed to grade: {reason}"]
    assert results["output"].startswith("FAILED TO GRADE") and "not your score" in results["output"]


def test_student_code_runs_sandboxed_where_bubblewrap_is_installed():
    """CI installs bubblewrap (.ci/run), so there the red-team suite must run, not skip."""
    if shutil.which("bwrap") is None and os.environ.get("CI") != "true":
        pytest.skip("bubblewrap is not installed here")
    sandbox._MODES.clear()
    mode = sandbox.choose_mode()
    assert mode.name != "none", mode.detail
