"""staff/grading/model_check.py and staff/grading/model_job.py: part1's printed model summary
re-derived from the notebook's own code in the sandbox. The reference notebook matches; a
notebook forged from the starter (stubs replaced by the least code that runs, outputs pasted
from the reference) and an honest one whose class changed after its run are flagged with the numbers
and lose no points; a model cell that cannot run there is named in the spot-check line; and
hostile model cells (a fake table, floods, writes on the channel, a forged record, a loop
that catches the alarm) end within the time and get no result in their favour."""

import functools
import json
import time

import pytest

from bench.bench_grade_all import STUB_RAISE, filled_stub
from handin import notebooks as gn
from staff.grading import grade, model_check, model_job, sandbox
from staff.starter.notebooks import strip_notebook
from staff.tests.corpus import ROOT, make_submission_zip, part1_text
from staff.tests.test_redteam import mode_skip_reason, runner_modes

MODE = sandbox.choose_mode()
EARNED = [{"name": gn.RUN_TEST.name, "score": 1.0}]
SUMMARY_CELL, CLASS_CELL = "a498268f", "64fa02e9"
FORGED_FLAG = "the table shows about 289,000 parameters, the code builds 0"
SAME = "the same 21 layers and about 289,000 parameters"
HOSTILE_WALL = 6.0


@functools.cache
def reference_text():
    return (ROOT / "part1.ipynb").read_text()


def notebook_with(tmp_path, sources=None, edit=None):
    """The reference part1 (its outputs) with code cells' sources replaced (`sources`: cell
    id -> source) or edited (`edit`: cell id -> function of the source); its path."""
    nb = json.loads(reference_text())
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell.get("id") in (sources or {}):
            cell["source"] = sources[cell["id"]]
        elif cell.get("id") in (edit or {}):
            cell["source"] = edit[cell["id"]](source)
    path = tmp_path / "part1.ipynb"
    path.write_text(json.dumps(nb))
    return path


@functools.cache
def least_code_sources():
    """The starter's code cells with every stub replaced by the least code that runs."""
    kit = json.loads(strip_notebook(reference_text(), "part1.ipynb")[0])
    return {cell.get("id"): STUB_RAISE.sub(filled_stub, "".join(cell["source"]))
            for cell in kit["cells"] if cell["cell_type"] == "code"}


def forged(tmp_path, model_cell=None):
    """A part1 forged from the starter: least code, the reference run's outputs pasted
    (optionally another model cell)."""
    sources = dict(least_code_sources())
    if model_cell is not None:
        sources[SUMMARY_CELL] = model_cell
    return notebook_with(tmp_path, sources)


def checked(path, mode=MODE, wall=model_check.MODEL_WALL):
    """A finished ModelCheck of the notebook at `path`, and the seconds it took."""
    start = time.monotonic()
    check = model_check.ModelCheck(path, EARNED, mode, time.monotonic() + 80, wall)
    with sandbox.exclusive(mode):
        check.start()
        check.wait()
        check.finish()
    return check, time.monotonic() - start


def summary_lines(text=None):
    nb = json.loads(text or reference_text())
    cell = next(c for c in nb["cells"] if c.get("id") == SUMMARY_CELL)
    return gn.cell_lines(cell)


def test_the_printed_table_is_read_exactly():
    lines = summary_lines()
    table = model_check.printed_summary(lines)
    assert len(table["layers"]) == 21 and table["total"] == table["trainable"] == 289_130
    assert table["layers"][0] == ["Conv2d", [-1, 32, 28, 28], 288]
    assert table["layers"][-1] == ["Linear", [-1, 10], 11_530]
    assert model_check.printed_summary(["noise", "x" * 300, *lines]) == table
    total = next(i for i, line in enumerate(lines) if line.startswith("Total params"))
    assert model_check.printed_summary(lines[:total]) is None  # cut before its totals
    bad_shape = [line.replace("[-1, 32, 28, 28]", "[-1, 32, 28, 28") for line in lines]
    assert model_check.printed_summary(bad_shape) is None
    assert model_check.printed_summary([lines[1], *lines[3:]]) is None  # no rule under header


def chosen(*cells):
    """The lines of the statements needed_definitions picks from cells[:-1] for cells[-1]."""
    definitions = [s for cell in cells[:-1] for s in model_job.parsed(cell)
                   if model_job.defines_only(s)]
    picked = model_job.needed_definitions(definitions, model_job.parsed(cells[-1]))
    return [model_job.ast.unparse(s).splitlines()[0] for s in picked]


