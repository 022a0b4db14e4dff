"""staff/reference/homework.py (`make homework`): stage skipping, failures, data discovery,
smoke run."""

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from staff.reference import homework
from staff.reference.homework import Settings, Stage

ROOT = Path(__file__).resolve().parents[2]


def writer_stage(name, inputs, outputs, calls, fail=False, write=True):
    """A stage that records its runs, writes its outputs and then fails if `fail`."""
    def run(settings, log):
        calls.append(name)
        print(f"{name} is running", file=log)
        if write:
            for out in outputs:
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(f"made by {name}, call {len(calls)}")
        if fail:
            print("something broke: ZeroDivisionError", file=log)
            raise homework.StageError(f"`{name}` exited with status 1")
    return Stage(name, f"the {name} stage", list(inputs), list(outputs), run)


@pytest.fixture
def pipeline(tmp_path):
    """Two chained stages: a (src.py -> a.txt) and b (a.txt -> b.txt)."""
    src = tmp_path / "src.py"
    src.write_text("x = 1\n")
    results = tmp_path / "results"
    calls = []

    def stages(**fail):
        return [writer_stage("a", [src], [results / "a.txt"], calls, fail=fail.get("a", False)),
                writer_stage("b", [results / "a.txt"], [results / "b.txt"], calls,
                             fail=fail.get("b", False))]
    return {"src": src, "results": results, "calls": calls, "stages": stages,
            "settings": Settings(results=results)}


def run(settings, stages):
    out = io.StringIO()
    rc = homework.run_stages(settings, stages, out=out)
    return rc, out.getvalue()


def backdate(*paths, seconds=60):
    """Make files look `seconds` older, so that a file written now is newer than them
    whatever the file system's timestamp resolution."""
    for path in paths:
        mtime = path.stat().st_mtime - seconds
        os.utime(path, (mtime, mtime))


def test_second_run_skips_up_to_date_stages(pipeline):
    rc, out = run(pipeline["settings"], pipeline["stages"]())
    assert rc == 0 and pipeline["calls"] == ["a", "b"]
    assert out.count("PASS") == 2 and "all 2 stages done" in out
    rc, out = run(pipeline["settings"], pipeline["stages"]())
    assert rc == 0 and pipeline["calls"] == ["a", "b"]
    assert out.count("skipped (up to date)") == 2
    timings = json.loads((pipeline["results"] / "timings.json").read_text())
    assert set(timings) == {"a", "b"} and timings["a"]["status"] == "PASS"


def test_edited_source_reruns_its_stage_and_the_ones_after(pipeline):
    results = pipeline["results"]
    run(pipeline["settings"], pipeline["stages"]())
    backdate(results / "a.txt", results / "b.txt")
    pipeline["src"].write_text("x = 2\n")
    rc, _ = run(pipeline["settings"], pipeline["stages"]())
    assert rc == 0 and pipeline["calls"] == ["a", "b", "a", "b"]
    assert "src.py is newer" in (results / "logs/a.log").read_text()  # why a reran
    assert "a.txt is newer" in (results / "logs/b.log").read_text()
    run(pipeline["settings"], pipeline["stages"]())
    assert pipeline["calls"] == ["a", "b", "a", "b"]


def test_newer_upstream_output_reruns_only_the_stages_after_it(pipeline):
    results = pipeline["results"]
    run(pipeline["settings"], pipeline["stages"]())
    backdate(results / "b.txt")
    rc, out = run(pipeline["settings"], pipeline["stages"]())
    assert rc == 0 and pipeline["calls"] == ["a", "b", "b"]
    assert out.count("skipped (up to date)") == 1


def test_missing_output_reruns_only_that_stage(pipeline):
    run(pipeline["settings"], pipeline["stages"]())
    (pipeline["results"] / "b.txt").unlink()
    run(pipeline["settings"], pipeline["stages"]())
    assert pipeline["calls"] == ["a", "b", "b"]


def test_force_reruns_everything(pipeline):
    run(pipeline["settings"], pipeline["stages"]())
    pipeline["settings"].force = True
    rc, _ = run(pipeline["settings"], pipeline["stages"]())
    assert rc == 0 and pipeline["calls"] == ["a", "b", "a", "b"]


def test_stage_that_rewrites_its_input_is_up_to_date_afterwards(tmp_path):
    """Like part1.ipynb executed in place: saved after the cells wrote the outputs."""
    notebook, output, calls = tmp_path / "nb.ipynb", tmp_path / "r/out.json", []
    notebook.write_text("{}")

    def run_notebook(settings, log):
        calls.append("nb")
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text("{}")
        backdate(output)  # the cells ran long before the notebook was saved
        notebook.write_text('{"executed": true}')

    stage = Stage("nb", "notebook", [notebook], [output], run_notebook)
    settings = Settings(results=tmp_path / "r")
    run(settings, [stage])
    rc, out = run(settings, [stage])
    assert rc == 0 and calls == ["nb"] and "skipped (up to date)" in out


