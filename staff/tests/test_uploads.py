"""staff/course/uploads.py: the graded files are found wherever they are in an upload (nested
folders, a whole-project zip, a zip inside the zip, several zips, loose files), the most
complete candidate is chosen and the choice flagged, and unsafe or unreadable uploads are
refused with the reason. No grading here: only what would be handed to the grader."""

import io
import json
import os
import stat
import time
import zipfile
from pathlib import Path

import pytest

from handin import check as checker
from handin import pack as make_submission
from handin.manifest import GRADED_FILES
from staff.course import uploads
from staff.course.canvas_names import Upload
from staff.tests.test_make_submission import fake_repo

GRADED = checker.REQUIRED_FILES
KIT_OTHERS = ("backprop/backprop.py", "neuralnet/classifier.py", "neuralnet/data.py",
              "tests/test_layers.py", "python_backup/part1.py", "README.md",
              ".ipynb_checkpoints/part1-checkpoint.ipynb")
OLD = (2026, 11, 1, 10, 0, 0)
NEW = (2026, 11, 2, 10, 0, 0)


def text(name, tag):
    return f"# {name} by {tag}\nVALUE = 1\n"


def write_zip(path, members, stamp=NEW):
    """members: dict path in the zip -> str or bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, stamp), data)
    return path


def submission(folder, tag, names=GRADED):
    return {f"{folder}/{name}": text(name, tag) for name in names}


def upload(path):
    path = Path(path)
    return Upload(path, "s", "s", original=path.name)


def find(tmp_path, *paths):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    return uploads.find_work([upload(p) for p in paths], scratch)


def graded_text(work, name):
    return (work.folder / name).read_text()


def test_a_zip_as_make_submission_writes_it_is_graded_as_is(tmp_path):
    path = write_zip(tmp_path / "jdoe.zip", submission("jdoe", "final"))
    work = find(tmp_path, path)
    assert work.as_is == path and work.source == path
    assert not work.flags and not work.layout and not work.problem
    assert sorted(p.name for p in work.folder.iterdir()) == sorted(GRADED)


def test_a_whole_project_zip_is_found_by_name_and_repaired(tmp_path):
    members = {f"hw4-main/{where}": text(name, "mine") for name, where in GRADED_FILES.items()}
    members.update({f"hw4-main/{other}": "kit file\n" for other in KIT_OTHERS})
    members.update({f"hw4-main/.git/objects/{i:03d}": "x" for i in range(250)})  # > 200 entries
    work = find(tmp_path, write_zip(tmp_path / "project.zip", members))
    assert work.as_is is None and work.source == work.folder
    assert {p.name for p in work.folder.iterdir()} == set(GRADED)
    assert graded_text(work, "layers.py") == text("layers.py", "mine")
    assert work.flags == [f"layout repaired: {work.layout[0]}"]
    assert "hw4-main/neuralnet/ (layers.py, train.py, two_layer_net.py)" in work.layout[0]
    assert not any("checkpoint" in flag or "chosen" in flag for flag in work.flags)


def test_a_damaged_file_next_to_the_work_does_not_cost_the_work(tmp_path):
    path = tmp_path / "jdoe.zip"
    with zipfile.ZipFile(path, "w") as archive:  # stored: the bytes are in the file as is
        for name, data in submission("jdoe", "final").items():
            archive.writestr(name, data)
        archive.writestr("jdoe/notes.txt", "hello world, these are my notes")
    path.write_bytes(path.read_bytes().replace(b"hello world", b"jello world"))
    assert checker.check_submission(path).rejected  # the grader would give 0 as it is
    work = find(tmp_path, path)
    assert work.as_is is None and graded_text(work, "layers.py") == text("layers.py", "final")
    assert "the grader would reject the zip as it is" in work.flags[0]
    assert "CRC" in work.flags[0]


def test_two_complete_folders_grade_the_newest_and_flag_it(tmp_path):
    members = submission("hw4/draft", "draft")
    members.update(submission("hw4/final", "final"))
    path = tmp_path / "both.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, OLD if "/draft/" in name else NEW), data)
    work = find(tmp_path, path)
    assert graded_text(work, "train.py") == text("train.py", "final")
    chosen = next(flag for flag in work.flags if flag.startswith("chosen among several"))
    assert "both.zip > hw4/final/ (6 graded file(s), newest 2026-11-02 10:00)" in chosen
    assert "not both.zip > hw4/draft/" in chosen and "layers.py x2" in chosen
    assert any(flag.startswith("layout repaired") for flag in work.flags)


def test_the_most_complete_candidate_wins_over_a_newer_one(tmp_path):
    members = submission("final", "final")
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, OLD), data)
        for name in ("functions.py", "layers.py"):
            archive.writestr(zipfile.ZipInfo(f"newer/{name}", NEW), text(name, "newer"))
    work = find(tmp_path, path)
    assert graded_text(work, "functions.py") == text("functions.py", "final")
    assert "two.zip > final/ (6 graded file(s)" in work.flags[0]


def test_a_stray_copy_next_to_the_work_is_flagged_but_not_chosen(tmp_path):
    members = submission("jdoe", "final")
    members["jdoe/backup/layers.py"] = text("layers.py", "backup")
    work = find(tmp_path, write_zip(tmp_path / "jdoe.zip", members))
    assert graded_text(work, "layers.py") == text("layers.py", "final")
    assert work.as_is is not None  # the grader reads jdoe/ as it is
    assert len(work.flags) == 1 and "not jdoe.zip > jdoe/backup/ (1 graded" in work.flags[0]
    assert "layers.py x2" in work.flags[0]


def test_a_path_held_twice_in_one_zip_is_its_last_entry_as_the_grader_reads_it(tmp_path):
    """Python's zipfile in append mode adds a second hw4/layers.py: extracting keeps the last,
    as `make grade` grades it (was: layers.py dropped, 20 points lost in grade-all only)."""
    path = write_zip(tmp_path / "jdoe.zip", submission("jdoe", "final"))
    with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr(zipfile.ZipInfo("jdoe/layers.py", NEW), text("layers.py", "again"))
    work = find(tmp_path, path)
    assert graded_text(work, "layers.py") == text("layers.py", "again")
    assert work.as_is == path and "layers.py x2" in work.flags[0]


def test_several_uploaded_zips_grade_the_most_complete_whatever_their_names(tmp_path):
    final = write_zip(tmp_path / "a_final.zip", submission("hw4", "final"))
    draft = write_zip(tmp_path / "z_draft.zip", submission("hw4", "draft", GRADED[:2]))
    work = find(tmp_path, final, draft)
    assert work.as_is == final  # a clean zip is still graded as it is
    assert graded_text(work, "layers.py") == text("layers.py", "final")
    assert "graded the most complete, a_final.zip (6 graded file(s)" in work.flags[0]
    assert "not z_draft.zip (2 graded file(s)" in work.flags[0]


def test_two_zips_from_make_submission_grade_the_one_with_the_newer_files(tmp_path):
    """Entries carry the files' own times: the final zip wins over a draft named to sort later."""
    root = fake_repo(tmp_path / "kit")
    draft = make_submission.build_submission("jdoe", root, tmp_path / "draft")
    train = root / GRADED_FILES["train.py"]
    train.write_text(train.read_text() + "# final\n")
    os.utime(train, (time.time() + 120, time.time() + 120))
    final = make_submission.build_submission("jdoe", root, tmp_path / "final")
    draft = draft.rename(tmp_path / "zz_draft.zip")
    work = find(tmp_path, final, draft)
    assert graded_text(work, "train.py").endswith("# final\n")
    assert "graded the most complete, jdoe.zip" in work.flags[0]
    assert make_submission.build_submission("jdoe", root, tmp_path / "again").read_bytes() \
        == final.read_bytes()  # the same files give the same zip


