"""Grading a whole course: `python -m staff.course.grade_all` (`make grade-all`).

canvas_names.py reads who handed in what, uploads.py finds the work in each student's
uploads (the single-submission grader uses it too), similarity.py compares the code and
course_summary.py writes the spreadsheets.
"""