def test_failing_stage_stops_the_run_and_deletes_only_its_outputs(pipeline):
    rc, out = run(pipeline["settings"], pipeline["stages"](b=True))
    assert rc == 1 and pipeline["calls"] == ["a", "b"]
    assert "FAIL" in out and "stopped at stage 'b'" in out
    assert "something broke: ZeroDivisionError" in out  # the log's tail is shown
    assert (pipeline["results"] / "a.txt").read_text() == "made by a, call 1"
    assert not (pipeline["results"] / "b.txt").exists()  # half-written: not up to date
    rc, out = run(pipeline["settings"], pipeline["stages"]())  # resumes at the failed stage
    assert rc == 0 and pipeline["calls"] == ["a", "b", "b"]
    assert "skipped (up to date)" in out


def test_first_stage_failure_runs_nothing_after_it(pipeline):
    rc, _ = run(pipeline["settings"], pipeline["stages"](a=True))
    assert rc == 1 and pipeline["calls"] == ["a"]
    assert json.loads((pipeline["results"] / "timings.json").read_text())["a"]["status"] == "FAIL"


def test_stage_that_writes_no_outputs_fails(tmp_path):
    calls = []
    stage = writer_stage("lazy", [], [tmp_path / "r/never.txt"], calls, write=False)
    rc, out = run(Settings(results=tmp_path / "r"), [stage])
    assert rc == 1 and "did not write" in out and "never.txt" in out


def test_run_logged_reports_exit_status(tmp_path):
    with open(tmp_path / "log", "w") as log, pytest.raises(homework.StageError, match="status 3"):
        homework.run_logged([sys.executable, "-c", "print('hi'); raise SystemExit(3)"], log)
    assert "hi" in (tmp_path / "log").read_text()


def test_unknown_stage_name_is_a_clear_error(tmp_path):
    settings = Settings(results=tmp_path, only=("nope",))
    with pytest.raises(SystemExit, match="unknown stage"):
        homework.build_stages(settings)


def test_stage_order_is_the_homework_order(tmp_path):
    names = [s.name for s in homework.build_stages(Settings(results=tmp_path))]
    assert names == ["backprop", "best", "overfit", "test", "part1", "part2", "report"]
    only = homework.build_stages(Settings(results=tmp_path, only=("test", "best")))
    assert [s.name for s in only] == ["best", "test"]


@pytest.fixture
def no_default_data(tmp_path, monkeypatch):
    """No data anywhere: HW4_DATA unset and the default folders empty."""
    monkeypatch.delenv("HW4_DATA", raising=False)
    fake_root = tmp_path / "repo"
    (fake_root / "neuralnet").mkdir(parents=True)
    monkeypatch.setattr(homework, "ROOT", fake_root)
    monkeypatch.setattr(homework, "FMNIST_DEFAULT_ROOT", fake_root / "data")
    return tmp_path


@pytest.mark.parametrize("finder,name", [(homework.find_cifar, "CIFAR-10"),
                                         (homework.find_fmnist, "Fashion-MNIST")])
def test_missing_data_message_names_places_and_three_fixes(no_default_data, finder, name):
    settings = Settings(results=no_default_data / "r", data_dir=no_default_data / "mine",
                        download=False)
    with pytest.raises(homework.DataMissingError) as err:
        finder(settings, io.StringIO())
    message = str(err.value)
    assert message.startswith(f"{name} not found")
    assert str(no_default_data / "mine") in message
    for fix in ("1. be online", "2. set HW4_DATA", "3. pass the folder"):
        assert fix in message


def test_offline_data_is_built_from_the_local_copy_as_make_data_does(no_default_data):
    from staff.tests.test_get_data import fake_shared

    settings = Settings(results=no_default_data / "r", local_copy=fake_shared(no_default_data))
    log = io.StringIO()
    data = homework.find_cifar(settings, log)
    assert data == homework.ROOT / "data"
    assert (data / "cifar-10-batches-py").is_dir() and "local copy" in log.getvalue()
    assert homework.find_fmnist(settings, log) == data
    assert (data / "FashionMNIST" / "raw").is_dir()


