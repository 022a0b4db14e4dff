"""The starter kit built from this repository: shipped files, notebooks and README, and
the kit at work (built once per session): the drivers report "not implemented" on the
starter and pass on the kit filled with the reference; the student tests pass on the
reference, fail on the starter only with NotImplementedError, and every stubbed function
of a tested module makes one fail."""

import re
import shutil
import subprocess
import sys

import nbformat
import pytest
from fake_cifar10 import write_fake_cifar10

from handin.manifest import GRADED_FILES
from staff.reference.layout import DRIVER_SCRIPTS
from staff.starter import checks
from staff.starter.build import ROOT, build
from staff.starter.notebooks import compiles
from staff.starter.regions import find_regions
from staff.tests import starter_runs
from staff.tests.corpus import original_solution

HP_BEGIN, HP_END = "# BEGIN HYPERPARAMETERS", "# END HYPERPARAMETERS"
HOMEWORK_TASKS = {  # what the homework asks students to write (the settings: config_settings)
    "f1", "f2", "f3", "f4", "fc_forward", "fc_backward", "relu_forward", "relu_backward",
    "softmax_loss", "l2_regularization", "TwoLayerNet.__init__", "TwoLayerNet.parameters",
    "TwoLayerNet.forward", "TwoLayerNet.backward", "training_step", "config_settings",
}


@pytest.fixture(scope="session")
def real_starter(tmp_path_factory):
    """The starter kit built from this repository, and the Regions removed."""
    out = tmp_path_factory.mktemp("real") / "hw4-starter"
    return out, build(ROOT, out)


@pytest.fixture(scope="session")
def reference_kit(tmp_path_factory):
    """The kit laid out like the starter with the solutions kept."""
    out = tmp_path_factory.mktemp("reference") / "hw4-reference"
    build(ROOT, out, strip=False)
    return out


@pytest.fixture(scope="session")
def student_test_runs(real_starter, reference_kit, tmp_path_factory):
    """The junit cases of the student tests on the reference kit and on the starter."""
    junit = tmp_path_factory.mktemp("junit")
    tests = starter_runs.student_tests(reference_kit)
    return (starter_runs.run_pytest(reference_kit, tests, junit / "reference.xml"),
            starter_runs.run_pytest(real_starter[0], tests, junit / "starter.xml"))


def test_real_starter_passes_the_static_checks(real_starter):
    out, regions = real_starter
    assert checks.verify(ROOT, out, regions) == []
    owners = {r.owner for r in regions if r.path.endswith(".py")}
    assert owners == HOMEWORK_TASKS  # exactly the homework's code tasks: the rest is given
    assert not (out / "staff").exists() and not (out / "bench").exists()
    for folder in ("backprop", "neuralnet", "tests", "handin"):  # each ships whole
        sources = {p.relative_to(ROOT) for p in (ROOT / folder).rglob("*.py")
                   if "__pycache__" not in p.parts}
        assert sources <= {p.relative_to(out) for p in (out / folder).rglob("*.py")}, folder


def hyperparameter_block(path):
    lines = path.read_text().splitlines(keepends=True)
    blocks = find_regions(lines, path.name, HP_BEGIN, HP_END)
    assert len(blocks) == 1, f"{path}: one {HP_BEGIN} block expected"
    return blocks[0].lines


def test_real_starter_ships_the_hyperparameters_of_train_py(real_starter):
    out, _ = real_starter
    assert hyperparameter_block(out / "neuralnet" / "train.py") == \
        hyperparameter_block(ROOT / "neuralnet" / "train.py")


@pytest.mark.parametrize("script", DRIVER_SCRIPTS)
def test_real_starter_driver_reports_not_implemented(real_starter, script):
    assert starter_runs.starter_driver_problems(real_starter[0], script) == []


@pytest.mark.parametrize("script", DRIVER_SCRIPTS)
def test_driver_passes_on_the_reference_kit(reference_kit, script):
    assert starter_runs.reference_driver_problems(reference_kit, script) == []


