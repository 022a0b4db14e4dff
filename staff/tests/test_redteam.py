"""Red team: hostile submissions against staff/grading/grade.py and run_autograder, in every sandbox
mode this machine can run: bwrap run as a fresh uid per job (root), bwrap run as root with
its threads counted, bwrap run by a normal user who has hundreds of threads running, and the
fresh-uid fallback (root, Gradescope without user namespaces). The tests skip where student
code would run without isolation, since the attacks would then hit this machine, and skip
a mode this machine cannot run, saying why.

Each attack is appended to the STARTER's .py files (stubs), so its exact expected score is
known: 0 on every code test (and 0 on the notebooks when they are forged). No process or
file of the attack may be left, and the grader, the reference and the autograder's source
must be unchanged; an honest submission graded afterwards keeps full marks.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from handin import notebooks as gn
from staff.grading import (
    feedback,
    grade,
    grading_channel,
    grading_tests,
    grading_worker,
    make_autograder,
    reference_run,
    sandbox,
)
from staff.starter.notebooks import strip_notebook
from staff.starter.regions import strip_python
from staff.tests.corpus import (
    PY_FILES,
    ROOT,
    STAFF_DIR,
    part1_text,
    part2_text,
    write_submission_dir,
)
from staff.tests.test_autograder import install, run_autograder

MODE = sandbox.choose_mode()
pytestmark = pytest.mark.skipif(MODE.name == "none", reason="no sandbox here: " + MODE.detail)
IS_ROOT = os.geteuid() == 0
LIMITS = ["--test-timeout", "3"]
CODE_IDS = {f"{t.name} [{t.file}]" for t in grading_tests.code_tests()}
OLD_SEED = 20240501  # "an earlier grading": its expected outputs are what a replay knows

REFERENCE_COPY = """
import sys as _s
from pathlib import Path as _P
for _root in (_P(_s.argv[0]).resolve().parents[1], _P.cwd(), _P({root!r}), _P({source!r})):
    for _d in ("neuralnet", "backprop"):
        try:
            exec((_root / _d / _P(__file__).name).read_text())
        except Exception:
            pass
"""
FORGE_AND_KILL = """
import json as _j, os as _o, signal as _sg
for _p in ({results!r}, "results.json", "/autograder/results/results.json"):
    try:
        open(_p, "w").write(_j.dumps({{"score": 80, "tests": []}}))
    except Exception:
        pass
try:
    _o.kill(_o.getppid(), _sg.SIGKILL)
except Exception:
    pass
"""
DAEMON = """
import json as _j, os as _o, subprocess as _sp, time as _t
_sp.Popen(["/bin/sh", "-c", "sleep {marker}"], start_new_session=True, stdin=_sp.DEVNULL,
          stdout=_sp.DEVNULL, stderr=_sp.DEVNULL)
if _o.fork() == 0:
    _o.setsid()
    for _i in range(40):
        try:
            open({results!r}, "w").write(_j.dumps({{"score": 80, "tests": []}}))
        except Exception:
            pass
        _t.sleep(0.1)
    _o._exit(0)
"""
WATCHER = """
import glob as _g, os as _o, time as _t
if _o.fork() == 0:
    _o.setsid()
    _o.execv("/bin/sh", ["sh", "-c", "for i in 1 2 3 4 5 6; do for f in /tmp/hw4-*/*/*.py "
             "/tmp/hw4-*/*/*/*.py; do echo 'raise SystemExit(1)' > $f; done; sleep {marker}; "
             "done"])
"""
EDIT_GRADER = """
import sys as _s
from pathlib import Path as _P
_here = _P(_s.argv[0]).resolve().parent
_targets = [_here / "grading_tests.py", _here / "grading_worker.py", _P(__file__)]
for _root in (_P({root!r}), _P({source!r}), _here.parent):
    _targets += [_root / "staff" / "grading" / "grade.py", _root / "neuralnet" / "layers.py",
                 _root / "backprop" / "functions.py"]
for _t in _targets:
    try:
        with open(_t, "a") as _f:
            _f.write("\\n# red-team {marker}\\n")
    except Exception:
        pass
"""
FORGED_RECORDS = """
import json as _j, os as _o
def _rec(test_id):
    return _j.dumps({{"id": test_id, "status": "error", "kind": "wrong_output",
                      "text": "SECRETREFERENCE grad_w = xx.T @ gg {marker}"}}).encode() + b"\\n"
for _fd in range(1, 12):
    for _id in ("f3_y1", "f3_y2", "fc_forward", "softmax_loss", "net_forward"):
        try:
            _o.write(_fd, _rec(_id))
        except OSError:
            pass
"""
CHANNEL_FLOOD = """
import json as _j, os as _o
_claim = _j.dumps({{"id": "fc_forward", "status": "ok",
                    "outputs": {{"out": {{"shape": [2 ** 31], "data": "AAAA"}}}}}}).encode()
_blob = b"x" * (1 << 20)
for _fd in range(3, 12):
    try:
        _o.write(_fd, _claim + b"\\n")
        for _i in range(12):
            _o.write(_fd, _blob)
    except OSError:
        pass
"""
SIGSTOP_PARENT = """
import os as _o, signal as _sg
try:
    _o.kill(_o.getppid(), _sg.SIGSTOP)
except Exception:
    pass
"""
FORK_BOMB = """
import os as _o
try:
    for _i in range(150):
        if _o.fork() == 0:
            _o.execv("/bin/sleep", ["sleep", "{marker}"])
except OSError:
    pass
"""
DISK_FILL = """
import os as _o
_blob = b"\\0" * (1 << 20)
for _dir in ("/tmp", ".", _o.path.expanduser("~"), "/dev/shm", "/var/tmp"):
    try:
        with open(_o.path.join(_dir, "hw4-fill-{marker}.bin"), "wb") as _f:
            for _i in range(200):
                _f.write(_blob)
    except OSError:
        pass
"""


def channel_writer(key, then=""):
    """Attack code writing the bytes of format field `key` on every fd that may be the
    worker's channel, then `then`."""
    return ("\nimport os as _o\nfor _fd in range(3, 12):\n    try:\n"
            f"        _o.write(_fd, {{{key}!r}})\n    except OSError:\n        pass\n{then}")