def test_only_the_definitions_the_model_cell_needs_run():
    cells = [model_check.python_source("".join(c["source"]))[0]
             for c in json.loads(reference_text())["cells"] if c["cell_type"] == "code"]
    end = next(i for i, c in enumerate(cells) if "summary(model" in c)
    assert chosen(*cells[:end + 1]) == [
        "import contextlib", "import io", "import json", "import re", "import torch",
        "from torch import nn", "from torchsummary import summary",
        "DEVICE = torch.device('cuda' if torch.cuda.is_available() else 'cpu')",
        "class FashionCNN(nn.Module):"]  # no data loading, no torchvision, no plots
    setup = ("import torch\nHP = {}\nHP['w'] = 3\nW = 1\nif SMALL:\n    W = 2\n"
             "def make(w):\n    return torch.nn.Linear(w, HP['w'])\nX = load_data()\n"
             "class M(Base):\n    def __init__(self):\n        self.f = make(W)\n")
    assert chosen("Base = object\nSMALL = False\n", setup, "model = M()") == [
        "Base = object", "SMALL = False", "import torch", "HP = {}", "HP['w'] = 3", "W = 1",
        "if SMALL:", "def make(w):", "class M(Base):"]
    assert chosen("from torch.nn import *\nx = 1\ny = 2", "z = Linear(x)") == [
        "from torch.nn import *", "x = 1"]
    assert chosen("x = 1\ny = 2", "z = eval('y')") == ["x = 1", "y = 2"]


def test_the_records_numbers_are_checked_with_limits():
    good = {"layers": [["Conv2d", [-1, 8, 28, 28], 72], ["Split", [[-1, 4], [-1, 4]], 0]],
            "total": 72, "trainable": 72}
    assert model_check.built_summary(good) == good
    for layers in ([["a b", [-1], 0]], [["Conv2d", [-1] * 9, 0]], [["Conv2d", [-1], -5]],
                   [["Conv2d", ["1"], 0]], [["Conv2d", [-1], 0, 1]], "junk",
                   [["Conv2d", [-1], 0]] * (model_job.MAX_LAYERS + 1)):
        assert model_check.built_summary({**good, "layers": layers}) is None, layers
    assert model_check.built_summary({**good, "total": 2**60}) is None


def record(token="t" * 32, **fields):
    return json.dumps({"token": token, "status": "ok", "layers": [], "total": 0,
                       "trainable": 0, **fields}).encode()


def result(output, **outcome):
    return model_check.read_result(sandbox.Outcome(output=output, **outcome), "t" * 32)


def test_the_channel_holds_ready_and_one_record_with_the_token():
    ready = model_job.READY + b"\n"
    assert result(ready + record() + b"\n").kind == "ok"
    assert result(b"").kind == "not_started" and result(b"junk\n").kind == "not_started"
    assert result(ready).kind == "no_result"
    for forged_output in (ready + record(token="guess") + b"\n",  # not the grader's token
                          ready + record() + b"\n" + record() + b"\n",  # a second record
                          ready + b"x\n" + record() + b"\n",  # a line before it
                          ready + record(), ready + b"{" * 100_000 + b"\n"):
        assert result(forged_output).kind == "tampered", forged_output[:80]
    assert result(ready + record() + b"\n", overflow=True).kind == "tampered"
    error = result(ready + record(status="error", kind="rm -rf", type="EvilError") + b"\n")
    assert (error.kind, error.error, error.error_type) == ("error", "raised", "")
    bad = result(ready + record(total=-1) + b"\n")
    assert (bad.kind, bad.error) == ("error", "unreadable")


@pytest.mark.parametrize("n, text", [(0, "0"), (999, "999"), (11_530, "about 11,500"),
                                     (289_130, "about 289,000"), (75_000, "75,000"),
                                     (1_234_567_891, "about 1,230,000,000")])
def test_counts_are_written_with_3_significant_digits(n, text):
    assert model_check.count_text(n) == text


def test_the_first_difference_is_named():
    printed = model_check.printed_summary(summary_lines())
    same = json.loads(json.dumps(printed))
    assert model_check.difference(printed, same) is None
    fewer = {**same, "layers": same["layers"][:-1]}
    assert model_check.difference(printed, fewer) == \
        "the table shows 21 layers, the code builds 20"
    other = json.loads(json.dumps(same))
    other["layers"][4][1] = [-1, 64, 7, 7]
    assert model_check.difference(printed, other) == \
        "layer 5 of 21 has another output shape in the code"
    frozen = {**same, "trainable": 289_130 - 288}
    assert model_check.difference(printed, frozen) == \
        "the table shows about 289,000 trainable parameters, the code builds about 289,000"


