"""handin/notebooks.py: notebook points only for a starter notebook that really ran (cells
matched by id, run in order, accuracy from the evaluation cell, real images from the display
cells, no output its code could not have produced: handin/cell_code.py), forged notebooks
scored 0 and flagged for a person, spot checks for the rest, and bounded parsing."""

import base64
import json
import re
import struct
import time

import nbformat
import pytest

from handin import manifest
from handin import notebooks as gn
from handin.cell_code import impossible_cells
from staff.grading import grade
from staff.tests.corpus import (
    ROOT,
    TINY_PNG,
    image_output,
    make_submission_zip,
    notebook,
    part1_text,
    part2_text,
    png_base64,
    png_chunk,
    starter_run,
    stream,
)
from staff.tests.test_redteam import forged_from_starter

EVAL_CELL = gn.PART1.key_cells[0]
SUMMARY_CELL = gn.PART1.cells[-1]
DISPLAY_CELLS = gn.PART2.key_cells
LIMITS = grade.Limits(test_timeout=2.0)
RUN, ACCURACY, IMAGES, PREDICTIONS = (manifest.test(test_id).points for test_id in (
    "part1_run", "part1_accuracy", "part2_images", "part2_predictions"))
FORGED_PART1 = notebook([[stream("test accuracy: 0.99\n")]])
FORGED_PART2 = notebook([[image_output(TINY_PNG), stream("cat 0.9\ntabby cat 0.9\n")],
                         [image_output(TINY_PNG), stream("cat 0.9\ntabby cat 0.9\n")]])


def reads(text):
    return nbformat.reads(text, as_version=4)


def entries_of(name, text):
    """The two results.json entries of notebook `name` holding `text`."""
    nb, problem = gn.read_notebook(text, name)
    entries = gn.part1_entries if name == "part1.ipynb" else gn.part2_entries
    return entries(nb, problem)


def scores(entries):
    return [entry["score"] for entry in entries]


def flagged(entries):
    return [entry["output"] for entry in entries if entry["output"].startswith(gn.NEEDS_PERSON)]


def edited(name, change, **outputs):
    """starter_run(name, outputs) with change(nb) applied to the parsed notebook."""
    nb = reads(starter_run(name, outputs))
    change(nb)
    return nbformat.writes(nb)


def cell(nb, cell_id):
    return next(c for c in nb.cells if c.get("id") == cell_id)


def accuracy_line(value, right=None):
    right = round(value * 10000) if right is None else right
    return [stream(f"TEST ACCURACY: {value:.4f} ({right}/10000), test loss 0.3000\n")]


@pytest.mark.parametrize("name", ["part1.ipynb", "part2.ipynb"])
def test_cell_ids_match_the_reference_notebooks(name):
    computed = gn.reference_spec(reads((ROOT / name).read_text()), name)
    assert computed == gn.SPECS[name], f"update grade_notebooks.SPECS[{name!r}] to {computed}"
    assert len(computed.key_cells) == (1 if name == "part1.ipynb" else 2)


@pytest.mark.parametrize("name, grader, points", [
    ("part1.ipynb", gn.grade_part1, RUN + ACCURACY),
    ("part2.ipynb", gn.grade_part2, IMAGES + PREDICTIONS)])
def test_committed_notebooks_that_really_ran_keep_full_marks(name, grader, points):
    entries = grader(ROOT / name)
    assert sum(scores(entries)) == points, [e["output"] for e in entries]
    assert gn.needs_person(entries) == []


def test_honest_generated_notebooks():
    assert scores(entries_of("part1.ipynb", part1_text(0.9))) == [RUN, ACCURACY]
    assert scores(entries_of("part1.ipynb", part1_text(0.775))) == [RUN, ACCURACY / 2]
    assert scores(entries_of("part2.ipynb", part2_text())) == [IMAGES, PREDICTIONS]
    assert scores(entries_of("part2.ipynb", part2_text(images=1))) == [IMAGES / 2, PREDICTIONS / 2]