REPLAYED_RECORDS = channel_writer("records", "_o._exit(0)\n")  # in order, then exit
DUPLICATE_RECORD = channel_writer("record")  # a record the worker will write again
REPLAYED_VALUES = """
import numpy as _np
_OLD = {old!r}
def fc_forward(x, w, b):
    return _np.array(_OLD["fc_forward"]["out"]), (x, w, b)
def relu_forward(x):
    return _np.array(_OLD["relu_forward"]["out"]), x
def softmax_loss(x, y):
    return float(_OLD["softmax_loss"]["loss"]), _np.array(_OLD["softmax_loss"]["grad_x"])
def l2_regularization(w, reg):
    return float(_OLD["l2_regularization"]["loss"]), _np.array(_OLD["l2_regularization"]["grad_w"])
"""
LEAK = """
import glob as _g, os as _o, sys as _s
_here = _o.path.dirname(_o.path.abspath(__file__))
_blob = b"".join(open(_p, "rb").read() for _p in sorted(_g.glob(_here + "/*.pyc")))
_calls = []
def training_step(model, X_batch, y_batch, reg):
    _calls.append(1)
    _hex = _blob[16:48].hex()
    if len(_calls) == 1:  # a structural message spelling the bytecode out
        raise _s.modules["grading_tests"].WrongOutput(
            f"{{_hex}} must be a tuple of 2 items, got a {{_hex}} of length {{int(_hex[:12], 16)}}")
    number = int.from_bytes(_blob[16:24], "big") / 2 ** 64  # 19 digits of bytecode
    grads = {{k: v * 0 + number for k, v in model.parameters().items()}}
    return number * 1e6, grads
"""
SNOOP = """
import ctypes as _c, glob as _g, os as _o, shutil as _sh
_loot = "/tmp/hw4-loot-{marker}/deep/er"
try:
    _o.makedirs(_loot, exist_ok=True)
    _o.chmod("/tmp/hw4-loot-{marker}", 0o777)
except OSError:
    _loot = None
_seen = set()
for _p in _g.glob("/proc/[0-9]*/cmdline"):
    try:
        _seen.update(_a.decode(errors="replace") for _a in open(_p, "rb").read().split(b"\\0")
                     if _a.startswith(b"/"))
    except OSError:
        pass
for _p in sorted(_seen) + {targets!r}:  # uploads, grader and reference files nearby
    for _q in (_p, _o.path.dirname(_p)):
        try:
            for _n in _o.listdir(_q):
                if _n.endswith((".py", ".pyc", ".zip", ".json", ".ipynb")):
                    _sh.copy(_o.path.join(_q, _n), _loot)
        except Exception:
            pass
try:
    _c.CDLL(None).shmget({shm_key}, 4096, 0o1666)
except Exception:
    pass
"""
THREAD_BOMB = """
import threading as _t
threading_stack = _t.stack_size(65536)
_stop = _t.Event()
try:
    for _i in range(2000):
        _t.Thread(target=_stop.wait, daemon=True).start()
except RuntimeError:
    pass
"""
ATTACKS = {  # name: attack per student file (each file also keeps its stubs)
    "reference copy, forged results.json and SIGKILL of the grader": {
        "functions.py": REFERENCE_COPY, "layers.py": REFERENCE_COPY,
        "two_layer_net.py": REFERENCE_COPY, "train.py": REFERENCE_COPY + FORGE_AND_KILL},
    "setsid daemon rewriting results.json, watcher of hw4-* folders": {
        "functions.py": DAEMON, "layers.py": WATCHER, "train.py": DAEMON},
    "edits of the grader and the reference, forged records": {
        "functions.py": EDIT_GRADER, "layers.py": FORGED_RECORDS,
        "two_layer_net.py": FORGED_RECORDS},
    "output flood claiming 2 GiB, SIGSTOP of the grader": {
        "layers.py": CHANNEL_FLOOD, "functions.py": SIGSTOP_PARENT},
    "fork bomb, thread bomb and disk fill": {
        "functions.py": FORK_BOMB, "layers.py": DISK_FILL, "train.py": FORK_BOMB + THREAD_BOMB},
}
# Through run_autograder too: the attacks on results.json and on the autograder's files.
AUTOGRADER_ATTACKS = sorted(name for name in ATTACKS if "results.json" in name
                            or "edits" in name)
FORGERY = {  # replayed and duplicated records, replayed values, leaked bytecode
    "functions.py": REPLAYED_RECORDS, "layers.py": REPLAYED_VALUES,
    "two_layer_net.py": DUPLICATE_RECORD, "train.py": LEAK}
FORGERY_TAMPERED = {"net_init", "net_forward"}  # a record repeated while net_init ran


def starter_sources():
    return {name: strip_python((ROOT / path).read_text(), name)[0]
            for name, path in PY_FILES.items()}


def forged_from_starter(name, text):
    """The starter notebook `name` with the cells' outputs and counts of the run `text`
    pasted in (the TODO cells left as the starter has them): a forged notebook."""
    run = {c.get("id"): c for c in nbformat.reads(text, as_version=4).cells}
    nb = nbformat.reads(strip_notebook((ROOT / name).read_text(), name)[0], as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.get("id") in run:
            cell.outputs = run[cell["id"]].outputs
            cell.execution_count = run[cell["id"]].execution_count
    return nbformat.writes(nb)


def hostile_submission(folder, attack, notebooks=None, **paths):
    """The starter's .py files with the attack (a name of ATTACKS, or a dict file -> code)
    appended after the stubs, so a copied reference would replace them; notebooks that ran
    (or `notebooks`: name -> text)."""
    overrides = starter_sources()
    for name, code in (ATTACKS[attack] if isinstance(attack, str) else attack).items():
        overrides[name] += "\n" + code.format(**paths) + "\n"
    return write_submission_dir(folder, {**overrides, **(notebooks or {})})


@pytest.fixture(scope="module")
def old_grading():
    """What a student replaying earlier feedback knows: the reference's outputs of an earlier
    grading (all of them, far more than feedback shows), and that grading's records."""
    tests = grading_tests.code_tests()
    expected = reference_run.reference_outputs(ROOT, ("backprop", "neuralnet"), tests, OLD_SEED)
    records = {t.id: json.dumps({"id": t.id, "status": "ok",
                                 "outputs": grading_worker.encode_arrays(expected[t.id])})
               for t in tests}
    return expected, records


def forgery_paths(old_grading, marker):
    expected, records = old_grading
    old = {test_id: {name: array.tolist() for name, array in outputs.items()}
           for test_id, outputs in expected.items()}
    return {"records": (records["f3_y1"] + "\n" + records["f3_y2"] + "\n").encode(),
            "record": (records["net_init"] + "\n").encode(), "old": old, "marker": marker}


def forged_notebooks():
    return {"part1.ipynb": forged_from_starter("part1.ipynb", part1_text(0.9137)),
            "part2.ipynb": forged_from_starter("part2.ipynb", part2_text())}


def grade_cli(submission, out, *options):
    command = [sys.executable, "-m", "staff.grading.grade", str(submission), "--out", str(out),
               *LIMITS, *options]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:] + run.stdout[-3000:]
    return json.loads(out.read_text())


