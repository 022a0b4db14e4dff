"""Build writeup.pdf, the write-up the homework asks for, from your own files.

    python -m handin.writeup            # or: make writeup
    python -m handin.writeup --strict   # exit 1 when anything is missing
    python -m handin.writeup --help     # where each input is read from, and how to change it

One question per page (a page break before each), so that you can assign pages to
questions on Gradescope; the title page lists which page holds which question. What each
question shows comes from your files, never typed by hand:

    1.1-4.1  the code of the functions the question asks for (backprop/functions.py,
             neuralnet/layers.py, two_layer_net.py, train.py), as text with line numbers
    1.2      your drawing of f4's graph, backprop/f4_graph.png (.jpg, .jpeg or .pdf), if any
    4.2, 4.3 the runs of `python neuralnet/train.py --config best` / `--config overfit`
             (neuralnet/runs/<config>/: plot.png, summary.json) and, for the best one,
             `python neuralnet/test.py` (neuralnet/runs/best/test.json)
    5.1-5.3  the saved outputs of part1.ipynb: its code, the architecture table, the
             hyperparameter cells, the training curves and the TEST ACCURACY line
    6.1      the saved outputs of part2.ipynb: img1 and img2 with their predictions
    and under every question, your answer from writeup.md (the text under its heading).
An appendix holds the graded Python files in full and part2.ipynb's code.

Whatever is missing (a run never done, a notebook without outputs, an empty answer) is
named on its page with the command that makes it, and listed on the console at the end;
the PDF is written anyway, so you can look at a draft early.
"""

import argparse
import sys
import textwrap
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from handin import notebooks as nbread
from handin import writeup_parts as parts
from handin.manifest import GRADED_FILES, PART1_FULL_ACCURACY
from handin.writeup_pdf import (
    GREY,
    RED,
    Line,
    PdfInsert,
    Picture,
    Section,
    Text,
    code_lines,
    heading,
    missing,
    monospace,
    note,
    paginate,
    paragraph,
    pdf_page_count,
    write_pdf,
)

KIT = Path(__file__).resolve().parents[1]
TITLE = "Homework 4 - Machine Learning: write-up"
ANSWERS_FILE = "writeup.md"
RUNS_DIR = "neuralnet/runs"
F4_PICTURES = tuple(f"backprop/f4_graph.{ext}" for ext in ("png", "jpg", "jpeg", "pdf"))
OVERFIT_TARGET, BEST_VAL_TARGET = 0.75, 0.40  # the homework's targets for 4.3 and 4.2
PLACEHOLDER = "Your answer here."  # what the starter notebooks' answer cells say

# How to make each input (what a missing page says); the course's own build overrides them.
FIXES = {
    "best": "python neuralnet/train.py --config best",
    "overfit": "python neuralnet/train.py --config overfit",
    "test": "python neuralnet/test.py  (it evaluates neuralnet/runs/best/checkpoint.npz and "
            "writes neuralnet/runs/best/test.json)",
    **{part: f"run every cell of {part}.ipynb (Jupyter, or Colab: Runtime > Run all), save "
             f"it and put it in the kit folder as {part}.ipynb (from Colab: File > Download > "
             f"Download .ipynb); if you ran python_backup/{part}.py instead, save its "
             f"terminal output: python python_backup/{part}.py | tee {output}"
       for part, output in (("part1", "python_backup/part1_output.txt"),
                            ("part2", "python_backup/part2_output.txt"))},
    "answers": f"write it in {ANSWERS_FILE} (the kit's copy has a heading for every question)",
    "notebook answer": "write your answer in that markdown cell of the notebook, save it and "
                       "put the notebook in the kit folder again",
}


@dataclass(frozen=True)
class Code:
    """Functions or classes of a graded file that a question shows."""
    file: str  # name in GRADED_FILES
    names: tuple
    required: tuple = ()  # those that must be written (the others are optional)
    check: str = ""  # the command that checks them


@dataclass(frozen=True)
class Question:
    key: str  # "4.2"
    title: str
    asks: str  # what the homework asks for, in its words
    prompt: str = ""  # the prompt under the heading in writeup.md
    show: tuple = ()  # what the page shows, in order: names of SHOW's functions
    code: tuple = ()  # Code, for "code"


