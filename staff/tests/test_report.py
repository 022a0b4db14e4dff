"""staff/report.py: the write-up PDF built from (fake) make homework outputs."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from staff.tests.fake_results import (
    BEST_TEST_ACCURACY,
    OVERFIT_TRAIN_ACCURACY,
    PART1_TEST_ACCURACY,
    write_fake_code,
    write_fake_results,
)

ROOT = Path(__file__).resolve().parents[2]

import matplotlib.pyplot as plt  # noqa: E402

from staff import report  # noqa: E402

pypdf = pytest.importorskip("pypdf")


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


@pytest.fixture
def fake_run(tmp_path):
    """(results dir, code root) of a fake finished run."""
    return write_fake_results(tmp_path / "results"), write_fake_code(tmp_path / "root")


def test_report_has_every_section_in_order_and_the_run_numbers(fake_run, tmp_path):
    results, root = fake_run
    out = report.build_report(results, tmp_path / "r.pdf", note="fake run", root=root)
    text = pdf_text(out)
    positions = [text.find(title) for title in report.SECTION_TITLES]
    assert -1 not in positions, dict(zip(report.SECTION_TITLES, positions, strict=True))
    assert positions == sorted(positions)
    # numbers come from the JSON files (percent with two decimals)
    for value in (BEST_TEST_ACCURACY, PART1_TEST_ACCURACY, OVERFIT_TRAIN_ACCURACY):
        assert f"{100 * value:.2f} %" in text
    assert "125,610" in text  # CNN parameter count
    assert "predicted 'tabby cat'" in text and "predicted 'golden retriever'" in text
    # the f4 nodes from staff/f4_graph.py and the appended code
    assert "square" in text and "A.4 neuralnet/train.py" in text
    assert "code cell 1" in text and "print('part2.ipynb')" in text


def test_report_numbers_follow_the_outputs(fake_run, tmp_path):
    results, root = fake_run
    path = results / "best/test.json"
    path.write_text(json.dumps({"test_accuracy": 0.1234, "num_test": 77, "checkpoint": "c"}))
    text = pdf_text(report.build_report(results, tmp_path / "r.pdf", root=root))
    assert "12.34 %" in text and f"{100 * BEST_TEST_ACCURACY:.2f} %" not in text


@pytest.mark.parametrize("relpath", sorted(report.REQUIRED_OUTPUTS))
def test_missing_output_names_file_and_stage(fake_run, tmp_path, relpath):
    results, root = fake_run
    (results / relpath).unlink()
    with pytest.raises(report.MissingOutputError) as err:
        report.build_report(results, tmp_path / "r.pdf", root=root)
    message = str(err.value)
    assert relpath in message.replace("\\", "/")
    assert f"'{report.REQUIRED_OUTPUTS[relpath]}' stage" in message
    assert not (tmp_path / "r.pdf").exists()


def test_broken_json_and_missing_keys_are_clear_errors(fake_run, tmp_path):
    results, root = fake_run
    (results / "part1/summary.json").write_text("{not json")
    with pytest.raises(ValueError, match="part1/summary.json is not valid JSON"):
        report.build_report(results, tmp_path / "r.pdf", root=root)
    (results / "part1/summary.json").write_text(json.dumps({"hyperparameters": {}}))
    with pytest.raises(ValueError, match="lacks the key"):
        report.build_report(results, tmp_path / "r.pdf", root=root)


def test_f4_graph_is_required_and_validated(fake_run, tmp_path):
    results, root = fake_run
    (root / "staff/f4_graph.py").write_text("X = 1\n")
    with pytest.raises(ValueError, match="no F4_GRAPH"):
        report.build_report(results, tmp_path / "r.pdf", root=root)
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


def test_wrap_code_keeps_every_character():
    line = "a" * 250
    wrapped = report.wrap_code(line + "\n\tb", width=100)
    assert len(wrapped) == 4 and all(len(w) <= 104 for w in wrapped)
    assert "".join(w.replace("  \u21aa ", "") for w in wrapped[:3]) == line
    assert wrapped[3] == "    b"


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (pdftoppm)")
def test_cli_writes_a_pdf_whose_first_page_renders(fake_run, tmp_path):
    results, root = fake_run
    out = tmp_path / "report.pdf"
    proc = subprocess.run([sys.executable, str(ROOT / "staff/report.py"), "--results-dir",
                           str(results), "--output", str(out), "--code-root", str(root)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(out),
                    str(tmp_path / "page")], check=True, timeout=60)
    pngs = list(tmp_path.glob("page*.png"))
    assert len(pngs) == 1 and pngs[0].stat().st_size > 1000


def test_the_real_f4_graph_is_drawable():
    nodes = report.load_f4_graph()  # staff/f4_graph.py of this repository
    assert len({op for _, op, _ in nodes}) >= 3 and len(nodes) >= 5
    fig = plt.figure()
    report.draw_graph(fig.add_subplot(), nodes)
    plt.close(fig)


def test_cli_missing_results_exits_2_with_message(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "staff/report.py"), "--results-dir",
                           str(tmp_path / "nothing"), "--output", str(tmp_path / "r.pdf")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "best/summary.json" in proc.stderr and "'best' stage" in proc.stderr
