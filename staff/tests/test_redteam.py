"""Red team: hostile submissions against staff/grade.py and run_autograder, under the sandbox
this machine has (bubblewrap in CI; the tests skip where student code would run without
isolation, since the attacks would then hit this machine).

Each attack is appended to the STARTER's .py files (stubs), so its exact expected score is the
notebooks' points and 0 on every code test. After each attack an honest submission is graded
and must keep full marks, no process or file of the attack may be left, and the grader, the
reference and the autograder's source must be unchanged.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
import zipfile

import numpy as np
import pytest

from staff import grade, grading_tests, make_autograder, sandbox
from staff.starter.regions import strip_python
from staff.tests.corpus import PY_FILES, ROOT, STAFF_DIR, write_submission_dir
from staff.tests.test_autograder import install, run_autograder

MODE = sandbox.choose_mode()
pytestmark = pytest.mark.skipif(MODE.name == "none", reason="no sandbox here: " + MODE.detail)
LIMITS = ["--test-timeout", "5"]
CODE_IDS = {f"{t.name} [{t.file}]" for t in grading_tests.code_tests()}

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
    _targets += [_root / "staff" / "grade.py", _root / "neuralnet" / "layers.py",
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
    "fork bomb and disk fill": {"functions.py": FORK_BOMB, "layers.py": DISK_FILL,
                                "train.py": FORK_BOMB},
}


def starter_sources():
    return {name: strip_python((ROOT / path).read_text(), name)[0]
            for name, path in PY_FILES.items()}


def hostile_submission(folder, attack, **paths):
    """The starter's .py files with the attack (a name of ATTACKS, or a dict file -> code)
    appended after the stubs, so a copied reference would replace them; notebooks that ran."""
    overrides = starter_sources()
    for name, code in (ATTACKS[attack] if isinstance(attack, str) else attack).items():
        overrides[name] += "\n" + code.format(**paths) + "\n"
    return write_submission_dir(folder, overrides)


@pytest.fixture(scope="module")
def reference_cache(tmp_path_factory):
    """The reference outputs, computed once for every grade.py run of this module."""
    path = tmp_path_factory.mktemp("cache") / "reference_outputs.json"
    grade.reference_outputs(ROOT, grade.tests_by_file(), grade.Limits(), path)
    return path


def grade_cli(submission, out, cache):
    command = [sys.executable, "-m", "staff.grade", str(submission), "--out", str(out),
               "--reference-cache", str(cache), *LIMITS]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(out.read_text())


def notebook_scores(results):
    return [(e["name"], e["score"]) for e in results["tests"] if e["name"] not in CODE_IDS]


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


def assert_attack_scored(results, honest_results):
    assert results["max_score"] == grade.max_points()
    code = {e["name"]: e["score"] for e in results["tests"] if e["name"] in CODE_IDS}
    assert len(code) == len(CODE_IDS) and set(code.values()) == {0}, code
    assert notebook_scores(results) == notebook_scores(honest_results)
    assert results["score"] == sum(s for _, s in notebook_scores(honest_results))
    assert results["extra_data"]["sandbox"] == MODE.name
    assert "SECRETREFERENCE" not in json.dumps(results)  # forged text never reaches the student


def assert_nothing_left(mark, *roots):
    time.sleep(0.3)  # a survivor would be writing or sleeping by now
    assert leftovers(mark) == ([], [])
    assert marked_files(mark, *roots) == []


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_through_grade_py(tmp_path, honest, reference_cache, attack):
    mark = marker()
    out = tmp_path / "results" / "results.json"
    folder = hostile_submission(tmp_path / "sub" / "jdoe", attack, root=str(ROOT),
                                source=str(ROOT), results=str(out), marker=mark)
    results = grade_cli(folder, out, reference_cache)
    assert_attack_scored(results, honest[1])
    assert_nothing_left(mark)
    assert json.loads(out.read_text()) == results  # no one rewrote it afterwards
    again = grade.grade(honest[0], limits=grade.Limits())
    assert again["score"] == honest[1]["score"]


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("ag") / "autograder.zip"
    make_autograder.build(out)
    return out


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_through_run_autograder(tmp_path, honest, autograder_zip, reference_cache,
                                       attack):
    """A Gradescope-like layout: source/, submission/, results/ under one root."""
    source = install(autograder_zip, tmp_path)
    shutil.copyfile(reference_cache, source / "reference_outputs.json")  # as setup.sh does
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
    shutil.rmtree(tmp_path / "submission")  # the next student, same autograder
    write_submission_dir(tmp_path / "submission" / "jdoe")
    assert run_autograder(source, tmp_path).returncode == 0
    assert json.loads(results_path.read_text())["score"] == honest[1]["score"]


def test_channel_decoding_checks_sizes_before_allocating():
    tests = [t for t in grading_tests.code_tests() if t.id == "fc_forward"]
    huge = {"id": "fc_forward", "status": "ok",
            "outputs": {"out": {"shape": [2**31], "data": "AAAA"}}}
    assert grade.decode_records(json.dumps(huge).encode(), tests)["fc_forward"].error == \
        {"kind": "bad_output"}
    nested = b"[" * 100_000 + b"]" * 100_000
    long_line = b'{"id": "fc_forward", "status": "ok", "x": "' + b"x" * grade.worker.MAX_LINE
    assert grade.decode_records(nested + b"\n" + long_line, tests) == {}
    array = np.arange(6.0).reshape(2, 3)
    good = {"id": "fc_forward", "status": "ok",
            "outputs": grade.worker.encode_arrays({"out": array})}
    decoded = grade.decode_records(json.dumps(good).encode(), tests)["fc_forward"]
    assert np.array_equal(decoded.outputs["out"], array)


def test_messages_are_built_by_the_grader():
    error = {"kind": "wrong_output", "type": "WrongOutput", "line": 2, "phase": "test",
             "text": "layers.py has no function relu_backward SECRETREFERENCE"}
    text = grade.error_message(error, "layers.py", "x = 1\ny = 2\n", 2.0)
    assert "has no function relu_backward" in text and "SECRET" not in text
    assert text.endswith("(at layers.py line 2: y = 2)")
    error.update(kind="exception", type="EvilError: the reference says", line=99)
    assert grade.error_message(error, "layers.py", "x = 1\n", 2.0) == "raised an exception"


def test_without_a_sandbox_the_results_say_so(honest):
    results = grade.grade(honest[0], limits=grade.Limits(sandbox="none"))
    assert results["score"] == honest[1]["score"]
    assert results["extra_data"]["sandbox"] == "none"
    assert "WITHOUT isolation" in results["output"]


SHELL_ATTACK = """
echo start
sleep MARK &
setsid sleep MARK &
( i=0; while [ $i -lt 300 ]; do sleep MARK & echo >> "$HOME/n"; i=$((i+1)); done ) 2>/dev/null
n=0; while read line; do n=$((n+1)); done < "$HOME/n"; echo forked $n
head -c 100000000 /dev/zero > "$HOME/hw4-fill-MARK" 2>/dev/null
echo > /tmp/hw4-fill-MARK
kill -STOP $PPID 2>/dev/null; kill -KILL $PPID 2>/dev/null
echo end
"""
RUNNER_MODES = {
    "bwrap as the grader's user": sandbox.Mode("bwrap", "test", None),
    "bwrap as the sandbox uid": sandbox.Mode("bwrap", "test", sandbox.DEFAULT_UID),
    "uid": sandbox.Mode("uid", "test", sandbox.DEFAULT_UID),
}


def runner_mode_available(mode):
    if mode.uid is not None and os.geteuid() != 0:
        return False
    if mode.name == "bwrap":
        return sandbox.probe(sandbox.bwrap_args({}, python=False) + ["/bin/true"], mode.uid)
    return True


@pytest.mark.parametrize("name", sorted(RUNNER_MODES))
def test_sandbox_modes_bound_and_end_everything(name):
    """Every mode (Gradescope's too) with shell jobs: a fork bomb is bounded (RLIMIT_NPROC,
    or where bwrap runs as root, the grader's count of the namespace's processes), background
    and setsid children and files do not survive, the grader cannot be stopped, the output
    cap and the deadline hold."""
    mode = RUNNER_MODES[name]
    if not runner_mode_available(mode):
        pytest.skip(f"{name} cannot run here")
    mark = marker()
    jobs = [sandbox.Job(["/bin/sh", "-c", SHELL_ATTACK.replace("MARK", mark)], {}, 20, 256,
                        python=False),
            sandbox.Job(["/bin/sh", "-c", "head -c 20000000 /dev/zero"], {}, 20, 256,
                        python=False),
            sandbox.Job(["/bin/sh", "-c", f"echo x; sleep {mark}"], {}, 1, 256, python=False)]
    runner = sandbox.Runner(mode)
    # the fork bomb runs alone: the jobs of one run share the uid's process limit
    (attack,) = runner.run_all(jobs[:1])
    flood, slow = runner.run_all(jobs[1:])
    lines = attack.output.decode().split()
    assert lines[0] == "start", attack
    if runner.nproc() is None:  # bwrap run as root: the grader counts the namespace's pids
        assert attack.too_many_processes, attack
    else:  # RLIMIT_NPROC: forks fail, the script goes on
        assert lines[-1] == "end" and not attack.too_many_processes, attack
        if runner.uid is not None:
            assert int(lines[lines.index("forked") + 1]) < sandbox.NPROC
    assert flood.overflow and len(flood.output) <= sandbox.OUTPUT_CAP
    assert slow.timed_out and slow.output == b"x\n"
    assert leftovers(mark) == ([], [])
    if runner.uid is not None:
        assert sandbox.processes_of(runner.uid) == []


ONLY_BYTECODE_HELPERS = """
import os as _o, layers as _layers, classifier as _classifier
for _m in (_layers, _classifier):
    assert _m.__file__.endswith(".pyc"), _m.__file__
