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
             `python neuralnet/test.py` (neuralnet/runs/best/test.json). A train.py without
             --config (written for the original starter, its settings in main()) saves
             its plot and checkpoint there with --plot-file and --checkpoint-file; the
             hyperparameters are then your answer under the question in writeup.md
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
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from handin import writeup_read as read
from handin.manifest import GRADED_FILES
from handin.writeup_pages import SHOW, markdown_blocks
from handin.writeup_pdf import (
    GREY,
    RED,
    Line,
    Section,
    Text,
    heading,
    missing,
    monospace,
    note,
    paginate,
    paragraph,
    write_pdf,
)
from handin.writeup_questions import (
    ANSWERS_FILE,
    APPENDIX,
    F4_PICTURES,
    FIXES,
    QUESTION_KEYS,
    QUESTIONS,
    RUNS_DIR,
    TERMINAL,
    TERMINAL_OUTPUTS,
    template,
)

KIT = Path(__file__).resolve().parents[1]
TITLE = "Homework 4 - Machine Learning: write-up"


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
        self.answers = read.read_answers(inputs.path("answers", ANSWERS_FILE),
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
            self._definitions[file] = read.python_definitions(self.kit / GRADED_FILES[file])
        return self._definitions[file]

    def notebook(self, part):
        if part not in self._notebooks:
            self._notebooks[part] = read.read_notebook(
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


def stray_answers(w):
    """Text under headings of writeup.md that name no question (it would be lost)."""
    for title in w.answers.stray:
        w.gaps.append(Gap("title", f"{ANSWERS_FILE}: the text under '## {title}' belongs to "
                                   "no question, so it is not in the PDF",
                          "start the heading with the question's number, e.g. '## 4.2 ...'"))
    if w.answers.problem:
        what, fix = w.answers.problem
        w.gaps.append(Gap("title", f"{ANSWERS_FILE}: {what}", fix))


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
                        help="the kit folder (default: the one holding this handin/)")
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
