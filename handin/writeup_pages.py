"""What each question's page shows: blocks of text, code and pictures (handin/writeup_pdf.py)
made from the student's files (handin/writeup_read.py). Each `show_*` function takes the
Writeup being built (w: its files, and `w.missing` / `w.remark` to record what is missing)
and the Question, and returns the blocks; SHOW maps the names used in
handin/writeup_questions.py to them.
"""

import json
from pathlib import Path

from handin import notebooks as nbread
from handin import writeup_read as read
from handin.manifest import GRADED_FILES, PART1_FULL_ACCURACY
from handin.writeup_pdf import (
    GREY,
    Line,
    PdfInsert,
    Picture,
    Text,
    code_lines,
    heading,
    monospace,
    paragraph,
    pdf_page_count,
)
from handin.writeup_questions import (
    BEST_VAL_TARGET,
    F4_PICTURES,
    MAX_TERMINAL_LINES,
    OVERFIT_TARGET,
    P1_ARCHITECTURE,
    P1_ARCHITECTURE_ANSWER,
    P1_CURVES,
    P1_EVALUATION,
    P1_OPTIMIZER,
    P1_OPTIMIZER_ANSWER,
    P1_SETTINGS,
    P2_ANSWER,
    P2_DISPLAYS,
    P2_IMAGES,
    P2_MODEL,
    PLACEHOLDER,
    SCRIPT_FIGURES,
    TERMINAL_OUTPUTS,
)


def pct(value):
    return f"{100 * value:.2f} %"


