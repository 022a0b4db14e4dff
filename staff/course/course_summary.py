"""The course-level outputs of grade_all.py: gradebook CSVs and the summary page.

One Row per student. The gradebook (gradebook.csv, every row) starts with the columns
Canvas's gradebook import reads (Student, ID, SIS User ID, SIS Login ID, Section, then the
assignment's column), followed by each test's points and the flags. canvas_import.csv
holds only the Canvas columns and only the settled rows: a row that failed to grade, needs
a person (include_flagged adds those that have a score) or has no Canvas id is left out,
and listed. Canvas matches the score column to an assignment by its header, "Name (id)"
(e.g. "Homework 4 (12345)"); a header without the id makes Canvas create a new assignment.
Every text cell that a spreadsheet would read as a formula (it starts with =, +, -, @, a tab
or a carriage return) is written with a leading single quote (OWASP's CSV injection advice);
numbers stay numbers.

The summary page (summary.html) is a single file with its images embedded: warnings
(grading without isolation, the Canvas column, a similarity report that did not finish),
score histogram, pass rate of every test among the gradable submissions (lowest first) with
the grader's most common reasons for its failures, every flagged row with its reasons, the
slowest, and the similarity leads. Students who share a name are shown with their Canvas id.
A Gradescope "Download Grades" export can be read into the same Rows (read_gradescope_csv).
"""

import base64
import collections
import csv
import html
import io
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
DEFAULT_ASSIGNMENT = "Homework 4"
ASSIGNMENT_RE = re.compile(r"^(?P<title>.*\S)\s*\((?P<id>\d+)\)$")  # Canvas's "Name (id)"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SLOWEST = 10
COMMON_REASONS = 3  # reasons shown per test
REFERENCE_KEY = "@reference"  # similarity keys that no student's key can be (slugs hold no @)
PREVIOUS_KEY = "@previous/"
LEADS_FILE = "leads.json"  # what the similarity report writes in its folder
LEAD_WARNING = (
    "A similar pair is a lead for a person to read, never a verdict. The homework fixes the "
    "graph of f1-f3 and the shape of most functions, so honest solutions share code; the "
    "starter kit is discounted, nothing else is. Read the side-by-side report before "
    "talking to anyone."
)


@dataclass
class Pair:
    """Two files of a similarity lead (staff/course/similarity.py)."""

    a: str  # a student's key
    b: str  # another student's key, REFERENCE_KEY, or PREVIOUS_KEY + a previous submission
    file: str  # the graded file compared
    similarity_a: float  # fraction of a's fingerprinted code found in b
    similarity_b: float
    overlap: int  # shared filtered characters
    report: str = ""  # side-by-side report, relative to the similarity folder
    note: str = ""  # e.g. that a's file holds the reference's solution markers

    @property
    def similarity(self):
        return max(self.similarity_a, self.similarity_b)

    def sort_key(self):
        return (-round(self.similarity, 6), -self.overlap, self.file, self.a, self.b)


@dataclass
class Leads:
    """The similarity report's result (similarity.py)."""

    pairs: list  # similarity.Pair, most similar first
    estimated: int  # pairs estimated above the threshold in all
    threshold: float
    seconds: float
    problem: str = ""  # why there are no leads (it timed out or failed); "" if it finished
    previous: int = 0  # previous terms' submissions compared
    notes: list = field(default_factory=list)


@dataclass
class CanvasImport:
    """What went into canvas_import.csv."""

    column: str  # the score column's header
    exported: int  # rows written
    left_out: list  # (Row, why) of the rows left out
    include_flagged: bool = False


@dataclass
class Row:
    """One student's line of the gradebook."""

    student: str  # unique key (results/<student>.json)
    name: str  # what Canvas's "Student" column shows
    user_id: str = ""  # Canvas ID
    sis_user_id: str = ""
    sis_login: str = ""
    section: str = ""
    source: str = "grade-all"  # or "Gradescope"
    file: str = ""  # what was graded
    older: str = ""  # older uploads, not graded
    score: float | None = None  # None: not graded (failed or no submission)
    max_score: float | None = None
    tests: dict = field(default_factory=dict)  # test name -> (score, max_score)
    failures: dict = field(default_factory=dict)  # test name -> the grader's reason
    late: bool = False
    resubmitted: bool = False
    layout: str = ""  # layout mistakes; empty when none
    sandbox: str = ""  # how grade.py isolated the student code
    needs_person: list = field(default_factory=list)  # why a person should look
    failed: str = ""  # why it could not be graded; empty when it was
    notes: list = field(default_factory=list)
    seconds: float | None = None
    cached: bool = False  # results reused from an earlier run
    results: str = ""  # path of results.json, relative to the output folder

    def flag(self, reason):
        """Ask for a person, with the reason."""
        if reason not in self.needs_person:
            self.needs_person.append(reason)

    def fail(self, reason):
        """Not graded: no score, a person must look."""
        self.failed, self.score = reason, None
        self.flag(reason)