_sources = {_f for _f in _o.listdir(_o.path.dirname(_layers.__file__)) if _f.endswith(".py")}
assert _sources <= {"two_layer_net.py", "train.py"}, _sources  # the student's files only
STUDENT_MARK = 1
"""
NEEDS_OWN_NET = """
import two_layer_net as _net
assert hasattr(_net, "STUDENT_MARK") == {own}
"""


@pytest.mark.parametrize("net_works", [True, False])
def test_helpers_are_bytecode_and_train_gets_the_students_net_when_it_works(tmp_path,
                                                                             net_works):
    """two_layer_net.py sees only classifier.pyc and layers.pyc; train.py runs with the
    student's two_layer_net.py when it passed its tests, else with ours (bytecode)."""
    net = (ROOT / PY_FILES["two_layer_net.py"]).read_text() + ONLY_BYTECODE_HELPERS
    if not net_works:
        net += "\nTwoLayerNet.backward = lambda self, *args: None\n"
    train = (ROOT / PY_FILES["train.py"]).read_text() + NEEDS_OWN_NET.format(own=net_works)
    folder = write_submission_dir(tmp_path / "jdoe", {"two_layer_net.py": net,
                                                      "train.py": train})
    results = grade.grade(folder, limits=grade.Limits())
    scores = {e["name"]: e["score"] for e in results["tests"] if e["name"] in CODE_IDS}
    net_tests = [n for n in scores if n.endswith("[two_layer_net.py]")]
    train_tests = [n for n in scores if n.endswith("[train.py]")]
    assert all(scores[n] > 0 for n in net_tests if "backward" not in n)
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
    "functions.py": REFERENCE_COPY + FORGE_AND_KILL + SIGSTOP_PARENT,
    "layers.py": DISK_FILL,
    "two_layer_net.py": REFERENCE_COPY + FORK_BOMB + DAEMON,
    "train.py": WATCHER + EDIT_GRADER + CHANNEL_FLOOD,
}


