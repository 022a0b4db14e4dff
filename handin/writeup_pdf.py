"""The pages of the write-up PDF, drawn with matplotlib (no LaTeX, nothing online).

A document is a list of Sections (one per question); each starts on a new page and holds
blocks laid out top to bottom: Text (lines of prose or monospace code, split across pages
line by line), Picture (an image array, never split) and PdfInsert (the pages of another
PDF, merged in with pypdf). `paginate` places the blocks on A4 pages, so that the title page
can list the page of every section before anything is drawn; `write_pdf` draws them.
Text stays text in the PDF (TrueType fonts), so it can be selected and searched.
"""

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402

plt.rcParams.update({"pdf.fonttype": 42, "ps.fonttype": 42})

PAGE_W, PAGE_H = 595.28, 841.89  # A4, in points
LEFT, RIGHT, TOP, BOTTOM = 50.0, 40.0, 44.0, 48.0
WIDTH = PAGE_W - LEFT - RIGHT
SANS, MONO = "DejaVu Sans", "DejaVu Sans Mono"
MONO_EM, SANS_EM = 0.602, 0.56  # glyph advance in ems (mono: exact; sans: a generous mean)
LINE_SPACING = 1.3
PICTURE_DPI = 150
CODE_SIZE = 7.6
WRAP_MARK = "\u21aa "  # starts the continuation of a wrapped code line
RED, GREY = "#b00020", "0.35"


@dataclass
class Line:
    text: str
    size: float = 10.0
    mono: bool = False
    bold: bool = False
    color: str = "black"
    indent: float = 0.0  # points from the left margin

    @property
    def height(self):
        return self.size * LINE_SPACING


@dataclass
class Text:
    lines: list
    space_before: float = 6.0


@dataclass
class Picture:
    image: np.ndarray  # (H, W) or (H, W, 3 or 4)
    caption: str = ""
    max_height: float = 330.0
    width: float = WIDTH
    size: tuple = (0.0, 0.0)  # (width, height) in points, set by the paginator


@dataclass
class PdfInsert:
    """The pages of the PDF at `path`, placed after the current page."""
    path: Path
    pages: int


@dataclass
class Section:
    key: str  # "4.2"; "" for the title page
    title: str
    blocks: list = field(default_factory=list)


@dataclass
class Page:
    section: Section
    continued: bool
    items: list = field(default_factory=list)  # (y from the top, Line or Picture)
    insert: tuple | None = None  # (path, page index): a page taken from another PDF
    number: int = 0


def columns(size, mono, width=WIDTH, indent=0.0):
    """Characters that fit on a line of `width` points at font `size`."""
    return max(20, int((width - indent) / (size * (MONO_EM if mono else SANS_EM))))


def paragraph(text, size=10.0, color="black", bold=False, indent=0.0, space_before=6.0):
    """Prose wrapped to the page width; blank lines of `text` separate paragraphs."""
    width = columns(size, False, indent=indent)
    lines = []
    for part in str(text).split("\n"):
        wrapped = textwrap.wrap(part, width, break_long_words=True, break_on_hyphens=False)
        lines += [Line(w, size, bold=bold, color=color, indent=indent) for w in wrapped or [""]]
    return Text(lines, space_before)


def heading(text, size=11.5, space_before=12.0):
    return paragraph(text, size, bold=True, space_before=space_before)


def wrap_code(text, width):
    """Split a code line into pieces of at most `width` characters; the continuations start
    with WRAP_MARK (so every character of the line is kept)."""
    text = text.expandtabs(4)
    pieces = [text[:width]]
    rest = text[width:]
    while rest:
        step = width - len(WRAP_MARK)
        pieces.append(WRAP_MARK + rest[:step])
        rest = rest[step:]
    return pieces


def code_lines(numbered, size=CODE_SIZE, color="black", number_width=4):
    """Monospace lines `numbered` [(line number or None, text)] as a Text block: each line
    with its number, long lines wrapped under it."""
    width = columns(size, True) - number_width - 2
    lines = []
    for number, text in numbered:
        label = f"{number:>{number_width}}  " if number is not None else " " * (number_width + 2)
        for k, piece in enumerate(wrap_code(text, width)):
            lines.append(Line((label if k == 0 else " " * len(label)) + piece, size, mono=True,
                              color=color))
    return Text(lines, space_before=4.0)


def monospace(text, size=CODE_SIZE, color="black", indent=0.0):
    """Text shown as it is (program output, tables), long lines wrapped."""
    width = columns(size, True, indent=indent)
    lines = [Line(piece, size, mono=True, color=color, indent=indent)
             for raw in str(text).splitlines() or [""] for piece in wrap_code(raw, width)]
    return Text(lines, space_before=4.0)


def missing(what, fix=""):
    """A red notice: what is missing and how to make it."""
    block = paragraph(f"MISSING: {what}", 10, RED, bold=True, space_before=8.0)
    if fix:
        block.lines += paragraph(f"How to make it: {fix}", 9, RED, indent=12).lines
    return block


def note(text):
    return paragraph(text, 9, GREY, space_before=5.0)


def picture_size(picture, room):
    """(width, height) in points of a picture scaled to the page width, its max_height and
    the `room` left."""
    h, w = picture.image.shape[:2]
    scale = min(picture.width / w, picture.max_height / h, room / h)
    return w * scale, h * scale


def caption_height(picture):
    return 14.0 if picture.caption else 0.0