def torch_summary(torch, model, input_size=(1, 28, 28)):
    """torchsummary's own printed table of `model`, read back (None if it crashed)."""
    import contextlib
    import io

    from torchsummary import summary
    with contextlib.redirect_stdout(io.StringIO()) as text:
        try:
            summary(model, input_size, device="cpu")
        except AttributeError:  # its crash on a model without parameters
            return None
    return model_check.printed_summary(text.getvalue().splitlines())


def test_summarize_is_torchsummary_as_data():
    """The job's own hooks give torchsummary's rows exactly (shared modules, tuple outputs,
    frozen and affine-free layers), and 0 parameters where torchsummary crashes."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("torchsummary")
    nn = torch.nn
    namespace = {"nn": nn, "torch": torch}
    exec(next("".join(c["source"]) for c in json.loads(reference_text())["cells"]
              if c.get("id") == CLASS_CELL), namespace)

    class Split(nn.Module):
        def forward(self, x):
            return x[:, :4], x[:, 4:]

    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.relu, self.split = nn.Conv2d(1, 8, 3), nn.ReLU(), Split()
            self.norm = nn.BatchNorm2d(8, affine=False)
            self.head = nn.Linear(8, 3)
            self.head.weight.requires_grad_(False)

        def forward(self, x):
            x = self.relu(self.norm(self.relu(self.conv(x))))
            return self.head(self.split(x.mean((2, 3)))[1].repeat(1, 2))

    class Empty(nn.Module):
        def forward(self, x):
            return x

    for model in (namespace["FashionCNN"](), Odd()):
        printed = torch_summary(torch, model)
        rows, total, trainable = model_job.summarize(torch, model, (1, 28, 28), -1)
        assert {"layers": rows, "total": total, "trainable": trainable} == printed
    assert torch_summary(torch, Empty()) is None
    assert model_job.summarize(torch, Empty(), (1, 28, 28), -1) == ([], 0, 0)


def test_no_table_no_torch_or_no_points_means_no_job(tmp_path, monkeypatch):
    plain = tmp_path / "plain.ipynb"
    plain.write_text(part1_text())  # its model cell shows "ok", not a table
    check = model_check.ModelCheck(plain, EARNED, MODE, time.monotonic() + 80)
    assert check.sources is None and "shows no torchsummary table" in check.note
    assert model_check.ModelCheck(ROOT / "part1.ipynb", [{**EARNED[0], "score": 0}], MODE,
                                  time.monotonic() + 80).note is None  # nothing to spot-check
    monkeypatch.setattr(model_check.importlib.util, "find_spec", lambda name: None)
    check = model_check.ModelCheck(ROOT / "part1.ipynb", EARNED, MODE, time.monotonic() + 80)
    assert check.sources is None and "torch is not installed where the grader" in check.note
    lines = ["part1.ipynb: compare the model summary of code cell 9 with ...", "other"]
    assert check.annotated(lines) == [f"{lines[0]}; {check.note}", "other"]


def test_uid_mode_runs_it_after_the_code_tests_in_the_time_left(monkeypatch):
    """One job at a time in "uid" mode: not beside the code tests, after them, and only if
    enough time is left before the code tests' deadline."""
    uid = sandbox.Mode("uid", "test", True)
    ran = []
    ok = model_job.READY + b"\n" + record(token="{token}") + b"\n"

    def fake_run_job(sources, mode, wall):
        ran.append(wall)
        return sandbox.Outcome(output=ok.replace(b"{token}", b"k" * 32)), "k" * 32

    monkeypatch.setattr(model_check, "run_job", fake_run_job)
    with model_check.running(ROOT / "part1.ipynb", EARNED, uid, time.monotonic() + 50) as check:
        assert check.thread is None and ran == []  # not while the code tests run
    assert ran == [model_check.MODEL_WALL] and "differs" in check.note
    with model_check.running(ROOT / "part1.ipynb", EARNED, uid, time.monotonic() + 5) as late:
        pass
    assert len(ran) == 1 and "no time was left" in late.note and late.flags == []


def test_the_graders_own_failure_is_a_note_never_a_failed_grading(monkeypatch, capsys):
    def broken(*args):
        raise OSError("the sandbox could not start")

    monkeypatch.setattr(model_check, "run_job", broken)
    check, _ = checked(ROOT / "part1.ipynb", sandbox.Mode("none", "test"))
    assert check.flags == [] and check.note.endswith("the grader's check failed (OSError)")
    assert "the sandbox could not start" in capsys.readouterr().err  # for the staff


