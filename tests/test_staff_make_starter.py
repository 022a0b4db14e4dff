"""staff/make_starter.py on small synthetic files: stubs, hyperparameters, notebooks, shipping,
and each self-check (leaks, compile/validity, drivers, student tests)."""

import subprocess
import sys
import textwrap
import zipfile

import make_starter as ms
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

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


def test_drop_unshipped_removes_imports_and_their_tests():
    text = textwrap.dedent('''\
        import make_backprop_data
        import numpy as np


        def test_keeps():
            assert np.ones(1)[0] == 1


        @pytest.mark.parametrize("a", [1])
        def test_drops(a):
            assert make_backprop_data.build_data()
    ''')
    out = ms.drop_unshipped(text, "tests/test_x.py")
    assert "make_backprop_data" not in out and "test_drops" not in out
    assert "def test_keeps" in out and "parametrize" not in out
    compile(out, "test_x.py", "exec")


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
        "tests/test_hidden.py": "def test_hidden():\n    pass\n",
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
        ".hw4-starter", "Makefile", "README.md", "backprop/functions.py", "neuralnet/train.py",
        "part1.ipynb", "python_backup/part1.py", "requirements.txt",
        "tools/check_submission.py", "tools/make_submission.py",
    ])
    assert len(regions) == 5  # 2 in functions.py, 3 in the notebook
    assert "# TODO" in (out / "python_backup" / "part1.py").read_text()
    files = ms.shipped_files(root)
    assert ms.verify(root, out, regions, files, run_checks=False) == []
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
    files = ms.shipped_files(root)
    with open(out / "neuralnet" / "train.py", "a") as f:
        f.write("result = square(x) + 1\n")  # non-trivial line from Model.forward
    (out / "README.md").write_text("out = np.multiply(x, x)\n")
    nb = nbformat.read(out / "part1.ipynb", as_version=4)
    nb.cells.append(new_code_cell('def g(a):\n    return a * 2\nprint("done")'))
    nbformat.write(nb, out / "part1.ipynb")
    exact, formulas = ms.leak_candidates(regions, root, files)
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
    files = ms.shipped_files(ms.ROOT)
    assert ms.verify(ms.ROOT, out, regions, files, run_checks=False) == []
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
    run = subprocess.run([sys.executable, "tools/make_submission.py", "jdoe"], cwd=out,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "has no outputs" in run.stderr  # the starter notebooks have not been run
    assert not (out / "jdoe.zip").exists()


@pytest.mark.slow
def test_real_starter_student_tests_fail_exactly_where_code_is_missing(real_starter):
    out, regions = real_starter
    assert ms.check_student_tests(ms.ROOT, out, regions) == []