def test_zips_inside_the_zip_are_candidates(tmp_path):
    inner_full = io.BytesIO()
    write_zip(inner_full, submission("hw4", "full"), OLD)
    inner_part = io.BytesIO()
    write_zip(inner_part, submission("hw4", "part", GRADED[:3]), NEW)
    outer = write_zip(tmp_path / "outer.zip", {"hw4.zip": inner_full.getvalue(),
                                               "old/part.zip": inner_part.getvalue()})
    work = find(tmp_path, outer)
    assert graded_text(work, "part2.ipynb") == text("part2.ipynb", "full")
    assert work.layout[0] == "a zip inside the zip: graded outer.zip > hw4.zip"
    assert "not outer.zip > old/part.zip (3 graded file(s)" in work.flags[0]


def test_loose_files_are_graded_together(tmp_path):
    paths = []
    for name in GRADED[:4]:
        path = tmp_path / f"jdoe_1_2_{name}"
        path.write_text(text(name, "loose"))
        paths.append(Upload(path, "s", "s", original=name))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    work = uploads.find_work(paths, scratch)
    assert graded_text(work, "functions.py") == text("functions.py", "loose")
    assert work.layout[0].startswith("loose files instead of one zip")
    assert "missing graded file(s): part1.ipynb, part2.ipynb" in work.layout


