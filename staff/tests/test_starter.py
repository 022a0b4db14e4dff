"""staff/starter on small synthetic files: stubs, notebooks, what ships, each static check
(leaks, staff mentions and imports, compile/validity), the command line, and the helpers
that run a kit's drivers and student tests (staff/tests/starter_runs.py)."""

import shutil
import subprocess
import textwrap
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from staff.starter import checks, leaks
from staff.starter.__main__ import main
from staff.starter.build import build, drop_staff_requirements, write_zip
from staff.starter.notebooks import compiles, strip_markdown_cell, strip_notebook
from staff.starter.regions import StarterError, strip_python
from staff.tests import starter_runs

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
    text, regions = strip_python(FUNCS, "backprop/functions.py")
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
    with pytest.raises(StarterError, match=message) as info:
        strip_python(source, "x.py")
    assert "x.py:" in str(info.value)


def test_hyperparameter_block_ships_as_it_is(tmp_path):
    root = fake_root(tmp_path)
    build(root, tmp_path / "starter")
    assert (tmp_path / "starter" / "neuralnet" / "train.py").read_text() == TRAIN


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
    text, regions = strip_notebook(notebook_text(), "part1.ipynb")
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
    assert all(compiles(cell.source) for cell in (first, second))
    assert len(regions) == 3


def test_shipped_file_importing_a_staff_module_is_reported(tmp_path):
    root = fake_root(tmp_path)
    (root / "tests" / "test_backprop.py").write_text(
        "from bench import bench_cifar\nfrom staff.grading.grade import score\nimport numpy\n")
    out = tmp_path / "starter"
    build(root, out)
    assert (out / "tests" / "test_backprop.py").is_file()  # shipped as it is
    assert checks.check_staff_imports(out) == [
        "tests/test_backprop.py imports the staff-only module bench",
        "tests/test_backprop.py imports the staff-only module staff",
    ]