def test_a_forgery_is_flagged_with_the_numbers(tmp_path):
    """(The reference notebook, graded end to end, matches: test_grade_notebooks.py.)"""
    check, _ = checked(forged(tmp_path))
    assert check.note.endswith("differs: see the flag")
    assert len(check.flags) == 1 and FORGED_FLAG in check.flags[0]
    assert "code cell 9 (id a498268f)" in check.flags[0]
    assert "No points were taken" in check.flags[0]


@pytest.mark.parametrize("name", ["bwrap as root, threads counted", "uid"])
def test_the_other_root_modes(tmp_path, name):
    mode = runner_modes()[name]
    reason = mode_skip_reason(mode)
    if reason:
        pytest.skip(reason)
    check, _ = checked(forged(tmp_path), mode)
    assert len(check.flags) == 1 and FORGED_FLAG in check.flags[0]


def test_an_honest_notebook_edited_after_its_run_keeps_its_points_and_is_flagged(tmp_path):
    path = notebook_with(tmp_path, edit={
        CLASS_CELL: lambda source: source.replace("widths=(32, 64, 128)", "widths=(16, 32, 64)")})
    overrides = {"part1.ipynb": path.read_text(), "part2.ipynb": (ROOT / "part2.ipynb").read_text()}
    results = grade.grade(make_submission_zip(tmp_path, overrides=overrides),
                          limits=grade.Limits(test_timeout=2.0))
    assert results["score"] == grade.max_points()
    flags = [line for line in results["needs_person"] if not line.startswith(gn.SPOT_CHECK)]
    assert len(flags) == 1 and "the code builds about 75,400" in flags[0]
    assert "NEEDS A PERSON: part1.ipynb: the model summary" in results["output"]
    assert results["needs_person"][1].endswith("it differs: see the flag")


def test_a_model_cell_that_cannot_run_in_the_sandbox_is_named(tmp_path):
    path = notebook_with(tmp_path, edit={
        SUMMARY_CELL: lambda source: source.replace("model = FashionCNN()",
                                                    'model = FashionCNN().to("cuda")')})
    check, _ = checked(path)
    assert check.flags == []
    assert "could not be re-derived from the notebook's code in the grader's sandbox: its " \
           "code raised" in check.note and "(the sandbox has no GPU, data or network)" in check.note


FAKE_RECORD = ('{"token": "0", "status": "ok", "layers": [], "total": 289130, '
               '"trainable": 289130}')
HOSTILE = {
    "a fake table and floods of output": (
        "import os, sys\nmodel = FashionCNN()\nprint(TABLE)\nprint('x' * 50_000_000)\n"
        "sys.stderr.write('y' * 20_000_000)\n", "flagged"),
    "lines written on every descriptor, then a flood": (
        "import os\nfor fd in range(3, 64):\n    try:\n"
        f"        os.write(fd, b'{FAKE_RECORD}' + b'\\n' + b'z' * 9_000_000)\n"
        "    except OSError:\n        pass\n", "tampered"),
    "a forged record, then exit": (
        "import os\nfor fd in range(3, 64):\n    try:\n"
        f"        os.write(fd, b'{FAKE_RECORD}' + b'\\n')\n"
        "    except OSError:\n        pass\nos._exit(0)\n", "tampered"),
    "an infinite loop": ("while True:\n    pass\n", "late"),
    "an infinite loop that catches the alarm": (
        "import time\nwhile True:\n    try:\n        time.sleep(1)\n"
        "    except BaseException:\n        pass\n", "late"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_model_cells_end_in_time_without_a_result_in_their_favour(tmp_path, name):
    code, expected = HOSTILE[name]
    table = "\n".join(summary_lines())
    check, seconds = checked(forged(tmp_path, f"TABLE = {table!r}\n{code}"), wall=HOSTILE_WALL)
    assert seconds < HOSTILE_WALL + 5
    assert SAME not in check.note
    if expected == "flagged":  # the printed fake is not what the code's model is
        assert len(check.flags) == 1 and FORGED_FLAG in check.flags[0]
    elif expected == "tampered":
        assert check.flags == ["part1.ipynb: tampering: while the grader re-derived the model "
                               "summary, the notebook's code wrote on the grader's channel"]
    else:  # stopped by its alarm, or (catching it) by the sandbox
        assert check.flags == [] and "could not be re-derived" in check.note
        assert ("did not finish in time there" if "catches" not in name
                else f"did not finish within {HOSTILE_WALL:.0f} s") in check.note