LAYERS, CHECK_LAYERS = "layers.py", "python neuralnet/gradcheck_layers.py"
QUESTIONS = (
    Question("1.1", "Backprop: f1, f2 and f3", "Code: f3 (required); f1 and f2 (optional).",
             "Optional: anything the grader should know about your f1, f2 and f3.",
             ("code",), (Code("functions.py", ("f1", "f2", "f3"), ("f3",),
                              "python backprop/backprop.py"),)),
    Question("1.2", "Your own function f4 (optional)",
             "Optional. Report: draw the computational graph (at least five operators) of "
             "a function of your own. Code: f4.",
             "Optional: describe your function f4 and its graph. Put a drawing of the graph "
             "in backprop/f4_graph.png (or .jpg, .jpeg, .pdf): it goes on this page.",
             ("f4_graph", "code"), (Code("functions.py", ("f4",)),)),
    Question("2.1", "fc_forward and fc_backward", "Code: fc_forward, fc_backward.",
             "Optional: notes on your code.", ("code",),
             (Code(LAYERS, ("fc_forward", "fc_backward"), ("fc_forward", "fc_backward"),
                   CHECK_LAYERS),)),
    Question("2.2", "relu_forward and relu_backward", "Code: relu_forward, relu_backward.",
             "Optional: notes on your code.", ("code",),
             (Code(LAYERS, ("relu_forward", "relu_backward"),
                   ("relu_forward", "relu_backward"), CHECK_LAYERS),)),
    Question("2.3", "softmax_loss", "Code: softmax_loss.", "Optional: notes on your code.",
             ("code",), (Code(LAYERS, ("softmax_loss",), ("softmax_loss",),
                              "python neuralnet/check_softmax_stability.py"),)),
    Question("2.4", "l2_regularization", "Code: l2_regularization.",
             "Optional: notes on your code.", ("code",),
             (Code(LAYERS, ("l2_regularization",), ("l2_regularization",), CHECK_LAYERS),)),
    Question("3.1", "TwoLayerNet", "Code: TwoLayerNet.", "Optional: notes on your code.",
             ("code",), (Code("two_layer_net.py", ("TwoLayerNet",), ("TwoLayerNet",),
                              "python neuralnet/gradcheck_classifier.py"),)),
    Question("4.1", "training_step", "Code: training_step.", "Optional: notes on your code.",
             ("code",), (Code("train.py", ("training_step",), ("training_step",),
                              "python neuralnet/check_training_step.py"),)),
    Question("4.2", "The best two-layer net",
             "Report: the loss/accuracy plot of your best model, the hyperparameter settings "
             "you used, and its final test-set performance.",
             "Optional: how you found these settings. (The plot, the hyperparameters and "
             "the test accuracy come from your runs.)", ("run_best",)),
    Question("4.3", "The overfitting two-layer net",
             "Report: the loss/accuracy plot of a model that overfits (at least 75% training "
             "accuracy) and its hyperparameters.",
             "Optional: why these settings overfit. (The plot and the hyperparameters come "
             "from your run.)", ("run_overfit",)),
    Question("5.1", "part1.ipynb: the code", "Code: part1.ipynb, with its outputs.",
             "Optional: notes on your notebook.", ("part1_code",)),
    Question("5.2", "The CNN: architecture, hyperparameters, training curves",
             "Report: the detailed architecture of your best CNN, the hyperparameters you "
             "chose for training, and a plot of training and validation accuracy.",
             "Optional: anything to add to your notebook's answers (they are printed on this "
             "page).", ("part1_design",)),
    Question("5.3", "The CNN's test accuracy",
             "Report: the test accuracy of your CNN (more than 85% is expected).",
             "Optional: comments on the test accuracy.", ("part1_test",)),
    Question("6.1", "img1 and img2 with their predicted classes",
             "Report: img1, an image the pretrained model classifies reasonably, and img2, "
             "one it does not, with their predicted classes.",
             "Optional: anything to add to your notebook's answer (it is printed on this "
             "page).", ("part2_images",)),
)
APPENDIX = (
    Question("A", "Appendix: the graded Python files in full",
             "Every graded .py file as it is (helpers included).", show=("full_files",)),
    Question("B", "Appendix: part2.ipynb, the code", "The code cells of part2.ipynb.",
             show=("part2_code",)),
)
TERMINAL = Question("C", "Appendix: terminal output of python_backup/",
                    "What python_backup/part1.py and part2.py printed (the homework asks for "
                    "it when the notebooks were run as scripts), and the figures they saved.",
                    show=("terminal",))
