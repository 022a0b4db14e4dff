"""staff/homework.py (`make homework`): stage skipping, failures, data discovery, smoke run."""

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

from staff import homework  # noqa: E402
from staff.homework import Settings, Stage  # noqa: E402

# --------------------------------------------------------------------------- helpers


def writer_stage(name, inputs, outputs, calls, fail=False, write=True):
    """A stage that records its runs and writes its outputs (or fails)."""
    def run(settings, log):
        calls.append(name)
        print(f"{name} is running", file=log)
        if fail:
            print("something broke: ZeroDivisionError", file=log)
            raise homework.StageError(f"`{name}` exited with status 1")
        if write:
            for out in outputs:
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(f"made by {name}, call {len(calls)}")
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


# --------------------------------------------------------------------------- skipping


def test_second_run_skips_up_to_date_stages(pipeline):
    rc, out = run(pipeline["settings"], pipeline["stages"]())
    assert rc == 0 and pipeline["calls"] == ["a", "b"]
    assert out.count("PASS") == 2 and "all 2 stages done" in out
    rc, out = run(pipeline["settings"], pipeline["stages"]())
    assert rc == 0 and pipeline["calls"] == ["a", "b"]
    assert out.count("skipped (up to date)") == 2
    timings = json.loads((pipeline["results"] / "timings.json").read_text())
    assert set(timings) == {"a", "b"} and timings["a"]["status"] == "PASS"


def test_changed_source_reruns_its_stage_and_the_ones_after(pipeline):
    run(pipeline["settings"], pipeline["stages"]())
    pipeline["src"].write_text("x = 2\n")
    rc, out = run(pipeline["settings"], pipeline["stages"]())
    assert rc == 0 and pipeline["calls"] == ["a", "b", "a", "b"]
    assert "a.txt" in (pipeline["results"] / "logs/b.log").read_text()  # why b reran


def test_same_upstream_output_does_not_rerun_downstream(pipeline, tmp_path):
    """Inputs are compared by content: a rerun that writes identical outputs stops there."""
    src, results, calls = pipeline["src"], pipeline["results"], []
    stages = [writer_stage("a", [src], [results / "a.txt"], calls),
              writer_stage("b", [results / "a.txt"], [results / "b.txt"], calls)]
    stages[0].run = lambda settings, log: (calls.append("a"),
                                           (results / "a.txt").write_text("constant"))
    run(pipeline["settings"], stages)
    src.write_text("x = 3\n")
    run(pipeline["settings"], stages)
    assert calls == ["a", "b", "a"]


def test_touching_without_change_does_not_rerun(pipeline):
    run(pipeline["settings"], pipeline["stages"]())
    pipeline["src"].write_text(pipeline["src"].read_text())
    run(pipeline["settings"], pipeline["stages"]())
    assert pipeline["calls"] == ["a", "b"]


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


def test_changed_settings_rerun(pipeline):
    run(pipeline["settings"], pipeline["stages"]())
    pipeline["settings"].smoke = True
    run(pipeline["settings"], pipeline["stages"]())
    assert pipeline["calls"] == ["a", "b", "a", "b"]


def test_other_data_location_reruns_the_stages_that_read_data(pipeline, monkeypatch):
    stages = pipeline["stages"]()
    stages[1].needs = {"cifar"}
    stages[1].run = writer_stage("b", [], [pipeline["results"] / "b.txt"], pipeline["calls"]).run
    monkeypatch.setattr(homework, "ensure_data", lambda settings, needs, log: None)
    monkeypatch.setenv("HW4_DATA", "/data/one")
    run(pipeline["settings"], stages)
    run(pipeline["settings"], stages)
    assert pipeline["calls"] == ["a", "b"]
    monkeypatch.setenv("HW4_DATA", "/data/two")
    run(pipeline["settings"], stages)
    assert pipeline["calls"] == ["a", "b", "b"]


def test_notebook_fingerprint_ignores_outputs(tmp_path):
    nb = {"cells": [{"cell_type": "code", "source": "print(1)", "outputs": [],
                     "execution_count": None}], "metadata": {}, "nbformat": 4,
          "nbformat_minor": 5}
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(nb))
    before = homework.fingerprint(path)
    nb["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    nb["cells"][0]["execution_count"] = 1
    path.write_text(json.dumps(nb))
    assert homework.fingerprint(path) == before
    nb["cells"][0]["source"] = "print(2)"
    path.write_text(json.dumps(nb))
    assert homework.fingerprint(path) != before


# --------------------------------------------------------------------------- failures


def test_failing_stage_stops_the_run_and_keeps_earlier_results(pipeline):
    rc, out = run(pipeline["settings"], pipeline["stages"](b=True))
    assert rc == 1 and pipeline["calls"] == ["a", "b"]
    assert "FAIL" in out and "stopped at stage 'b'" in out
    assert "something broke: ZeroDivisionError" in out  # the log's tail is shown
    assert (pipeline["results"] / "a.txt").read_text() == "made by a, call 1"
    assert not (pipeline["results"] / ".stamps/b.json").exists()
    # the next run resumes at the failed stage
    rc, out = run(pipeline["settings"], pipeline["stages"]())
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


# --------------------------------------------------------------------------- data


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
    calls = []
    stage = writer_stage("train", [], [no_default_data / "r/out.txt"], calls)
    stage.needs = {"cifar"}
    settings = Settings(results=no_default_data / "r", download=False)
    homework.write_stamp(settings, stage, 1.0)  # it ran once, with other data settings
    rc, out = run(settings, [stage])
    assert rc == 1 and calls == [] and "CIFAR-10 not found" in out and "HW4_DATA" in out
    assert homework.stamp_path(settings, stage).exists()  # nothing was touched


# --------------------------------------------------------------------------- notebooks


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


# --------------------------------------------------------------------------- smoke end to end

@pytest.mark.slow
@pytest.mark.timeout(600)
def test_smoke_run_end_to_end(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    from staff import report

    results = tmp_path / "smoke"
    cmd = [sys.executable, "-m", "staff.homework", "--smoke", "--results-dir", str(results)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=540)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("[")]
    assert len(lines) == 7 and all(" PASS " in line for line in lines), proc.stdout
    pdf = results / "report.pdf"
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    for title in report.SECTION_TITLES:
        assert title in text
    assert "SMOKE run" in text
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