def fake_root(tmp_path):
    """A tiny repository with the shipped layout and things that must not ship."""
    root = tmp_path / "repo"
    files = {
        "backprop/functions.py": FUNCS,
        "staff/reference/make_backprop_data.py": "ANSWER = 42\n",
        "neuralnet/train.py": TRAIN,
        "neuralnet/__pycache__/x.pyc": "",
        "neuralnet/checkpoint.npz": "",
        "staff/grading/grade.py": "SECRET = 1\n",
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
    regions = build(root, out)
    shipped = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert shipped == sorted([
        ".hw4-starter", "Makefile", "README.md", "pyproject.toml", "backprop/functions.py",
        "neuralnet/train.py", "part1.ipynb", "python_backup/part1.py", "requirements.txt",
        "tests/test_student.py", "handin/check.py",
    ])
    assert len(regions) == 5  # 2 in functions.py, 3 in the notebook
    assert "# TODO" in (out / "python_backup" / "part1.py").read_text()
    assert checks.verify(root, out, regions) == []
    zip_path = tmp_path / "starter.zip"
    write_zip(out, zip_path)
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
    assert "starter/backprop/functions.py" in names and "starter/.hw4-starter" not in names


def test_out_folder_not_made_by_the_script_is_never_deleted(tmp_path):
    root = fake_root(tmp_path)
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("do not delete")
    with pytest.raises(StarterError, match="not written by staff.starter"):
        build(root, out)
    assert (out / "thesis.tex").is_file()
    build(root, tmp_path / "again")
    build(root, tmp_path / "again")  # its own folder is replaced


def test_leak_check_finds_a_solution_line(tmp_path):
    root = fake_root(tmp_path)
    out = tmp_path / "starter"
    regions = build(root, out)
    with open(out / "neuralnet" / "train.py", "a") as f:
        f.write("result = square(x) + 1\n")  # non-trivial line from Model.forward
    (out / "README.md").write_text("out = np.multiply(x, x)\n")
    nb = nbformat.read(out / "part1.ipynb", as_version=4)
    nb.cells.append(new_code_cell('def g(a):\n    return a * 2\nprint("done")'))
    nbformat.write(nb, out / "part1.ipynb")
    exact, formulas = leaks.leak_candidates(regions, root)
    problems = checks.check_leaks(out, (exact, formulas))
    assert any(p.startswith("answer leaked: part1.ipynb cell 4:2: solution line from "
                            "part1.ipynb cell 3:2 (f)") for p in problems)
    assert any("neuralnet/train.py" in p and "(Model.forward)" in p for p in problems)
    assert any("README.md:1: solution line from backprop/functions.py" in p for p in problems)
    assert "return result" not in exact  # trivial lines are not counted
    assert "return a * 2" in exact


def test_file_check_finds_syntax_errors_and_outputs(tmp_path):
    (tmp_path / "bad.py").write_text("def f(:\n")
    (tmp_path / "ran.ipynb").write_text(notebook_text())
    problems = checks.check_files(tmp_path)
    assert any("bad.py does not compile" in p for p in problems)
    assert any("ran.ipynb still has outputs" in p for p in problems)


def test_driver_checks(tmp_path):
    scripts = {
        "good.py": "import sys\nprint('f1: not implemented')\nsys.exit(1)\n",
        "passes.py": "print('not implemented')\n",
        "crashes.py": "raise NotImplementedError('not implemented')\n",
        "ok.py": "print('f1: PASS')\n",
    }
    for name, text in scripts.items():
        (tmp_path / name).write_text(text)

    def on_starter(script):
        return starter_runs.starter_driver_problems(tmp_path, script)

    assert on_starter("good.py") == []
    assert "passes.py exits 0" in on_starter("passes.py")[0]
    assert "crashes.py prints a traceback" in on_starter("crashes.py")[0]
    assert on_starter("missing.py") == ["missing.py is missing from the starter"]
    # on the kit filled with the reference the scripts must pass
    assert starter_runs.reference_driver_problems(tmp_path, "ok.py") == []
    for script in ("good.py", "crashes.py"):
        problems = starter_runs.reference_driver_problems(tmp_path, script)
        assert [p.split(" (exit")[0] for p in problems] == [
            f"{script} fails on the kit filled with the reference"]


def student_test_problems(root, out, regions, tmp):
    """The student-test checks of test_starter_kit.py, on the kit `out` built from `root`."""
    tmp.mkdir()
    reference_kit = tmp / "reference"
    build(root, reference_kit, strip=False)
    tests = starter_runs.student_tests(out)
    reference = starter_runs.run_pytest(reference_kit, tests, tmp / "reference.xml")
    starter = starter_runs.run_pytest(out, tests, tmp / "starter.xml")
    return (starter_runs.reference_failures(reference) + starter_runs.other_failures(starter)
            + starter_runs.uncovered_stubs(reference_kit, starter, regions, tmp))


def test_student_test_checks(tmp_path):
    root = fake_root(tmp_path)
    (root / "tests" / "test_backprop.py").write_text(textwrap.dedent('''\
        from functions import Model, square


        def test_square():
            assert square(3) == 9


        def test_forward():  # on the starter this stops at square(), before forward
            assert square(2) == 4
            assert Model().forward(2) == 5
    '''))
    out = tmp_path / "starter"
    regions = build(root, out)
    assert student_test_problems(root, out, regions, tmp_path / "good") == []
    # a test that fails on the starter for another reason, and an uncovered function
    (root / "tests" / "test_backprop.py").write_text(textwrap.dedent('''\
        from functions import square


        def test_square():
            assert square(3) == 9


        def test_other():
            assert 1 == 2
    '''))
    regions = build(root, out)
    problems = student_test_problems(root, out, regions, tmp_path / "bad")
    assert any("fails on the reference: " in p and "test_other" in p for p in problems)
    assert any("another reason" in p and "test_other" in p for p in problems)
    assert any("missing Model.forward" in p for p in problems)


def test_cli_reports_marker_errors(tmp_path, capsys):
    root = fake_root(tmp_path)
    (root / "backprop" / "functions.py").write_text("# BEGIN SOLUTION\nx = 1\n")
    code = main(["--root", str(root), "--out", str(tmp_path / "s"),
                 "--zip", str(tmp_path / "s.zip")])
    assert code == 1
    assert "never closed" in capsys.readouterr().err
    assert not (tmp_path / "s.zip").exists()



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
    found = leaks.formulas_in_source(source)
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
    assert leaks.formulas_in_source(source) == []


def test_normalized_lines_ignore_names_and_spacing():
    a, ops = leaks.normalize("out = x @ w + b  # fc")
    assert (a, ops) == leaks.normalize("scores=X@W1+b1")
    assert ops == 2 and "# fc" not in a
    assert leaks.normalize("y = np.exp(x)")[0] != leaks.normalize(
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
    regions = build(root, out)
    problems = checks.check_leaks(out, leaks.leak_candidates(regions, root))
    assert any(p.startswith("answer leaked: tests/test_layers.py:5: the formula of solution "
                            "line from neuralnet/layers.py:2 (fc_forward) (other names)")
               for p in problems), problems
    assert any(p.startswith("answer leaked: tests/test_layers.py:7: a product with a "
                            "transposed matrix") for p in problems), problems
    assert not any("fc_forward(x, W, bias)[0]" in p for p in problems)  # a call is no leak


def test_cli_fails_listing_the_leak(tmp_path, capsys):
    root = fake_root(tmp_path)
    (root / "tests" / "test_backprop.py").write_text(
        "from functions import square\n\n\ndef test_square():\n"
        "    assert square(3) == np.multiply(3, 3)\n    out = np.multiply(x, x)\n")
    code = main(["--root", str(root), "--out", str(tmp_path / "s"),
                 "--zip", str(tmp_path / "s.zip")])
    err = capsys.readouterr().err
    assert code == 1 and not (tmp_path / "s.zip").exists()
    assert ("CHECK FAILED: answer leaked: tests/test_backprop.py:6: solution line from "
            "backprop/functions.py:8 (square): out = np.multiply(x, x)") in err


def test_staff_mentions_in_a_shipped_readme_are_caught(tmp_path):
    root = fake_root(tmp_path)
    out = tmp_path / "starter"
    regions = build(root, out)
    candidates = leaks.leak_candidates(regions, root)
    assert checks.check_leaks(out, candidates) == []
    with open(out / "README.md", "a") as f:
        f.write("\nNumbers: see BENCHMARKS.md.\nRun `make homework` first.\n"
                "python staff/grading/grade.py x.zip\nour tuned settings\nyour tuned settings\n")
    problems = checks.check_leaks(out, candidates)
    assert [p.split(": mentions")[0] for p in problems] == [
        f"staff-only mention: README.md:{n}" for n in range(56, 60)] or len(problems) == 4
    assert all(p.startswith("staff-only mention: README.md:") for p in problems)
    assert "your tuned settings" not in "".join(problems)


def test_staff_requirements_and_markdown_staff_blocks_are_dropped(tmp_path):
    text = ("-r requirements.txt\n# what the grader adds\n-r staff/grader.txt\npytest==9\n"
            "copydetect==0.5  # for staff/course/grade_all.py\n")
    assert drop_staff_requirements(text) == "-r requirements.txt\npytest==9\n"
    source, _ = strip_markdown_cell(
        "Intro:\n\n| a |\n\n<!-- BEGIN STAFF ONLY -->\nours: 93.59%\n<!-- END STAFF ONLY -->\n"
        "\nMore.", "part1.ipynb cell 1")
    assert source == "Intro:\n\n| a |\n\nMore."
    (tmp_path / "requirements-dev.txt").write_text("-r requirements.txt\n-r other.txt\n")
    (tmp_path / "requirements.txt").write_text("numpy\n")
    assert checks.check_files(tmp_path) == [
        "requirements-dev.txt includes other.txt, which the kit lacks"]


@pytest.mark.parametrize("line, mentioned", [
    ("run python -m staff.starter", True),
    ("from bench.bench_cifar import run", True),
    ("see staff/grading/grade.py", True),
    ("ask the course staff.", False),
    ("handin/check.py checks your zip", False),
])
def test_staff_mention_patterns(tmp_path, line, mentioned):
    (tmp_path / "notes.txt").write_text(line + "\n")
    assert bool(checks.staff_mentions(tmp_path)) == mentioned


@pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")
@pytest.mark.parametrize("value, on", [("1", True), ("yes", True), ("0", False), ("", False)])
def test_kit_makefile_reads_force_and_strict_as_yes_or_no(tmp_path, value, on):
    """FORCE=0 must not overwrite a student's zip (it did: any value meant yes)."""
    makefile = Path(__file__).parents[1] / "starter_files" / "Makefile"
    commands = {}
    for target, option, args in (("submission", "--force", ["UNIQNAME=jdoe", f"FORCE={value}"]),
                                 ("writeup", "--strict", [f"STRICT={value}"])):
        result = subprocess.run(["make", "-n", "-f", str(makefile), target, *args],
                                capture_output=True, text=True, cwd=tmp_path, check=True)
        commands[option] = result.stdout
    assert all((option in text) == on for option, text in commands.items()), commands
