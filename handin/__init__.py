"""Hand-in tools that ship with the starter kit: `python -m handin.pack UNIQNAME` zips the
graded files, `python -m handin.check ZIP` checks a zip the way the autograder reads it, and
`python -m handin.writeup` builds the PDF write-up (writeup.pdf) from the student's own code,
runs, executed notebooks and answers (writeup.md).

handin/manifest.py lists the graded files and the points of every graded test.
"""