QUESTION_KEYS = tuple(q.key for q in QUESTIONS)
# python_backup/partN.py run in a terminal: its output, saved with tee, and its figures
TERMINAL_OUTPUTS = {"part1": "python_backup/part1_output.txt",
                    "part2": "python_backup/part2_output.txt"}
SCRIPT_FIGURES = {"part1": ("results/part1/curves.png",),
                  "part2": ("results/part2/img1.png", "results/part2/img2.png")}
MAX_TERMINAL_LINES = 3000

# The cells of the starter notebooks that the pages show (id, else a marker in the source).
P1_SETTINGS = parts.CellRole("5f5739ee", "SETTINGS =")
P1_OPTIMIZER = parts.CellRole("0d46fe9b", "optimizer =")
P1_ARCHITECTURE = parts.CellRole("a498268f", "summary(")
P1_CURVES = parts.CellRole("6c439f9a", "curves.png")
P1_EVALUATION = parts.CellRole(nbread.PART1.key_cells[0], nbread.EVALUATION_MARKER)
P1_ARCHITECTURE_ANSWER = parts.CellRole("9a4137b3", "Describe your network", "markdown")
P1_OPTIMIZER_ANSWER = parts.CellRole("274b8b37", "Describe your optimizer", "markdown")
P2_IMAGES = parts.CellRole("e0c2db3f", "IMG1 =")
P2_MODEL = parts.CellRole("5f259c8b", "\nmodel = default_model()")
P2_DISPLAYS = tuple(parts.CellRole(cell_id, f"show_prediction(IMG{k})")
                    for k, cell_id in enumerate(nbread.PART2.key_cells, start=1))
P2_ANSWER = parts.CellRole("4c287e4a", "Why the model fails on img2", "markdown")


@dataclass
class Inputs:
    """Where the write-up reads from (None: the kit's default place)."""
    kit: Path = KIT
    runs: Path | None = None  # best/ and overfit/ of train.py (+ best/test.json)
    part1: Path | None = None
    part2: Path | None = None
    answers: Path | None = None
    f4_picture: Path | None = None
    name: str = ""  # else the Name line of writeup.md
    note: str = ""  # a line on the title page
    fixes: dict = field(default_factory=dict)  # overrides of FIXES
    full_runs: bool = True  # a train.py --smoke run counts as missing
    appendix: bool = True  # the graded .py files in full and part2.ipynb's code at the end

    def path(self, attribute, default):
        value = getattr(self, attribute)
        return Path(value) if value is not None else Path(self.kit) / default


@dataclass(frozen=True)
class Gap:
    question: str  # "4.2", or "title"
    what: str
    fix: str


