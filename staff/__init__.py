"""Course tooling for hw4 (graders and course staff): the autograder, the starter-kit
generator, the course-wide grading, the write-up and the `make homework` runner.

Installed with `pip install -e .` (`make setup`); run a tool as `python -m staff.<tool>`.
docs/STAFF.md says which tool does what.
"""