def fmt(value):
    """A hyperparameter's value as text (floats to 4 significant digits)."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def table(rows):
    """Rows [(name, value)] as aligned monospace text."""
    width = max((len(str(name)) for name, _ in rows), default=0)
    return "\n".join(f"{name:<{width}}   {value}" for name, value in rows)


def markdown_blocks(text):
    """Markdown text (an answer) as blocks: paragraphs, list items, headings, code."""
    blocks = []
    for kind, piece in read.markdown_pieces(text):
        if kind == "code":
            blocks.append(monospace(piece, 8))
        elif kind == "h":
            blocks.append(heading(piece, 10.5, space_before=8))
        elif kind == "li":
            blocks.append(paragraph(piece, 10, indent=10, space_before=2))
        else:
            blocks.append(paragraph(piece, 10))
    return blocks


def show_code(w, question):
    blocks = []
    for spec in question.code:
        path = GRADED_FILES[spec.file]
        found, problem = w.definitions(spec.file)
        if problem:
            blocks.append(w.missing(question, f"{path} {problem}", spec.check or
                                    f"put your {path} back in the kit folder"))
            if (w.kit / path).is_file():
                blocks += whole_file(w.kit / path, path)
            continue
        for name in spec.names:
            blocks += definition_blocks(w, question, spec, path, found.get(name), name)
    return blocks


def definition_blocks(w, question, spec, path, definition, name):
    required = name in spec.required
    if definition is None:
        what = f"{path} defines no {name}"
        return [w.missing(question, what, f"write {name} in {path}, under that name (the "
                                          "homework's)") if required
                else w.remark(question, what + " (optional)")]
    if definition.is_stub and not required:
        return [w.remark(question, f"{name} not attempted (optional): {path} still raises "
                                   "NotImplementedError there")]
    last = definition.first_line + len(definition.lines) - 1
    blocks = [heading(f"{path}: {name} (lines {definition.first_line}-{last})", 10)]
    if definition.is_stub:
        blocks.append(w.missing(question, f"{name} in {path} is not written yet (it raises "
                                          "NotImplementedError)",
                                f"write it, then check it: {spec.check}"))
    blocks.append(code_lines(read.numbered(definition.lines, definition.first_line)))
    return blocks


def whole_file(path, label):
    text = path.read_text(encoding="utf-8", errors="replace")
    return [heading(label, 10), code_lines(read.numbered(text.splitlines()))]


def show_full_files(w, question):
    blocks = []
    for name in GRADED_FILES:
        path = w.kit / GRADED_FILES[name]
        if name.endswith(".py") and path.is_file():
            blocks += whole_file(path, GRADED_FILES[name])
    return blocks


def show_f4_graph(w, question):
    path = w.inputs.f4_picture
    if path is None:
        path = next((w.kit / p for p in F4_PICTURES if (w.kit / p).is_file()), None)
    found, _ = w.definitions("functions.py")
    attempted = "f4" in found and not found["f4"].is_stub
    if path is None:
        text = ("Task 1.2 is optional; no drawing of f4's graph is included (none of "
                f"{', '.join(F4_PICTURES)} exists).")
        if attempted and "1.2" not in w.answers.by_question:
            return [w.missing(question, "your f4 is written but its graph is not: the homework "
                                        "asks for a drawing of it",
                              f"draw the graph and save it as {F4_PICTURES[0]} (or .jpg, "
                              ".jpeg, .pdf), or describe it under '## 1.2' in writeup.md")]
        return [paragraph(text, 10, space_before=10)]
    label = w.rel(path)
    if Path(path).suffix.lower() == ".pdf":
        try:
            count = pdf_page_count(path)
        except ImportError:
            return [w.missing(question, f"{label} is a PDF, and putting a PDF in the write-up "
                                        "needs the pypdf package",
                              "pip install pypdf (make setup installs it), or save the "
                              "drawing as PNG or JPG")]
        except ValueError as err:
            return [w.missing(question, str(err), "save the drawing again (PNG, JPG or PDF)")]
        return [paragraph(f"The drawing of f4's graph ({label}) is on the next "
                          f"page{'s' if count > 1 else ''}.", 10), PdfInsert(Path(path), count)]
    try:
        image = read.picture_from_file(path)
    except ValueError as err:
        return [w.missing(question, f"{label} is {err}", "save the drawing as PNG or JPG")]
    return [Picture(image, f"The drawing of f4's graph ({label})", max_height=440)]


def show_run(config):
    def show(w, question):
        folder = w.runs / config
        in_main = read.settings_in_main(w.kit / GRADED_FILES["train.py"])
        blocks = test_accuracy_blocks(w, question, folder, "test in main" if in_main
                                      else "test") if config == "best" else []
        summary, problem = read.read_json(folder / "summary.json")
        if summary is None and in_main:
            return [*blocks, *settings_in_main_blocks(w, question, config, folder)]
        if summary is None:
            return [*blocks, w.missing(question, f"the {config} run: "
                                       f"{w.rel(folder / 'summary.json')} {problem}", config)]
        if summary.get("config", config) != config:
            blocks.append(w.missing(question, f"{w.rel(folder / 'summary.json')} was written by "
                                    f"train.py --config {summary.get('config')}, not --config "
                                    f"{config}", config))
        if summary.get("smoke") and w.inputs.full_runs:
            blocks.append(w.missing(question, f"the {config} run was a --smoke run (a few "
                                    "hundred images, to check the pipeline only)", config))
        blocks += run_results(w, question, config, summary)
        blocks += plot_blocks(w, question, folder, summary, config)
        hyper = summary.get("hyperparameters")
        if isinstance(hyper, dict) and hyper:
            blocks += [heading("Hyperparameters (from the run's summary.json)", 10),
                       monospace(table([(k, fmt(v)) for k, v in hyper.items()]), 8.5)]
        else:
            blocks.append(w.missing(question, f"{w.rel(folder / 'summary.json')} lists no "
                                    "hyperparameters", config))
        return blocks
    return show


def settings_in_main_blocks(w, question, config, folder):
    """A run of a train.py that keeps its settings in main() (no --config, no summary.json):
    its plot, saved where the write-up looks for it, and the hyperparameters in the
    student's answer."""
    blocks = plot_blocks(w, question, folder, {}, f"{config} in main")
    if not w.answers.by_question.get(question.key):
        blocks.append(w.missing(question, f"the hyperparameters of the {config} run (your "
                                "train.py has no --config and records none)",
                                "hyperparameters in main"))
    return blocks