class Writeup:
    """Collects the pages of each question and every gap and note found on the way."""

    def __init__(self, inputs):
        self.inputs = inputs
        self.kit = Path(inputs.kit)
        self.fixes = {**FIXES, **inputs.fixes}
        self.gaps, self.notes = [], []
        self.runs = inputs.path("runs", RUNS_DIR)
        self._notebooks, self._definitions = {}, {}
        self.answers = parts.read_answers(inputs.path("answers", ANSWERS_FILE),
                                          QUESTION_KEYS)
        self.pages = 0
        self.name_gap = Gap("title", f"your name: the Name: line of {ANSWERS_FILE} is empty",
                            self.fixes["answers"])
        stray_answers(self)

    def rel(self, path):
        """`path` as the student knows it: relative to the kit when inside it."""
        path = Path(path)
        try:
            return path.resolve().relative_to(self.kit.resolve()).as_posix()
        except ValueError:
            return str(path)

    def missing(self, question, what, fix_key):
        fix = self.fixes.get(fix_key, fix_key)
        self.gaps.append(Gap(question.key if question else "title", what, fix))
        return missing(what, fix)

    def remark(self, question, text):
        self.notes.append(f"{question.key}: {text}")
        return note(text)

    def definitions(self, file):
        if file not in self._definitions:
            self._definitions[file] = parts.python_definitions(self.kit / GRADED_FILES[file])
        return self._definitions[file]

    def notebook(self, part):
        if part not in self._notebooks:
            self._notebooks[part] = parts.read_notebook(
                self.inputs.path(part, GRADED_FILES[f"{part}.ipynb"]))
        return self._notebooks[part]

    # ---- the sections ----

    def section(self, question):
        asks = f"The homework asks: {question.asks}" if question.key[0].isdigit() else question.asks
        blocks = [paragraph(asks, 9, GREY, space_before=0)]
        for name in question.show:
            blocks += SHOW[name](self, question)
        blocks += self.answer_blocks(question)
        return Section(question.key, question.title, blocks)

    def answer_blocks(self, question):
        text = self.answers.by_question.get(question.key)
        if not text:
            return []
        return [heading(f"Your answer ({ANSWERS_FILE})"), *markdown_blocks(text)]

    @property
    def name(self):
        return self.inputs.name or self.answers.fields.get("name", "")

    def title_section(self, sections, pages, shown):
        """The title page: who, the page of every question, and the first `shown` gaps."""
        first_page = {}
        for page in pages:
            first_page.setdefault(page.section.key, page.number)
        blocks = [Text([Line(TITLE, 18, bold=True)], 0)]
        if not self.name:
            blocks.append(missing(self.name_gap.what, self.name_gap.fix))
        who = [f"Name: {self.name}"] if self.name else []
        if self.answers.fields.get("uniqname"):
            who.append(f"Uniqname: {self.answers.fields['uniqname']}")
        blocks.append(paragraph("\n".join(who), 12, space_before=10))
        blocks.append(paragraph(f"Built by python -m handin.writeup on {date.today()} from "
                                "the student's own code, runs, notebooks and answers; nothing "
                                "in it was typed by hand.", 9, GREY))
        if self.inputs.note:
            blocks.append(paragraph(self.inputs.note, 10, RED, bold=True))
        blocks.append(heading("Questions and their pages"))
        rows = [f"{s.key:<4} {s.title[:70]:<72} page {first_page[s.key]}" for s in sections]
        blocks.append(monospace("\n".join(rows), 8.5))
        blocks += self.gap_summary(shown)
        return Section("", "", blocks)

    def gap_summary(self, shown):
        if not self.gaps:
            return [paragraph("Nothing is missing.", 10, space_before=14)]
        lines = [f"{where(g)}: {g.what}" for g in unique(self.gaps)]
        text = "\n".join(f"- {line}" for line in lines[:shown])
        if len(lines) > shown:
            text += f"\n- ... and {len(lines) - shown} more (see their pages)"
        return [paragraph(f"Missing ({len(lines)}): each page says what is missing and how to "
                          "make it.", 10, RED, bold=True, space_before=14),
                paragraph(text, 8.5, RED)]

    def sections(self):
        """The section of every question (and of the appendix), in order; collects the
        gaps and notes on the way."""
        questions = (*QUESTIONS, *APPENDIX) if self.inputs.appendix else QUESTIONS
        if any(self.terminal_output(part) for part in TERMINAL_OUTPUTS):
            questions = (*questions, TERMINAL)
        return [self.section(q) for q in questions]

    def terminal_output(self, part):
        """The saved terminal output of python_backup/<part>.py, or None."""
        path = self.kit / TERMINAL_OUTPUTS[part]
        return path if path.is_file() else None

    def build(self, output):
        """Write the PDF to `output`; returns the number of pages."""
        if not self.name:
            self.gaps.append(self.name_gap)
        sections = self.sections()
        pages = paginate(sections, first_number=2)
        for shown in range(len(self.gaps), -1, -1):  # as many gaps as fit on the title page
            title = paginate([self.title_section(sections, pages, shown)])
            if len(title) == 1:
                break
        title[0].number = 1
        all_pages = [title[0], *pages]
        write_pdf(all_pages, output, footer=TITLE, title=TITLE,
                  subject=f"built on {date.today()} by python -m handin.writeup")
        return len(all_pages)