class Paginator:
    """Places blocks on pages, top to bottom, opening a new page when one is full."""

    def __init__(self):
        self.pages = []
        self.y = self.top = 0.0  # where the next block goes; where the page's blocks start

    def new_page(self, section, continued):
        page = Page(section, continued)
        self.pages.append(page)
        self.y = TOP
        if section.key:  # the title page (no key) draws its own title
            text = f"{section.key}  {section.title}" + (" (continued)" if continued else "")
            title = paragraph(text, 10 if continued else 15, GREY if continued else "black",
                              bold=True)
            for line in title.lines:
                page.items.append((self.y, line))
                self.y += line.height
            self.y += 6
        self.top = self.y
        return page

    @property
    def room(self):
        return PAGE_H - BOTTOM - self.y

    def add_text(self, section, block):
        if self.y > self.top:
            self.y += block.space_before
        for line in block.lines:
            if line.height > self.room:
                self.new_page(section, continued=True)
            self.pages[-1].items.append((self.y, line))
            self.y += line.height

    def add_picture(self, section, picture):
        self.y += 6
        need = picture_size(picture, PAGE_H)[1] + caption_height(picture)
        if need > self.room and self.y > self.top + 6:
            self.new_page(section, continued=True)
        self.pages[-1].items.append((self.y, picture))
        picture.size = picture_size(picture, self.room - caption_height(picture))
        self.y += picture.size[1] + caption_height(picture)

    def add_insert(self, section, insert):
        for k in range(insert.pages):
            self.pages.append(Page(section, True, insert=(insert.path, k)))
        self.new_page(section, continued=True)

    def add_section(self, section):
        self.new_page(section, continued=False)
        for block in section.blocks:
            if isinstance(block, Text):
                self.add_text(section, block)
            elif isinstance(block, Picture):
                self.add_picture(section, block)
            else:
                self.add_insert(section, block)
        last = self.pages[-1]
        if last.continued and last.insert is None and self.y == self.top:
            self.pages.pop()  # an insert closed the section: no empty page after it


def paginate(sections, first_number=1):
    """The pages of `sections`, each starting on a new page, numbered from first_number."""
    paginator = Paginator()
    for section in sections:
        paginator.add_section(section)
    for number, page in enumerate(paginator.pages, start=first_number):
        page.number = number
    return paginator.pages


def draw_line(fig, y, line):
    fig.text((LEFT + line.indent) / PAGE_W, 1 - y / PAGE_H, line.text, fontsize=line.size,
             family=MONO if line.mono else SANS, weight="bold" if line.bold else "normal",
             color=line.color, va="top", ha="left", parse_math=False)


def draw_picture(fig, y, picture):
    width, height = picture.size
    x = LEFT + (WIDTH - width) / 2
    ax = fig.add_axes([x / PAGE_W, 1 - (y + height) / PAGE_H, width / PAGE_W, height / PAGE_H])
    ax.imshow(picture.image, cmap="gray" if picture.image.ndim == 2 else None,
              interpolation="antialiased", aspect="auto")
    ax.set_axis_off()
    if picture.caption:
        fig.text(0.5, 1 - (y + height + 3) / PAGE_H, picture.caption, fontsize=9, ha="center",
                 va="top", family=SANS, color=GREY, parse_math=False)


def draw_page(page, total, footer):
    fig = plt.figure(figsize=(PAGE_W / 72, PAGE_H / 72))
    for y, item in page.items:
        if isinstance(item, Line):
            draw_line(fig, y, item)
        else:
            draw_picture(fig, y, item)
    key = page.section.key
    where = "" if not key else f"{'question' if key[0].isdigit() else 'appendix'} {key}"
    fig.text(LEFT / PAGE_W, 22 / PAGE_H, f"{footer}   {where}".strip(), fontsize=7.5,
             color=GREY, family=SANS, parse_math=False)
    fig.text(1 - RIGHT / PAGE_W, 22 / PAGE_H, f"page {page.number} of {total}", fontsize=7.5,
             color=GREY, family=SANS, ha="right", parse_math=False)
    return fig


def write_pdf(pages, output, footer="", title="", subject=""):
    """Draw `pages` into the PDF `output` (written atomically); PdfInsert pages come from
    their own PDFs (pypdf). Returns the output path."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    drawn = output.with_name(output.name + ".part")
    with PdfPages(drawn) as pdf:
        for page in pages:
            if page.insert is None:
                fig = draw_page(page, len(pages), footer)
                pdf.savefig(fig, dpi=PICTURE_DPI)
                plt.close(fig)
        info = pdf.infodict()
        info["Title"], info["Subject"] = title, subject
    if any(page.insert for page in pages):
        merge_inserts(pages, drawn)
    drawn.replace(output)
    return output


def merge_inserts(pages, drawn):
    """Rewrite `drawn` (the matplotlib pages) with the inserted PDFs' pages in place."""
    from pypdf import PdfReader, PdfWriter

    drawn_reader = PdfReader(drawn)
    ours = iter(drawn_reader.pages)
    writer = PdfWriter()
    readers = {}
    for page in pages:
        if page.insert is None:
            writer.add_page(next(ours))
            continue
        path, index = page.insert
        reader = readers.setdefault(path, PdfReader(path))
        added = writer.add_page(reader.pages[index])
        scale = min(PAGE_W / float(added.mediabox.width), PAGE_H / float(added.mediabox.height))
        if scale < 1:
            added.scale_by(scale)
    writer.add_metadata(dict(drawn_reader.metadata or {}))
    merged = drawn.with_name(drawn.name + ".merged")
    with open(merged, "wb") as out:
        writer.write(out)
    merged.replace(drawn)


def pdf_page_count(path):
    """Pages of the PDF at `path`; raises ImportError without pypdf, ValueError if broken."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(path)
        for page in reader.pages:  # what merging will need: each page and its size
            float(page.mediabox.width)
        return len(reader.pages)
    except (PyPdfError, OSError, KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{path} is not a readable PDF ({err})") from None