def yes(value):
    return "yes" if value else ""


def spreadsheet_safe(value):
    """A CSV cell: numbers as numbers; text that a spreadsheet would run as a formula gets a
    leading single quote (OWASP's CSV injection advice)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes(value)
    if isinstance(value, (int, float)):
        return f"{value:g}"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def test_columns(rows):
    """Test names with their max points, in the order the results list them."""
    columns = {}
    for row in rows:
        for name, (_, max_score) in row.tests.items():
            columns.setdefault(name, max_score)
    return columns


def canvas_cells(row, assignment):
    return {"Student": row.name, "ID": row.user_id, "SIS User ID": row.sis_user_id,
            "SIS Login ID": row.sis_login, "Section": row.section, assignment: row.score}


def gradebook_cells(row, assignment, tests, canvas_status):
    """dict column -> value of the full gradebook."""
    cells = canvas_cells(row, assignment)
    cells["Max points"] = row.max_score
    for name, max_score in tests.items():
        cells[f"{name} ({max_score:g} pts)"] = row.tests.get(name, (None, max_score))[0]
    cells.update({
        "In Canvas import": canvas_status,
        "Late": row.late, "Resubmitted": row.resubmitted,
        "Layout mistake": row.layout, "Sandbox": row.sandbox,
        "Needs a person": "; ".join(row.needs_person), "Failed to grade": row.failed,
        "Graded file": row.file, "Older files": row.older, "Notes": "; ".join(row.notes),
        "Seconds": None if row.seconds is None else round(row.seconds, 1),
        "Source": row.source, "Results": row.results,
    })
    return cells


def write_csv(path, header, records):
    """Write the records (dicts column -> value), every cell made spreadsheet-safe."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([spreadsheet_safe(h) for h in header])
        for record in records:
            writer.writerow([spreadsheet_safe(record.get(h)) for h in header])


def left_out_reason(row, include_flagged=False):
    """Why a row stays out of canvas_import.csv ("" if it goes in)."""
    if row.failed or row.score is None:
        return "failed to grade: " + (row.failed or "no score")
    if row.needs_person and not include_flagged:
        return "needs a person: " + "; ".join(row.needs_person)
    if not row.user_id:
        return "no Canvas id (" + ("a Gradescope row" if row.source == "Gradescope" else
                                   "the upload's name is not Canvas's") + "): enter it by hand"
    return ""


def assignment_column(title, assignment_id=None):
    """
    The score column's header, Canvas's "Name (id)" ("Homework 4 (12345)"), from a title that
    may already end with the id, and an id. ValueError if the two ids disagree.
    """
    match = ASSIGNMENT_RE.match(title.strip())
    if assignment_id is None:
        return title.strip()
    if match and match.group("id") != str(assignment_id):
        raise ValueError(f"the assignment '{title}' names id {match.group('id')}, but "
                         f"--assignment-id is {assignment_id}: give one of them")
    return f"{match.group('title') if match else title.strip()} ({assignment_id})"


def has_assignment_id(column):
    return bool(ASSIGNMENT_RE.match(column))


def write_gradebooks(rows, out_dir, assignment=DEFAULT_ASSIGNMENT, include_flagged=False):
    """
    Write gradebook.csv (every row) and canvas_import.csv (Canvas's columns, the rows that
    need no person: left_out_reason). Returns a CanvasImport.
    """
    tests = test_columns(rows)
    reasons = [left_out_reason(row, include_flagged) for row in rows]
    ids = collections.Counter(row.user_id for row, reason in zip(rows, reasons, strict=True)
                              if not reason)
    reasons = [reason or (f"Canvas id {row.user_id} is in {ids[row.user_id]} rows: enter the "
                          "right one by hand" if ids[row.user_id] > 1 else "")
               for row, reason in zip(rows, reasons, strict=True)]
    full = [gradebook_cells(row, assignment, tests, reason or "yes")
            for row, reason in zip(rows, reasons, strict=True)]
    header = list(full[0]) if full else [*CANVAS_COLUMNS, assignment]
    write_csv(Path(out_dir) / "gradebook.csv", header, full)
    exported = [canvas_cells(row, assignment) for row, reason in zip(rows, reasons, strict=True)
                if not reason]
    write_csv(Path(out_dir) / "canvas_import.csv", [*CANVAS_COLUMNS, assignment], exported)
    left_out = [(row, reason) for row, reason in zip(rows, reasons, strict=True) if reason]
    return CanvasImport(assignment, len(exported), left_out, include_flagged)


