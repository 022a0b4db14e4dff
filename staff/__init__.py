"""Course tooling for hw4 (graders and course staff), grouped by job: grading/ (one
submission: the autograder), course/ (a whole course), reference/ (the `make homework`
runner, the write-up and the reference's data), corpus/ (the mistakes corpus) and starter/
(the starter-kit generator).

Installed with `pip install -e .` (`make setup`); run a tool as `python -m staff.<job>.<tool>`.
docs/STAFF.md says which tool does what.
"""
