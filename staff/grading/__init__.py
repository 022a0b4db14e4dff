"""Grading one submission: what the Gradescope autograder zip ships from staff/.

grade.py is the grader (`python -m staff.grading.grade`); the code tests run in a sandbox
(sandbox.py) through the grading worker (grading_worker.py, grading_tests.py,
grading_channel.py), against the reference's outputs (reference_run.py); feedback.py bounds
what a student sees; model_check.py and model_job.py re-derive part1's model summary;
student_view.py imports the kit's student-side modules. make_autograder.py builds the zip
from these files and the templates in autograder/.
"""
