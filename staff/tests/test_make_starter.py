"""staff/make_starter.py on small synthetic files: stubs, hyperparameters, notebooks, shipping,
and each self-check (leaks, compile/validity, drivers, student tests)."""

import re
import subprocess
import sys
import textwrap
import zipfile

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from staff import make_starter as ms
from staff import starter_checks

FUNCS = textwrap.dedent('''\
    import numpy as np


    def square(x):
        """Returns x**2."""
        if x is None:
            raise ValueError("x is None")
        # BEGIN SOLUTION
        out = np.multiply(x, x)
        # END SOLUTION
        return out


    class Model:
        def forward(self, x):
            # BEGIN SOLUTION: the forward pass
            result = square(x) + 1
            return result
            # END SOLUTION
''')

TRAIN = textwrap.dedent('''\
    def main():
        # BEGIN HYPERPARAMETERS
        num_train = 49000
        hidden_dim = 1536  # wide
        batch_size = 200
        num_epochs = 20
        learning_rate = 0.03
        reg = 5e-4
        # END HYPERPARAMETERS
        return num_train, hidden_dim, batch_size, num_epochs, learning_rate, reg
''')


def test_python_regions_become_stubs_at_their_indentation():
    text, regions = ms.strip_python(FUNCS, "backprop/functions.py")
    assert [r.owner for r in regions] == ["square", "Model.forward"]
    assert '        raise NotImplementedError("square: not implemented yet (write this part)")' \
        not in text
    stub = 'raise NotImplementedError("square: not implemented yet (write this part)")\n'
    assert "\n    " + stub in text
    assert ('        raise NotImplementedError("Model.forward: not implemented yet '
            '(the forward pass)")\n') in text
    assert "np.multiply" not in text and "SOLUTION" not in text
    assert 'raise ValueError("x is None")' in text  # validation outside the region stays
    namespace = {}
    exec(compile(text, "functions.py", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="square: not implemented"):
        namespace["square"](3)
    with pytest.raises(ValueError):
        namespace["square"](None)


@pytest.mark.parametrize("source, message", [
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", "inside the region"),
    ("# END SOLUTION\n", "without"),
    ("def f():\n    # BEGIN SOLUTION\n    x = 1\n", "never closed"),
    ("def f():\n    # BEGIN SOLUTION\n    x = 1\n# END SOLUTION\n", "not indented like"),
])
def test_bad_markers_are_reported_with_the_line(source, message):
    with pytest.raises(ms.StarterError, match=message) as info:
        ms.strip_python(source, "x.py")
    assert "x.py:" in str(info.value)


def test_hyperparameters_are_reset_to_the_homework_defaults():
    text, _ = ms.strip_python(TRAIN, "neuralnet/train.py")
    namespace = {}
    exec(text, namespace)
    assert namespace["main"]() == (20000, 16, 128, 10, 1e-4, 1.0)
    assert "hidden_dim = 16  # wide" in text
    assert "    # BEGIN HYPERPARAMETERS\n    num_train = 20000\n" in text  # markers stay


def test_hyperparameter_block_missing_a_name_is_an_error():
    broken = TRAIN.replace("    reg = 5e-4\n", "")
    assert broken != TRAIN
    with pytest.raises(ms.StarterError, match="reg"):
        ms.strip_python(broken, "neuralnet/train.py")


def notebook_text():
    cells = [
        new_markdown_cell("Why?\n<!-- BEGIN SOLUTION -->\nBecause.\n<!-- END SOLUTION -->"),
        new_code_cell("x = 1\n# BEGIN SOLUTION\ny = x + 41\n# END SOLUTION\nprint(x)",
                      outputs=[new_output("stream", name="stdout", text="1\n")],
                      execution_count=1),
        new_code_cell("def f(a):\n    # BEGIN SOLUTION\n    return a * 2\n    # END SOLUTION",
                      execution_count=2),
    ]
    nb = new_notebook(cells=cells)
    nb.cells[1].metadata["execution"] = {"iopub.status.busy": "2026-11-27"}
    nb.metadata["widgets"] = {"state": {}}
    return nbformat.writes(nb)


def test_notebook_regions_outputs_and_counts():
    text, regions = ms.strip_notebook(notebook_text(), "part1.ipynb")
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    markdown, first, second = nb.cells
    assert "Because" not in markdown.source and "*Your answer here.*" in markdown.source
    assert first.source == "x = 1\n# TODO: write this part\nprint(x)"  # y is never used
    assert first.outputs == [] and first.execution_count is None
    assert "execution" not in first.metadata and "widgets" not in nb.metadata
    assert second.source == ('def f(a):\n    # TODO: f: write this part\n'
                             '    raise NotImplementedError("f: not implemented yet '
                             '(write this part)")')
    assert all(ms.compiles(cell.source) for cell in (first, second))
    assert len(regions) == 3


def test_shipped_file_importing_a_staff_module_is_reported(tmp_path):
    root = fake_root(tmp_path)
    (root / "tests" / "test_backprop.py").write_text(
        "import make_backprop_data\nfrom staff.grade import score\nimport numpy\n")
    out = tmp_path / "starter"
    ms.build(root, out)
    assert (out / "tests" / "test_backprop.py").is_file()  # shipped as it is
    assert ms.check_staff_imports(root, out) == [
        "tests/test_backprop.py imports the staff-only module make_backprop_data",
        "tests/test_backprop.py imports the staff-only module staff",
    ]


def fake_root(tmp_path):
    """A tiny repository with the shipped layout and things that must not ship."""
    root = tmp_path / "repo"
    files = {
        "backprop/functions.py": FUNCS,
        "backprop/make_backprop_data.py": "ANSWER = 42\n",
        "neuralnet/train.py": TRAIN,
        "neuralnet/__pycache__/x.pyc": "",
        "neuralnet/checkpoint.npz": "",
        "staff/grade.py": "SECRET = 1\n",
        "bench/bench.py": "x = 1\n",
        "results/best/summary.json": "{}",
        "staff/tests/test_hidden.py": "def test_hidden():\n    pass\n",
        "tests/test_student.py": "def test_student():\n    pass\n",
        "handin/check.py": "OK = 0\n",
        "requirements.txt": "numpy\n",
        "part1.ipynb": notebook_text(),
    }
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root


def test_build_ships_only_student_files(tmp_path):
    root = fake_root(tmp_path)
    out = tmp_path / "starter"
    regions = ms.build(root, out)
    shipped = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert shipped == sorted([
        ".hw4-starter", "Makefile", "README.md", "pyproject.toml", "backprop/functions.py",
        "neuralnet/train.py", "part1.ipynb", "python_backup/part1.py", "requirements.txt",
        "tests/test_student.py", "handin/check.py",
    ])
    assert len(regions) == 5  # 2 in functions.py, 3 in the notebook
    assert "# TODO" in (out / "python_backup" / "part1.py").read_text()
    assert ms.verify(root, out, regions, run_checks=False) == []
    zip_path = tmp_path / "starter.zip"
    ms.write_zip(out, zip_path)
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
    assert "starter/backprop/functions.py" in names and "starter/.hw4-starter" not in names


def test_out_folder_not_made_by_the_script_is_never_deleted(tmp_path):
    root = fake_root(tmp_path)
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("do not delete")
    with pytest.raises(ms.StarterError, match="not written by make_starter"):
        ms.build(root, out)
    assert (out / "thesis.tex").is_file()
    ms.build(root, tmp_path / "again")
    ms.build(root, tmp_path / "again")  # its own folder is replaced


def test_leak_check_finds_a_solution_line(tmp_path):
    root = fake_root(tmp_path)
    out = tmp_path / "starter"
    regions = ms.build(root, out)
    with open(out / "neuralnet" / "train.py", "a") as f:
        f.write("result = square(x) + 1\n")  # non-trivial line from Model.forward
    (out / "README.md").write_text("out = np.multiply(x, x)\n")
    nb = nbformat.read(out / "part1.ipynb", as_version=4)
    nb.cells.append(new_code_cell('def g(a):\n    return a * 2\nprint("done")'))
    nbformat.write(nb, out / "part1.ipynb")
    exact, formulas = ms.leak_candidates(regions, root)
    problems = ms.check_leaks(out, (exact, formulas))
    assert any(p.startswith("answer leaked: part1.ipynb cell 4:2: solution line from "
                            "part1.ipynb cell 3:2 (f)") for p in problems)
    assert any("neuralnet/train.py" in p and "(Model.forward)" in p for p in problems)
    assert any("README.md:1: solution line from backprop/functions.py" in p for p in problems)
    assert "return result" not in exact  # trivial lines are not counted
    assert "return a * 2" in exact


def test_file_check_finds_syntax_errors_and_outputs(tmp_path):
    (tmp_path / "bad.py").write_text("def f(:\n")
    (tmp_path / "ran.ipynb").write_text(notebook_text())
    problems = ms.check_files(tmp_path)
    assert any("bad.py does not compile" in p for p in problems)
    assert any("ran.ipynb still has outputs" in p for p in problems)


def test_driver_check(tmp_path):
    scripts = {
        "good.py": "import sys\nprint('f1: not implemented')\nsys.exit(1)\n",
        "passes.py": "print('not implemented')\n",
        "crashes.py": "raise NotImplementedError('not implemented')\n",
    }
    for name, text in scripts.items():
        (tmp_path / name).write_text(text)
    assert ms.check_drivers(tmp_path, ["good.py"]) == []
    problems = ms.check_drivers(tmp_path, ["passes.py", "crashes.py", "missing.py"])
    assert any("passes.py exits 0" in p for p in problems)
    assert any("crashes.py prints a traceback" in p for p in problems)
    assert any("missing.py is missing" in p for p in problems)
    # on the kit filled with the reference the same scripts must pass
    (tmp_path / "ok.py").write_text("print('f1: PASS')\n")
    assert ms.check_reference_drivers(tmp_path, ["ok.py"]) == []
    problems = ms.check_reference_drivers(tmp_path, ["good.py", "crashes.py"])
    assert [p.split(" (exit")[0] for p in problems] == [
        "good.py fails on the kit filled with the reference",
        "crashes.py fails on the kit filled with the reference"]


def test_student_test_check(tmp_path, monkeypatch):
    root = fake_root(tmp_path)
    (root / "tests").mkdir(exist_ok=True)
    (root / "tests" / "conftest.py").write_text(
        "import sys, pathlib\n"
        "sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / 'backprop'))\n")
    (root / "tests" / "test_backprop.py").write_text(textwrap.dedent('''\
        from functions import Model, square


        def test_square():
            assert square(3) == 9


        def test_forward():  # on the starter this stops at square(), before forward
            assert square(2) == 4
            assert Model().forward(2) == 5
    '''))
    out = tmp_path / "starter"
    regions = ms.build(root, out)
    assert ms.check_student_tests(root, out, regions) == []
    # a test that fails on the starter for another reason, and an uncovered function
    (root / "tests" / "test_backprop.py").write_text(textwrap.dedent('''\
        from functions import square


        def test_square():
            assert square(3) == 9


        def test_other():
            assert 1 == 2
    '''))
    regions = ms.build(root, out)
    problems = ms.check_student_tests(root, out, regions)
    assert any("fails on the reference: " in p and "test_other" in p for p in problems)
    assert any("another reason" in p and "test_other" in p for p in problems)
    assert any("missing Model.forward" in p for p in problems)


def test_cli_reports_marker_errors(tmp_path, capsys):
    root = fake_root(tmp_path)
    (root / "backprop" / "functions.py").write_text("# BEGIN SOLUTION\nx = 1\n")
    code = ms.main(["--root", str(root), "--out", str(tmp_path / "s"),
                    "--zip", str(tmp_path / "s.zip"), "--skip-run-checks"])
    assert code == 1
    assert "never closed" in capsys.readouterr().err
    assert not (tmp_path / "s.zip").exists()



@pytest.fixture(scope="module")
def real_starter(tmp_path_factory):
    """The starter kit built from this repository (without running its scripts)."""
    out = tmp_path_factory.mktemp("real") / "hw4-starter"
    regions = ms.build(ms.ROOT, out)
    return out, regions


def test_real_starter_has_no_leaks_and_valid_files(real_starter):
    out, regions = real_starter
    assert ms.verify(ms.ROOT, out, regions, run_checks=False) == []
    owners = {r.owner for r in regions if r.path.endswith(".py")}
    assert {"f3", "fc_forward", "softmax_loss", "TwoLayerNet.forward", "training_step"} <= owners
    assert not (out / "staff").exists() and not (out / "bench").exists()
    assert not (out / "backprop" / "make_backprop_data.py").exists()
    assert not (out / "tests" / "test_staff_grade.py").exists()


def test_real_starter_hyperparameters_are_the_homeworks(real_starter):
    out, _ = real_starter
    text = (out / "neuralnet" / "train.py").read_text()
    for name, value in ms.HOMEWORK_HYPERPARAMETERS.items():
        assert f"    {name} = {value}\n" in text


def test_real_starter_drivers_report_not_implemented(real_starter):
    out, _ = real_starter
    assert ms.check_drivers(out) == []


def test_real_starter_student_tools(real_starter):
    out, _ = real_starter
    run = subprocess.run(["make", "help"], cwd=out, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "make submission" in run.stdout
    run = subprocess.run([sys.executable, "-m", "handin.pack", "jdoe"], cwd=out,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "has no outputs" in run.stderr  # the starter notebooks have not been run
    assert not (out / "jdoe.zip").exists()


@pytest.mark.slow
def test_real_starter_student_tests_fail_exactly_where_code_is_missing(real_starter):
    out, regions = real_starter
    assert ms.check_student_tests(ms.ROOT, out, regions) == []


# ----------------------------------------------------------------------------- answer leaks

LAYERS = textwrap.dedent('''\
    def fc_forward(x, w, b):
        # BEGIN SOLUTION
        out = x @ w + b
        # END SOLUTION
        return out, (x, w, b)


    def fc_backward(grad_out, cache):
        x, w, b = cache
        # BEGIN SOLUTION
        grad_x = grad_out @ w.T
        # END SOLUTION
        return grad_x
''')


@pytest.mark.parametrize("source, what", [
    ("dx = g @ w.T", "transposed"),
    ("dw = np.dot(x.T, g)", "transposed"),
    ("dw = x.T.dot(g)", "transposed"),
    ("dx = g @ np.transpose(w)", "transposed"),
    ("loss = np.logaddexp(s1, s2) - s1", "log-sum-exp"),
    ("def f(s):\n    e = np.exp(s)\n    return e / e.sum(axis=1, keepdims=True)", "divided"),
    ("p = math.exp(a) / (math.exp(a) + math.exp(b))", "divided"),
    ("y = np.tanh(x)", "tanh"),
    ("h = np.maximum(a, 0)", "relu_forward"),
    ("g = grad * (x > 0)", "relu_backward"),
    ("g = np.where(x > 0, grad, 0)", "relu_backward"),
    ("loss = 0.5 * reg * np.sum(w * w)", "l2_regularization"),
])
def test_formula_detector_finds_each_graded_formula(source, what):
    found = starter_checks.formulas_in_source(source)
    assert found and what in found[0][1], found


@pytest.mark.parametrize("source", [
    "grad[i] = (plus - minus) / (2 * h)",  # a numeric gradient
    "rel = np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))",
    "out, cache = fc_forward(x, w, b)",  # calling the student's function is fine
    "assert (x > 0).all() and y.T.shape == (3, 2)",
    "scores = x @ w",
    "%matplotlib inline\nx = 1",
])
def test_formula_detector_leaves_ordinary_code_alone(source):
    assert starter_checks.formulas_in_source(source) == []


def test_normalized_lines_ignore_names_and_spacing():
    a, ops = starter_checks.normalize("out = x @ w + b  # fc")
    assert (a, ops) == starter_checks.normalize("scores=X@W1+b1")
    assert ops == 2 and "# fc" not in a
    assert starter_checks.normalize("y = np.exp(x)")[0] != starter_checks.normalize(
        "y = np.log(x)")[0]


def test_planted_leaks_in_a_shipped_test_are_caught(tmp_path):
    root = fake_root(tmp_path)
    (root / "neuralnet" / "layers.py").write_text(LAYERS)
    (root / "tests" / "test_layers.py").write_text(textwrap.dedent('''\
        from layers import fc_backward, fc_forward


        def test_fc(x, W, bias, g):
            expected = x @ W + bias
            assert fc_forward(x, W, bias)[0] == expected
            assert fc_backward(g, (x, W, bias)) == g @ W.T
    '''))
    out = tmp_path / "starter"
    regions = ms.build(root, out)
    problems = ms.check_leaks(out, ms.leak_candidates(regions, root))
    assert any(p.startswith("answer leaked: tests/test_layers.py:5: the formula of solution "
                            "line from neuralnet/layers.py:2 (fc_forward) (other names)")
               for p in problems), problems
    assert any(p.startswith("answer leaked: tests/test_layers.py:7: a product with a "
                            "transposed matrix") for p in problems), problems
    assert not any("fc_forward(x, W, bias)[0]" in p for p in problems)  # a call is no leak


def test_make_starter_fails_listing_the_leak(tmp_path, capsys):
    root = fake_root(tmp_path)
    (root / "tests" / "test_backprop.py").write_text(
        "from functions import square\n\n\ndef test_square():\n"
        "    assert square(3) == np.multiply(3, 3)\n    out = np.multiply(x, x)\n")
    code = ms.main(["--root", str(root), "--out", str(tmp_path / "s"),
                    "--zip", str(tmp_path / "s.zip"), "--skip-run-checks"])
    err = capsys.readouterr().err
    assert code == 1 and not (tmp_path / "s.zip").exists()
    assert ("CHECK FAILED: answer leaked: tests/test_backprop.py:6: solution line from "
            "backprop/functions.py:8 (square): out = np.multiply(x, x)") in err


def test_staff_mentions_in_a_shipped_readme_are_caught(tmp_path):
    root = fake_root(tmp_path)
    out = tmp_path / "starter"
    regions = ms.build(root, out)
    candidates = ms.leak_candidates(regions, root)
    assert ms.check_leaks(out, candidates) == []
    with open(out / "README.md", "a") as f:
        f.write("\nNumbers: see BENCHMARKS.md.\nRun `make homework` first.\n"
                "python staff/grade.py x.zip\nour tuned settings\nyour tuned settings\n")
    problems = ms.check_leaks(out, candidates)
    assert [p.split(": mentions")[0] for p in problems] == [
        f"staff-only mention: README.md:{n}" for n in range(56, 60)] or len(problems) == 4
    assert all(p.startswith("staff-only mention: README.md:") for p in problems)
    assert "your tuned settings" not in "".join(problems)


def test_real_starter_tools_and_tests_mention_nothing_of_the_staff_side(real_starter):
    out, _ = real_starter
    assert "python -m handin.pack" in (out / "handin" / "pack.py").read_text()
    assert "python -m handin.check" in (out / "handin" / "check.py").read_text()
    conftest = (out / "tests" / "conftest.py").read_text()
    assert "STAFF" not in conftest and "staff" not in conftest
    compile(conftest, "conftest.py", "exec")
    assert starter_checks.staff_mentions(out) == []


# ----------------------------------------------------------------------------- notebooks


def starter_cells(out, name):
    """The code cells of a starter notebook by id."""
    nb = nbformat.read(out / name, as_version=4)
    return {cell.id: cell.source for cell in nb.cells if cell.cell_type == "code"}


def test_real_starter_notebooks_keep_cell_ids(real_starter):
    out, _ = real_starter
    for name in ("part1.ipynb", "part2.ipynb"):
        reference = nbformat.read(ms.ROOT / name, as_version=4)
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
    assert ms.compiles(source)
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
    from staff.fake_fashion_mnist import write_fake_fashion_mnist

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
    reference = {cell.id: cell.source for cell in nbformat.read(ms.ROOT / "part1.ipynb",
                                                                as_version=4).cells}
    sources = [reference[c.id] if c.id == "5f5739ee" else c.source for c in code]
    index, err = run_cells(sources, {})
    assert isinstance(err, NotImplementedError) and "FashionCNN" in str(err), err
    assert ids[index] == "a498268f" and "summary(" in code[index].source


# ----------------------------------------------------------------------------- README


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
    assert re.findall(r"\$\(PY\) (\S+\.py)", check_code) == list(ms.DRIVER_SCRIPTS)
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


def test_staff_requirements_and_markdown_staff_blocks_are_dropped(tmp_path):
    text = ("-r requirements.txt\n# what the grader adds\n-r staff/grader.txt\npytest==9\n"
            "copydetect==0.5  # for staff/grade_all.py\n")
    assert ms.drop_staff_requirements(text) == "-r requirements.txt\npytest==9\n"
    source, _ = ms.strip_markdown_cell(
        "Intro:\n\n| a |\n\n<!-- BEGIN STAFF ONLY -->\nours: 93.59%\n<!-- END STAFF ONLY -->\n"
        "\nMore.", "part1.ipynb cell 1")
    assert source == "Intro:\n\n| a |\n\nMore."
    (tmp_path / "requirements-dev.txt").write_text("-r requirements.txt\n-r other.txt\n")
    (tmp_path / "requirements.txt").write_text("numpy\n")
    assert ms.check_files(tmp_path) == [
        "requirements-dev.txt includes other.txt, which the kit lacks"]


def test_real_starter_part1_keeps_the_reference_numbers_out(real_starter):
    out, _ = real_starter
    text = (out / "part1.ipynb").read_text()
    assert "93.59%" not in text and "STAFF ONLY" not in text and "at most 10 min" in text
    assert "93.59%" in (ms.ROOT / "part1.ipynb").read_text()
