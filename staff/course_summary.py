"""The course-level outputs of grade_all.py: gradebook CSVs and the summary page.

One Row per student. The gradebook (gradebook.csv) starts with the columns Canvas's
gradebook import reads (Student, ID, SIS User ID, SIS Login ID, Section, then the
assignment's column), followed by each test's points and the flags. canvas_import.csv
holds only the Canvas columns: Canvas offers to create a new assignment for every column
it does not know, so that file imports in one step. The summary page (summary.html) is a
single file with its images embedded: score histogram, pass rate of every test (lowest
first), the submissions that need a person, failed to grade or were slowest, and the
similarity leads. A Gradescope "Download Grades" export can be read into the same Rows
(read_gradescope_csv).
"""

import base64
import csv
import html
import io
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
DEFAULT_ASSIGNMENT = "Homework 4"
SLOWEST = 10
LEAD_WARNING = (
    "A similar pair is a lead for a person to read, never a verdict. The homework fixes the "
    "graph of f1-f3 and the shape of most functions, so honest solutions share code; the "
    "starter kit is discounted, nothing else is. Read the side-by-side report before "
    "talking to anyone."
)


@dataclass
class Leads:
    """The similarity report's result (similarity.py)."""

    pairs: list  # similarity.Pair, most similar first
    estimated: int  # pairs estimated above the threshold in all
    threshold: float
    seconds: float


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
        self.failed = reason
        self.flag(reason)


def yes(value):
    return "yes" if value else ""


def test_columns(rows):
    """Test names with their max points, in the order the results list them."""
    columns = {}
    for row in rows:
        for name, (_, max_score) in row.tests.items():
            columns.setdefault(name, max_score)
    return columns


def canvas_cells(row, assignment):
    score = "" if row.score is None else f"{row.score:g}"
    return {"Student": row.name, "ID": row.user_id, "SIS User ID": row.sis_user_id,
            "SIS Login ID": row.sis_login, "Section": row.section, assignment: score}


def gradebook_cells(row, assignment, tests):
    """dict column -> cell of the full gradebook."""
    cells = canvas_cells(row, assignment)
    cells["Max points"] = "" if row.max_score is None else f"{row.max_score:g}"
    for name, max_score in tests.items():
        score = row.tests.get(name, (None, max_score))[0]
        cells[f"{name} ({max_score:g} pts)"] = "" if score is None else f"{score:g}"
    cells.update({
        "Late": yes(row.late), "Resubmitted": yes(row.resubmitted),
        "Layout mistake": row.layout, "Sandbox": row.sandbox,
        "Needs a person": "; ".join(row.needs_person), "Failed to grade": row.failed,
        "Graded file": row.file, "Older files": row.older, "Notes": "; ".join(row.notes),
        "Seconds": "" if row.seconds is None else f"{row.seconds:.1f}",
        "Source": row.source, "Results": row.results,
    })
    return cells


def write_csv(path, header, records):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(records)


def write_gradebooks(rows, out_dir, assignment=DEFAULT_ASSIGNMENT):
    """Write gradebook.csv (everything) and canvas_import.csv (Canvas's columns only)."""
    tests = test_columns(rows)
    full = [gradebook_cells(row, assignment, tests) for row in rows]
    header = list(full[0]) if full else [*CANVAS_COLUMNS, assignment]
    write_csv(Path(out_dir) / "gradebook.csv", header, full)
    write_csv(Path(out_dir) / "canvas_import.csv", [*CANVAS_COLUMNS, assignment],
              [canvas_cells(row, assignment) for row in rows])


def read_roster(path):
    """Canvas gradebook export -> list of dicts with the five Canvas identity columns."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        records = list(csv.DictReader(handle))
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
        row.score = None
    for column, max_score in questions.items():
        score = number(record.get(column))
        if score is not None:
            row.tests[column] = (score, max_score)
    return row


def read_gradescope_csv(path):
    """Rows from a Gradescope 'Download Grades' CSV (one per student, questions as tests)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        records = list(csv.DictReader(handle))
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


def pass_rates(rows):
    """[(test, max, pass rate, mean points, count)] over graded rows, lowest rate first."""
    stats = {}
    for row in rows:
        if row.score is None:
            continue
        for name, (score, max_score) in row.tests.items():
            stats.setdefault(name, [max_score, []])[1].append(score)
    table = [(name, max_score, sum(s >= max_score for s in scores) / len(scores),
              statistics.fmean(scores), len(scores))
             for name, (max_score, scores) in stats.items()]
    return sorted(table, key=lambda t: (t[2], t[0]))


