"""The students' write-up (handin/writeup.py, `make writeup` in the kit), end to end: a built
kit filled with the reference and its runs on tiny generated data gives a PDF with every
question on its own page and the runs' own numbers, code, pictures and answers; the bare
starter gives a PDF that names every missing piece. Plus the readers behind it."""

import json

import matplotlib
import pytest

from handin import notebooks as nbread
from handin import writeup, writeup_pages
from handin import writeup_questions as questions
from handin import writeup_read as read
from handin.writeup_pdf import PdfInsert, Section, paginate, paragraph, wrap_code, write_pdf
from staff.starter.build import ROOT, build
from staff.tests import filled_kit as filled
from staff.tests.corpus import original_solution
from staff.tests.pdf_pages import drawn_images, question_pages

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402

pypdf = pytest.importorskip("pypdf")


@pytest.fixture(scope="module")
def filled_kit(tmp_path_factory):
    """A kit filled with the reference, its runs, answers and a drawing (filled_kit.py), and
    `make writeup` run in it. Returns (kit, the make CompletedProcess)."""
    kit = filled.filled_kit(tmp_path_factory.mktemp("filled") / "hw4-starter",
                            tmp_path_factory.mktemp("cifar"))
    return kit, filled.make_writeup(kit)


def first_predictions(notebook):
    """The top predicted class of img1 and img2, as the notebook printed them."""
    book = read.read_notebook(notebook)
    labels = []
    for role in questions.P2_DISPLAYS:
        lines = read.cell_text_outputs(book.find(role))
        labels.append(next(found[0] for line in lines for found in [nbread.prediction(line)]
                           if found))
    return labels


@pytest.mark.slow
def test_make_writeup_on_a_filled_kit_covers_every_question(filled_kit):
    kit, make = filled_kit
    assert make.returncode == 0, make.stdout + make.stderr
    assert "Nothing is missing" in make.stdout
    reader = pypdf.PdfReader(kit / "writeup.pdf")
    pages = question_pages(reader)
    title = reader.pages[0].extract_text()
    assert f"Name: {filled.NAME}" in title and "Nothing is missing" in title
    for question in (*questions.QUESTIONS, *questions.APPENDIX):
        found = pages[question.key]
        first, text = found[0]
        assert question.title in text, question.key  # its heading, on its first page
        # the title page lists that page, and the question starts a page of its own
        assert f"page {first + 1}" in title.split(question.title)[1].split("\n")[0]
        assert [i for i, _ in found] == list(range(first, first + len(found)))
    text = {key: "\n".join(t for _, t in found) for key, found in pages.items()}
    runs = kit / "neuralnet/runs"
    best = json.loads((runs / "best/summary.json").read_text())
    test = json.loads((runs / "best/test.json").read_text())
    overfit = json.loads((runs / "overfit/summary.json").read_text())
    assert f"Final test accuracy: {100 * test['test_accuracy']:.2f} %" in text["4.2"]
    assert f"{100 * best['final_val_accuracy']:.2f} %" in text["4.2"]
    assert f"{100 * overfit['final_train_accuracy']:.2f} %" in text["4.3"]
    assert "hidden_dim" in text["4.2"] and str(best["hyperparameters"]["hidden_dim"]) in \
        text["4.2"]
    assert filled.ANSWER_42 in text["4.2"].replace("\n", " ")
    # the CNN from the executed notebook: its table, its test accuracy line
    accuracy, _ = nbread.reported_accuracy(read.read_notebook(kit / "part1.ipynb")
                                           .find(questions.P1_EVALUATION))
    assert f"Test accuracy: {100 * accuracy:.2f} %" in text["5.3"]
    assert "Total params" in text["5.2"] and "TEST ACCURACY" in text["5.1"]
    img1, img2 = first_predictions(kit / "part2.ipynb")
    assert f"img1: predicted class '{img1}'" in text["6.1"]
    assert f"img2: predicted class '{img2}'" in text["6.1"]
    # the code, as text with line numbers
    assert "def fc_forward(x, w, b):" in text["2.1"] and "def f3(s1, s2, y):" in text["1.1"]
    assert "class TwoLayerNet(Classifier):" in text["3.1"]
    assert "def training_step(model, X_batch, y_batch, reg):" in text["4.1"]
    # the pictures: the f4 drawing, two training plots, the CNN curves, img1 and img2
    images = {key: sum(drawn_images(reader.pages[i]) for i, _ in found)
              for key, found in pages.items()}
    assert images["1.2"] == images["4.2"] == images["4.3"] == images["5.2"] == 1
    assert images["6.1"] == 2 and images["2.1"] == 0