def test_a_folder_upload_is_graded_as_is_and_its_links_never_followed(tmp_path):
    folder = tmp_path / "jdoe"
    folder.mkdir()
    for name in GRADED:
        (folder / name).write_text(text(name, "folder"))
    secret = tmp_path / "secret.py"
    secret.write_text("SECRET = 1\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "layers.py").symlink_to(secret)
    work = find(tmp_path, folder)
    assert work.as_is == folder and not work.flags
    assert graded_text(work, "layers.py") == text("layers.py", "folder")


@pytest.mark.parametrize("data, why", [
    (b"", "empty file"),
    (b"Rar!\x1a\x07\x00 not a zip", "not a readable zip"),
])
def test_unreadable_uploads_say_why(tmp_path, data, why):
    path = tmp_path / "hw4.zip"
    path.write_bytes(data)
    work = find(tmp_path, path)
    assert why in work.problem and work.folder is None


def test_a_truncated_zip_and_a_rar_are_not_read(tmp_path):
    data = write_zip(tmp_path / "full.zip", submission("hw4", "x")).read_bytes()
    (tmp_path / "cut.zip").write_bytes(data[: len(data) // 2])
    assert "not a readable zip" in find(tmp_path, tmp_path / "cut.zip").problem
    (tmp_path / "hw4.rar").write_bytes(b"Rar!\x1a\x07\x00")
    (tmp_path / "scratch").rmdir()
    assert "hw4.rar is not a zip" in find(tmp_path, tmp_path / "hw4.rar").problem


def test_a_zip_without_graded_files_lists_what_it_holds(tmp_path):
    path = write_zip(tmp_path / "hw4.zip", {"hw4/report.pdf": "pdf", "hw4/notes.txt": "x"})
    work = find(tmp_path, path)
    assert "no graded file" in work.problem and "hw4/report.pdf" in work.problem


def test_a_misnamed_graded_file_is_flagged(tmp_path):
    members = submission("hw4", "x", GRADED[:5])
    members["hw4/part2 (1).ipynb"] = "{}"
    work = find(tmp_path, write_zip(tmp_path / "hw4.zip", members))
    assert any("part2.ipynb not found, but hw4/part2 (1).ipynb is" in f for f in work.flags)


def zip_slip(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hw4/layers.py", "x = 1\n")
        archive.writestr("../../evil.py", "x = 1\n")
    return path


def zip_with_link(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hw4/functions.py", "x = 1\n")
        info = zipfile.ZipInfo("hw4/layers.py")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    return path


def bomb(path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("hw4/layers.py", b"#" * (64 * 2**20))
    return path


def bomb_inside(path):
    data = bomb(path.with_name("inner.zip")).read_bytes()
    return write_zip(path, {"hw4/inner.zip": data})


@pytest.mark.parametrize("make, why", [(zip_with_link, "symbolic link"), (bomb, "zip bomb")])
def test_unsafe_graded_files_are_refused_with_the_checkers_reason(tmp_path, make, why):
    work = find(tmp_path, make(tmp_path / "hw4.zip"))
    assert work.folder is None and why in work.problem


def test_unsafe_entries_beside_the_work_are_never_extracted_and_flagged(tmp_path):
    work = find(tmp_path, zip_slip(tmp_path / "hw4.zip"))
    assert graded_text(work, "layers.py") == "x = 1\n"
    assert any("also holds unsafe entries, never extracted" in f and "zip-slip" in f
               for f in work.flags)
    assert not (tmp_path / "evil.py").exists() and not (tmp_path.parent / "evil.py").exists()
    assert not list(tmp_path.rglob("evil.py"))


def test_a_virtualenv_in_a_project_is_not_the_work(tmp_path):
    members = submission("proj", "mine")
    members.update({f"proj/.venv/lib/site-packages/keras/{i}/layers.py": "x" for i in range(80)})
    work = find(tmp_path, write_zip(tmp_path / "proj.zip", members))
    assert graded_text(work, "layers.py") == text("layers.py", "mine") and not work.flags


def test_a_bomb_inside_the_zip_is_never_unpacked(tmp_path):
    work = find(tmp_path, bomb_inside(tmp_path / "hw4.zip"))
    assert work.folder is None and "zip bomb" in work.problem
    assert sum(f.stat().st_size for f in (tmp_path / "scratch").rglob("*") if f.is_file()) \
        < 2**20


def test_read_texts_reads_only_graded_names(tmp_path):
    (tmp_path / "layers.py").write_bytes(b"x = '\xff'\n")
    (tmp_path / "other.py").write_text("y = 1\n")
    assert uploads.read_texts(tmp_path) == {"layers.py": "x = '\ufffd'\n"}


def test_code_text_reads_notebook_sources_as_the_grader_does():
    notebook = json.dumps({"cells": [
        {"cell_type": "code", "source": ["a = 1\n", 2, "b = 2"]},  # a hostile non-string part
        {"cell_type": "markdown", "source": "text"},
        {"cell_type": "code", "source": None},
        {"cell_type": "code", "source": "c = 3\n"}]})
    assert uploads.code_text("part1.ipynb", notebook) == \
        "# ---- cell\na = 1\nb = 2\n# ---- cell\nc = 3\n"
