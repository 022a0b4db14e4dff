"""staff/course/course_summary.py on hand-made rows: spreadsheet-safe cells that keep numbers
numbers, the Canvas import's settled rows under "Name (id)", pass rates over the gradable
submissions with the grader's reasons counted, students who share a name told apart."""

import csv

from staff.course import course_summary
from staff.course.course_summary import Leads, Pair, Row

COLUMN = "Homework 4 (12345)"


def row(student, name, user_id, score, **fields):
    return Row(student=student, name=name, user_id=user_id, score=score,
               max_score=None if score is None else 10.0, **fields)


def test_formula_cells_are_quoted_and_numbers_stay_numbers():
    safe = course_summary.spreadsheet_safe
    for text in ("=1+2", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("a","b")'):
        assert safe(text) == "'" + text
    assert safe(-3.0) == "-3" and safe(2.5) == "2.5" and safe(0) == "0"
    assert safe(None) == "" and safe(True) == "yes" and safe("Doe, Jane") == "Doe, Jane"


def test_canvas_import_holds_only_settled_rows_with_a_canvas_id(tmp_path):
    rows = [row("a_1", "a", "1", 8.0),
            row("b_2", "b", "2", 7.0, late=True),
            row("c_3", "c", "3", 5.0, needs_person=["layout repaired: loose files"]),
            row("d_4", "d", "4", None, failed="unreadable"),
            row("e.zip", "e.zip", "", 6.0),
            row("f_6", "-f", "6", -1.0)]
    canvas = course_summary.write_gradebooks(rows, tmp_path, COLUMN)
    with open(tmp_path / "canvas_import.csv", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0][-1] == COLUMN
    assert [(line[0], line[-1]) for line in lines[1:]] == [("a", "8"), ("b", "7"), ("'-f", "-1")]
    assert [(r.student, why.split(" (")[0].split(":")[0]) for r, why in canvas.left_out] == \
        [("c_3", "needs a person"), ("d_4", "failed to grade"), ("e.zip", "no Canvas id")]
    with open(tmp_path / "gradebook.csv", newline="") as handle:
        assert len(list(csv.reader(handle))) == 7  # the gradebook keeps every row
    canvas = course_summary.write_gradebooks(rows, tmp_path, COLUMN, include_flagged=True)
    assert [r.student for r, _ in canvas.left_out] == ["d_4", "e.zip"]


def test_pass_rates_count_gradable_rows_and_the_graders_reasons():
    rows = [row("a", "a", "1", 3.0, tests={"t": (3.0, 3.0)}),
            row("b", "b", "2", 0.0, tests={"t": (0.0, 3.0)},
                failures={"t": "grad_x[0, 1] is 0.5, expected -0.25 (at layers.py line 9: x)"}),
            row("c", "c", "3", 0.0, tests={"t": (0.0, 3.0)},
                failures={"t": "grad_x[2, 0] is 1.5, expected 3e-05 (at layers.py line 12: y)"}),
            row("d", "d", "4", 0.0, tests={"t": (0.0, 3.0)}, failures={"t": "not implemented"}),
            row("e", "e", "5", None, tests={"t": (0.0, 3.0)}, failed="unreadable")]
    [stats] = course_summary.pass_rates(rows)
    assert (stats.count, stats.rate) == (4, 0.25)
    assert stats.reasons == [("grad_x[#, #] is #, expected #", 2), ("not implemented", 1)]


def test_students_sharing_a_name_show_their_canvas_id(tmp_path):
    rows = [row("leeann_125", "leeann", "125", 9.0, late=True),
            row("leeann_140", "leeann", "140", 8.0, resubmitted=True, older="x.zip"),
            row("kim_7", "kim", "7", 8.0)]
    leads = Leads([Pair("leeann_125", "leeann_140", "layers.py", 0.9, 0.8, 300),
                   Pair("kim_7", "@reference", "train.py", 1.0, 1.0, 200, note="markers")],
                  2, 0.5, 1.0)
    path = tmp_path / "summary.html"
    course_summary.write_summary(rows, path, "t", leads, notices=["no isolation"])
    page = path.read_text()
    assert "<td>layers.py</td><td>leeann (125)</td><td>leeann (140)</td>" in page
    assert "<td>train.py</td><td>kim</td><td>the reference solution</td>" in page
    assert '<p class="warn">no isolation</p>' in page
    flagged = page[page.index("Flagged rows"):page.index("Slowest")]
    assert "leeann (125)" in flagged and "late" in flagged and "x.zip" in flagged
    assert ">kim<" not in flagged


def test_a_similarity_report_that_did_not_finish_is_said(tmp_path):
    leads = Leads([], 0, 0.5, 900.0, problem="stopped after 900 s")
    path = tmp_path / "summary.html"
    course_summary.write_summary([row("a", "a", "1", 1.0)], path, "t", leads)
    assert "No similarity leads: stopped after 900 s" in path.read_text()
