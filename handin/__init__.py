"""Hand-in tools that ship with the starter kit: `python -m handin.pack UNIQNAME` zips the
graded files, `python -m handin.check ZIP` checks a zip the way the autograder reads it.

handin/manifest.py lists the graded files and the points of every graded test.
"""
