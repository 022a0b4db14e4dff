"""What a student hands in: each graded file's name in the zip and its place in the kit.

The one list of graded files: handin.pack zips them, handin.check and the autograder look
for them, and the course's write-up shows their code.
"""

GRADED_FILES = {  # name in the zip -> path in the kit
    "functions.py": "backprop/functions.py",
    "layers.py": "neuralnet/layers.py",
    "two_layer_net.py": "neuralnet/two_layer_net.py",
    "train.py": "neuralnet/train.py",
    "part1.ipynb": "part1.ipynb",
    "part2.ipynb": "part2.ipynb",
}
CODE_FILES = tuple(name for name in GRADED_FILES if name.endswith(".py"))
NOTEBOOKS = tuple(name for name in GRADED_FILES if name.endswith(".ipynb"))