@pytest.mark.slow
def test_writeup_on_the_bare_starter_names_every_gap(tmp_path):
    kit = tmp_path / "hw4-starter"
    build(ROOT, kit)
    assert (kit / "writeup.md").read_text() == questions.template()
    run = filled.run_in(kit, "-m", "handin.writeup", "--strict", "--no-appendix")
    assert run.returncode == 1, run.stdout + run.stderr
    out = run.stdout
    for needed in ("f3 in backprop/functions.py is not written yet",
                   *(f"{name} in neuralnet/layers.py is not written yet" for name in
                     ("fc_forward", "fc_backward", "relu_forward", "relu_backward",
                      "softmax_loss", "l2_regularization")),
                   "TwoLayerNet in neuralnet/two_layer_net.py", "training_step in",
                   "neuralnet/runs/best/summary.json not found",
                   "-> python neuralnet/train.py --config best",
                   "neuralnet/runs/overfit/summary.json not found",
                   "-> python neuralnet/train.py --config overfit",
                   "neuralnet/runs/best/test.json not found", "-> python neuralnet/test.py",
                   "5.1, 5.2, 5.3: part1.ipynb has no saved outputs",
                   "6.1: part2.ipynb has no saved outputs", "Download .ipynb",
                   "under 'The architecture' is still", "under 'Why the model fails on img2.'",
                   "your name: the Name: line of writeup.md is empty",
                   "--strict: 18 missing"):
        assert needed in out, needed
    assert "f1 not attempted (optional)" in out and "1.2" not in out.split("Notes:")[0]
    reader = pypdf.PdfReader(kit / "writeup.pdf")  # written anyway
    pages = question_pages(reader)
    for key in ("1.1", "2.1", "3.1", "4.1", "4.2", "4.3", "5.1", "5.2", "5.3", "6.1"):
        assert "MISSING:" in "".join(t for _, t in pages[key]), key
    assert "Task 1.2 is optional" in pages["1.2"][0][1]  # f4 not attempted: nothing to ask
    assert "MISSING:" not in pages["1.2"][0][1] and "Missing (18)" in \
        reader.pages[0].extract_text()


# ---- the readers and the pages, without a kit -----------------------------------------

def test_the_kit_ships_the_template_as_writeup_md():
    assert (ROOT / "writeup.md").read_text() == questions.template()
    answers = read.read_answers(ROOT / "writeup.md", questions.QUESTION_KEYS)
    assert answers.by_question == {} and answers.stray == []  # prompts only
    assert answers.fields == {"name": "", "uniqname": ""}


def test_answers_are_read_by_question_number(tmp_path):
    path = tmp_path / "writeup.md"
    path.write_text("# W\nName: Grace\nUniqname: gh\n\n## 4.2 anything\n<!-- a prompt -->\n"
                    "My answer.\n\n## Q4.3\nSecond.\n<!-- unclosed prompt\n\n## 9.9 Bonus\n"
                    "lost text\n## Notes\n\n### 1.1 not a question heading\n")
    answers = read.read_answers(path, questions.QUESTION_KEYS)
    assert answers.fields == {"name": "Grace", "uniqname": "gh"}
    assert answers.by_question == {"4.2": "My answer.", "4.3": "Second.\n unclosed prompt"}
    assert answers.stray == ["9.9 Bonus", "Notes"]
    w = writeup.Writeup(writeup.Inputs(kit=tmp_path, answers=path))
    assert [g.what for g in w.gaps] == [
        *(f"writeup.md: the text under '## {title}' belongs to no question, so it is not in "
          "the PDF" for title in ("9.9 Bonus", "Notes")),
        "writeup.md: the '<!--' on line 11 is never closed, which would hide everything "
        "after it"]


def test_definitions_and_stubs_of_a_python_file(tmp_path):
    path = tmp_path / "layers.py"
    path.write_text(
        "import functools\n\n\n@functools.cache\ndef f3(s1, s2, y):\n"
        "    raise NotImplementedError('f3: not implemented yet')\n\n\n"
        "def fc_forward(x, w, b, mode='fast'):\n    if mode != 'fast':\n"
        "        raise NotImplementedError(mode)\n    return x @ w + b, None\n\n\n"
        "def _relu(x):\n    return abs(x), x\n\n\nrelu_forward = _relu\n\n\n"
        "class TwoLayerNet:\n    def forward(self, X):\n        return X\n\n"
        "    def backward(self, g, cache):\n        raise NotImplementedError\n")
    found, problem = read.python_definitions(path)
    assert problem is None
    assert (found["f3"].first_line, found["f3"].is_stub) == (4, True)  # its decorator too
    assert not found["fc_forward"].is_stub  # a raise in a branch is not the stub
    assert found["relu_forward"].lines == ["relu_forward = _relu"]
    assert found["TwoLayerNet"].is_stub  # one method still raises
    path.write_text("def f(:\n")
    assert read.python_definitions(path) == ({}, "does not parse: invalid syntax (line 1)")