def test_accuracy_blocks(w, question, folder, fix="test"):
    """The final test accuracy of the best run (test.py's JSON), checked against the
    checkpoint it was computed from."""
    path = folder / "test.json"
    result, problem = read.read_json(path)
    if result is None:
        return [w.missing(question, f"the test accuracy: {w.rel(path)} {problem}", fix)]
    accuracy = read.fraction(result.get("test_accuracy"))
    if accuracy is None:
        return [w.missing(question, f"{w.rel(path)} has no test_accuracy in [0, 1]", fix)]
    blocks = []
    checkpoint = folder / "checkpoint.npz"
    recorded = result.get("checkpoint_sha256")
    if recorded and checkpoint.is_file() and read.file_sha256(checkpoint) != recorded:
        blocks.append(w.missing(question, f"{w.rel(path)} was computed on another model than "
                                f"{w.rel(checkpoint)} (trained again since?)", fix))
    count = result.get("num_test")
    images = f" on {count:,} test images" if isinstance(count, int) else ""
    statistics = result.get("statistics")
    if isinstance(statistics, str) and statistics.startswith("recomputed"):
        blocks.insert(0, paragraph(f"The test images were normalized with statistics "
                                   f"{statistics[:100]} (the checkpoint has none saved).", 9,
                                   GREY))
    blocks.insert(0, paragraph(f"Final test accuracy: {pct(accuracy)}{images} "
                               "(neuralnet/test.py)", 12, bold=True, space_before=8))
    return blocks


def run_results(w, question, config, summary):
    train = read.fraction(summary.get("final_train_accuracy"))
    val = read.fraction(summary.get("final_val_accuracy"))
    rows = []
    if train is not None:
        rows.append(("final training accuracy", pct(train)))
    if val is not None:
        rows.append(("final validation accuracy", pct(val)))
    if config == "overfit" and train is not None and val is not None:
        rows.append(("training - validation", pct(train - val)))
    if isinstance(summary.get("train_seconds"), (int, float)):
        rows.append(("training time", f"{summary['train_seconds']:.1f} s"))
    blocks = [heading(f"Results of train.py --config {config}", 10),
              monospace(table(rows), 8.5)] if rows else []
    if config == "overfit" and train is not None and train < OVERFIT_TARGET:
        blocks.append(w.remark(question, f"training accuracy {pct(train)} is below the "
                                         f"homework's {OVERFIT_TARGET:.0%}"))
    if config == "best" and val is not None and val < BEST_VAL_TARGET:
        blocks.append(w.remark(question, f"validation accuracy {pct(val)} is below the "
                                         f"homework's {BEST_VAL_TARGET:.0%}"))
    return blocks


def plot_blocks(w, question, folder, summary, fix):
    candidates = [folder / "plot.png", folder / "plot.jpg"]
    if isinstance(summary.get("plot_file"), str):
        candidates.append(Path(summary["plot_file"]))
    path = next((p for p in candidates if p.suffix.lower() in (".png", ".jpg", ".jpeg")
                 and p.is_file()), None)
    if path is None:
        return [w.missing(question, f"the training plot: no {w.rel(folder / 'plot.png')}",
                          fix)]
    try:
        image = read.picture_from_file(path)
    except ValueError as err:
        return [w.missing(question, f"{w.rel(path)} is {err}", fix)]
    return [Picture(image, f"Loss and accuracy during training ({w.rel(path)})")]


def notebook_blocks(w, question, part, need_outputs=True):
    """(the notebook, [a missing notice]) — the notebook is None when it cannot be read."""
    book = w.notebook(part)
    terminal = w.terminal_output(part)
    if terminal and (book.nb is None or book.problem or not book.has_outputs()):
        return None, [w.remark(question, f"{w.rel(book.path)} has no saved outputs: the "
                                         f"terminal output of python_backup/{part}.py "
                                         f"({w.rel(terminal)}) is in appendix C")]
    if book.nb is None or book.problem:
        return None, [w.missing(question, f"{w.rel(book.path)}: {book.problem}", part)]
    if need_outputs and not book.has_outputs():
        return book, [w.missing(question, f"{w.rel(book.path)} has no saved outputs (it was "
                                          "not run, or saved before running)", part)]
    return book, []


def code_cell_blocks(book):
    """Every code cell: its source with line numbers, then its text outputs (shortened)."""
    blocks = []
    for number, cell in enumerate(book.code_cells(), start=1):
        blocks.append(Text([Line(read.cell_label(cell, number), 8, mono=True, bold=True)], 8))
        blocks.append(code_lines(read.numbered(nbread.as_text(cell.get("source"))
                                                .splitlines())))
        outputs = read.shortened(read.cell_text_outputs(cell))
        if nbread.cell_pngs(cell):
            outputs.append("[a figure]")
        if outputs:
            blocks.append(monospace("\n".join(outputs), 7, color=GREY, indent=30))
    return blocks


