"""staff/reference/report.py: the course's write-up, built by the students' own builder
(handin/writeup.py) from (fake) make homework run outputs, this repository's code and its
executed notebooks."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from handin import writeup
from handin import writeup_questions as questions
from staff.reference import report
from staff.tests.fake_results import (
    BEST_TEST_ACCURACY,
    BEST_VAL_ACCURACY,
    OVERFIT_TRAIN_ACCURACY,
    write_fake_results,
)
from staff.tests.pdf_pages import drawn_images, question_pages

ROOT = Path(__file__).resolve().parents[2]
pypdf = pytest.importorskip("pypdf")


@pytest.mark.slow
def test_cli_builds_every_page_from_the_outputs_and_names_the_missing_stage(tmp_path):
    results = write_fake_results(tmp_path / "results")
    (results / "overfit/plot.png").unlink()
    out = tmp_path / "report.pdf"
    proc = subprocess.run([sys.executable, "-m", "staff.reference.report", "--results-dir",
                           str(results), "--output", str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr  # something is missing
    assert "the training plot" in proc.stdout and "'overfit' stage" in proc.stdout
    reader = pypdf.PdfReader(out)  # written anyway
    pages = question_pages(reader)
    assert set(pages) == {q.key for q in (*questions.QUESTIONS, *questions.APPENDIX)}
    title = reader.pages[0].extract_text()
    assert "Missing (1)" in title
    text = {key: "\n".join(t for _, t in found) for key, found in pages.items()}
    assert f"Name: {report.STAFF_NAME}" in title
    assert f"{100 * BEST_TEST_ACCURACY:.2f} %" in text["4.2"]
    assert f"{100 * BEST_VAL_ACCURACY:.2f} %" in text["4.2"]
    assert f"{100 * OVERFIT_TRAIN_ACCURACY:.2f} %" in text["4.3"]
    assert "MISSING" in text["4.3"] and "MISSING" not in text["4.2"]
    assert sum(drawn_images(reader.pages[i]) for i, _ in pages["1.2"]) == 1  # the f4 graph
    assert "def f4(" in text["1.2"] and "TEST ACCURACY" in text["5.3"]
    assert (results / report.F4_PICTURE).is_file()
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "30", "-f", "2", "-l", "2", str(out),
                        str(tmp_path / "page")], check=True, timeout=60)
        assert len(list(tmp_path.glob("page*.png"))) == 1


@pytest.mark.parametrize("relpath", sorted(report.REQUIRED_OUTPUTS))
def test_missing_output_names_the_stage_that_makes_it(tmp_path, relpath):
    results = write_fake_results(tmp_path / "results")
    shutil.copyfile(results / "best/plot.png", tmp_path / "f4.png")
    (results / relpath).unlink()
    w = writeup.Writeup(report.report_inputs(results, f4_picture=tmp_path / "f4.png"))
    w.sections()
    stage = report.REQUIRED_OUTPUTS[relpath]
    assert [g.fix for g in w.gaps] == [report.STAGE_FIXES[stage]], w.gaps
    assert f"'{stage}' stage" in w.gaps[0].fix


def test_executed_notebooks_are_the_copies_when_make_homework_made_them(tmp_path):
    assert report.executed_notebook(tmp_path, ROOT, "part1") == ROOT / "part1.ipynb"
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks/part1.ipynb").write_text("{}")
    assert report.executed_notebook(tmp_path, ROOT, "part1") == tmp_path / "notebooks/part1.ipynb"


def test_f4_graph_is_required_and_validated(tmp_path):
    (tmp_path / "f4_graph.py").write_text("X = 1\n")
    with pytest.raises(ValueError, match="no F4_GRAPH"):
        report.load_f4_graph(tmp_path / "f4_graph.py")
    with pytest.raises(FileNotFoundError, match="not found"):
        report.load_f4_graph(tmp_path / "nothing.py")
    with pytest.raises(ValueError, match="twice"):
        report.validate_graph([("a", "add", ["x", "y"]), ("a", "mul", ["a", "y"])])
    with pytest.raises(ValueError, match="not \\(node_name"):
        report.validate_graph([("a", "add")])


def test_graph_layout_puts_every_node_right_of_its_inputs():
    nodes = report.validate_graph([("a", "mul", ["x", "w"]), ("s", "add", ["a", "b"]),
                                   ("L", "square", "s")])
    depth, layout = report.graph_layout(nodes)
    assert depth["x"] == depth["w"] == 0 and depth["a"] == 1
    assert depth["b"] == 1  # an input sits just left of its first consumer
    assert depth["s"] == 2 and depth["L"] == 3
    assert sorted(n for col in layout["columns"].values() for n in col) == sorted(depth)


def test_the_real_f4_graph_is_drawn_as_a_picture(tmp_path):
    nodes = report.load_f4_graph()  # staff/reference/f4_graph.py of this repository
    assert len({op for _, op, _ in nodes}) >= 3 and len(nodes) >= 5
    path = report.draw_f4_picture(nodes, tmp_path / "g.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
