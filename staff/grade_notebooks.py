"""Grading of the notebooks (part1.ipynb, part2.ipynb) from their saved outputs.

Notebooks are never executed: their saved outputs are read.
"""

import re

import check_submission as checker

PART1_RUN_POINTS = 15
PART1_ACCURACY_POINTS = 10
PART1_FULL_ACCURACY, PART1_MIN_ACCURACY = 0.85, 0.70
PART2_IMAGE_POINTS = 5
PART2_PREDICTION_POINTS = 5
MAX_OUTPUT_CHARS = 2000


def result(name, score, max_score, output):
    """One entry of results.json's tests list."""
    score = round(float(score), 2)
    return {
        "name": name,
        "score": score,
        "max_score": max_score,
        "status": "passed" if score >= max_score else "failed",
        "output": output[:MAX_OUTPUT_CHARS],
        "visibility": "visible",
    }


def load_notebook(path, name, missing_reason=None):
    """Parse a notebook; on failure, returns (None, problem)."""
    if path is None:
        return None, missing_reason or f"{name} is missing from the submission"
    nb, problem = checker.read_notebook(path.read_text(encoding="utf-8", errors="replace"), name)
    if nb is None:
        return None, problem
    return nb, None


def output_texts(nb):
    """The text each code cell's outputs show, in order (streams and results)."""
    return [cell_texts(cell) for cell in checker.code_cells(nb)]


def run_fraction(nb):
    """Fraction of non-empty code cells that ran without an error output."""
    cells = checker.code_cells(nb)
    if not cells or not any(cell.get("outputs") for cell in cells):
        return 0.0
    ran = sum(1 for cell in cells if cell.get("execution_count") is not None
              and not any(o.get("output_type") == "error" for o in cell.get("outputs", [])))
    return ran / len(cells)


# "Test accuracy: 0.9123", "TEST ACCURACY = 91.2%", "test acc 0.91" (not "per-class test
# accuracy: {...}"): the number must follow the words directly.
ACCURACY_RE = re.compile(r"test[\s_-]*acc(?:uracy)?\s*(?:[:=]|is|of)?\s*(\d+(?:\.\d+)?)\s*(%?)",
                         re.IGNORECASE)


def reported_accuracy(nb):
    """The last test accuracy the notebook's outputs report, as a fraction, or None."""
    value = None
    for text in output_texts(nb):
        for match in ACCURACY_RE.finditer(text):
            number = float(match.group(1))
            if match.group(2) or number > 1:
                number /= 100
            if 0 <= number <= 1:
                value = number
    return value


def accuracy_points(accuracy):
    """Full marks at >= 85%, linear from 0 at 70% to full at 85%, 0 at or below 70%."""
    if accuracy is None or accuracy <= PART1_MIN_ACCURACY:
        return 0.0
    fraction = (accuracy - PART1_MIN_ACCURACY) / (PART1_FULL_ACCURACY - PART1_MIN_ACCURACY)
    return PART1_ACCURACY_POINTS * min(1.0, fraction)


def grade_part1(path, missing_reason=None):
    nb, problem = load_notebook(path, "part1.ipynb", missing_reason)
    run_name = "part1.ipynb: ran, with outputs"
    acc_name = "part1.ipynb: reported test accuracy (full at >= 85%, partial above 70%)"
    if nb is None:
        return [result(run_name, 0, PART1_RUN_POINTS, problem),
                result(acc_name, 0, PART1_ACCURACY_POINTS, problem)]
    fraction = run_fraction(nb)
    run_text = ("no outputs: run all cells and save before submitting" if fraction == 0 else
                f"{fraction:.0%} of the code cells ran without an error")
    accuracy = reported_accuracy(nb)
    acc_text = ("no 'test accuracy: ...' line found in the outputs" if accuracy is None else
                f"reported test accuracy {accuracy:.2%}")
    return [result(run_name, PART1_RUN_POINTS * fraction, PART1_RUN_POINTS, run_text),
            result(acc_name, accuracy_points(accuracy), PART1_ACCURACY_POINTS, acc_text)]


# One predicted class per line: "tabby cat   81.23%", "  1. tabby: 0.812", "tabby - 81%".
PREDICTION_LINE_RE = re.compile(
    r"^\s*(?:\d+[.)]\s*)?[A-Za-z][\w ,'/.()-]*?\s*[:=-]?\s+"  # rank, label
    r"(?:0?\.\d+|1\.0+|\d{1,3}(?:\.\d+)?\s*%)\s*$",  # probability or percentage
    re.MULTILINE)


def cell_texts(cell):
    """All text a code cell's outputs show, joined."""
    texts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            texts.append(output.get("text", ""))
        elif output.get("output_type") in ("execute_result", "display_data"):
            texts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join("".join(t) if isinstance(t, list) else str(t) for t in texts)


def count_images(nb):
    """Image outputs (matplotlib figures, displayed pictures) of the code cells."""
    return sum(1 for cell in checker.code_cells(nb) for output in cell.get("outputs", [])
               if output.get("output_type") in ("display_data", "execute_result")
               and any(key.startswith("image/") for key in output.get("data", {})))


def count_predictions(nb):
    """Code cells whose outputs list predictions: at least 2 'label  probability' lines."""
    return sum(1 for cell in checker.code_cells(nb)
               if len(PREDICTION_LINE_RE.findall(cell_texts(cell))) >= 2)


def grade_part2(path, missing_reason=None):
    nb, problem = load_notebook(path, "part2.ipynb", missing_reason)
    img_name = "part2.ipynb: two images shown"
    pred_name = "part2.ipynb: predictions shown for the images"
    if nb is None:
        return [result(img_name, 0, PART2_IMAGE_POINTS, problem),
                result(pred_name, 0, PART2_PREDICTION_POINTS, problem)]
    images, predictions = count_images(nb), count_predictions(nb)
    return [
        result(img_name, PART2_IMAGE_POINTS * min(images, 2) / 2, PART2_IMAGE_POINTS,
               f"{images} image output(s) found (2 needed)"),
        result(pred_name, PART2_PREDICTION_POINTS * min(predictions, 2) / 2,
               PART2_PREDICTION_POINTS,
               f"{predictions} cell(s) listing predicted classes with probabilities found "
               "(2 needed)"),
    ]