def notebook_scores(results):
    return [(e["name"], e["score"]) for e in results["tests"] if e["name"] not in CODE_IDS]


def code_scores(results):
    return {e["name"]: e["score"] for e in results["tests"] if e["name"] in CODE_IDS}


@pytest.fixture(scope="module")
def honest(tmp_path_factory):
    """An honest submission and its results (full marks)."""
    folder = write_submission_dir(tmp_path_factory.mktemp("honest") / "jdoe")
    results = grade.grade(folder, limits=grade.Limits())
    assert results["score"] == results["max_score"] == grade.max_points()
    return folder, results


def marker():
    """A unique 'sleep' duration: the attack's processes carry it in their command line."""
    return f"{40 + uuid.uuid4().int % 10**6 / 10**6:.6f}"


def processes_with(text):
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                    if text.encode() in f.read():
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


def leftovers(mark):
    """Processes and files of an attack still around after grading."""
    files = [os.path.join(d, f"hw4-fill-{mark}.bin") for d in ("/tmp", "/var/tmp", "/dev/shm")]
    files.append(f"/tmp/hw4-loot-{mark}")
    return processes_with(mark), [f for f in files if os.path.exists(f)]


def marked_files(mark, *roots):
    """Files under the grader, the reference (and `roots`) that an attack wrote into."""
    hits = []
    for root in (STAFF_DIR, ROOT / "neuralnet", ROOT / "backprop", *roots):
        for path in root.rglob("*.py"):
            if mark in path.read_text(errors="replace"):
                hits.append(path)
    return hits


def tree_hash(root):
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return digest.hexdigest()


def assert_attack_scored(results, honest_results, mode=MODE, notebooks=True):
    """0 on every code test; the notebooks as the honest ones (or 0 when forged)."""
    assert results["max_score"] == grade.max_points()
    assert "failed_to_grade" not in results["extra_data"], results["extra_data"]
    code = code_scores(results)
    assert len(code) == len(CODE_IDS) and set(code.values()) == {0}, code
    if notebooks:
        assert notebook_scores(results) == notebook_scores(honest_results)
        assert results["score"] == sum(s for _, s in notebook_scores(honest_results))
    else:
        assert results["score"] == 0
    assert results["extra_data"]["sandbox"] == mode.name
    assert "SECRETREFERENCE" not in json.dumps(results)  # forged text never reaches the student


def assert_nothing_left(mark, *roots):
    time.sleep(0.3)  # a survivor would be writing or sleeping by now
    assert leftovers(mark) == ([], [])
    assert marked_files(mark, *roots) == []


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_through_grade_py(tmp_path, honest, attack):
    mark = marker()
    out = tmp_path / "results" / "results.json"
    folder = hostile_submission(tmp_path / "sub" / "jdoe", attack, root=str(ROOT),
                                source=str(ROOT), results=str(out), marker=mark)
    results = grade_cli(folder, out)
    assert_attack_scored(results, honest[1])
    assert_nothing_left(mark)
    assert json.loads(out.read_text()) == results  # no one rewrote it afterwards


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("ag") / "autograder.zip"
    make_autograder.build(out)
    return out


