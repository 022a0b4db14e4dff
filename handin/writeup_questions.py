"""The write-up's questions, in the homework's order, and where their material is: the
graded functions each coding question shows, the cells of the starter notebooks that the
Task 5 and 6 pages show, the places of the student's runs and answers, and the command that
makes each input (what a page says when it is missing). Data only; handin/writeup.py builds
the PDF from it. `template()` is the writeup.md the kit ships.
"""

import textwrap
from dataclasses import dataclass

from handin import notebooks as nbread
from handin.writeup_read import CellRole

ANSWERS_FILE = "writeup.md"
RUNS_DIR = "neuralnet/runs"
F4_PICTURES = tuple(f"backprop/f4_graph.{ext}" for ext in ("png", "jpg", "jpeg", "pdf"))
OVERFIT_TARGET, BEST_VAL_TARGET = 0.75, 0.40  # the homework's targets for 4.3 and 4.2
PLACEHOLDER = "Your answer here."  # what the starter notebooks' answer cells say

# How to make each input (what a missing page says); the course's own build overrides them.
FIXES = {
    "best": "python neuralnet/train.py --config best",
    "overfit": "python neuralnet/train.py --config overfit",
    "test": "python neuralnet/test.py  (it evaluates neuralnet/runs/best/checkpoint.npz and "
            "writes neuralnet/runs/best/test.json)",
    # a train.py without --config (written for the original starter): settings in main()
    **{f"{config} in main": f"your train.py has no --config: put the {what} in main(), then "
                            f"mkdir -p {RUNS_DIR}/{config} and python neuralnet/train.py "
                            f"--plot-file {RUNS_DIR}/{config}/plot.png --checkpoint-file "
                            f"{RUNS_DIR}/{config}/checkpoint.npz"
       for config, what in (("best", "settings of your best model"),
                            ("overfit", "settings that overfit"))},
    "test in main": f"python neuralnet/test.py --num-train N  (N: the num_train of your best "
                    f"run; it evaluates {RUNS_DIR}/best/checkpoint.npz and writes "
                    f"{RUNS_DIR}/best/test.json)",
    "hyperparameters in main": f"list them under this question's heading in {ANSWERS_FILE}",
    **{part: f"run every cell of {part}.ipynb (Jupyter, or Colab: Runtime > Run all), save "
             f"it and put it in the kit folder as {part}.ipynb (from Colab: File > Download > "
             f"Download .ipynb); if you ran python_backup/{part}.py instead, save its "
             f"terminal output: python python_backup/{part}.py | tee {output}"
       for part, output in (("part1", "python_backup/part1_output.txt"),
                            ("part2", "python_backup/part2_output.txt"))},
    "answers": f"write it in {ANSWERS_FILE} (the kit's copy has a heading for every question)",
    "notebook answer": "write your answer in that markdown cell of the notebook, save it and "
                       "put the notebook in the kit folder again",
}


@dataclass(frozen=True)
class Code:
    """Functions or classes of a graded file that a question shows."""
    file: str  # name in GRADED_FILES
    names: tuple
    required: tuple = ()  # those that must be written (the others are optional)
    check: str = ""  # the command that checks them


@dataclass(frozen=True)
class Question:
    key: str  # "4.2"
    title: str
    asks: str  # what the homework asks for, in its words
    prompt: str = ""  # the prompt under the heading in writeup.md
    show: tuple = ()  # what the page shows, in order: names of SHOW's functions
    code: tuple = ()  # Code, for "code"