def test_markdown_pieces():
    pieces = read.markdown_pieces("A **bold** line\njoined.\n\n- item one\n  continued\n"
                                   "1. two\n\n### Head\n```\ncode  kept\n```\n<!-- x -->\n")
    assert pieces == [("p", "A bold line joined."), ("li", "- item one continued"),
                      ("li", "1. two"), ("h", "Head"), ("code", "code  kept")]


def test_terminal_output_keeps_the_last_state_of_a_progress_bar(tmp_path):
    text = "a\n\x1b[32mepoch 1: 10%\repoch 1: 100%\x1b[0m\nTEST ACCURACY: 0.9\n"
    assert read.terminal_lines(text) == ["a", "epoch 1: 100%", "TEST ACCURACY: 0.9", ""]
    log = tmp_path / "out.txt"
    log.write_text("first\n" + "x" * 100 + "\nlast\n")
    assert read.head_and_tail(log, limit=20) == "first\nxxxx\n[...]\nxxxx\nlast\n"
    assert read.head_and_tail(log) == log.read_text()


def write_run(folder, config, smoke=False):
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps({
        "config": config, "smoke": smoke, "hyperparameters": {"reg": 0.1},
        "final_train_accuracy": 0.5, "final_val_accuracy": 0.3}))
    plt.imsave(folder / "plot.png", [[0.0, 1.0], [1.0, 0.0]])


def gaps_of(inputs, question_key):
    """The gaps and notes of one question's page (not those of writeup.md)."""
    w = writeup.Writeup(inputs)
    before = len(w.gaps)
    question = next(q for q in questions.QUESTIONS if q.key == question_key)
    blocks = writeup_pages.SHOW[question.show[0]](w, question)
    return [g.what for g in w.gaps[before:]], w.notes, blocks


def test_runs_that_do_not_count_are_named(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs / "best", "best", smoke=True)
    (runs / "best/checkpoint.npz").write_bytes(b"model trained again")
    (runs / "best/test.json").write_text(json.dumps(
        {"test_accuracy": 0.4, "num_test": 10, "checkpoint_sha256": "0" * 64}))
    write_run(runs / "overfit", "default")
    inputs = writeup.Inputs(kit=tmp_path, runs=runs)
    gaps, notes, _ = gaps_of(inputs, "4.2")
    assert any("was computed on another model" in g for g in gaps)
    assert any("--smoke run" in g for g in gaps)
    assert any("below the homework's 40%" in n for n in notes)
    gaps, notes, _ = gaps_of(inputs, "4.3")
    assert gaps == ["runs/overfit/summary.json was written by train.py --config default, not "
                    "--config overfit"]
    assert any("below the homework's 75%" in n for n in notes)
    inputs.full_runs = False  # the course's smoke run
    assert not any("--smoke" in g for g in gaps_of(inputs, "4.2")[0])


def test_a_train_py_with_its_settings_in_main_gets_its_own_commands(tmp_path):
    """A train.py written for the original starter (no --config, no summary.json): the
    pages take the plot it saved where the fix says, test.py's result (statistics computed
    again), and the hyperparameters from the answer; the fixes name its own flags."""
    (tmp_path / "neuralnet").mkdir()
    (tmp_path / "neuralnet/train.py").write_text(
        original_solution("attrs_W1_bias_rows")["train.py"])
    runs = tmp_path / "neuralnet/runs"
    inputs = writeup.Inputs(kit=tmp_path)
    w = writeup.Writeup(inputs)
    w.sections()
    fixes = " ".join(g.fix for g in w.gaps)
    assert "--config best" not in fixes and "--config overfit" not in fixes
    assert "mkdir -p neuralnet/runs/overfit and python neuralnet/train.py --plot-file " \
           "neuralnet/runs/overfit/plot.png --checkpoint-file " in fixes
    assert "test.py --num-train N" in fixes
    (runs / "best").mkdir(parents=True)
    plt.imsave(runs / "best/plot.png", [[0.0, 1.0], [1.0, 0.0]])
    (runs / "best/test.json").write_text(json.dumps(
        {"test_accuracy": 0.47, "num_test": 100,
         "statistics": "recomputed from the first 5000 training images"}))
    (tmp_path / "writeup.md").write_text("## 4.2 The best two-layer net\nhidden_dim 512\n")
    gaps, _, blocks = gaps_of(inputs, "4.2")
    assert gaps == []
    text = " ".join(line.text for block in blocks for line in getattr(block, "lines", []))
    assert "Final test accuracy: 47.00 %" in text and "first 5000 training images" in text
    gaps, _, _ = gaps_of(inputs, "4.3")
    assert gaps == ["the training plot: no neuralnet/runs/overfit/plot.png",
                    "the hyperparameters of the overfit run (your train.py has no --config "
                    "and records none)"]