def test_data_found_via_flag_then_env(no_default_data, monkeypatch):
    flag_dir, env_dir = no_default_data / "flag", no_default_data / "env"
    (flag_dir / "cifar-10-batches-py").mkdir(parents=True)
    (flag_dir / "cifar-10-batches-py/data_batch_1").write_bytes(b"x")
    (env_dir).mkdir()
    (env_dir / "cifar-10-python.tar.gz").write_bytes(b"x")
    raw = env_dir / "FashionMNIST/raw"
    raw.mkdir(parents=True)
    for name in homework.FMNIST_FILES:
        (raw / name).write_bytes(b"x")
    monkeypatch.setenv("HW4_DATA", str(env_dir))
    settings = Settings(results=no_default_data / "r", data_dir=flag_dir, download=False)
    assert homework.find_cifar(settings, io.StringIO()) == flag_dir
    assert homework.find_fmnist(settings, io.StringIO()) == env_dir
    settings.data_dir = None
    assert homework.find_cifar(settings, io.StringIO()) == env_dir


def test_missing_data_stops_the_stage_that_needs_it(no_default_data):
    calls, source, output = [], no_default_data / "train.py", no_default_data / "r/out.txt"
    output.parent.mkdir()
    output.write_text("an older run's")
    source.write_text("")
    backdate(output)
    stage = writer_stage("train", [source], [output], calls)
    stage.needs = {"cifar"}
    rc, out = run(Settings(results=no_default_data / "r", download=False), [stage])
    assert rc == 1 and calls == [] and "CIFAR-10 not found" in out and "HW4_DATA" in out
    assert output.read_text() == "an older run's"  # nothing was touched


def test_inject_parameters_goes_right_after_the_parameters_cell():
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell("SMOKE = False"),
                nbformat.v4.new_code_cell("print(SMOKE)")]
    nb.cells[1].metadata["tags"] = ["parameters"]
    homework.inject_parameters(nb, {"SMOKE": True, "RESULTS_DIR": "out/part1"})
    assert nb.cells[2].source.splitlines()[1:] == ["SMOKE = True", "RESULTS_DIR = 'out/part1'"]
    assert nb.cells[2].metadata["tags"] == ["injected-parameters"]
    del nb.cells[1].metadata["tags"]
    with pytest.raises(homework.StageError, match="no cell tagged 'parameters'"):
        homework.inject_parameters(nb, {"SMOKE": True})


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_smoke_run_end_to_end(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    from handin import writeup_questions as questions

    results = tmp_path / "smoke"
    cmd = [sys.executable, "-m", "staff.reference.homework", "--smoke", "--results-dir",
           str(results)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=540)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("[")]
    assert len(lines) == 7 and all(" PASS " in line for line in lines), proc.stdout
    pdf = results / "report.pdf"
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    for question in questions.QUESTIONS:  # every page of the students' write-up, nothing missing
        assert question.title in text, question.key
    assert "SMOKE run" in text and "Nothing is missing" in text
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf),
                        str(tmp_path / "page")], check=True, timeout=60)
        assert len(list(tmp_path.glob("page*.png"))) == 1
    # the committed notebooks were not touched: smoke executes copies
    assert (results / "notebooks/part1.ipynb").is_file()
    # a second run skips every stage
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("skipped (up to date)") == 7, again.stdout


def _tiny_notebook(path, body):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("N = 1"), nbformat.v4.new_code_cell(body)]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return nbformat


@pytest.mark.slow
def test_execute_notebook_injects_parameters_and_keeps_inline_figures(tmp_path):
    source, dest = tmp_path / "nb.ipynb", tmp_path / "out/nb.ipynb"
    nbformat = _tiny_notebook(source, "import matplotlib.pyplot as plt\n"
                                      "plt.plot([1, 2]); plt.show()\nprint('N is', N)")
    with open(tmp_path / "stage.log", "w") as log:
        homework.execute_notebook(source, dest, {"N": 7}, {}, log)
    outputs = nbformat.read(dest, as_version=4).cells[2].outputs
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert any("N is 7" in o.get("text", "") for o in outputs)


@pytest.mark.slow
def test_failing_notebook_leaves_the_source_untouched(tmp_path):
    source = tmp_path / "nb.ipynb"
    _tiny_notebook(source, "raise ValueError('cell broke')")
    before = source.read_text()
    (tmp_path / "logs").mkdir()
    with open(tmp_path / "logs/part9.log", "w") as log, \
            pytest.raises(homework.StageError, match="raised an error"):
        homework.execute_notebook(source, source, {}, {}, log)
    assert source.read_text() == before
    assert "cell broke" in (tmp_path / "logs/nb.failed.ipynb").read_text()
    assert "cell broke" in (tmp_path / "logs/part9.log").read_text()