def notebook_code(w, question, part, need_outputs):
    """The notebook's code cells, or the script python_backup/<part>.py when that is what
    ran (its terminal output is saved and the notebook has no outputs)."""
    book, blocks = notebook_blocks(w, question, part, need_outputs)
    script = w.kit / "python_backup" / f"{part}.py"
    if book is None and w.terminal_output(part) and script.is_file():
        return blocks + whole_file(script, f"python_backup/{part}.py")
    return blocks + (code_cell_blocks(book) if book else [])


def show_part1_code(w, question):
    return notebook_code(w, question, "part1", need_outputs=True)


def show_terminal(w, question):
    blocks = []
    for part in TERMINAL_OUTPUTS:
        path = w.terminal_output(part)
        if path is None:
            continue
        lines = read.terminal_lines(read.head_and_tail(path))
        blocks += [heading(f"python python_backup/{part}.py ({w.rel(path)})", 10),
                   monospace("\n".join(read.shortened(lines, MAX_TERMINAL_LINES)), 7)]
        for figure in SCRIPT_FIGURES[part]:
            if (w.kit / figure).is_file():
                try:
                    blocks.append(Picture(read.picture_from_file(w.kit / figure), figure))
                except ValueError as err:
                    blocks.append(w.remark(question, f"{figure} is {err}"))
    return blocks


def show_part2_code(w, question):
    return notebook_code(w, question, "part2", need_outputs=False)


def cell_source_and_output(w, question, book, role, title, part):
    """A cell's source and its text output, under `title`."""
    cell = book.find(role)
    where = f"the cell of {w.rel(book.path)} with '{role.marker}'"
    if cell is None:
        return [w.missing(question, f"{title}: {w.rel(book.path)} has no cell with "
                                    f"'{role.marker}'", part)]
    blocks = [heading(title, 10),
              code_lines(read.numbered(nbread.as_text(cell.get("source")).splitlines()))]
    output = read.cell_text_outputs(cell)
    if not output:
        return blocks + [w.missing(question, f"{title}: {where} shows no output", part)]
    return blocks + [monospace("\n".join(output), 7.5, color=GREY, indent=30)]


def notebook_answer(w, question, book, role, part):
    """A markdown answer cell of the notebook (its prompt and the student's answer)."""
    cell = book.find(role)
    if cell is None:
        return []
    text = read.without_comments(nbread.as_text(cell.get("source")))
    blocks = [heading(f"Your answer in {w.rel(book.path)}", 10), *markdown_blocks(text)]
    if PLACEHOLDER in text:
        first = text.strip().splitlines()[0].lstrip("# ").replace("**", "")
        blocks.append(w.missing(question, f"your answer in {w.rel(book.path)} under "
                                f"'{first}' is still '*{PLACEHOLDER}*'", "notebook answer"))
    return blocks


def show_part1_design(w, question):
    book, blocks = notebook_blocks(w, question, "part1")
    if book is None:
        return blocks
    if blocks:  # no outputs at all: the answers are all that can be shown
        return (blocks + notebook_answer(w, question, book, P1_ARCHITECTURE_ANSWER, "part1")
                + notebook_answer(w, question, book, P1_OPTIMIZER_ANSWER, "part1"))
    arch = book.find(P1_ARCHITECTURE)
    blocks.append(heading("Architecture", 10.5))
    output = read.cell_text_outputs(arch) if arch is not None else []
    if output:
        blocks.append(monospace("\n".join(output), 7.5))
    else:
        blocks.append(w.missing(question, f"the architecture: the cell of {w.rel(book.path)} "
                                          "that prints summary(model, ...) shows no output",
                                "part1"))
    blocks += notebook_answer(w, question, book, P1_ARCHITECTURE_ANSWER, "part1")
    blocks += cell_source_and_output(w, question, book, P1_SETTINGS, "Hyperparameters",
                                     "part1")
    blocks += cell_source_and_output(w, question, book, P1_OPTIMIZER, "Optimizer, schedule "
                                     "and loss", "part1")
    blocks += notebook_answer(w, question, book, P1_OPTIMIZER_ANSWER, "part1")
    blocks += figure_of(w, question, book, P1_CURVES, "training and validation curves",
                        "part1")
    return blocks