LAYERS, CHECK_LAYERS = "layers.py", "python neuralnet/gradcheck_layers.py"
QUESTIONS = (
    Question("1.1", "Backprop: f1, f2 and f3", "Code: f3 (required); f1 and f2 (optional).",
             "Optional: anything the grader should know about your f1, f2 and f3.",
             ("code",), (Code("functions.py", ("f1", "f2", "f3"), ("f3",),
                              "python backprop/backprop.py"),)),
    Question("1.2", "Your own function f4 (optional)",
             "Optional. Report: draw the computational graph (at least five operators) of "
             "a function of your own. Code: f4.",
             "Optional: describe your function f4 and its graph. Put a drawing of the graph "
             "in backprop/f4_graph.png (or .jpg, .jpeg, .pdf): it goes on this page.",
             ("f4_graph", "code"), (Code("functions.py", ("f4",)),)),
    Question("2.1", "fc_forward and fc_backward", "Code: fc_forward, fc_backward.",
             "Optional: notes on your code.", ("code",),
             (Code(LAYERS, ("fc_forward", "fc_backward"), ("fc_forward", "fc_backward"),
                   CHECK_LAYERS),)),
    Question("2.2", "relu_forward and relu_backward", "Code: relu_forward, relu_backward.",
             "Optional: notes on your code.", ("code",),
             (Code(LAYERS, ("relu_forward", "relu_backward"),
                   ("relu_forward", "relu_backward"), CHECK_LAYERS),)),
    Question("2.3", "softmax_loss", "Code: softmax_loss.", "Optional: notes on your code.",
             ("code",), (Code(LAYERS, ("softmax_loss",), ("softmax_loss",),
                              "python neuralnet/check_softmax_stability.py"),)),
    Question("2.4", "l2_regularization", "Code: l2_regularization.",
             "Optional: notes on your code.", ("code",),
             (Code(LAYERS, ("l2_regularization",), ("l2_regularization",), CHECK_LAYERS),)),
    Question("3.1", "TwoLayerNet", "Code: TwoLayerNet.", "Optional: notes on your code.",
             ("code",), (Code("two_layer_net.py", ("TwoLayerNet",), ("TwoLayerNet",),
                              "python neuralnet/gradcheck_classifier.py"),)),
    Question("4.1", "training_step", "Code: training_step.", "Optional: notes on your code.",
             ("code",), (Code("train.py", ("training_step",), ("training_step",),
                              "python neuralnet/check_training_step.py"),)),
    Question("4.2", "The best two-layer net",
             "Report: the loss/accuracy plot of your best model, the hyperparameter settings "
             "you used, and its final test-set performance.",
             "Optional: how you found these settings. (The plot, the hyperparameters and "
             "the test accuracy come from your runs. If your train.py has no --config, list "
             "the hyperparameters here.)", ("run_best",)),
    Question("4.3", "The overfitting two-layer net",
             "Report: the loss/accuracy plot of a model that overfits (at least 75% training "
             "accuracy) and its hyperparameters.",
             "Optional: why these settings overfit. (The plot and the hyperparameters come "
             "from your run. If your train.py has no --config, list the hyperparameters "
             "here.)", ("run_overfit",)),
    Question("5.1", "part1.ipynb: the code", "Code: part1.ipynb, with its outputs.",
             "Optional: notes on your notebook.", ("part1_code",)),
    Question("5.2", "The CNN: architecture, hyperparameters, training curves",
             "Report: the detailed architecture of your best CNN, the hyperparameters you "
             "chose for training, and a plot of training and validation accuracy.",
             "Optional: anything to add to your notebook's answers (they are printed on this "
             "page).", ("part1_design",)),
    Question("5.3", "The CNN's test accuracy",
             "Report: the test accuracy of your CNN (more than 85% is expected).",
             "Optional: comments on the test accuracy.", ("part1_test",)),
    Question("6.1", "img1 and img2 with their predicted classes",
             "Report: img1, an image the pretrained model classifies reasonably, and img2, "
             "one it does not, with their predicted classes.",
             "Optional: anything to add to your notebook's answer (it is printed on this "
             "page).", ("part2_images",)),
)
APPENDIX = (
    Question("A", "Appendix: the graded Python files in full",
             "Every graded .py file as it is (helpers included).", show=("full_files",)),
    Question("B", "Appendix: part2.ipynb, the code", "The code cells of part2.ipynb.",
             show=("part2_code",)),
)
TERMINAL = Question("C", "Appendix: terminal output of python_backup/",
                    "What python_backup/part1.py and part2.py printed (the homework asks for "
                    "it when the notebooks were run as scripts), and the figures they saved.",
                    show=("terminal",))
QUESTION_KEYS = tuple(q.key for q in QUESTIONS)


def required_functions():
    """{graded .py file: the functions and classes the homework requires in it}, from the
    coding questions (the optional f1, f2 and f4 left out)."""
    required = {}
    for question in QUESTIONS:
        for code in question.code:
            required.setdefault(code.file, []).extend(code.required)
    return required
# python_backup/partN.py run in a terminal: its output, saved with tee, and its figures
TERMINAL_OUTPUTS = {"part1": "python_backup/part1_output.txt",
                    "part2": "python_backup/part2_output.txt"}
SCRIPT_FIGURES = {"part1": ("results/part1/curves.png",),
                  "part2": ("results/part2/img1.png", "results/part2/img2.png")}
MAX_TERMINAL_LINES = 3000

# The cells of the starter notebooks that the pages show (id, else a marker in the source).
P1_SETTINGS = CellRole("5f5739ee", "SETTINGS =")
P1_OPTIMIZER = CellRole("0d46fe9b", "optimizer =")
P1_ARCHITECTURE = CellRole("a498268f", "summary(")
P1_CURVES = CellRole("6c439f9a", "curves.png")
P1_EVALUATION = CellRole(nbread.PART1.key_cells[0], nbread.EVALUATION_MARKER)
P1_ARCHITECTURE_ANSWER = CellRole("9a4137b3", "Describe your network", "markdown")
P1_OPTIMIZER_ANSWER = CellRole("274b8b37", "Describe your optimizer", "markdown")
P2_IMAGES = CellRole("e0c2db3f", "IMG1 =")
P2_MODEL = CellRole("5f259c8b", "\nmodel = default_model()")
P2_DISPLAYS = tuple(CellRole(cell_id, f"show_prediction(IMG{k})")
                    for k, cell_id in enumerate(nbread.PART2.key_cells, start=1))
P2_ANSWER = CellRole("4c287e4a", "Why the model fails on img2", "markdown")


TEMPLATE_HEAD = """# Homework 4 write-up: your answers

Name:
Uniqname:

Write your answers under the questions below, in your own words, and keep the number at the
start of each heading: `make writeup` (or `python -m handin.writeup`) builds writeup.pdf,
one question per page, with your answer under the code, plots and numbers that it takes
from your own files, runs and notebooks. Text inside <!-- --> is a prompt: it is not
printed. Every answer here is optional; what the homework asks for is printed at the top of
each question's page.
"""


def template():
    """The writeup.md the kit ships: a heading and a prompt per question, no answers."""
    text = [TEMPLATE_HEAD]
    for q in QUESTIONS:
        prompt = textwrap.fill(f"<!-- {q.prompt} -->", 92, break_on_hyphens=False)
        text.append(f"\n## {q.key} {q.title}\n{prompt}\n")
    return "".join(text)