def where(gap):
    return "title page" if gap.question == "title" else gap.question


def unique(gaps):
    """Gaps with the same text once each, naming every page they are on (a notebook
    without outputs is missing on three pages)."""
    merged = {}
    for gap in gaps:
        key = (gap.what, gap.fix)
        if key in merged:
            merged[key] = Gap(f"{merged[key].question}, {gap.question}", gap.what, gap.fix)
        else:
            merged[key] = gap
    return list(merged.values())


def markdown_blocks(text):
    """Markdown text (an answer) as blocks: paragraphs, list items, headings, code."""
    blocks = []
    for kind, piece in parts.markdown_pieces(text):
        if kind == "code":
            blocks.append(monospace(piece, 8))
        elif kind == "h":
            blocks.append(heading(piece, 10.5, space_before=8))
        elif kind == "li":
            blocks.append(paragraph(piece, 10, indent=10, space_before=2))
        else:
            blocks.append(paragraph(piece, 10))
    return blocks


# ---- what each question shows ----------------------------------------------------------

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
        return [w.missing(question, what, "write it") if required
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
    blocks.append(code_lines(parts.numbered(definition.lines, definition.first_line)))
    return blocks


def whole_file(path, label):
    text = path.read_text(encoding="utf-8", errors="replace")
    return [heading(label, 10), code_lines(parts.numbered(text.splitlines()))]


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
        image = parts.picture_from_file(path)
    except ValueError as err:
        return [w.missing(question, f"{label} is {err}", "save the drawing as PNG or JPG")]
    return [Picture(image, f"The drawing of f4's graph ({label})", max_height=440)]


def show_run(config):
    def show(w, question):
        folder = w.runs / config
        blocks = test_blocks(w, question, folder) if config == "best" else []
        summary, problem = parts.read_json(folder / "summary.json")
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
                       monospace(parts.table([(k, parts.fmt(v)) for k, v in hyper.items()]),
                                 8.5)]
        else:
            blocks.append(w.missing(question, f"{w.rel(folder / 'summary.json')} lists no "
                                    "hyperparameters", config))
        return blocks
    return show


def test_blocks(w, question, folder):
    """The final test accuracy of the best run (test.py's JSON), checked against the
    checkpoint it was computed from."""
    path = folder / "test.json"
    result, problem = parts.read_json(path)
    if result is None:
        return [w.missing(question, f"the test accuracy: {w.rel(path)} {problem}", "test")]
    accuracy = parts.fraction(result.get("test_accuracy"))
    if accuracy is None:
        return [w.missing(question, f"{w.rel(path)} has no test_accuracy in [0, 1]", "test")]
    blocks = []
    checkpoint = folder / "checkpoint.npz"
    recorded = result.get("checkpoint_sha256")
    if recorded and checkpoint.is_file() and parts.file_sha256(checkpoint) != recorded:
        blocks.append(w.missing(question, f"{w.rel(path)} was computed on another model than "
                                f"{w.rel(checkpoint)} (trained again since?)", "test"))
    count = result.get("num_test")
    images = f" on {count:,} test images" if isinstance(count, int) else ""
    blocks.insert(0, paragraph(f"Final test accuracy: {parts.pct(accuracy)}{images} "
                               "(neuralnet/test.py)", 12, bold=True, space_before=8))
    return blocks


def run_results(w, question, config, summary):
    train = parts.fraction(summary.get("final_train_accuracy"))
    val = parts.fraction(summary.get("final_val_accuracy"))
    rows = []
    if train is not None:
        rows.append(("final training accuracy", parts.pct(train)))
    if val is not None:
        rows.append(("final validation accuracy", parts.pct(val)))
    if config == "overfit" and train is not None and val is not None:
        rows.append(("training - validation", parts.pct(train - val)))
    if isinstance(summary.get("train_seconds"), (int, float)):
        rows.append(("training time", f"{summary['train_seconds']:.1f} s"))
    blocks = [heading(f"Results of train.py --config {config}", 10),
              monospace(parts.table(rows), 8.5)] if rows else []
    if config == "overfit" and train is not None and train < OVERFIT_TARGET:
        blocks.append(w.remark(question, f"training accuracy {parts.pct(train)} is below the "
                                         f"homework's {OVERFIT_TARGET:.0%}"))
    if config == "best" and val is not None and val < BEST_VAL_TARGET:
        blocks.append(w.remark(question, f"validation accuracy {parts.pct(val)} is below the "
                                         f"homework's {BEST_VAL_TARGET:.0%}"))
    return blocks