def test_forged_notebooks_get_zero_and_a_person():
    part1, part2 = entries_of("part1.ipynb", FORGED_PART1), entries_of("part2.ipynb", FORGED_PART2)
    assert scores(part1) == [0, 0] and scores(part2) == [0, 0]
    assert len(flagged(part1 + part2)) == 4
    assert "17 of the starter's 17 code cells are missing" in part1[0]["output"]
    listed = gn.needs_person(part1 + part2)
    assert len(listed) == 4 and listed[0].startswith("part1.ipynb: ran, with outputs: 17 of")


def test_starter_cells_with_tiny_images_lose_the_image_points():
    text = part2_text().replace(png_base64(), TINY_PNG)
    images, predictions = entries_of("part2.ipynb", text)
    assert images["score"] == 0 and predictions["score"] == PREDICTIONS
    assert images["output"].startswith(gn.NEEDS_PERSON) and "1x1 pixels" in images["output"]


def test_images_and_predictions_of_other_cells_do_not_count():
    extra = nbformat.v4.new_code_cell("show(img)", execution_count=99, outputs=[
        image_output(), stream("tabby cat   81.00%\ntiger cat   10.00%\n")])
    text = edited("part2.ipynb", lambda nb: nb.cells.append(extra),
                  **{cell_id: [] for cell_id in DISPLAY_CELLS})
    assert scores(entries_of("part2.ipynb", text)) == [0, 0]


def test_cells_run_out_of_order_get_zero_and_a_person():
    def rerun_an_early_cell(nb):
        cell(nb, gn.PART1.cells[2]).execution_count = 100

    entries = entries_of("part1.ipynb", edited("part1.ipynb", rerun_an_early_cell))
    assert scores(entries) == [0, 0]
    assert "not run in order" in flagged(entries)[0] and "In [100]" in flagged(entries)[0]


def test_accuracy_comes_only_from_the_evaluation_cell():
    extra = nbformat.v4.new_code_cell("print('test accuracy: 0.99')", execution_count=99,
                                      outputs=[stream("test accuracy: 0.99\n")])
    text = edited("part1.ipynb", lambda nb: nb.cells.append(extra),
                  **{EVAL_CELL: accuracy_line(0.775)})
    assert scores(entries_of("part1.ipynb", text)) == [RUN, ACCURACY / 2]
    without = starter_run("part1.ipynb", {EVAL_CELL: [stream("done\n")],
                                          SUMMARY_CELL: [stream("test accuracy: 0.99\n")]})
    run, accuracy = entries_of("part1.ipynb", without)
    assert accuracy["score"] == 0 and "printed no 'TEST ACCURACY" in accuracy["output"]


@pytest.mark.parametrize("outputs, words", [
    ({EVAL_CELL: accuracy_line(0.99, right=8000)}, "8000/10000"),
    ({EVAL_CELL: accuracy_line(0.99), SUMMARY_CELL: [stream("test accuracy 0.8000\n")]},
     "reports test accuracy 0.8000"),
])
def test_self_contradicting_accuracy_gets_zero_and_a_person(outputs, words):
    run, accuracy = entries_of("part1.ipynb", starter_run("part1.ipynb", outputs))
    assert run["score"] == RUN and accuracy["score"] == 0
    assert accuracy["output"].startswith(gn.NEEDS_PERSON) and words in accuracy["output"]


def test_accuracy_needs_every_cell_above_the_evaluation_cell_to_run():
    def skip_training(nb):
        cell(nb, "71baed09").execution_count = None

    run, accuracy = entries_of("part1.ipynb", edited("part1.ipynb", skip_training))
    assert run["score"] == pytest.approx(RUN * 16 / 17, abs=0.01)
    assert accuracy["score"] == 0 and "code cell 12 (id 71baed09) did not run" in accuracy["output"]


def test_an_emptied_starter_cell_is_not_a_missing_one():
    def empty_the_comparison_cell(nb):
        comparison = cell(nb, "451d8aa9")
        comparison.source, comparison.outputs, comparison.execution_count = "", [], None

    text = edited("part2.ipynb", empty_the_comparison_cell, **{
        cell_id: [image_output(), stream("tabby   81.00%\ntiger cat   10.00%\n")]
        for cell_id in DISPLAY_CELLS})
    assert scores(entries_of("part2.ipynb", text)) == [IMAGES, PREDICTIONS]