def test_python_backup_terminal_output_stands_in_for_the_notebook(tmp_path):
    (tmp_path / "python_backup").mkdir()
    (tmp_path / "python_backup/part1_output.txt").write_text("TEST ACCURACY: 0.9 (9/10)\n")
    w = writeup.Writeup(writeup.Inputs(kit=tmp_path))
    sections = w.sections()
    assert sections[-1].key == "C"
    assert not any("part1" in g.what for g in w.gaps)  # part1 is covered, part2 is not
    assert any("part2.ipynb not found" in g.what for g in w.gaps)
    assert any("appendix C" in n for n in w.notes)


def test_f4_drawing_as_pdf_image_or_broken_file(tmp_path):
    (tmp_path / "backprop").mkdir()
    (tmp_path / "backprop/functions.py").write_text("def f4(x):\n    return x, (1.0,)\n")
    inputs = writeup.Inputs(kit=tmp_path)
    gaps, _, blocks = gaps_of(inputs, "1.2")  # f4 written, no drawing, no text: asked for
    assert gaps == ["your f4 is written but its graph is not: the homework asks for a "
                    "drawing of it"]
    with PdfPages(tmp_path / "backprop/f4_graph.pdf") as pdf:
        for _ in range(2):
            pdf.savefig(plt.figure())
    plt.close("all")
    gaps, _, blocks = gaps_of(inputs, "1.2")
    assert gaps == [] and [b.pages for b in blocks if isinstance(b, PdfInsert)] == [2]
    inputs.f4_picture = tmp_path / "backprop/f4_graph.jpg"
    inputs.f4_picture.write_bytes(b"not a picture")
    gaps, _, _ = gaps_of(inputs, "1.2")
    assert len(gaps) == 1 and "f4_graph.jpg is not a readable image" in gaps[0]


def test_cell_roles_find_the_same_cells_by_id_and_by_marker():
    for part, roles in (("part1", ("P1_SETTINGS", "P1_OPTIMIZER", "P1_ARCHITECTURE",
                                   "P1_CURVES", "P1_EVALUATION", "P1_ARCHITECTURE_ANSWER",
                                   "P1_OPTIMIZER_ANSWER")),
                        ("part2", ("P2_IMAGES", "P2_MODEL", "P2_ANSWER"))):
        book = read.read_notebook(ROOT / f"{part}.ipynb")
        for name in roles:
            role = getattr(questions, name)
            by_marker = read.CellRole("no such id", role.marker, role.cell_type)
            assert book.find(role) is book.find(by_marker) is not None, name
            assert book.find(role)["id"] == role.cell_id, name
    book = read.read_notebook(ROOT / "part2.ipynb")
    cells = [book.find(role) for role in questions.P2_DISPLAYS]
    assert [c["id"] for c in cells] == list(nbread.PART2.key_cells)


def test_pdf_pages_keep_long_code_and_insert_another_pdf(tmp_path):
    line = "x" * 250
    pieces = wrap_code("\t" + line, 100)
    assert "".join(p.removeprefix("\u21aa ") for p in pieces) == "    " + line
    assert all(len(p) <= 100 for p in pieces)
    drawing = tmp_path / "drawing.pdf"
    with PdfPages(drawing) as pdf:
        for _ in range(2):
            fig = plt.figure(figsize=(11, 8.5))  # a landscape letter page: scaled to A4
            fig.text(0.5, 0.5, "my graph")
            pdf.savefig(fig)
            plt.close(fig)
    sections = [Section("1.2", "Drawing", [paragraph("before"), PdfInsert(drawing, 2)]),
                Section("2.1", "Next", [paragraph("after")])]
    pages = paginate(sections, first_number=1)
    assert [p.number for p in pages] == [1, 2, 3, 4]
    assert [p.insert is not None for p in pages] == [False, True, True, False]
    write_pdf(pages, tmp_path / "out.pdf")
    reader = pypdf.PdfReader(tmp_path / "out.pdf")
    assert [p.extract_text().split("\n")[0] for p in reader.pages][1:3] == ["my graph"] * 2
    assert "after" in reader.pages[3].extract_text()
    assert float(reader.pages[1].mediabox.width) <= 595.3
    assert not (tmp_path / "out.pdf.part").exists()


def test_strict_exit_status_and_missing_input_files(tmp_path, capsys):
    out = tmp_path / "w.pdf"
    assert writeup.main(["--kit", str(tmp_path), "--output", str(out), "--no-appendix"]) == 0
    assert writeup.main(["--kit", str(tmp_path), "--output", str(out), "--no-appendix",
                         "--strict"]) == 1
    printed = capsys.readouterr().out
    assert "backprop/functions.py not found" in printed and out.is_file()
    assert "-> put your backprop/functions.py back in the kit folder" in printed
