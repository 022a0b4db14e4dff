"""The corpus of student solutions: mistakes.py plants typical mistakes and correct variants
in the reference and in whole solutions students wrote (original_solutions/), and runs each
through the drivers, the student tests and the grader (`make mistakes`).
"""