def figure_of(w, question, book, role, what, part):
    cell = book.find(role)
    pngs = nbread.cell_pngs(cell) if cell is not None else []
    if not pngs:
        return [w.missing(question, f"the {what}: no figure in {w.rel(book.path)} (the cell "
                                    f"with '{role.marker}')", part)]
    try:
        image = read.notebook_picture(pngs[0])
    except ValueError as err:
        return [w.missing(question, f"the {what} in {w.rel(book.path)}: {err}", part)]
    return [heading(what[0].upper() + what[1:], 10.5), Picture(image, f"from {w.rel(book.path)}")]


def show_part1_test(w, question):
    book, blocks = notebook_blocks(w, question, "part1")
    if book is None or blocks:
        return blocks
    cell = book.find(P1_EVALUATION)
    value, line = nbread.reported_accuracy(cell) if cell is not None else (None, None)
    if value is None:
        return blocks + [w.missing(question, f"the test accuracy: the evaluation cell of "
                                             f"{w.rel(book.path)} printed no 'TEST ACCURACY: "
                                             "...' line", "part1")]
    blocks += [paragraph(f"Test accuracy: {pct(value)}", 14, bold=True, space_before=10),
               paragraph(f"as printed by the evaluation cell of {w.rel(book.path)}:", 9, GREY),
               monospace(read.strip_ansi(line), 9)]
    if value <= PART1_FULL_ACCURACY:
        blocks.append(w.remark(question, f"the homework expects more than "
                                         f"{PART1_FULL_ACCURACY:.0%}"))
    return blocks


def show_part2_images(w, question):
    book, blocks = notebook_blocks(w, question, "part2")
    if book is None:
        return blocks
    if blocks:  # no outputs at all
        return blocks + notebook_answer(w, question, book, P2_ANSWER, "part2")
    for role, title in ((P2_IMAGES, "The images (IMG1, IMG2)"), (P2_MODEL, "The model")):
        cell = book.find(role)
        if cell is not None and role is P2_IMAGES:
            blocks += [heading(title, 10), code_lines(read.numbered(
                nbread.as_text(cell.get("source")).splitlines()))]
        elif cell is not None and read.cell_text_outputs(cell):
            blocks += [heading(title, 10), monospace("\n".join(
                read.cell_text_outputs(cell)[:3]), 7.5, color=GREY)]
    for k, role in enumerate(P2_DISPLAYS, start=1):
        blocks += display_blocks(w, question, book, role, f"img{k}")
    return blocks + notebook_answer(w, question, book, P2_ANSWER, "part2")


def display_blocks(w, question, book, role, name):
    cell = book.find(role)
    if cell is None:
        return [w.missing(question, f"{w.rel(book.path)} has no cell showing {name}", "part2")]
    predictions = [(line.strip(), found) for line in read.cell_text_outputs(cell)
                   for found in [nbread.prediction(line)] if found]
    blocks = [heading(f"{name}: predicted class '{predictions[0][1][0]}' "
                      f"({pct(predictions[0][1][1])})" if predictions
                      else name, 11.5, space_before=14)]
    blocks += figure_blocks(w, question, book, cell, name)
    if predictions:
        blocks += [paragraph("Top predictions:", 9, GREY),
                   monospace("\n".join(line for line, _ in predictions), 8.5)]
    else:
        blocks.append(w.missing(question, f"the predictions for {name}: its cell of "
                                          f"{w.rel(book.path)} prints no 'label  probability' "
                                          "lines", "part2"))
    return blocks


def figure_blocks(w, question, book, cell, name):
    pngs = nbread.cell_pngs(cell)
    if not pngs:
        return [w.missing(question, f"the picture of {name}: its cell of {w.rel(book.path)} "
                                    "shows no image", "part2")]
    try:
        return [Picture(read.notebook_picture(pngs[0]), max_height=250)]
    except ValueError as err:
        return [w.missing(question, f"the picture of {name} in {w.rel(book.path)}: {err}",
                          "part2")]


SHOW = {
    "code": show_code,
    "f4_graph": show_f4_graph,
    "run_best": show_run("best"),
    "run_overfit": show_run("overfit"),
    "part1_code": show_part1_code,
    "part1_design": show_part1_design,
    "part1_test": show_part1_test,
    "part2_images": show_part2_images,
    "full_files": show_full_files,
    "part2_code": show_part2_code,
    "terminal": show_terminal,
}