def test_errors_and_missing_outputs_cost_run_points():
    error = nbformat.v4.new_output("error", ename="RuntimeError", evalue="boom", traceback=[])
    text = starter_run("part1.ipynb", {EVAL_CELL: [error], "90317748": []})
    run, accuracy = entries_of("part1.ipynb", text)
    assert run["score"] == pytest.approx(RUN * 15 / 17, abs=0.01)
    assert "code cell 6 (id 90317748)" in run["output"]
    assert accuracy["score"] == 0 and "ended with an error" in accuracy["output"]


def png_bytes(width=96, height=72):
    return base64.b64decode(png_base64(width, height))


def b64(data):
    return base64.b64encode(data).decode()


def test_png_checks():
    assert gn.png_problem(png_base64()) is None
    assert gn.png_problem(png_base64().encode().decode().splitlines()) is None  # a list of lines
    assert "1x1 pixels" in gn.png_problem(TINY_PNG)
    data = png_bytes()
    assert "not a PNG" in gn.png_problem(b64(b"GIF89a" + data[6:]))
    assert "truncated" in gn.png_problem(b64(data[:-20]))
    corrupt = bytearray(data)
    corrupt[40] ^= 0xFF
    assert "CRC" in gn.png_problem(b64(bytes(corrupt)))
    assert "broken" in gn.png_problem("@@not base64@@" * 3)
    assert "over" in gn.png_problem("A" * (gn.MAX_IMAGE_CHARS + 4))


def test_png_whose_pixels_do_not_fill_its_header_is_refused_quickly():
    header = struct.pack(">IIBBBBB", 4000, 4000, 8, 6, 0, 0, 0)
    fake = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", b"x\x9c\x03\x00\x00\x00\x00\x01") + png_chunk(b"IEND", b""))
    start = time.perf_counter()
    assert "does not fill its 4000x4000 pixels" in gn.png_problem(b64(fake))
    assert time.perf_counter() - start < 1.0


def old_regex_killer(size):
    """A line on which a backtracking 'label  probability' pattern takes cubic time."""
    return "a" + " " * size + "!"


@pytest.mark.parametrize("line", [
    old_regex_killer(5000), "test " * 1000, "test accuracy" + " " * 5000 + "x",
    "1. " + "a-" * 2500 + " 0.5", "9" * 5000 + "%", "(" + "1/" * 2500 + ")"])
def test_pathological_lines_parse_in_milliseconds(line):
    start = time.perf_counter()
    for _ in range(20):
        gn.prediction(line)
        gn.accuracies(line[:gn.MAX_LINE_CHARS])
        gn.COUNTS_RE.search(line[:gn.MAX_LINE_CHARS])
    assert time.perf_counter() - start < 1.0


def display_outputs(text):
    return {cell_id: [stream(text), image_output()] for cell_id in DISPLAY_CELLS}


@pytest.mark.parametrize("text", [
    old_regex_killer(5000) + "\n", old_regex_killer(2**20),
    ("tabby cat  " + " " * 200 + "!\n") * 5000, "\r" * 200_000])
def test_megabyte_outputs_are_capped_and_graded_fast(text):
    nb = reads(starter_run("part2.ipynb", display_outputs(text)))
    start = time.perf_counter()
    images, predictions = gn.part2_entries(nb, None)
    assert time.perf_counter() - start < 1.0
    assert images["score"] == 5 and predictions["score"] == 0
    lines = gn.cell_lines(cell(nb, DISPLAY_CELLS[0]))
    assert len(lines) <= gn.MAX_LINES and max(map(len, lines)) <= gn.MAX_LINE_CHARS


def test_a_notebook_with_megabyte_outputs_is_read_and_graded_fast():
    text = old_regex_killer(2**20) + "\n" + ("x" * 99 + "\n") * 10_000
    nb_text = starter_run("part2.ipynb", display_outputs(text))
    start = time.perf_counter()
    assert scores(entries_of("part2.ipynb", nb_text)) == [5, 0]
    assert time.perf_counter() - start < 1.0