def plot_blocks(w, question, folder, summary, config):
    candidates = [folder / "plot.png", folder / "plot.jpg"]
    if isinstance(summary.get("plot_file"), str):
        candidates.append(Path(summary["plot_file"]))
    path = next((p for p in candidates if p.suffix.lower() in (".png", ".jpg", ".jpeg")
                 and p.is_file()), None)
    if path is None:
        return [w.missing(question, f"the training plot: no {w.rel(folder / 'plot.png')}",
                          config)]
    try:
        image = parts.picture_from_file(path)
    except ValueError as err:
        return [w.missing(question, f"{w.rel(path)} is {err}", config)]
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
        blocks.append(Text([Line(parts.cell_label(cell, number), 8, mono=True, bold=True)], 8))
        blocks.append(code_lines(parts.numbered(nbread.as_text(cell.get("source"))
                                                .splitlines())))
        outputs = parts.shortened(parts.cell_text_outputs(cell))
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
        lines = parts.terminal_lines(path.read_text(encoding="utf-8", errors="replace"))
        blocks += [heading(f"python python_backup/{part}.py ({w.rel(path)})", 10),
                   monospace("\n".join(parts.shortened(lines, MAX_TERMINAL_LINES)), 7)]
        for figure in SCRIPT_FIGURES[part]:
            if (w.kit / figure).is_file():
                try:
                    blocks.append(Picture(parts.picture_from_file(w.kit / figure), figure))
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
              code_lines(parts.numbered(nbread.as_text(cell.get("source")).splitlines()))]
    output = parts.cell_text_outputs(cell)
    if not output:
        return blocks + [w.missing(question, f"{title}: {where} shows no output", part)]
    return blocks + [monospace("\n".join(output), 7.5, color=GREY, indent=30)]


def notebook_answer(w, question, book, role, part):
    """A markdown answer cell of the notebook (its prompt and the student's answer)."""
    cell = book.find(role)
    if cell is None:
        return []
    text = parts.without_comments(nbread.as_text(cell.get("source")))
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
    output = parts.cell_text_outputs(arch) if arch is not None else []
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
        image = parts.notebook_picture(pngs[0])
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
    blocks += [paragraph(f"Test accuracy: {parts.pct(value)}", 14, bold=True, space_before=10),
               paragraph(f"as printed by the evaluation cell of {w.rel(book.path)}:", 9, GREY),
               monospace(parts.strip_ansi(line), 9)]
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
            blocks += [heading(title, 10), code_lines(parts.numbered(
                nbread.as_text(cell.get("source")).splitlines()))]
        elif cell is not None and parts.cell_text_outputs(cell):
            blocks += [heading(title, 10), monospace("\n".join(
                parts.cell_text_outputs(cell)[:3]), 7.5, color=GREY)]
    for k, role in enumerate(P2_DISPLAYS, start=1):
        blocks += display_blocks(w, question, book, role, f"img{k}")
    return blocks + notebook_answer(w, question, book, P2_ANSWER, "part2")