@pytest.mark.parametrize("attack", AUTOGRADER_ATTACKS)
def test_attack_through_run_autograder(tmp_path, honest, autograder_zip, attack):
    """A Gradescope-like layout: source/, submission/, results/ under one root."""
    source = install(autograder_zip, tmp_path)
    before = tree_hash(source)
    mark = marker()
    results_path = tmp_path / "results" / "results.json"
    with zipfile.ZipFile(autograder_zip) as archive:
        assert "neuralnet/layers.py" in archive.namelist()
    hostile_submission(tmp_path / "submission" / "jdoe", attack, root=str(ROOT),
                       source=str(source), results=str(results_path), marker=mark)
    run = run_autograder(source, tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(results_path.read_text())
    assert_attack_scored(results, honest[1])
    assert_nothing_left(mark, source)
    assert json.loads(results_path.read_text()) == results
    assert tree_hash(source) == before


def leaked(results, reference_root=ROOT):
    """Whether any spelling of the reference's layers bytecode that LEAK sends out shows up."""
    text = json.dumps(results)
    with tempfile.TemporaryDirectory() as folder:
        blob = b""
        for name in ("classifier.py", "layers.py"):
            target = Path(folder) / (name[:-3] + ".pyc")
            grade.compile_helper(reference_root / "neuralnet" / name, target)
            blob += target.read_bytes()
    number = int.from_bytes(blob[16:24], "big") / 2 ** 64
    spellings = [blob[16:48].hex()[:16], str(int(blob[16:48].hex()[:12], 16)),
                 repr(number)[2:14], repr(number * 1e6)[:12]]
    return [s for s in spellings if s in text]


def test_forged_records_replayed_outputs_leaks_and_forged_notebooks(tmp_path, old_grading,
                                                                   honest):
    """Records replayed from an earlier grading (in order, then the process exits), outputs
    replayed from it, a record repeated while its test runs (tampering: 0 and a person), the
    reference's bytecode spelled out in messages and returned values, and notebooks made by
    hand from the starter: 0 points in all, the tampering and the notebooks flagged, and
    none of the bytecode in the results."""
    mark = marker()
    out = tmp_path / "results" / "results.json"
    folder = hostile_submission(tmp_path / "sub" / "jdoe", FORGERY, forged_notebooks(),
                                **forgery_paths(old_grading, mark))
    results = grade_cli(folder, out)
    assert_attack_scored(results, honest[1], notebooks=False)
    flagged = "\n".join(results["needs_person"])
    for test_id in FORGERY_TAMPERED:
        assert f"{grading_tests.manifest.test(test_id).name}: tampering" in flagged
    assert flagged.count("outputs without code that could have produced them") == 4, flagged
    assert "spot-check" not in flagged  # nothing earned, nothing to spot-check
    assert leaked(results) == []
    outputs = {e["name"]: e["output"] for e in results["tests"]}
    assert "wrong return value: … must be a tuple of 2 items" in \
        outputs["training_step: loss (data loss + L2 on weights) [train.py]"]


def test_replayed_outputs_fail_in_every_later_grading(old_grading):
    """Whatever an earlier grading showed (here: every output of it), a later grading draws
    new inputs: replayed outputs fail every test, the init test's sizes and scale included."""
    expected, _ = old_grading
    tests = grading_tests.code_tests()
    for seed in (OLD_SEED + 1, 2**62 + 12345):
        fresh = reference_run.reference_outputs(ROOT, ("backprop", "neuralnet"), tests, seed)
        for test in tests:
            compare = test.compare or grading_tests.compare_arrays
            assert compare(fresh[test.id], fresh[test.id]) is None
            assert compare(expected[test.id], fresh[test.id]) is not None, test.id


def test_channel_accepts_only_the_expected_records_in_order():
    tests = [t for t in grading_tests.code_tests() if t.file == "layers.py"]
    ok = {t.id: json.dumps({"id": t.id, "status": "ok", "outputs": {}}).encode() for t in tests}
    ready = grading_worker.READY
    honest = b"\n".join([ready, *ok.values()]) + b"\n"
    channel = grading_channel.read_channel(honest, tests)
    assert channel.started and list(channel.records) == [t.id for t in tests]
    assert not channel.tampered and channel.foreign == 0
    first, second, third = (t.id for t in tests[:3])
    repeated = b"\n".join([ready, ok[first], ok[first], ok[second], ok[third]]) + b"\n"
    assert grading_channel.read_channel(repeated, tests).tampered == {first, second}
    early = b"\n".join([ready, ok[second], ok[first], ok[second]]) + b"\n"
    assert grading_channel.read_channel(early, tests).tampered == {first, second}
    noise = b"\n".join([ready, ok[first], b"hello", ok[second]]) + b"\n"
    assert grading_channel.read_channel(noise, tests).tampered == {second}
    assert not grading_channel.read_channel(ok[first] + b"\n", tests).started  # no READY
    cut = b"\n".join([ready, ok[first], ok[second][:10]])  # the process died mid-record
    channel = grading_channel.read_channel(cut, tests)
    assert list(channel.records) == [first] and not channel.tampered


def test_a_flooded_channel_is_read_in_bounded_work(monkeypatch):
    """8 MB of empty lines on the channel (8 million lines; 22 s of the grader's time each,
    four files over the budget: 'failed to grade') are counted, not parsed: the tests that
    had no record before the flood are tampered with."""
    tests = [t for t in grading_tests.code_tests() if t.file == "layers.py"]
    first = json.dumps({"id": tests[0].id, "status": "ok", "outputs": {}}).encode()
    flood = b"\n" * (8 * 2**20)
    parsed = []
    monkeypatch.setattr(grading_channel, "parse_line",
                        lambda line, parse=grading_channel.parse_line: parsed.append(1)
                        or parse(line))
    channel = grading_channel.read_channel(grading_worker.READY + b"\n" + first + b"\n"
                                           + flood, tests)
    assert len(parsed) == len(tests) + grading_channel.MAX_FOREIGN
    assert list(channel.records) == [tests[0].id] and channel.foreign == len(flood)
    assert channel.tampered == {t.id for t in tests[1:]}


def test_channel_decoding_checks_sizes_before_allocating():
    tests = [t for t in grading_tests.code_tests() if t.id == "fc_forward"]

    def decode(*lines):
        return grading_channel.read_channel(b"\n".join([grading_worker.READY, *lines]) + b"\n",
                                            tests)

    huge = {"id": "fc_forward", "status": "ok",
            "outputs": {"out": {"shape": [2**31], "data": "AAAA"}}}
    assert decode(json.dumps(huge).encode()).records["fc_forward"].error == {"kind": "bad_output"}
    nested = b"[" * 100_000 + b"]" * 100_000
    long_line = b'{"id": "fc_forward", "status": "ok", "x": "' + b"x" * grading_worker.MAX_LINE
    assert decode(nested, long_line).records == {}
    array = np.arange(6.0).reshape(2, 3)
    good = {"id": "fc_forward", "status": "ok",
            "outputs": grading_worker.encode_arrays({"out": array})}
    assert np.array_equal(decode(json.dumps(good).encode()).records["fc_forward"].outputs["out"],
                          array)


def test_messages_are_built_by_the_grader():
    error = {"kind": "wrong_output", "type": "WrongOutput", "line": 2, "phase": "test",
             "text": "layers.py has no function relu_backward"}
    text = feedback.error_message(error, "layers.py", "x = 1\ny = 2\n", 2.0)
    assert text == "wrong return value: layers.py has no function relu_backward"
    error.update(kind="timeout", type="TimeLimit")
    assert feedback.error_message(error, "layers.py", "x = 1\ny = 2\n", 2.0) == \
        "took longer than 2 s and was stopped (an infinite loop?) (at layers.py line 2: y = 2)"
    error.update(kind="wrong_output", type="WrongOutput")
    error["text"] = "layers.py has no function 0123456789abcdef SECRETREFERENCE"
    assert "0123" not in feedback.error_message(error, "layers.py", "", 2.0)
    error["text"] = "grad_w = x.T @ grad_out, the reference says"
    assert feedback.error_message(error, "layers.py", "", 2.0) == \
        "wrong return value: " + feedback.GENERIC_WRONG_OUTPUT
    error.update(kind="exception", type="EvilError: the reference says", line=99)
    assert feedback.error_message(error, "layers.py", "x = 1\n", 2.0) == "raised an exception"
    assert grading_tests.shown(0.123456789) == "0.123"
    assert grading_tests.shown(1e300) == "a huge value"
    assert grading_tests.shape_text((12345, 2)) == "a large shape"


def test_what_can_leave_is_tens_of_bytes(old_grading):
    """docs/STAFF.md's bound: every code test's possible messages, counted from the grader's
    own templates and the reference's output sizes."""
    bits = feedback.leak_bits(old_grading[0])
    assert max(v for k, v in bits.items() if k not in ("total", "flags")) < 40
    assert bits["flags"] == 4  # whether each of the 4 files' tampering flag is shown
    assert bits["total"] < 82 * 8, bits


def test_the_tampering_flag_states_no_number_of_the_students_choosing(tmp_path):
    """Records forged in order at import, then N empty lines: 0 and a flag for a person; the
    flag the student reads does not spell N out (it would carry up to 23 bits a file past
    feedback.leak_bits, which counts one bit a file: the flag is there or not)."""
    forged = {}
    for name, tests in grade.tests_by_file().items():
        ids = [t.id for t in tests]
        forged[name] = (f"import json as _j, os as _o\nfor _id in {ids!r}:\n"
                        "    _o.write(3, _j.dumps(dict(id=_id, status='error', "
                        "kind='exception')).encode() + b'\\n')\n"
                        f"_o.write(3, b'\\n' * {1000 + len(name)})\n_o._exit(0)\n")
    submission = hostile_submission(tmp_path / "sub", forged)
    results = grade_cli(submission, tmp_path / "results.json")
    assert code_scores(results) == dict.fromkeys(CODE_IDS, 0)
    assert not any(str(1000 + len(name)) in results["output"] for name in forged)
    flags = [f for f in results["needs_person"] if not f.startswith(gn.SPOT_CHECK)]
    assert len(flags) >= 4  # flagged for a person
    assert feedback.tampering_flag_bits() == len(forged)


def test_without_a_sandbox_the_results_say_so(honest):
    results = grade.grade(honest[0], limits=grade.Limits(sandbox="none"))
    assert results["score"] == honest[1]["score"]
    assert results["extra_data"]["sandbox"] == "none"
    assert "WITHOUT isolation" in results["output"]


def test_worker_command_line_holds_no_path_or_seed(tmp_path):
    tests = grade.tests_by_file()["layers.py"]
    job = grade.worker_job(tmp_path / "code", tmp_path / "harness", tests, grade.Limits(), 10,
                           seed=987654321)
    assert job.args == ["{python}", "-I", "-B", "-c", grading_worker.BOOTSTRAP]
    assert job.config["seed"] == 987654321 and job.config["code"] == "{code}"
SHELL_ATTACK = """
echo start
sleep MARK &
setsid sleep MARK &
( i=0; while [ $i -lt 300 ]; do sleep MARK & echo >> "$HOME/n"; i=$((i+1)); done ) 2>/dev/null
n=0; while read line; do n=$((n+1)); done < "$HOME/n"; echo forked $n
sleep 1  # hold the forks a while: where bwrap runs as root, the grader counts every 0.1 s
head -c 100000000 /dev/zero > "$HOME/hw4-fill-MARK" 2>/dev/null
echo > /tmp/hw4-fill-MARK
mkdir -p /tmp/hw4-loot-MARK/a/b 2>/dev/null && echo deep > /tmp/hw4-loot-MARK/a/b/c
kill -STOP $PPID 2>/dev/null; kill -KILL $PPID 2>/dev/null
echo end
"""
THREADS = """
import threading
threading.stack_size(65536)
stop, started = threading.Event(), 0
try:
    for _ in range(1000):
        threading.Thread(target=stop.wait, daemon=True).start()
        started += 1
except RuntimeError:
    pass
print("threads", started, flush=True)
stop.wait(1.5)
"""
SYSTEM_PYTHON = "/usr/bin/python3"  # a Python every uid can run (the shell and thread jobs)


def runner_modes():
    """The modes a root grader can run jobs in here: name -> Mode."""
    exposed = sandbox.exposure(sandbox.python_paths())
    return {"bwrap, a fresh uid per job": sandbox.Mode("bwrap", "test", True, exposed),
            "bwrap as root, threads counted": sandbox.Mode("bwrap", "test", poll=True),
            "uid": sandbox.Mode("uid", "test", True, exposed)}


def mode_skip_reason(mode):
    """Why `mode` cannot run jobs here (None if it can)."""
    if not IS_ROOT:
        return "needs root (the grader is root on Gradescope and in CI)"
    if not os.path.exists(SYSTEM_PYTHON):
        return f"{SYSTEM_PYTHON} is missing"
    command = [SYSTEM_PYTHON, "-c", "pass"]
    if mode.name == "bwrap":
        if not sandbox.bwrap_available():
            return "bubblewrap is not installed"
        command = sandbox.bwrap_args({}, python=False) + command
    return None if sandbox.probe(command, mode) else f"{mode} cannot start jobs here"


def shell_jobs(mark):
    return [sandbox.Job(["/bin/sh", "-c", SHELL_ATTACK.replace("MARK", mark)], {}, 20, 256,
                        python=False),
            sandbox.Job([SYSTEM_PYTHON, "-c", THREADS], {}, 20, 512, python=False),
            sandbox.Job(["/bin/sh", "-c", "head -c 20000000 /dev/zero"], {}, 20, 256,
                        python=False),
            sandbox.Job(["/bin/sh", "-c", f"echo x; sleep {mark}"], {}, 1, 256, python=False)]


def check_bounded(outcomes, counted, mark):
    """The attack jobs' outcomes: forks and threads bounded (by the kernel's task limit,
    or, where bwrap runs as root, by the grader's count), output cap and deadline hold,
    nothing left."""
    attack, threads, flood, slow = outcomes
    lines = attack.output.decode().split()
    assert lines[0] == "start", attack
    if counted:
        assert attack.too_many_processes and threads.too_many_processes, (attack, threads)
    else:  # the task limit: forks and new threads fail, the job goes on
        assert lines[-1] == "end" and not attack.too_many_processes, attack
        assert int(lines[lines.index("forked") + 1]) < sandbox.NPROC
        started = threads.output.decode().split()
        assert started[0] == "threads" and int(started[1]) < sandbox.NPROC, threads
    assert flood.overflow and len(flood.output) <= sandbox.OUTPUT_CAP
    assert slow.timed_out and slow.output == b"x\n"
    assert leftovers(mark) == ([], [])


@pytest.mark.parametrize("name", sorted(runner_modes()))
def test_sandbox_modes_bound_and_end_everything(name):
    """Every mode a root grader can use, with shell and thread-bomb jobs: forks and threads
    are bounded per job, background and setsid children and files (deep in /tmp too) do not
    survive, the grader cannot be stopped, the output cap and the deadline hold."""
    mode = runner_modes()[name]
    reason = mode_skip_reason(mode)
    if reason:
        pytest.skip(reason)
    mark = marker()
    outcomes = sandbox.Runner(mode).run_all(shell_jobs(mark))
    check_bounded(outcomes, mode.poll, mark)


HOLD_THREADS = """
import sys, threading
stop = threading.Event()
for _ in range(int(sys.argv[1])):
    threading.Thread(target=stop.wait, daemon=True).start()
print("holding", flush=True)
sys.stdin.read()
"""
AS_USER = """
import json, sys
sys.path.insert(0, sys.argv[1])
import sandbox
mode = sandbox.Mode("bwrap", "test")
jobs = [sandbox.Job(j["args"], {}, j["wall"], j["memory_mb"], python=False)
        for j in json.loads(sys.argv[2])]
outcomes = sandbox.Runner(mode).run_all(jobs)
print(json.dumps([o.__dict__ for o in outcomes], default=lambda b: b.decode("latin-1")))
"""


class OtherUser:
    """A fresh uid holding `threads` threads (a staff laptop's browser), able to run this
    checkout's Python and code (reached through a private mount namespace where needed)."""

    def __init__(self, threads=300):
        self.uid = sandbox.fresh_uid()
        self.paths = sandbox.python_paths() + [ROOT]
        self.home = Path(tempfile.mkdtemp(prefix="hw4-user-", dir="/tmp"))
        os.chmod(self.home, 0o777)
        self.holder = self.popen([sys.executable, "-c", HOLD_THREADS, str(threads)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.holder.stdout.readline() == b"holding\n"

    def setup(self, nproc=None):
        exposed = sandbox.exposure(self.paths)
        self.hold = sandbox.holder_for(exposed)
        return sandbox.child_setup(uid=self.uid, exposed=exposed, holder=self.hold.__enter__(),
                                   nproc=nproc)

    def env(self):
        return {"PATH": "/usr/bin:/bin", "HOME": str(self.home), "TMPDIR": str(self.home),
                "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1",
                "OMP_NUM_THREADS": "1"}

    def popen(self, command, **kwargs):
        try:
            return subprocess.Popen(command, env=self.env(), cwd="/", preexec_fn=self.setup(),
                                    **kwargs)
        finally:
            self.hold.__exit__(None, None, None)

    def run(self, command, nproc=None, timeout=300):
        try:
            return subprocess.run(command, env=self.env(), cwd=str(ROOT), capture_output=True,
                                  text=True, timeout=timeout, preexec_fn=self.setup(nproc))
        finally:
            self.hold.__exit__(None, None, None)

    def threads(self):
        return sum(int(re.search(r"^Threads:\s*(\d+)", Path(f"/proc/{pid}/status").read_text(),
                                 re.M).group(1)) for pid in sandbox.processes_of(self.uid))

    def close(self):
        self.holder.stdin.close()
        self.holder.wait()
        sandbox.kill_uid(self.uid)
        shutil.rmtree(self.home, ignore_errors=True)


@pytest.fixture(scope="module")
def busy_user():
    """A normal user (a fresh uid) with 300 threads running, as on a staff laptop."""
    if not IS_ROOT or not sandbox.bwrap_available():
        pytest.skip("needs root (to become another user) and bubblewrap")
    user = OtherUser()
    if not sandbox.probe(sandbox.bwrap_args({}, python=False) + ["/bin/true"],
                         sandbox.Mode("bwrap", "probe", True)):
        user.close()
        pytest.skip("unprivileged users cannot create user namespaces here")
    yield user
    user.close()


def test_bwrap_as_a_busy_normal_user_starts_and_bounds_each_job(busy_user):
    """The staff laptop: the grader is a normal user with hundreds of threads running (more
    than the 128 a job may start). Every sandbox starts, and still bounds its own jobs."""
    assert busy_user.threads() >= 300
    mark = marker()
    specs = [{"args": job.args, "wall": job.wall, "memory_mb": job.memory_mb}
             for job in shell_jobs(mark)]
    library = busy_user.home / "lib"
    library.mkdir()
    shutil.copy(STAFF_DIR / "grading" / "sandbox.py", library / "sandbox.py")
    run = busy_user.run([sys.executable, "-c", AS_USER, str(library), json.dumps(specs)])
    assert run.returncode == 0, run.stderr[-2000:]
    outcomes = [sandbox.Outcome(**{k: v.encode("latin-1") if isinstance(v, str) else v
                                   for k, v in o.items()}) for o in json.loads(run.stdout)]
    check_bounded(outcomes, False, mark)


def test_grading_as_a_busy_normal_user(busy_user, tmp_path, old_grading):
    """As on a staff laptop: the reference scores 80 in bwrap as the user, the stubs with the
    forged records and notebooks score 0; and a sandbox that cannot start (the user's own
    process limit reached) is "failed to grade", never a 0."""
    folder = Path(tempfile.mkdtemp(prefix="hw4-user-sub-", dir=busy_user.home))
    os.chmod(folder, 0o777)
    honest = write_submission_dir(folder / "honest")
    hostile = hostile_submission(folder / "hostile", FORGERY, forged_notebooks(),
                                 **forgery_paths(old_grading, marker()))

    def graded(submission, nproc=None):
        out = folder / f"{submission.name}-{nproc}.json"
        run = busy_user.run([sys.executable, "-m", "staff.grading.grade", str(submission), "--out",
                             str(out), *LIMITS], nproc=nproc)
        return run.returncode, json.loads(out.read_text())

    code, results = graded(honest)
    assert code == 0 and results["score"] == grade.max_points(), results["output"]
    assert "bwrap run as the grader's user" in results["extra_data"]["sandbox_detail"]
    code, results = graded(hostile)
    assert code == 0 and results["score"] == 0 and set(code_scores(results).values()) == {0}
    code, results = graded(honest, nproc=busy_user.threads() + 1)  # no fork left
    assert code == grade.EXIT_FAILED and results["tests"] == [], results["output"]
    assert "failed_to_grade" in results["extra_data"] and results["needs_person"]
    assert results["output"].startswith("FAILED TO GRADE") and "not your score" in results["output"]


@pytest.mark.parametrize("breakage", ["harness", "bwrap"])
def test_a_sandbox_that_cannot_start_is_failed_to_grade(honest, monkeypatch, breakage):
    """Told apart from the student's code exiting: no READY line came, so no student code ran."""
    if breakage == "bwrap":
        if MODE.name != "bwrap":
            pytest.skip("bubblewrap is not the mode here")
        original = sandbox.bwrap_args
        monkeypatch.setattr(sandbox, "bwrap_args",
                            lambda *a, **k: [original(*a, **k)[0], "--no-such-option",
                                             *original(*a, **k)[1:]])
    else:
        monkeypatch.setattr(grading_worker, "BOOTSTRAP",
                            "import sys; sys.exit('the harness is broken')")
    results = grade.grade(honest[0], limits=grade.Limits())
    reason = results["extra_data"]["failed_to_grade"]
    assert "did not start" in reason and ("harness is broken" in reason or "bwrap" in reason)
    assert results["tests"] == [] and results["needs_person"] == [f"failed to grade: {reason}"]


@pytest.mark.parametrize("name", ["bwrap as root, threads counted", "uid"])
def test_attacks_in_the_other_root_modes(tmp_path, honest, old_grading, monkeypatch, name):
    """The forgery and the bombs in the modes `auto` does not pick here (in-process): 0, and
    the reference still 80 in that mode."""
    mode = runner_modes()[name]
    reason = mode_skip_reason(mode)
    if reason:
        pytest.skip(reason)
    monkeypatch.setitem(sandbox._MODES, "auto", mode)
    mark = marker()
    attack = {name: FORGERY[name] + (THREAD_BOMB + FORK_BOMB if name == "train.py" else "")
              for name in FORGERY}
    folder = hostile_submission(tmp_path / "jdoe", attack, forged_notebooks(),
                                **forgery_paths(old_grading, mark))
    limits = grade.Limits(test_timeout=3, allow_readable=True)  # this checkout is readable
    results = grade.grade(folder, limits=limits)
    assert_attack_scored(results, honest[1], mode, notebooks=False)
    assert leaked(results) == []
    assert_nothing_left(mark)
    assert grade.grade(honest[0], limits=limits)["score"] == grade.max_points()


def test_uid_mode_refuses_a_readable_reference_or_inbox(tmp_path, honest):
    """In "uid" mode student code runs on this machine's files: readable uploads beside the
    submission (a grade-all inbox) or a readable reference make the grader refuse."""
    mode = sandbox.Mode("uid", "test", True)
    inbox = Path(tempfile.mkdtemp(prefix="hw4-inbox-", dir="/tmp"))
    try:
        os.chmod(inbox, 0o755)
        shutil.copytree(honest[0], inbox / "jdoe")
        (inbox / "classmate.zip").write_bytes(b"PK")
        assert grade.readable_uploads(inbox / "jdoe") == [inbox / "jdoe", inbox / "classmate.zip"]
        problems = grade.privacy_problems(mode, ROOT, inbox / "jdoe")
        assert any("2 upload(s)" in p and f"chmod 700 {inbox}" in p for p in problems), problems
        with pytest.raises(grade.GraderFailure, match="refusing"):
            grade.check_privacy(mode, ROOT, inbox / "jdoe", grade.Limits())
        assert grade.check_privacy(mode, ROOT, inbox / "jdoe", grade.Limits(allow_readable=True))
        os.chmod(inbox, 0o700)
        private = tmp_path / "reference"
        for folder in ("backprop", "neuralnet"):
            shutil.copytree(ROOT / folder, private / folder)
        os.chmod(tmp_path, 0o700)
        assert grade.privacy_problems(mode, private, inbox / "jdoe") == []
    finally:
        shutil.rmtree(inbox)


def test_notebooks_at_the_size_cap_are_graded_in_bounded_time(tmp_path):
    """The biggest notebook the grader reads (objects or text just under the caps) is
    refused or graded in a few seconds, once."""
    items = '{"a": "' + "x" * 8 + '"}, '
    crowded = '{"cells": [], "metadata": {"x": [' + items * (gn.MAX_JSON_ITEMS // 3 - 10) + "0]}}"
    text_heavy = json.loads(part1_text())
    text_heavy["cells"][-1]["outputs"] = [{"output_type": "stream", "name": "stdout",
                                          "text": ("y" * 999 + "\n") * 15_000}]
    for text in (crowded, json.dumps(text_heavy)):
        assert len(text) < gn.MAX_NOTEBOOK_CHARS
        (tmp_path / "part1.ipynb").write_text(text)
        start = time.perf_counter()
        entries, _ = gn.grade_notebooks({"part1.ipynb": tmp_path / "part1.ipynb"})
        assert time.perf_counter() - start < 5.0
        assert len(entries) == 4
    too_many = '{"cells": [' + '{"a": 1}, ' * gn.MAX_JSON_ITEMS + "{}]}"
    assert "JSON objects" in gn.read_notebook(too_many, "part1.ipynb")[1]
ONLY_OWN_OR_BYTECODE_HELPERS = """
import os as _o, layers as _layers, classifier as _classifier
assert _classifier.__file__.endswith(".pyc"), _classifier.__file__
assert _layers.__file__.endswith("layers.py"), _layers.__file__  # the student's, which passed
_sources = {_f for _f in _o.listdir(_o.path.dirname(_layers.__file__)) if _f.endswith(".py")}
assert _sources <= {"layers.py", "two_layer_net.py", "train.py"}, _sources  # the student's only
STUDENT_MARK = 1
"""
NEEDS_OWN_NET = """
import layers as _layers, two_layer_net as _net
assert hasattr(_net, "STUDENT_MARK") == {own}
assert _layers.__file__.endswith("layers.py") == {own}  # our net runs with our layers only
"""


@pytest.mark.parametrize("net_works", [True, False])
def test_helpers_are_the_students_own_when_they_pass_else_bytecode(tmp_path, net_works):
    """two_layer_net.py runs with the student's layers.py (it passed) and classifier.pyc;
    train.py runs with the student's two_layer_net.py and layers.py when the net passed its
    tests, else with ours (bytecode), both."""
    net = (ROOT / PY_FILES["two_layer_net.py"]).read_text() + ONLY_OWN_OR_BYTECODE_HELPERS
    if not net_works:
        net += "\nTwoLayerNet.backward = lambda self, *args: None\n"
    train = (ROOT / PY_FILES["train.py"]).read_text() + NEEDS_OWN_NET.format(own=net_works)
    folder = write_submission_dir(tmp_path / "jdoe", {"two_layer_net.py": net,
                                                      "train.py": train})
    results = grade.grade(folder, limits=grade.Limits())
    scores = code_scores(results)
    net_tests = [n for n in scores if n.endswith("[two_layer_net.py]")]
    train_tests = [n for n in scores if n.endswith("[train.py]")]
    assert all(scores[n] > 0 for n in net_tests if "backward" not in n), results["tests"]
    assert all(scores[n] > 0 for n in train_tests), results["tests"]


GRADESCOPE_LIKE = """
set -e
repo=$1; shift
python_home=$(dirname "$(dirname "$(readlink -f "$PYTHON")")")
if [ "${python_home#/root/}" != "$python_home" ]; then  # CI: Python under /root (mode 700)
    hold=$(mktemp -d "$HOLD_PARENT/hold-XXXXXX")
    mount --bind "$python_home" "$hold"
    mount -t tmpfs -o mode=755,size=1m tmpfs /root
    mkdir -p "$python_home"
    mount --bind "$hold" "$python_home"
fi
for d in neuralnet backprop staff tests; do
    mount -t tmpfs -o mode=700,size=1m tmpfs "$repo/$d"
done
exec "$@"
"""
EVERYTHING_AT_ONCE = {
    "functions.py": REFERENCE_COPY + FORGE_AND_KILL + SIGSTOP_PARENT + SNOOP,
    "layers.py": DISK_FILL + SNOOP,
    "two_layer_net.py": REFERENCE_COPY + FORK_BOMB + DAEMON + THREAD_BOMB,
    "train.py": WATCHER + EDIT_GRADER + CHANNEL_FLOOD,
}


def shared_memory_keys():
    try:
        rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return set()
    return {int(row.split()[0]) for row in rows}


@pytest.mark.parametrize("mode", ["bwrap", "uid"])
def test_gradescope_modes_end_to_end(tmp_path, honest, autograder_zip, mode):
    """Gradescope's modes as Gradescope runs them (root; Python readable by unprivileged
    uids, which a private mount namespace makes of /root here, with this repository's
    sources hidden): every attack at once, and snooping for other processes' paths, the
    uploads and the reference, scores 0 on the code and leaves nothing (no file deep in
    /tmp, no shared memory), and the next submission gets full marks. `bwrap` is then run
    as a fresh uid per job, `uid` is the fallback where bwrap cannot create namespaces."""
    if not IS_ROOT or not shutil.which("unshare"):
        pytest.skip("needs root and unshare (as CI and Gradescope have)")
    if mode == "uid" and mode_skip_reason(runner_modes()["uid"]):
        pytest.skip(mode_skip_reason(runner_modes()["uid"]))
    source = install(autograder_zip, tmp_path)
    script = tmp_path / "gradescope_like.sh"
    script.write_text(GRADESCOPE_LIKE)
    mark = marker()
    shm_key = 0x4B000000 + uuid.uuid4().int % 2**20
    results_path = tmp_path / "results" / "results.json"

    def run():
        env = dict(os.environ, AUTOGRADER_ROOT=str(tmp_path), AUTOGRADER_PYTHON=sys.executable,
                   HW4_SANDBOX=mode, PYTHON=sys.executable, HOLD_PARENT=str(tmp_path))
        command = ["unshare", "--mount", "--propagation", "private", "bash", str(script),
                   str(ROOT), "bash", str(source / "run_autograder")]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(results_path.read_text())

    targets = [str(tmp_path / "submission"), str(source), str(ROOT / "neuralnet")]
    hostile_submission(tmp_path / "submission" / "jdoe", EVERYTHING_AT_ONCE, root=str(ROOT),
                       source=str(source), results=str(results_path), marker=mark,
                       targets=targets, shm_key=shm_key)
    results = run()
    assert results["extra_data"]["sandbox"] == mode, results["output"]
    if mode == "bwrap":
        assert "bwrap run as a fresh uid" in results["extra_data"]["sandbox_detail"]
    assert set(code_scores(results).values()) == {0}, code_scores(results)
    assert notebook_scores(results) == notebook_scores(honest[1])
    assert_nothing_left(mark, source)
    assert shm_key not in shared_memory_keys()
    shutil.rmtree(tmp_path / "submission")
    write_submission_dir(tmp_path / "submission" / "jdoe")
    assert run()["score"] == honest[1]["score"]


def test_after_the_attacks_an_honest_submission_keeps_full_marks(honest):
    """Run last: the grader and the reference are as they were, the honest work gets 80."""
    assert grade.grade(honest[0], limits=grade.Limits())["score"] == grade.max_points()
    assert marked_files("\n# red-team 4") == []  # EDIT_GRADER's line (markers are 40.x)
