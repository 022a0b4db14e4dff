"""What a student hands in and how it is graded: the graded files, and every graded test with
its name, file and points.

The one list of both: handin.pack zips the files, handin.check and the autograder look for
them, the autograder runs and scores the tests under these names and points, and
`python -m handin.manifest` prints the points table. This module uses only the standard
library: the autograder's sandbox imports it too.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class GradedFile:
    """
    One file the student hands in.

    imports: the homework's modules (next to it in the kit) that the file may import: what
    the original starter's version of it imports, and what ours adds (checkpoint). The
    autograder runs the file with exactly these beside it.
    """

    name: str  # in the zip
    path: str  # in the kit
    imports: tuple = ()

    @property
    def folder(self):
        """The kit folder the file sits in ("" for the notebooks at the top)."""
        return self.path.rpartition("/")[0]


FILES = (
    GradedFile("functions.py", "backprop/functions.py"),
    GradedFile("layers.py", "neuralnet/layers.py"),
    GradedFile("two_layer_net.py", "neuralnet/two_layer_net.py", ("classifier", "layers")),
    GradedFile("train.py", "neuralnet/train.py",
               ("data", "linear_classifier", "two_layer_net", "optim", "layers", "utils",
                "classifier", "checkpoint")),
    GradedFile("part1.ipynb", "part1.ipynb"),
    GradedFile("part2.ipynb", "part2.ipynb"),
)
GRADED_FILES = {f.name: f.path for f in FILES}  # name in the zip -> path in the kit
CODE_FILES = tuple(name for name in GRADED_FILES if name.endswith(".py"))
NOTEBOOKS = tuple(name for name in GRADED_FILES if name.endswith(".ipynb"))

# part1's reported test accuracy: full points at or above FULL, none at or below MIN.
PART1_FULL_ACCURACY, PART1_MIN_ACCURACY = 0.85, 0.70


@dataclass(frozen=True)
class GradedTest:
    """
    One graded test. A code test scores all its points when the function's outputs match
    the expected ones on seeded random inputs, else 0; a notebook test scores by its `rule`.

    rule: how it scores, for the points table; a format string that may use {points},
    {half} (half the points), {full} and {low} (PART1_FULL_ACCURACY, PART1_MIN_ACCURACY)
    """

    id: str
    title: str
    file: str  # the graded file: a name in GRADED_FILES
    points: int
    rule: str = ""

    @property
    def name(self):
        """The test's name in results.json."""
        if self.file in NOTEBOOKS:
            return f"{self.file}: {self.title}"
        return f"{self.title} [{self.file}]"

    def scoring(self):
        """The rule, with its numbers filled in."""
        return self.rule.format(points=self.points, half=self.points / 2,
                                full=PART1_FULL_ACCURACY, low=PART1_MIN_ACCURACY)


CODE_TESTS = (  # in report order
    GradedTest("f3_y1", "f3: loss and gradients, y = 1", "functions.py", 5),
    GradedTest("f3_y2", "f3: loss and gradients, y = 2", "functions.py", 5),
    GradedTest("fc_forward", "fc_forward", "layers.py", 2),
    GradedTest("fc_backward", "fc_backward", "layers.py", 3),
    GradedTest("relu_forward", "relu_forward", "layers.py", 2),
    GradedTest("relu_backward", "relu_backward", "layers.py", 3),
    GradedTest("softmax_loss", "softmax_loss: loss and gradient", "layers.py", 3),
    GradedTest("softmax_large", "softmax_loss: scores beyond +-710, no overflow", "layers.py",
               2),
    GradedTest("l2_regularization", "l2_regularization: loss and gradient", "layers.py", 5),
    GradedTest("net_init", "TwoLayerNet.__init__: parameter shapes and initialization",
               "two_layer_net.py", 2, "zero biases, weight std within 20% of weight_scale"),
    GradedTest("net_forward", "TwoLayerNet.forward: scores", "two_layer_net.py", 4),
    GradedTest("net_backward", "TwoLayerNet.backward: gradients", "two_layer_net.py", 4),
    GradedTest("training_step_loss", "training_step: loss (data loss + L2 on weights)",
               "train.py", 2),
    GradedTest("training_step_grads", "training_step: gradients", "train.py", 3),
)
NOTEBOOK_TESTS = (
    GradedTest("part1_run", "ran, with outputs", "part1.ipynb", 15,
               "{points:g} × fraction of the starter's code cells run without an error "
               "(0 if no outputs)"),
    GradedTest("part1_accuracy",
               f"reported test accuracy (full at >= {PART1_FULL_ACCURACY:.0%}, partial above "
               f"{PART1_MIN_ACCURACY:.0%})", "part1.ipynb", 10,
               "{points:g} × (acc − {low:.2f}) / ({full:.2f} − {low:.2f}) in between; 0 if "
               "the evaluation cell prints no 'TEST ACCURACY: x' line"),
    GradedTest("part2_images", "two images shown", "part2.ipynb", 5,
               "{half:g} per display cell showing a real image"),
    GradedTest("part2_predictions", "predictions shown for the images", "part2.ipynb", 5,
               "{half:g} per display cell listing ≥ 2 'label  probability' lines"),
)
TESTS = CODE_TESTS + NOTEBOOK_TESTS  # in report order
TOTAL_POINTS = sum(t.points for t in TESTS)
_BY_ID = {t.id: t for t in TESTS}
_FILE_BY_NAME = {f.name: f for f in FILES}


def graded_file(name):
    """The GradedFile named `name` in the zip (KeyError if there is none)."""
    return _FILE_BY_NAME[name]


def test(test_id):
    """The graded test with id `test_id` (KeyError if there is none)."""
    return _BY_ID[test_id]


def markdown(text):
    """`text` for a Markdown table cell (a dunder name is not bold, a bar not a column)."""
    return text.replace("__", r"\_\_").replace("|", r"\|")


def points_table():
    """The Markdown table of every graded test (Test | File | Points), with its total."""
    lines = ["| Test | File | Points |", "| --- | --- | ---: |"]
    for t in TESTS:
        text = f"{t.title}: {t.scoring()}" if t.rule else t.title
        lines.append(f"| {markdown(text)} | {t.file} | {t.points:g} |")
    lines.append(f"| **Total** | | **{TOTAL_POINTS:g}** |")
    return "\n".join(lines) + "\n"


def document():
    """What `python -m handin.manifest` prints: a line saying how it is made, the table."""
    code = sum(t.points for t in CODE_TESTS)
    return ("<!-- Generated from handin/manifest.py by `python -m handin.manifest`: edit "
            "that file, not this table. -->\n\n"
            "# Points\n\n"
            f"A code test scores all its points when the function's outputs match the expected "
            f"ones on seeded random inputs, else 0 (code tests: {code:g} points in all).\n\n"
            + points_table())


def main():
    print(document(), end="")


if __name__ == "__main__":
    main()
