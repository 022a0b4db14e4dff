"""Hand-in tools that ship with the starter kit: `python -m handin.pack UNIQNAME` zips the
graded files, `python -m handin.check ZIP` checks a zip the way the autograder reads it, and
`python -m handin.writeup` builds the PDF write-up (writeup.pdf) from the student's own code,
runs, executed notebooks and answers (writeup.md).

handin/manifest.py lists the graded files and the points of every graded test.
"""

import sys


def module_prog(spec):
    """The program name for a tool's usage line: `python -m handin.check` when it runs with
    `python -m` (argparse would say `check.py`, a command that does not run), else None
    (argparse's own: the console script's name, e.g. `hw4-check`). spec: the tool's __spec__."""
    return f"python -m {spec.name}" if spec and sys.argv[0].endswith(".py") else None