def test_prediction_line_formats():
    assert gn.prediction("  1. tabby: 0.812") == ("tabby", pytest.approx(0.812))
    assert gn.prediction("tabby - 81 %") == ("tabby", pytest.approx(0.81))
    assert gn.prediction("Egyptian cat     3.10%") == ("Egyptian cat", pytest.approx(0.031))
    for line in ("epoch 1", "tabby 1", "tabby 181%", "1234 0.5", "loss: 0.5 acc: 0.9%x", ""):
        assert gn.prediction(line) is None, line


@pytest.mark.parametrize("text, words", [
    ("[" * 100_000 + "]" * 100_000, "nested more than 64 levels"),
    ('{"cells": [], "metadata": {"x": ' + "[" * 500 + "]" * 500 + "}}", "nested more than 64"),
    ("{not json", "not a readable notebook"),
])
def test_malformed_notebooks_get_a_reason(text, words):
    nb, problem = gn.read_notebook(text, "part1.ipynb")
    assert nb is None and words in problem
    assert scores(entries_of("part1.ipynb", text)) == [0, 0]


@pytest.mark.parametrize("text", ["[" * 100 + "]" * 100, "{not json"])
def test_a_problem_names_the_file_it_was_read_as(text):
    """Parses are kept by text: the same text read as another file names that file."""
    for name in ("part1.ipynb", "part2.ipynb"):
        assert gn.read_notebook(text, name)[1].startswith(f"{name} ")
    assert (gn.malformed_notebook(text, "part2.ipynb") is None) == (text == "{not json")


def test_odd_field_types_do_not_crash_the_grader():
    nb = json.loads(part2_text())
    first = next(c for c in nb["cells"] if c.get("id") == DISPLAY_CELLS[0])
    first["outputs"] = [{"output_type": "stream", "text": 5}, "junk",
                        {"output_type": "display_data", "data": {"image/png": 7}},
                        {"output_type": "display_data", "data": []}]
    assert scores(gn.part2_entries(nb, None)) == [IMAGES / 2, PREDICTIONS / 2]
    first["execution_count"] = "12"  # not a count: the cell did not run, nor did all below it
    assert scores(gn.part2_entries(nb, None)) == [0, 0]
    first["source"], first["id"] = 7, [7]
    entries = gn.part2_entries(nb, None)
    assert scores(entries) == [0, 0] and "1 of the starter's 15" in entries[0]["output"]


def test_forged_submission_graded_end_to_end(tmp_path):
    zip_path = make_submission_zip(tmp_path, overrides={"part1.ipynb": FORGED_PART1,
                                                        "part2.ipynb": FORGED_PART2})
    results = grade.grade(zip_path, limits=LIMITS)
    notebook_entries = [e for e in results["tests"] if e["name"].startswith("part")]
    assert scores(notebook_entries) == [0, 0, 0, 0]
    assert results["score"] == grade.max_points() - sum(t.points for t in manifest.NOTEBOOK_TESTS)
    assert len(results["needs_person"]) == 4
    assert "NEEDS A PERSON: part1.ipynb" in results["output"]
    assert "code cells are missing" in results["output"]


def test_honest_submission_graded_end_to_end(tmp_path):
    overrides = {name: (ROOT / name).read_text() for name in ("part1.ipynb", "part2.ipynb")}
    results = grade.grade(make_submission_zip(tmp_path, overrides=overrides), limits=LIMITS)
    assert results["score"] == grade.max_points()
    assert "NEEDS A PERSON" not in results["output"]  # nothing flagged; 4 spot checks:
    assert len(results["needs_person"]) == 4
    assert all(line.startswith("spot-check: part") for line in results["needs_person"])
    assert results["needs_person"][0].endswith(  # re-derived in the sandbox: model_check.py
        "re-derived from the notebook's code in the grader's sandbox: the same 21 layers and "
        "about 289,000 parameters")
    assert "test accuracy 93.59%" in results["needs_person"][1]  # and the log's last val acc
    assert "(not found)" not in results["needs_person"][1]


def ran(*sources):
    """impossible_cells of code cells that all show a clean run."""
    return impossible_cells(list(sources), [True] * len(sources))