def esc(value):
    return html.escape(str(value))


def table(header, lines):
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in line) + "</tr>"
                   for line in lines)
    return f"<table><tr>{head}</tr>{body}</table>" if lines else "<p>None.</p>"


def overview(rows):
    graded = [r.score for r in rows if r.score is not None]
    parts = [f"{len(rows)} students", f"{len(graded)} graded",
             f"{sum(1 for r in rows if r.failed)} failed to grade",
             f"{sum(1 for r in rows if r.needs_person)} need a person"]
    if graded:
        parts += [f"mean {statistics.fmean(graded):.1f}", f"median {statistics.median(graded):g}"]
    return "<p>" + " &middot; ".join(parts) + "</p>"


def section_tests(rows):
    lines = [(esc(name), f"{max_score:g}", f"{rate:.0%}", f"{mean:.2f}", count)
             for name, max_score, rate, mean, count in pass_rates(rows)]
    return ("<h2>Pass rate of every test (lowest first)</h2><p>Full points on the test, "
            "among graded submissions: the top of this table is what the next lecture "
            "should revisit.</p>"
            + table(("test", "points", "full points", "mean points", "graded"), lines))


def link(row):
    return f'<a href="{esc(row.results)}">{esc(row.name)}</a>' if row.results else esc(row.name)


def section_people(rows):
    failed = [(link(r), esc(r.file), esc(r.failed)) for r in rows if r.failed]
    flagged = [(link(r), "" if r.score is None else f"{r.score:g}", esc("; ".join(r.needs_person)))
               for r in rows if r.needs_person and not r.failed]
    timed = sorted((r for r in rows if r.seconds is not None), key=lambda r: -r.seconds)
    slow = [(link(r), f"{r.seconds:.1f} s", esc(r.file)) for r in timed[:SLOWEST]]
    return ("<h2>Failed to grade</h2>" + table(("student", "file", "why"), failed)
            + "<h2>Graded, but a person should look</h2>"
            + table(("student", "score", "why"), flagged)
            + f"<h2>Slowest {SLOWEST} submissions</h2>"
            + table(("student", "grading time", "file"), slow))


def section_similarity(leads, names):
    if leads is None:
        return ""
    lines = []
    for rank, pair in enumerate(leads.pairs, start=1):
        report = f'<a href="{esc(pair.report)}">side by side</a>' if pair.report else ""
        lines.append((rank, esc(names.get(pair.a, pair.a)), esc(names.get(pair.b, pair.b)),
                      f"{pair.similarity_a:.0%}", f"{pair.similarity_b:.0%}", pair.overlap,
                      report))
    return (f"<h2>Similar pairs (above {leads.threshold:.0%})</h2>"
            f'<p class="warn">{esc(LEAD_WARNING)}</p>'
            f"<p>{leads.estimated} pair(s) share more than {leads.threshold:.0%} of one "
            f"student's code (estimated from shared fingerprints); the {len(leads.pairs)} "
            "listed are the most similar, compared by copydetect. Lines of the starter kit "
            "are left out of the comparison and of the side-by-side reports.</p>"
            + table(("rank", "student A", "student B", "A found in B", "B found in A",
                     "shared characters", "copydetect report"), lines))


STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
         "table{border-collapse:collapse;margin-bottom:1.5em}"
         "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:14px}"
         "th{background:#eee}.warn{background:#fff3cd;padding:.6em;border:1px solid #e0c36c}")


def write_summary(rows, path, title, leads=None, sources=""):
    """Write the summary page (one self-contained HTML file) to `path`."""
    graded = [r for r in rows if r.score is not None]
    max_score = max((r.max_score or 0 for r in graded), default=0)
    image = histogram_png([r.score for r in graded], max_score) if graded else ""
    names = {r.student: r.name for r in rows}
    body = (f"<h1>{esc(title)}</h1><p>{esc(sources)}</p>" + overview(rows)
            + "<h2>Scores</h2>"
            + (f'<img alt="score histogram" src="data:image/png;base64,{image}">' if image
               else "<p>No graded submission.</p>")
            + '<p>Files: <a href="gradebook.csv">gradebook.csv</a>, '
              '<a href="canvas_import.csv">canvas_import.csv</a></p>'
            + section_tests(rows) + section_people(rows)
            + section_similarity(leads, names))
    Path(path).write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
                          f"{esc(title)}</title><style>{STYLE}</style></head><body>{body}"
                          "</body></html>\n", encoding="utf-8")