def read_roster(path):
    """Canvas gradebook export -> list of dicts with the five Canvas identity columns."""
    records = read_csv(path)
    missing = [c for c in ("Student", "ID") if records and c not in records[0]]
    if missing:
        raise ValueError(f"{path}: no {', '.join(missing)} column; export the gradebook from "
                         "Canvas (Grades > Export) and pass that file")
    return [{c: (r.get(c) or "").strip() for c in CANVAS_COLUMNS} for r in records
            if (r.get("Student") or "").strip() and "Points Possible" not in r["Student"]]


QUESTION_RE = re.compile(r"^(?P<title>.+?)\s*\((?P<points>\d+(?:\.\d+)?)\s*pts?\)\s*$")


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def gradescope_row(record, questions):
    """A Row from one line of Gradescope's Download Grades CSV."""
    name = record.get("Name") or " ".join(
        part for part in (record.get("First Name"), record.get("Last Name")) if part)
    login = record.get("Email") or record.get("SID") or name
    row = Row(student=login, name=name or login, sis_user_id=record.get("SID") or "",
              sis_login=record.get("Email") or "", source="Gradescope")
    status = (record.get("Status") or "").strip()
    row.score, row.max_score = number(record.get("Total Score")), number(record.get("Max Points"))
    lateness = (record.get("Lateness (H:M:S)") or "").strip()
    row.late = bool(lateness) and lateness.strip("0:") != ""
    if status and status.lower() != "graded":
        row.fail(f"Gradescope status: {status}")
    for column, max_score in questions.items():
        score = number(record.get(column))
        if score is not None:
            row.tests[column] = (score, max_score)
    return row


def roster_assignments(path):
    """The assignment columns ("Name (id)") of a Canvas gradebook export, in its order."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), [])
    return [column.strip() for column in header if ASSIGNMENT_RE.match(column.strip())]


def read_csv(path):
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def read_gradescope_csv(path):
    """Rows from a Gradescope 'Download Grades' CSV (one per student, questions as tests)."""
    records = read_csv(path)
    header = list(records[0]) if records else []
    if "Total Score" not in header:
        raise ValueError(f"{path}: no 'Total Score' column; use Gradescope's Assignment > "
                         "Review Grades > Download Grades (CSV)")
    questions = {}
    for column in header:
        match = QUESTION_RE.match(column)
        if match:
            questions[column] = float(match.group("points"))
    return [gradescope_row(record, questions) for record in records]


def merge_rows(local, imported):
    """Both lists; a student in both keeps both rows, each flagged for a person."""
    names = {row.name.lower(): row for row in local}
    for row in imported:
        twin = names.get(row.name.lower())
        if twin is not None:
            reason = f"graded here ({twin.score}) and on Gradescope ({row.score})"
            twin.flag(reason)
            row.flag(reason)
    return local + imported


def histogram_png(scores, max_score):
    """Base64 PNG of the score histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
    top = max_score or max(scores or [1])
    ax.hist(scores, bins=20, range=(0, top), color="#4c72b0", edgecolor="white")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"score (out of {top:g})")
    ax.set_ylabel("students")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


WHERE_RE = re.compile(r" \(at [^ ]+ line \d+: .*$")  # the student's line: differs per student
NUMBER_RE = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])")


def common_reason(message):
    """A grader's message without what differs from student to student (line, numbers)."""
    text = WHERE_RE.sub("", str(message).strip().splitlines()[0] if message else "")
    return NUMBER_RE.sub("#", text)[:200] or "no reason given"


@dataclass
class TestStats:
    name: str
    max_score: float
    rate: float  # fraction of the gradable submissions with full points
    mean: float
    count: int
    reasons: list  # [(reason, how many)] most common first


def gradable(row):
    """A row whose submission was graded (a score, and nothing failed)."""
    return row.score is not None and not row.failed


