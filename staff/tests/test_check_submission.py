"""handin/check.py (make check): layout, contents and archive-safety checks, exit codes, --json."""

import json
import subprocess
import sys
import zipfile

import pytest

from handin import check as checker
from handin import notebooks as grade_notebooks
from staff.tests.corpus import (
    TINY_PNG,
    add_encrypted_flag_entry,
    add_entry,
    image_output,
    make_submission_zip,
    notebook,
    part1_text,
    part2_text,
    stream,
    symlink_attr,
    unrun_notebook_text,
    write_submission_dir,
    zip_folder,
)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "handin.check", *map(str, args)],
                          capture_output=True, text=True, timeout=60)


def test_good_submission_passes(tmp_path):
    report = checker.check_submission(make_submission_zip(tmp_path, tiny=True))
    assert report.errors == []
    assert report.exit_code == checker.EXIT_OK
    assert report.folder == "jdoe"
    assert sorted(report.files) == sorted(checker.REQUIRED_FILES)


def test_cli_ok_and_json(tmp_path):
    zip_path = make_submission_zip(tmp_path, tiny=True)
    result = run_cli(zip_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout
    result = run_cli(zip_path, "--json")
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["exit_code"] == 0 and data["folder"] == "jdoe"


def test_missing_file_names_it_and_similar_names(tmp_path):
    folder = write_submission_dir(tmp_path / "src" / "jdoe", omit=("layers.py",), tiny=True)
    (folder / "neuralnet").mkdir()
    (folder / "neuralnet" / "layers.py").write_text("x = 1\n")
    (folder / "Layers (1).py").write_text("x = 1\n")
    report = checker.check_submission(zip_folder(folder, tmp_path / "jdoe.zip"))
    assert report.exit_code == checker.EXIT_INVALID
    [error] = report.errors
    assert "missing layers.py" in error
    assert "jdoe/neuralnet/layers.py" in error and "jdoe/Layers (1).py" in error


def test_extra_files_are_warnings(tmp_path):
    folder = write_submission_dir(tmp_path / "src" / "jdoe", tiny=True)
    (folder / "notes.txt").write_text("hi")
    report = checker.check_submission(zip_folder(folder, tmp_path / "jdoe.zip"))
    assert report.exit_code == checker.EXIT_OK
    assert any("notes.txt" in w for w in report.warnings)


def test_macos_metadata_is_ignored(tmp_path):
    zip_path = make_submission_zip(tmp_path, tiny=True)
    add_entry(zip_path, "__MACOSX/jdoe/._layers.py")
    add_entry(zip_path, "jdoe/.DS_Store")
    add_entry(zip_path, ".DS_Store")
    report = checker.check_submission(zip_path)
    assert report.exit_code == checker.EXIT_OK, report.errors
    assert report.warnings == []


def test_two_top_level_folders(tmp_path):
    zip_path = make_submission_zip(tmp_path, tiny=True)
    add_entry(zip_path, "other/readme.txt")
    report = checker.check_submission(zip_path)
    assert report.exit_code == checker.EXIT_INVALID
    assert "2 top-level folders" in report.errors[0]


def test_files_without_folder(tmp_path):
    folder = write_submission_dir(tmp_path / "src" / "jdoe", tiny=True)
    report = checker.check_submission(zip_folder(folder, tmp_path / "flat.zip", arcroot=""))
    assert report.exit_code == checker.EXIT_INVALID
    assert "top level" in report.errors[0]


def test_python_syntax_error(tmp_path):
    zip_path = make_submission_zip(tmp_path, tiny=True,
                                   overrides={"train.py": "def f(:\n    pass\n"})
    report = checker.check_submission(zip_path)
    assert report.exit_code == checker.EXIT_INVALID
    assert any("train.py does not parse" in e and "line 1" in e for e in report.errors)


def test_notebook_without_outputs_is_a_warning_so_the_code_can_be_checked_early(tmp_path):
    zip_path = make_submission_zip(tmp_path, tiny=True,
                                   overrides={"part1.ipynb": unrun_notebook_text()})
    report = checker.check_submission(zip_path)
    assert report.exit_code == checker.EXIT_OK and report.errors == []
    assert any("part1.ipynb has no outputs: its 25 points will be 0" in w
               for w in report.warnings)


def test_invalid_notebook(tmp_path):
    zip_path = make_submission_zip(tmp_path, tiny=True, overrides={"part2.ipynb": "{not json"})
    report = checker.check_submission(zip_path)
    assert any("part2.ipynb is not a readable notebook" in e for e in report.errors)
    zip_path = make_submission_zip(tmp_path / "b", tiny=True,
                                   overrides={"part2.ipynb": json.dumps({"cells": 3})})
    report = checker.check_submission(zip_path)
    assert report.exit_code == checker.EXIT_INVALID


@pytest.mark.parametrize("name", ["../evil.py", "jdoe/../../evil.py", "/etc/evil.py",
                                  "C:/evil.py", "jdoe\\..\\..\\evil.py"])
def test_zip_slip_rejected(tmp_path, name):
    zip_path = make_submission_zip(tmp_path, tiny=True)
    add_entry(zip_path, name)
    report = checker.check_submission(zip_path)
    assert report.exit_code == checker.EXIT_REJECTED
    assert "zip-slip" in report.errors[0]
    assert not (tmp_path.parent / "evil.py").exists()


def test_symlink_rejected(tmp_path):
    zip_path = make_submission_zip(tmp_path, tiny=True)
    add_entry(zip_path, "jdoe/link", b"/etc/passwd", attr=symlink_attr())
    report = checker.check_submission(zip_path)
    assert report.exit_code == checker.EXIT_REJECTED
    assert "symbolic link" in report.errors[0]


def test_encrypted_rejected(tmp_path):
    zip_path = make_submission_zip(tmp_path, tiny=True)
    add_encrypted_flag_entry(zip_path, "jdoe/secret.py")
    report = checker.check_submission(zip_path)
    assert report.exit_code == checker.EXIT_REJECTED
    assert "encrypted" in report.errors[0]


def test_too_many_entries_rejected(tmp_path):
    zip_path = make_submission_zip(tmp_path, tiny=True)
    with zipfile.ZipFile(zip_path, "a") as archive:
        for i in range(checker.MAX_ENTRIES):
            archive.writestr(f"jdoe/junk/{i}.txt", "")
    report = checker.check_submission(zip_path)
    assert report.exit_code == checker.EXIT_REJECTED
    assert "entries" in report.errors[0]


def test_zip_bomb_rejected(tmp_path):
    zip_path = make_submission_zip(tmp_path, tiny=True)
    with zipfile.ZipFile(zip_path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("jdoe/bomb.txt", b"\0" * (20 * 2**20))  # ~1000:1
    report = checker.check_submission(zip_path)
    assert report.exit_code == checker.EXIT_REJECTED
    assert "zip bomb" in report.errors[0]


def test_total_size_limit(tmp_path):
    zip_path = make_submission_zip(tmp_path, tiny=True)
    report = checker.check_submission(zip_path, limits={"max_total_bytes": 100})
    assert report.exit_code == checker.EXIT_REJECTED
    assert "uncompressed" in report.errors[0]


def test_not_a_zip_and_missing_file(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"this is not a zip")
    result = run_cli(bad)
    assert result.returncode == checker.EXIT_REJECTED
    assert "not a readable zip" in result.stdout
    assert "Traceback" not in result.stderr
    result = run_cli(tmp_path / "nope.zip")
    assert result.returncode == checker.EXIT_USAGE
    assert "not found" in result.stderr


def test_extraction_stays_in_destination(tmp_path):
    zip_path = make_submission_zip(tmp_path, tiny=True)
    dest = tmp_path / "dest"
    dest.mkdir()
    report = checker.extract_submission(zip_path, dest)
    assert report.exit_code == checker.EXIT_OK
    assert sorted(p.name for p in (dest / "jdoe").iterdir()) == sorted(checker.REQUIRED_FILES)


FORGED = {
    "part1.ipynb": notebook([[stream("test accuracy: 0.99\n")]]),
    "part2.ipynb": notebook([[image_output(TINY_PNG), stream("cat 0.9\ntabby cat 0.9\n")]] * 2),
}


def test_forged_notebooks_are_not_ok(tmp_path):
    zip_path = make_submission_zip(tmp_path, tiny=True, overrides=FORGED)
    report = checker.check_submission(zip_path)
    assert report.exit_code == checker.EXIT_INVALID
    assert [e.split(":")[0] for e in report.errors] == ["jdoe/part1.ipynb", "jdoe/part2.ipynb"]
    assert all("code cells are missing" in e and "matched by their id" in e
               for e in report.errors)
    result = run_cli(zip_path)
    assert result.returncode == checker.EXIT_INVALID
    assert "NOT OK" in result.stdout and "\nOK" not in result.stdout


def test_notebook_run_out_of_order_is_an_error(tmp_path):
    spec = grade_notebooks.PART1
    text = part1_text().replace(f'"execution_count": 3,\n   "id": "{spec.cells[2]}"',
                                f'"execution_count": 99,\n   "id": "{spec.cells[2]}"')
    assert text != part1_text()
    report = checker.check_submission(make_submission_zip(tmp_path, tiny=True,
                                                          overrides={"part1.ipynb": text}))
    assert report.exit_code == checker.EXIT_INVALID
    assert any("not run in order" in e and "restart the kernel" in e for e in report.errors)


def test_notebook_losing_points_gives_the_graders_reason_as_a_warning(tmp_path):
    overrides = {"part1.ipynb": part1_text(0.5), "part2.ipynb": part2_text(images=1)}
    report = checker.check_submission(make_submission_zip(tmp_path, tiny=True,
                                                          overrides=overrides))
    assert report.exit_code == checker.EXIT_OK
    assert any("reported test accuracy" in w and "50.00%" in w for w in report.warnings)
    assert any("two images shown" in w and "shows no image" in w for w in report.warnings)


def test_notebook_that_is_not_utf8(tmp_path):
    folder = write_submission_dir(tmp_path / "src" / "jdoe", tiny=True)
    (folder / "part2.ipynb").write_bytes(b'{"cells": [], "x": "\xff"}')
    report = checker.check_submission(zip_folder(folder, tmp_path / "jdoe.zip"))
    assert report.exit_code == checker.EXIT_INVALID
    assert any("part2.ipynb is not UTF-8" in e and "0xff" in e for e in report.errors)


@pytest.mark.parametrize("source, code, words", [
    ("(" * 5000, checker.EXIT_INVALID, "too many nested parentheses"),
    ("x = " + "[" * 1500 + "]" * 1500, checker.EXIT_INVALID, "too many nested parentheses"),
    ("x = " + "-" * 100_000 + "1", checker.EXIT_REJECTED, "nested too deeply"),
    ("x = 1" + " + 1" * 100_000, checker.EXIT_REJECTED, "nested too deeply"),
    ("x = a" + ".b" * 100_000, checker.EXIT_REJECTED, "nested too deeply"),
    ("".join(f"x{i} = {i * 7919 % 100_003}\n" for i in range(100_000)), checker.EXIT_REJECTED,
     "bytes long"),
    ("x = '\udcff'", checker.EXIT_INVALID, "does not parse"),
])
def test_hostile_sources_get_a_reason_never_a_traceback(tmp_path, source, code, words):
    folder = write_submission_dir(tmp_path / "src" / "jdoe", tiny=True)
    (folder / "layers.py").write_bytes(source.encode("utf-8", errors="surrogateescape"))
    zip_path = zip_folder(folder, tmp_path / "jdoe.zip")
    report = checker.check_submission(zip_path)
    assert report.exit_code == code
    assert any("jdoe/layers.py" in e and words in e for e in report.errors), report.errors


def test_hostile_source_on_the_command_line(tmp_path):
    zip_path = make_submission_zip(tmp_path, tiny=True,
                                   overrides={"train.py": "x = 1" + " + 1" * 100_000})
    result = run_cli(zip_path)
    assert result.returncode == checker.EXIT_REJECTED
    assert "nested too deeply" in result.stdout and "REJECTED" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("text, code, words", [
    ("[" * 100_000 + "]" * 100_000, checker.EXIT_REJECTED, "nested more than 64 levels"),
    ('{"cells": [], "metadata": {"a": ' + "[" * 900 + "]" * 900 + "}}",
     checker.EXIT_REJECTED, "nested more than 64 levels"),
])
def test_deeply_nested_notebook_is_rejected(tmp_path, text, code, words):
    report = checker.check_submission(make_submission_zip(tmp_path, tiny=True,
                                                          overrides={"part1.ipynb": text}))
    assert report.exit_code == code
    assert any("jdoe/part1.ipynb" in e and words in e for e in report.errors)


@pytest.mark.parametrize("name, words", [
    ("jdoe/" + "a/" * 1500 + "x.py", "a path of 3009 characters"),
    ("jdoe/" + "d/" * 20 + "x.py", "22 folders deep"),
    ("jdoe/" + "n" * 600 + ".py", "a path of 608 characters"),
])
def test_deep_or_long_paths_are_rejected(tmp_path, name, words):
    zip_path = make_submission_zip(tmp_path, tiny=True)
    add_entry(zip_path, name)
    report = checker.check_submission(zip_path)
    assert report.exit_code == checker.EXIT_REJECTED
    assert words in report.errors[0] and len(report.errors[0]) < 400
    result = run_cli(zip_path)
    assert result.returncode == checker.EXIT_REJECTED and "Traceback" not in result.stderr


def test_a_path_fifteen_folders_deep_is_fine(tmp_path):
    zip_path = make_submission_zip(tmp_path, tiny=True)
    add_entry(zip_path, "jdoe/" + "d/" * 14 + "notes.txt")
    assert checker.check_submission(zip_path).exit_code == checker.EXIT_OK


@pytest.mark.parametrize("entry, data, words", [
    ("jdoe/" + "a/" * 1500 + "x.py", b"x = 1\n", "a path of 3009 characters"),
    ("jdoe/layers.py", ("x = 1" + " + 1" * 100_000).encode(), "nested too deeply"),
    ("jdoe/part1.ipynb", b"[" * 100_000, "nested more than 64 levels"),
])
def test_grader_scores_hostile_zips_zero_with_the_reason(tmp_path, entry, data, words):
    from staff.grading import grade

    folder = write_submission_dir(tmp_path / "src" / "jdoe", tiny=True)
    (folder / "layers.py").unlink()
    (folder / "part1.ipynb").unlink()
    zip_path = zip_folder(folder, tmp_path / "jdoe.zip")
    add_entry(zip_path, entry, data)
    results = grade.grade(zip_path)
    assert results["score"] == 0 and words in results["output"]
    assert all(words in test["output"] for test in results["tests"])