STUB = "def f():\n    raise NotImplementedError\n"
LEFT_BELOW_RETURN = ('def p(x):\n    if x:\n        return [("cat", 0.9)]\n    else:\n'
                     '        return []\n'
                     '        raise NotImplementedError("p: not implemented yet")\n'
                     '    raise NotImplementedError("p: not implemented yet (predict)")\n')


def test_runs_the_code_could_not_have_produced_are_named():
    assert ran("x = 1", 'raise NotImplementedError("x: not defined yet (a value)")') == {
        1: "it still raises the starter's NotImplementedError"}
    assert ran(STUB, "f()")[1].startswith("calls f, which is still the starter's stub")
    assert "calls g, which calls f" in ran(STUB, "def g():\n    return f()\n", "g()")[2]
    assert ran("print(y)") == {0: "it uses y, which no cell defines"}
    in_a_loop = ('def h(xs):\n    total = 0\n    for x in xs:\n'
                 '        raise NotImplementedError("h: not implemented yet (sum)")\n')
    assert "calls h" in ran(in_a_loop, "h([1])")[1]
    kept_in_loop = in_a_loop.replace("        raise", "        total += x\n        raise")
    assert "calls h" in ran(kept_in_loop + "    return total\n", "h([1])")[1]  # it still runs
    model = "class M:\n    def forward(self):\n        raise NotImplementedError\n"
    assert "calls M" in ran(model, "m = M()")[1]
    assert impossible_cells(["raise NotImplementedError"], [False]) == {}  # it did not run
    bare_todo = "class M:\n    def forward(self, x):\n        # TODO: the forward pass\n"
    assert "no code in it (a bare TODO" in ran(bare_todo, "print(1)")[0]
    assert impossible_cells([bare_todo], [False]) == {}  # Jupyter showed its error


@pytest.mark.parametrize("cells", [
    [STUB, "def f():\n    return 1\n", "f()"],  # the stub written later
    [STUB, "g = 1"],  # a stub nothing calls
    [STUB, "if False:\n    f()\n", "try:\n    f()\nexcept NotImplementedError:\n    pass\n"],
    ["%matplotlib inline\n!pip install -q x\nfiles = !ls\nprint(files)"],
    ["%%capture out\nprint(1)", "print(out)"],
    ["%%bash\necho $HOME", "import os.path\nprint(os.path.sep)"],
    ["from math import *\nprint(pi)"],  # names a star import brings are not known
    ["x = 1\nx?", "print(undefined_but_unknowable)"],  # IPython syntax: names not known
    ["def f():\n    global z\n    z = 1\n", "f()", "print(z)"],
    ["print([i for i in range(3)], display, In)", "class A:\n    k = 1\n    j = k + 1\n"],
    [LEFT_BELOW_RETURN, "class M:\n    def forward(self, x):\n        return x\n"
     "        raise NotImplementedError('M.forward: not implemented yet (the pass)')\n",
     "p(1)", "M()"],  # the starter's raise kept below the student's return: dead code
])
def test_code_that_runs_is_never_held_against_a_notebook(cells):
    assert ran(*cells) == {}


STUB_RAISE_LINE = re.compile(r"^\s*raise NotImplementedError\(.*\)\n?", re.M)


def without_stub_raises(text):
    """A forged notebook with the starter's raise lines deleted (bare TODOs left)."""
    nb = json.loads(text)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = STUB_RAISE_LINE.sub("", source)
    return json.dumps(nb)


@pytest.mark.parametrize("edit", [lambda text: text, without_stub_raises])
def test_a_notebook_forged_from_the_starter_gets_zero_and_a_person(edit):
    for name, text in (("part1.ipynb", part1_text(0.9137)), ("part2.ipynb", part2_text())):
        entries = entries_of(name, edit(forged_from_starter(name, text)))
        assert scores(entries) == [0, 0]
        assert len(flagged(entries)) == 2
        assert all("outputs without code that could have produced them" in text
                   for text in flagged(entries))
        nb, _ = gn.read_notebook(forged_from_starter(name, text), name)
        assert gn.spot_checks(name, nb, entries) == []  # nothing earned, nothing to check