def pass_rates(rows):
    """TestStats of every test over the gradable rows, lowest pass rate first."""
    scores, reasons = {}, {}
    for row in filter(gradable, rows):
        for name, (score, max_score) in row.tests.items():
            scores.setdefault(name, [max_score, []])[1].append(score)
            if score < max_score:
                reason = common_reason(row.failures.get(name, ""))
                counts = reasons.setdefault(name, {})
                counts[reason] = counts.get(reason, 0) + 1
    table = [TestStats(name, max_score, sum(s >= max_score for s in values) / len(values),
                       statistics.fmean(values), len(values),
                       sorted(reasons.get(name, {}).items(), key=lambda i: (-i[1], i[0])))
             for name, (max_score, values) in scores.items()]
    return sorted(table, key=lambda t: (t.rate, t.name))


def esc(value):
    return html.escape(str(value))


def table(header, lines):
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in line) + "</tr>"
                   for line in lines)
    return f"<table><tr>{head}</tr>{body}</table>" if lines else "<p>None.</p>"


def display_names(rows):
    """dict student key -> the name shown: the Canvas name, with the Canvas id (else the
    key) when several students share it."""
    counts = collections.Counter(row.name for row in rows)
    return {row.student: row.name if counts[row.name] == 1 else
            f"{row.name} ({row.user_id or row.student})" for row in rows}


def overview(rows, canvas):
    graded = [r.score for r in rows if gradable(r)]
    parts = [f"{len(rows)} students", f"{len(graded)} graded",
             f"{sum(1 for r in rows if r.failed)} failed to grade",
             f"{sum(1 for r in rows if r.needs_person)} need a person"]
    if canvas is not None:
        parts.append(f"{canvas.exported} in canvas_import.csv, {len(canvas.left_out)} left out")
    if graded:
        parts += [f"mean {statistics.fmean(graded):.1f}", f"median {statistics.median(graded):g}"]
    return "<p>" + " &middot; ".join(parts) + "</p>"


def section_notices(notices):
    return "".join(f'<p class="warn">{esc(notice)}</p>' for notice in notices)


def section_tests(rows):
    lines = []
    for t in pass_rates(rows):
        reasons = "<br>".join(f"{count}&times; {esc(reason)}"
                              for reason, count in t.reasons[:COMMON_REASONS])
        lines.append((esc(t.name), f"{t.max_score:g}", f"{t.rate:.0%}", f"{t.mean:.2f}",
                      t.count, reasons))
    return ("<h2>Pass rate of every test (lowest first)</h2><p>Full points on the test, "
            "among the submissions that could be graded (unreadable uploads and failures to "
            "grade are not counted), with the grader's most common reasons for the failures: "
            "the top of this table is what the next lecture should revisit.</p>"
            + table(("test", "points", "full points", "mean points", "graded",
                     "most common reasons it failed"), lines))


def link(row, names):
    shown = esc(names.get(row.student, row.name))
    return f'<a href="{esc(row.results)}">{shown}</a>' if row.results else shown


def flags_of(row):
    """[(flag, why)] of a row: everything a person may want to see."""
    flags = []
    if row.failed:
        flags.append(("failed to grade", row.failed))
    flags += [("needs a person", reason) for reason in row.needs_person if reason != row.failed]
    said = " ".join(row.needs_person)
    layout = [part for part in row.layout.split("; ") if part and part not in said]
    if layout:
        flags.append(("layout", "; ".join(layout)))
    if row.late:
        flags.append(("late", "Canvas marked the submission late"))
    if row.resubmitted:
        flags.append(("resubmitted", "older upload(s) not graded: " + row.older if row.older
                      else "uploaded again (Canvas numbered the file)"))
    return flags


def section_flagged(rows, names, canvas):
    left_out = {id(row) for row, _ in canvas.left_out} if canvas else set()
    lines = []
    for row in rows:
        flags = flags_of(row)
        if not flags:
            continue
        why = "<br>".join(f"<b>{esc(flag)}</b>: {esc(reason)}" for flag, reason in flags)
        lines.append((link(row, names), "" if row.score is None else f"{row.score:g}",
                      "left out" if id(row) in left_out else "yes", why))
    return ("<h2>Flagged rows</h2><p>Every row that failed to grade, needs a person, had its "
            "layout repaired or noted, was late or resubmitted, with the reasons. Rows that "
            "failed or need a person are left out of canvas_import.csv until a person "
            "settles them.</p>"
            + table(("student", "score", "in Canvas import", "flags and reasons"), lines))