@pytest.mark.slow
def test_student_tests_pass_on_the_reference_kit(student_test_runs):
    reference, _ = student_test_runs
    assert reference and starter_runs.reference_failures(reference) == []


@pytest.mark.slow
def test_student_tests_fail_on_the_starter_only_where_code_is_missing(student_test_runs):
    _, starter = student_test_runs
    assert any(text for _, _, text in starter)
    assert starter_runs.other_failures(starter) == []


@pytest.mark.slow
def test_every_stubbed_function_makes_a_student_test_fail(
        real_starter, reference_kit, student_test_runs, tmp_path):
    _, regions = real_starter
    _, starter = student_test_runs
    assert starter_runs.uncovered_stubs(reference_kit, starter, regions, tmp_path) == []


def test_real_starter_student_tools(real_starter):
    out, _ = real_starter
    run = subprocess.run(["make", "help"], cwd=out, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "make submission" in run.stdout
    run = subprocess.run([sys.executable, "-m", "handin.pack", "jdoe"], cwd=out,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr  # the code can be zipped and checked early
    assert "has no outputs: its 25 points will be 0" in run.stderr  # the notebooks: not run
    assert "layers.py: not written yet (still raising NotImplementedError as in the starter)" \
           ": fc_forward, fc_backward, relu_forward, relu_backward, softmax_loss, " \
           "l2_regularization;" in run.stderr
    check = subprocess.run([sys.executable, "-m", "handin.check", "jdoe.zip"], cwd=out,
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and "WARNING: jdoe/part2.ipynb has no outputs" in check.stdout
    (out / "jdoe.zip").unlink()


def test_real_starter_train_py_names_the_missing_part_without_a_traceback(real_starter,
                                                                          tmp_path):
    write_fake_cifar10(tmp_path, num_train_per_batch=100, num_test=10)
    run = subprocess.run([sys.executable, "train.py", "--smoke", "--no-progress",
                          "--data-dir", str(tmp_path), "--checkpoint-file",
                          str(tmp_path / "c.npz")], cwd=real_starter[0] / "neuralnet",
                         env=starter_runs.script_env(), capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert "error: TwoLayerNet.__init__: not implemented yet" in run.stderr
    assert "make check-code" in run.stderr and not (tmp_path / "c.npz").exists()


@pytest.mark.parametrize("data_file, damage", [
    ("neuralnet/neuralnet-data.pkl", None), ("backprop/backprop-data.pkl", b"garbage\n"),
], ids=["neuralnet-data missing", "backprop-data damaged"])
def test_real_starter_tests_stop_with_one_message_without_a_data_file(
        real_starter, tmp_path, data_file, damage):
    """pytest in the kit without (or with a damaged) data file: one line naming the file and
    the fix, no internal error, no traceback."""
    kit = tmp_path / "kit"
    shutil.copytree(real_starter[0], kit, ignore=shutil.ignore_patterns("*.ipynb"))
    if damage is None:
        (kit / data_file).unlink()
    else:
        (kit / data_file).write_bytes(damage)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                         cwd=kit, env=starter_runs.script_env(), capture_output=True,
                         text=True, timeout=120)
    text = run.stdout + run.stderr
    assert run.returncode == 4, text[-2000:]
    assert data_file.split("/")[1] in text and "restore" in text
    assert "INTERNALERROR" not in text and "Traceback" not in text, text[-2000:]


@pytest.mark.slow
def test_make_test_in_the_kit_passes_a_solution_written_for_the_original_starter(
        real_starter, tmp_path):
    """The four files of a whole original-style solution (weights as attributes, (1, H)
    biases, the original train.py) dropped into the kit: `make test` passes. The mistakes
    corpus runs every such solution through the drivers, the tests and the grader."""
    kit = tmp_path / "kit"
    shutil.copytree(real_starter[0], kit)
    for name, text in original_solution("attrs_W1_bias_rows").items():
        (kit / GRADED_FILES[name]).write_text(text)
    env = {k: v for k, v in starter_runs.script_env().items() if k != "PYTHONPATH"}
    run = subprocess.run(["make", "test", f"PYTHON={sys.executable}"], cwd=kit, env=env,
                         capture_output=True, text=True, timeout=starter_runs.PYTEST_TIMEOUT)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-1000:]
    assert " passed" in run.stdout and "failed" not in run.stdout


def test_real_starter_tools_and_tests_mention_nothing_of_the_staff_side(real_starter):
    out, _ = real_starter
    assert "python -m handin.pack" in (out / "handin" / "pack.py").read_text()
    assert "python -m handin.check" in (out / "handin" / "check.py").read_text()
    conftest = (out / "tests" / "conftest.py").read_text()
    assert "STAFF" not in conftest and "staff" not in conftest
    compile(conftest, "conftest.py", "exec")
    assert checks.staff_mentions(out) == []


def starter_cells(out, name):
    """The code cells of a starter notebook by id."""
    nb = nbformat.read(out / name, as_version=4)
    return {cell.id: cell.source for cell in nb.cells if cell.cell_type == "code"}


def test_real_starter_notebooks_keep_cell_ids(real_starter):
    out, _ = real_starter
    for name in ("part1.ipynb", "part2.ipynb"):
        reference = nbformat.read(ROOT / name, as_version=4)
        starter = nbformat.read(out / name, as_version=4)
        assert [c.id for c in starter.cells] == [c.id for c in reference.cells]


@pytest.mark.parametrize("name, cell_id, stub", [
    ("part1.ipynb", "5f5739ee", 'raise NotImplementedError("SETTINGS: not defined yet'),
    ("part1.ipynb", "64fa02e9", 'raise NotImplementedError("FashionCNN.__init__: not '),
    ("part1.ipynb", "64fa02e9", 'raise NotImplementedError("FashionCNN.forward: not '),
    ("part1.ipynb", "0d46fe9b", 'raise NotImplementedError("optimizer, steps_per_epoch: '),
    ("part1.ipynb", "0ccd78b8", 'raise NotImplementedError("train_one_epoch: not '),
    ("part2.ipynb", "43e16553", 'raise NotImplementedError("preprocess: not implemented'),
    ("part2.ipynb", "43e16553", "# TODO: set PREPROCESSING ("),
    ("part2.ipynb", "4070b260", 'raise NotImplementedError("predict: not implemented'),
    ("part2.ipynb", "e0c2db3f", 'raise NotImplementedError("IMG1, IMG2: not defined yet'),
    ("part2.ipynb", "451d8aa9", "# TODO: score candidate preprocessings"),
])
def test_real_starter_notebook_todos_name_what_to_define(real_starter, name, cell_id, stub):
    out, _ = real_starter
    source = starter_cells(out, name)[cell_id]
    assert stub in source, source
    assert compiles(source)
    todos = [line for line in source.splitlines() if "# TODO" in line]
    assert todos and all(len(line.split("# TODO: ")[1]) > 10 for line in todos)


def test_real_starter_part2_does_not_state_the_preprocessing(real_starter):
    out, _ = real_starter
    text = (out / "part2.ipynb").read_text() + (out / "python_backup" / "part2.py").read_text()
    for answer in ("[-1, 1]", "127.5", "center crop", "center_crop"):
        assert answer not in text


def run_cells(cells, namespace):
    """Execute cell sources in order; returns (index of the cell that raised, exception)."""
    for index, source in enumerate(cells):
        try:
            exec(compile(source, f"<cell {index}>", "exec"), namespace)
        except Exception as err:  # the first failing cell is what a student sees
            return index, err
    return None, None


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # imshow
def test_real_starter_part1_stops_at_each_todo_naming_it(real_starter, tmp_path, monkeypatch):
    pytest.importorskip("torchsummary")
    from staff.reference.fake_fashion_mnist import write_fake_fashion_mnist

    out, _ = real_starter
    write_fake_fashion_mnist(tmp_path / "data", num_train=240, num_test=100, seed=0)
    for key, value in {"HW4_SMOKE": "1", "HW4_DATA": str(tmp_path / "data"),
                       "HW4_DOWNLOAD": "0", "MPLBACKEND": "Agg",
                       "HW4_PART1_RESULTS_DIR": str(tmp_path / "results")}.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(out / "part1.ipynb", as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    ids = [cell.id for cell in code]
    index, err = run_cells([cell.source for cell in code], {})
    assert isinstance(err, NotImplementedError) and "SETTINGS" in str(err)
    assert ids[index] == "5f5739ee"
    # with SETTINGS written (the reference's cell), the next stop is FashionCNN, raised by
    # `model = FashionCNN()` before torchsummary sees an empty model
    reference = {cell.id: cell.source for cell in nbformat.read(ROOT / "part1.ipynb",
                                                                as_version=4).cells}
    sources = [reference[c.id] if c.id == "5f5739ee" else c.source for c in code]
    index, err = run_cells(sources, {})
    assert isinstance(err, NotImplementedError) and "FashionCNN" in str(err), err
    assert ids[index] == "a498268f" and "summary(" in code[index].source


def test_real_starter_readme_says_what_a_student_needs(real_starter):
    out, _ = real_starter
    readme = (out / "README.md").read_text()
    for claim in ("Python 3.11", "bash neuralnet/download_cifar.sh", "HW4_DATA", "--data-dir",
                  "config_settings", '"best"', '"overfit"', "make test", "make check-code",
                  "the full check", "the quick check", "neuralnet/check_training_step.py"):
        assert claim in readme, claim
    for script in re.findall(r"(?:python|bash) ((?:\w+/)+\w+\.(?:py|sh))", readme):
        assert (out / script).is_file(), f"README names {script}, which the kit lacks"
    makefile = (out / "Makefile").read_text()
    targets = set(re.findall(r"^([\w-]+):", makefile, re.M))
    for target in re.findall(r"\bmake ([\w-]+)", readme):
        assert target in targets, f"README uses make {target}, which the Makefile lacks"
    check_code = makefile.split("check-code:")[1].split("\n\n")[0]
    assert re.findall(r"\$\(PY\) (\S+\.py)", check_code) == list(DRIVER_SCRIPTS)
    pyproject = (out / "pyproject.toml").read_text()
    assert 'requires-python = ">=3.11"' in pyproject
    assert 'description = "Homework 4 - Machine Learning: starter kit"' in pyproject
    assert 'pythonpath = ["backprop", "neuralnet", "tests"]' in pyproject


def test_real_starter_part1_asks_for_the_design_instead_of_stating_it(real_starter):
    out, _ = real_starter
    text = (out / "part1.ipynb").read_text()
    for answer in ("VGG-style", "Nesterov", "label smoothing 0.1", "stage 2 (14x14)"):
        assert answer not in text
    assert text.count("*Your answer here.*") == 2


@pytest.mark.torch
def test_real_starter_part2_stops_at_img_then_at_predict(real_starter, tmp_path, monkeypatch):
    pytest.importorskip("efficientnet_lite_pytorch")
    out, _ = real_starter
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)  # RESULTS_DIR is relative
    code = [c for c in nbformat.read(out / "part2.ipynb", as_version=4).cells
            if c.cell_type == "code"]
    ids = [cell.id for cell in code]
    index, err = run_cells([cell.source for cell in code], {})
    assert isinstance(err, NotImplementedError) and "IMG1, IMG2" in str(err), err
    assert ids[index] == "e0c2db3f"
    # with the images chosen, show_prediction stops in predict, before drawing anything
    sources = [c.source if c.id != "e0c2db3f" else 'IMG1 = IMG2 = "skimage:chelsea"'
               for c in code]
    index, err = run_cells(sources, {})
    assert isinstance(err, NotImplementedError) and str(err).startswith("predict:"), err
    assert "show_prediction(IMG1" in code[index].source


def test_real_starter_part1_keeps_the_reference_numbers_out(real_starter):
    out, _ = real_starter
    text = (out / "part1.ipynb").read_text()
    assert "93.59%" not in text and "STAFF ONLY" not in text and "at most 10 min" in text
    assert "93.59%" in (ROOT / "part1.ipynb").read_text()