def display_blocks(w, question, book, role, name):
    cell = book.find(role)
    if cell is None:
        return [w.missing(question, f"{w.rel(book.path)} has no cell showing {name}", "part2")]
    predictions = [(line.strip(), found) for line in parts.cell_text_outputs(cell)
                   for found in [nbread.prediction(line)] if found]
    blocks = [heading(f"{name}: predicted class '{predictions[0][1][0]}' "
                      f"({parts.pct(predictions[0][1][1])})" if predictions
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
        return [Picture(parts.notebook_picture(pngs[0]), max_height=250)]
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


def stray_answers(w):
    """Text under headings of writeup.md that name no question (it would be lost)."""
    for title in w.answers.stray:
        w.gaps.append(Gap("title", f"{ANSWERS_FILE}: the text under '## {title}' belongs to "
                                   "no question, so it is not in the PDF",
                          "start the heading with the question's number, e.g. '## 4.2 ...'"))
    if w.answers.problem:
        what, fix = w.answers.problem
        w.gaps.append(Gap("title", f"{ANSWERS_FILE}: {what}", fix))


# ---- writeup.md template -----------------------------------------------------------------

TEMPLATE_HEAD = """# Homework 4 write-up: your answers

Name:
Uniqname:

Write your answers under the questions below, in your own words, and keep the number at the
start of each heading: `make writeup` (or `python -m handin.writeup`) builds writeup.pdf,
one question per page, with your answer under the code, plots and numbers that it takes
from your own files, runs and notebooks. Text inside <!-- --> is a prompt: it is not
printed. Every answer here is optional; what the homework asks for is printed at the top of
each question's page.
"""


def template():
    """The writeup.md the kit ships: a heading and a prompt per question, no answers."""
    text = [TEMPLATE_HEAD]
    for q in QUESTIONS:
        prompt = textwrap.fill(f"<!-- {q.prompt} -->", 92, break_on_hyphens=False)
        text.append(f"\n## {q.key} {q.title}\n{prompt}\n")
    return "".join(text)


# ---- command line --------------------------------------------------------------------------

def report_gaps(w, out):
    if w.gaps:
        gaps = unique(w.gaps)
        print(f"\nMissing ({len(gaps)}): each is named on its page with the command that makes "
              "it.", file=out)
        for gap in gaps:
            print(f"  {where(gap)}: {gap.what}\n      -> {gap.fix}", file=out)
    else:
        print("Nothing is missing.", file=out)
    if w.notes:
        print("Notes:", file=out)
    for text in dict.fromkeys(w.notes):
        print(f"  {text}", file=out)


def build(inputs, output):
    """Write the write-up of `inputs` (an Inputs) to `output`; returns the Writeup, whose
    .gaps and .notes say what is missing and .pages how many pages it has."""
    w = Writeup(inputs)
    w.pages = w.build(output)
    return w


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m handin.writeup", description="Build writeup.pdf, the homework's "
        "write-up, from your code, runs, notebooks and writeup.md (offline).")
    parser.add_argument("--kit", type=Path, default=KIT,
                        help="the kit folder (default: the one this file is in)")
    parser.add_argument("--output", type=Path, help="the PDF to write (default: writeup.pdf "
                        "in the kit folder)")
    parser.add_argument("--part1", type=Path, help="your executed part1.ipynb (default: "
                        "part1.ipynb in the kit folder)")
    parser.add_argument("--part2", type=Path, help="your executed part2.ipynb (default: "
                        "part2.ipynb in the kit folder)")
    parser.add_argument("--runs", type=Path, help=f"folder with best/ and overfit/ from "
                        f"train.py (default: {RUNS_DIR})")
    parser.add_argument("--answers", type=Path, help=f"your answers (default: {ANSWERS_FILE})")
    parser.add_argument("--f4-picture", type=Path, help="your drawing of f4's graph (default: "
                        f"the first of {', '.join(F4_PICTURES)} that exists)")
    parser.add_argument("--no-appendix", action="store_true",
                        help="leave out the appendix (the graded .py files in full, "
                             "part2.ipynb's code)")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 when anything is missing")
    parser.add_argument("--template", action="store_true",
                        help=f"print the empty {ANSWERS_FILE} (one heading per question) and "
                             "exit")
    return parser.parse_args(argv)


def main(argv=None, out=None):
    out = out or sys.stdout
    args = parse_args(argv)
    if args.template:
        print(template(), end="", file=out)
        return 0
    inputs = Inputs(kit=args.kit, runs=args.runs, part1=args.part1, part2=args.part2,
                    answers=args.answers, f4_picture=args.f4_picture,
                    appendix=not args.no_appendix)
    output = args.output or Path(args.kit) / "writeup.pdf"
    try:
        w = build(inputs, output)
    except OSError as err:
        print(f"writeup: could not write {output}: {err}", file=sys.stderr)
        return 2
    print(f"writeup: wrote {output} ({w.pages} pages)", file=out)
    report_gaps(w, out)
    if w.gaps and args.strict:
        print(f"writeup: --strict: {len(unique(w.gaps))} missing item(s)", file=out)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