def section_canvas(canvas, names):
    if canvas is None:
        return ""
    lines = [(esc(names.get(row.student, row.name)), esc(row.user_id), esc(reason))
             for row, reason in canvas.left_out]
    flagged = (" Flagged rows with a score are included (--include-flagged)."
               if canvas.include_flagged else "")
    return (f"<h2>Canvas import</h2><p>canvas_import.csv: {canvas.exported} row(s) under the "
            f"column <code>{esc(canvas.column)}</code>.{flagged} Left out:</p>"
            + table(("student", "Canvas id", "why"), lines))


def section_slowest(rows, names):
    timed = sorted((r for r in rows if r.seconds is not None), key=lambda r: -r.seconds)
    slow = [(link(r, names), f"{r.seconds:.1f} s", esc(r.file)) for r in timed[:SLOWEST]]
    return (f"<h2>Slowest {SLOWEST} submissions</h2>"
            + table(("student", "grading time", "file"), slow))


def pair_side(key, names):
    """How a side of a similarity pair is shown."""
    if key == REFERENCE_KEY:
        return "the reference solution"
    if key.startswith(PREVIOUS_KEY):
        return "previous term: " + key.removeprefix(PREVIOUS_KEY)
    return names.get(key, key)


def section_similarity(leads, names):
    if leads is None:
        return ""
    head = f"<h2>Similar files (above {leads.threshold:.0%})</h2>"
    if leads.problem:
        return head + f'<p class="warn">No similarity leads: {esc(leads.problem)}</p>'
    lines = []
    for rank, pair in enumerate(leads.pairs, start=1):
        report = f'<a href="{esc(pair.report)}">side by side</a>' if pair.report else ""
        lines.append((rank, esc(pair.file), esc(pair_side(pair.a, names)),
                      esc(pair_side(pair.b, names)), f"{pair.similarity_a:.0%}",
                      f"{pair.similarity_b:.0%}", pair.overlap, esc(pair.note), report))
    previous = (f", with the reference solution and with {leads.previous} submission(s) of "
                "previous terms" if leads.previous else ", and with the reference solution")
    return (head + f'<p class="warn">{esc(LEAD_WARNING)}</p>'
            + "".join(f'<p class="warn">{esc(note)}</p>' for note in leads.notes)
            + f"<p>Each graded file is compared on its own across the students{previous}. "
            f"{leads.estimated} pair(s) of files share more than {leads.threshold:.0%} of one "
            f"side's code (estimated from shared fingerprints); the {len(leads.pairs)} listed "
            "are the most similar, compared by copydetect, and every file holding the "
            "reference's solution markers. Lines of the starter kit are left out of the "
            f"comparison and of the side-by-side reports ({leads.seconds:.1f} s).</p>"
            + table(("rank", "file", "student A", "B", "A found in B", "B found in A",
                     "shared characters", "note", "copydetect report"), lines))


STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
         "table{border-collapse:collapse;margin-bottom:1.5em}"
         "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:14px}"
         "th{background:#eee}.warn{background:#fff3cd;padding:.6em;border:1px solid #e0c36c}")


def write_summary(rows, path, title, leads=None, sources="", canvas=None, notices=()):
    """
    Write the summary page (one self-contained HTML file) to `path`.

    Inputs:
    - rows: the Rows; leads: the similarity Leads (None: not run)
    - canvas: the CanvasImport written (None: none); notices: warnings shown first
    """
    graded = [r for r in rows if gradable(r)]
    max_score = max((r.max_score or 0 for r in graded), default=0)
    image = histogram_png([r.score for r in graded], max_score) if graded else ""
    names = display_names(rows)
    body = (f"<h1>{esc(title)}</h1><p>{esc(sources)}</p>" + section_notices(notices)
            + overview(rows, canvas)
            + "<h2>Scores</h2>"
            + (f'<img alt="score histogram" src="data:image/png;base64,{image}">' if image
               else "<p>No graded submission.</p>")
            + '<p>Files: <a href="gradebook.csv">gradebook.csv</a>, '
              '<a href="canvas_import.csv">canvas_import.csv</a></p>'
            + section_canvas(canvas, names) + section_tests(rows)
            + section_flagged(rows, names, canvas) + section_slowest(rows, names)
            + section_similarity(leads, names))
    Path(path).write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
                          f"{esc(title)}</title><style>{STYLE}</style></head><body>{body}"
                          "</body></html>\n", encoding="utf-8")
