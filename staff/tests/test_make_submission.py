"""handin/pack.py (`make submission`): builds UNIQNAME.zip, refuses missing files, unrun notebooks,
overwrites and bad uniqnames."""

import subprocess
import sys
import zipfile

import pytest

from handin import check as checker
from handin import pack as make_submission
from handin.manifest import GRADED_FILES
from staff.tests.corpus import part1_text, part2_text, tiny_sources, unrun_notebook_text


def fake_repo(root, part1=None):
    """A folder laid out like the repository (or the starter kit) with the six files."""
    for name, relative in GRADED_FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".py"):
            path.write_text(tiny_sources()[name])
    (root / "part1.ipynb").write_text(part1 if part1 is not None else part1_text())
    (root / "part2.ipynb").write_text(part2_text())
    return root


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "handin.pack", *map(str, args)],
                          capture_output=True, text=True, timeout=60, cwd=cwd)


def test_builds_a_zip_that_passes_the_check(tmp_path):
    root = fake_repo(tmp_path / "repo")
    zip_path = make_submission.build_submission("jdoe", root, tmp_path / "out")
    assert zip_path == tmp_path / "out" / "jdoe.zip"
    with zipfile.ZipFile(zip_path) as archive:
        assert sorted(archive.namelist()) == sorted(f"jdoe/{n}" for n in checker.REQUIRED_FILES)
        assert archive.read("jdoe/layers.py").decode() == tiny_sources()["layers.py"]
    assert checker.check_submission(zip_path).exit_code == checker.EXIT_OK


def test_refuses_to_overwrite_without_force(tmp_path):
    root = fake_repo(tmp_path / "repo")
    zip_path = make_submission.build_submission("jdoe", root, tmp_path)
    zip_path.write_bytes(b"old")
    with pytest.raises(make_submission.Refused, match="already exists"):
        make_submission.build_submission("jdoe", root, tmp_path)
    assert zip_path.read_bytes() == b"old"
    make_submission.build_submission("jdoe", root, tmp_path, force=True)
    assert zipfile.is_zipfile(zip_path)


def test_refuses_missing_file(tmp_path):
    root = fake_repo(tmp_path / "repo")
    (root / "neuralnet" / "train.py").unlink()
    with pytest.raises(make_submission.Refused, match="neuralnet/train.py not found"):
        make_submission.build_submission("jdoe", root, tmp_path)
    assert not (tmp_path / "jdoe.zip").exists()


def test_zips_unrun_notebooks_with_a_loud_warning(tmp_path):
    """Before the notebooks are run the code can be zipped and checked; the notebook's
    points will be 0, and the output says so last."""
    root = fake_repo(tmp_path / "repo", part1=unrun_notebook_text())
    run = run_cli("jdoe", "--root", root, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert checker.check_submission(tmp_path / "jdoe.zip").exit_code == checker.EXIT_OK
    assert "part1.ipynb has no outputs: its 25 points will be 0" in run.stderr
    assert run.stderr.rstrip().endswith("!" * 78) and "make check ZIP=jdoe.zip" in run.stderr
    assert "upload this zip" not in run.stdout


def test_functions_still_stubbed_are_named_when_zipping_and_checking(tmp_path):
    """A required function whose body raises NotImplementedError (the starter's stub) is
    named by make submission and make check; a raise in a branch is the student's own."""
    root = fake_repo(tmp_path / "repo")
    (root / "neuralnet/layers.py").write_text(
        "def fc_forward(x, w, b):\n    raise NotImplementedError('fc_forward: not "
        "implemented yet')\n\n\ndef relu_forward(x):\n    if x is None:\n        raise "
        "NotImplementedError\n    return x, x\n")
    (root / "backprop/functions.py").write_text(
        "def f1(x1, w1, x2, w2, b, y):\n    raise NotImplementedError\n")  # optional
    run = run_cli("jdoe", "--root", root, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    warning = ("layers.py: not written yet (still raising NotImplementedError as in the "
               "starter): fc_forward; their tests score 0 until you write them")
    assert f"WARNING: {warning}." in run.stderr and "functions.py" not in run.stderr
    assert "upload this zip" not in run.stdout
    report = checker.check_submission(tmp_path / "jdoe.zip")
    assert report.exit_code == checker.EXIT_OK and report.warnings == [f"jdoe/{warning}"]


def test_cli_messages_and_exit_codes(tmp_path):
    root = fake_repo(tmp_path / "repo")
    ok = run_cli("jdoe", "--root", root, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "jdoe.zip").is_file()
    again = run_cli("jdoe", "--root", root, cwd=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr
    bad = run_cli("J Doe", "--root", root, cwd=tmp_path)
    assert bad.returncode == 2 and "not valid" in bad.stderr
    empty = run_cli("", "--root", root, cwd=tmp_path)
    assert empty.returncode == 2


def test_refuses_notebook_that_is_not_utf8(tmp_path):
    root = fake_repo(tmp_path / "repo")
    (root / "part2.ipynb").write_bytes(b'{"cells": "\xff"}')
    with pytest.raises(make_submission.Refused, match="part2.ipynb is not UTF-8"):
        make_submission.build_submission("jdoe", root, tmp_path)