@pytest.mark.parametrize("mode", ["bwrap", "uid"])
def test_gradescope_modes_end_to_end(tmp_path, honest, autograder_zip, reference_cache, mode):
    """Gradescope's modes as Gradescope runs them (root; Python readable by unprivileged
    uids, which a private mount namespace makes of /root here, with this repository's
    sources hidden): every attack at once scores 0 on the code, leaves nothing, and the next
    submission gets full marks. `bwrap` is then run as a uid of its own, `uid` is the
    fallback where bwrap cannot create namespaces."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare (as CI and Gradescope have)")
    source = install(autograder_zip, tmp_path)
    shutil.copyfile(reference_cache, source / "reference_outputs.json")
    script = tmp_path / "gradescope_like.sh"
    script.write_text(GRADESCOPE_LIKE)
    mark = marker()
    results_path = tmp_path / "results" / "results.json"

    def run():
        env = dict(os.environ, AUTOGRADER_ROOT=str(tmp_path), AUTOGRADER_PYTHON=sys.executable,
                   HW4_SANDBOX=mode, PYTHON=sys.executable, HOLD_PARENT=str(tmp_path))
        command = ["unshare", "--mount", "--propagation", "private", "bash", str(script),
                   str(ROOT), "bash", str(source / "run_autograder")]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(results_path.read_text())

    hostile_submission(tmp_path / "submission" / "jdoe", EVERYTHING_AT_ONCE, root=str(ROOT),
                       source=str(source), results=str(results_path), marker=mark)
    results = run()
    assert results["extra_data"]["sandbox"] == mode, results["output"]
    if mode == "bwrap":
        assert "bwrap run as uid" in results["extra_data"]["sandbox_detail"]
    code = {e["name"]: e["score"] for e in results["tests"] if e["name"] in CODE_IDS}
    assert set(code.values()) == {0}, code
    assert notebook_scores(results) == notebook_scores(honest[1])
    assert_nothing_left(mark, source)
    assert sandbox.processes_of(sandbox.DEFAULT_UID) == []
    shutil.rmtree(tmp_path / "submission")
    write_submission_dir(tmp_path / "submission" / "jdoe")
    assert run()["score"] == honest[1]["score"]
