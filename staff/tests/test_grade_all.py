"""staff/grade_all.py on a generated Canvas course with known scores: the reference, a copy
of it with renamed variables and reordered functions (late), a student with an older starter
upload and a newer independent solution, a zip inside a zip holding one mistake, an empty
file, a misnamed file that is not a zip, loose files instead of a zip (a second independent
solution). Graded once with the real grade.py (JOBS=2); the resume tests use a fast
stand-in grader."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from bench.bench_grade_all import kit_notebooks  # the notebooks with the kit's code
from handin import check as checker
from staff import canvas_names, grade_all, similarity
from staff.starter.regions import find_regions, python_stub, replace_regions, strip_python
from staff.tests.corpus import PY_FILES, ROOT, write_submission_dir

GRADE_ALL = ["-m", "staff.grade_all"]

INDEPENDENT = {  # a second way to write each function (f3, f4 and the tuned settings left out)
    "f1": """
        pred = w1 * x1 + w2 * x2 + b
        resid = pred - y
        L = resid * resid
        scale = 2.0 * resid
        grad_x1, grad_w1 = scale * w1, scale * x1
        grad_x2, grad_w2 = scale * w2, scale * x2
        grad_b, grad_y = scale, -scale
        """,
    "f2": """
        y = np.tanh(x)
        grad_x = 1.0 - y * y
        """,
    "fc_forward": "out = np.dot(x, w) + b[np.newaxis, :]",
    "fc_backward": """
        grad_w = np.dot(x.T, grad_out)
        grad_b = np.sum(grad_out, axis=0)
        grad_x = np.dot(grad_out, w.T) if compute_grad_x else None
        """,
    "relu_forward": "out = np.where(x > 0, x, 0.0)",
    "relu_backward": "grad_x = np.where(x > 0, grad_out, 0.0)",
    "softmax_loss": """
        count = x.shape[0]
        z = x - np.max(x, axis=1)[:, None]
        logsum = np.log(np.sum(np.exp(z), axis=1))
        loss = -np.sum(z[np.arange(count), y] - logsum) / count
        probs = np.exp(z - logsum[:, None])
        onehot = np.zeros_like(probs)
        onehot[np.arange(count), y] = 1
        grad_x = (probs - onehot) / count
        """,
    "l2_regularization": """
        squares = np.sum(w ** 2)
        loss = 0.5 * reg * squares
        grad_w = w * reg
        """,
    "TwoLayerNet.__init__": """
        weights_1 = weight_scale * rng.standard_normal((input_dim, hidden_dim))
        weights_2 = weight_scale * rng.standard_normal((hidden_dim, num_classes))
        self.params = {"W1": weights_1.astype(dtype), "b1": np.zeros((hidden_dim,), dtype),
                       "W2": weights_2.astype(dtype), "b2": np.zeros((num_classes,), dtype)}
        """,
    "TwoLayerNet.parameters": "return self.params",
    "TwoLayerNet.forward": """
        W1, b1, W2, b2 = p["W1"], p["b1"], p["W2"], p["b2"]
        pre, fc1_cache = fc_forward(X, W1, b1)
        act, relu_cache = relu_forward(pre)
        scores, fc2_cache = fc_forward(act, W2, b2)
        """,
    "TwoLayerNet.backward": """
        d_act, dW2, db2 = fc_backward(grad_scores, fc2_cache)
        d_pre = relu_backward(d_act, relu_cache)
        dX, dW1, db1 = fc_backward(d_pre, fc1_cache)
        grad_W1, grad_b1, grad_W2, grad_b2 = dW1, db1, dW2, db2
        """,
    "training_step": """
        params = model.parameters()
        out, cache = model.forward(X_batch)
        data_loss, dout = softmax_loss(out, y_batch)
        grads = model.backward(dout, cache)
        loss = data_loss
        for key in params:
            if params[key].ndim == 2:
                penalty, dpen = l2_regularization(params[key], reg)
                loss = loss + penalty
                grads[key] = grads[key] + dpen
        """,
}
LOOPS = {  # layers.py written with loops (a third way); the rest stays the starter's
    "fc_forward": """
        out = np.empty((x.shape[0], w.shape[1]), dtype=np.result_type(x, w))
        for i in range(x.shape[0]):
            out[i] = x[i].dot(w) + b
        """,
    "fc_backward": """
        grad_b = np.zeros(w.shape[1], dtype=grad_out.dtype)
        grad_w = np.zeros_like(w)
        for i in range(x.shape[0]):
            grad_b += grad_out[i]
            grad_w += np.outer(x[i], grad_out[i])
        grad_x = None
        if compute_grad_x:
            grad_x = np.stack([w.dot(g) for g in grad_out])
        """,
    "relu_forward": """
        out = x.copy()
        out[out < 0] = 0
        """,
    "relu_backward": """
        grad_x = grad_out.copy()
        grad_x[x <= 0] = 0
        """,
    "softmax_loss": """
        n_rows = x.shape[0]
        loss = 0.0
        grad_x = np.zeros(x.shape)
        for i in range(n_rows):
            row = x[i] - x[i].max()
            e = np.exp(row)
            total = e.sum()
            loss += np.log(total) - row[y[i]]
            grad_x[i] = e / total
            grad_x[i, y[i]] -= 1
        loss /= n_rows
        grad_x /= n_rows
        """,
    "l2_regularization": """
        loss = 0.5 * reg * float(np.sum(w * w))
        grad_w = np.multiply(w, reg)
        """,
}


def reference(name):
    return (ROOT / PY_FILES[name]).read_text()


def solved(name, bodies):
    """The reference `name` with each solution region replaced by bodies[owner] (absent
    owners: the starter's stub)."""
    relative = PY_FILES[name]
    lines = reference(name).splitlines(keepends=True)

    def body(region):
        if region.owner not in bodies:
            return python_stub(region)
        code = textwrap.dedent(bodies[region.owner]).strip("\n").splitlines()
        return [f"{region.indent}{line}\n" if line else "\n" for line in code]

    regions = find_regions(lines, relative)
    return "".join(replace_regions(lines, regions, body))


def starter():
    return {name: strip_python(reference(name), PY_FILES[name])[0]
            for name in PY_FILES}


def copied():
    """The reference, variables renamed in functions.py and the ReLU pair moved first in
    layers.py: what a student copying a friend's work would hand in."""
    functions = reference("functions.py")
    for old, new in (("grad_", "g_"), ("y_hat", "yhat"), ("logp", "lp")):
        functions = functions.replace(old, new)
    layers = reference("layers.py")
    start, end, first = (layers.index(f"\ndef {n}(") for n in ("relu_forward", "l2_loss",
                                                               "fc_forward"))
    layers = layers[:first] + layers[start:end] + layers[first:start] + layers[end:]
    return {"functions.py": functions, "layers.py": layers}


def relu_mistake():
    text = reference("layers.py")
    assert text.count("grad_x = grad_out * (x > 0)") == 1
    return {"layers.py": text.replace("grad_x = grad_out * (x > 0)", "grad_x = grad_out.copy()")}


def zip_dir(folder, zip_path, arcroot="hw4"):
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(Path(folder).iterdir()):
            archive.write(path, f"{arcroot}/{path.name}" if arcroot else path.name)
    return zip_path


def add_zip(course, src, filename, overrides):
    folder = write_submission_dir(src / filename, {**kit_notebooks(), **overrides})
    return zip_dir(folder, course / filename)


def build_course(tmp):
    """A Canvas download (flat folder) with one case per student; returns the folder."""
    course, src = tmp / "course", tmp / "src"
    course.mkdir()
    add_zip(course, src, "doejane_123_1001_hw4.zip", {})
    add_zip(course, src, "roebob_LATE_124_1002_hw4.zip", copied())
    add_zip(course, src, "leeann_125_1003_hw4.zip", starter())
    add_zip(course, src, "leeann_125_1010_hw4-1.zip",
            {name: solved(name, INDEPENDENT) for name in PY_FILES})
    inner = add_zip(tmp, src, "inner.zip", relu_mistake())
    with zipfile.ZipFile(course / "kimbo_126_1004_hw4.zip", "w") as archive:
        archive.write(inner, "hw4.zip")
    (course / "parkjo_127_1005_hw4.zip").write_bytes(b"")
    (course / "hw4_final.zip").write_bytes(b"not a zip, and not a Canvas name")
    loose = {**starter(), "layers.py": solved("layers.py", LOOPS), **kit_notebooks()}
    for name, text in loose.items():
        (course / f"chenli_128_1006_{name}").write_text(text)
    return course


def canvas_zip(course, zip_path):
    """Canvas's Download Submissions zip: the course's files at the top level."""
    return zip_dir(course, zip_path, arcroot="")


def run_grade_all(*args, env=None, timeout=600):
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, *GRADE_ALL, *map(str, args)], cwd=ROOT,
                          env=full_env, capture_output=True, text=True, timeout=timeout)


def read_gradebook(out):
    with open(out / "gradebook.csv", newline="") as handle:
        return {row["Student"]: row for row in csv.DictReader(handle)}


def points_columns(row):
    """dict test column -> (points, max points) of a gradebook row."""
    columns = {}
    for header, cell in row.items():
        if header.endswith(" pts)") and cell != "":
            max_points = float(header.rsplit("(", 1)[1].split()[0])
            columns[header] = (float(cell), max_points)
    return columns


def code_columns(row, file_name):
    return {h: v for h, v in points_columns(row).items() if f"[{file_name}]" in h}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("course")
    course = build_course(tmp)
    download = canvas_zip(course, tmp / "submissions.zip")
    out = tmp / "grades"
    result = run_grade_all(download, "--out", out, "--jobs", 2)
    assert result.returncode == 0, result.stderr[-3000:]
    return {"tmp": tmp, "download": download, "out": out, "stdout": result.stdout,
            "stderr": result.stderr, "book": read_gradebook(out)}


def test_gradebook_has_one_row_per_student_with_canvas_columns(graded):
    book = graded["book"]
    assert set(book) == {"doejane", "roebob", "leeann", "kimbo", "parkjo", "hw4_final", "chenli"}
    header = list(next(iter(book.values())))
    assert header[:6] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Homework 4"]
    assert book["doejane"]["ID"] == "123" and book["hw4_final"]["ID"] == ""
    with open(graded["out"] / "canvas_import.csv", newline="") as handle:
        canvas = list(csv.reader(handle))
    assert canvas[0] == header[:6] and len(canvas) == 8
    assert "failed=" in graded["stderr"]  # the progress bar's running count of failures


def test_scores_match_what_each_submission_deserves(graded):
    book = graded["book"]
    ref = book["doejane"]
    for columns in (code_columns(ref, f) for f in ("layers.py", "two_layer_net.py", "train.py",
                                                    "functions.py")):
        assert columns and all(score == top for score, top in columns.values())
    for row in book.values():
        total = sum(score for score, _ in points_columns(row).values())
        assert float(row["Homework 4"]) == pytest.approx(total)
    assert points_columns(book["roebob"]) == points_columns(ref)
    kimbo = points_columns(book["kimbo"])
    assert {h for h, (s, _) in kimbo.items() if s != points_columns(ref)[h][0]} == \
        {h for h in kimbo if h.startswith("relu_backward")}
    assert all(s == 0 for h, (s, _) in kimbo.items() if h.startswith("relu_backward"))
    for name in ("leeann", "chenli"):  # notebooks as the reference's
        notebooks = {h: v for h, v in points_columns(book[name]).items() if ".py]" not in h}
        assert notebooks == {h: v for h, v in points_columns(ref).items() if ".py]" not in h}
    leeann = points_columns(book["leeann"])
    assert all(s == 0 for h, (s, _) in leeann.items() if h.startswith("f3"))
    for file_name in ("layers.py", "two_layer_net.py", "train.py"):
        assert all(s == t for s, t in code_columns(book["leeann"], file_name).values())
    assert all(s == t for s, t in code_columns(book["chenli"], "layers.py").values())
    for file_name in ("two_layer_net.py", "train.py"):
        assert all(s == 0 for s, _ in code_columns(book["chenli"], file_name).values())
    assert float(book["parkjo"]["Homework 4"]) == 0 == float(book["hw4_final"]["Homework 4"])


def test_canvas_names_late_resubmission_and_older_upload(graded):
    book = graded["book"]
    assert book["roebob"]["Late"] == "yes" and book["doejane"]["Late"] == ""
    leeann = book["leeann"]
    assert leeann["Graded file"] == "leeann_125_1010_hw4-1.zip"
    assert leeann["Older files"] == "leeann_125_1003_hw4.zip"
    assert leeann["Resubmitted"] == "yes" and book["doejane"]["Resubmitted"] == ""
    assert (graded["out"] / "results" / "leeann_125.json").is_file()


def test_messy_submissions_get_a_row_and_a_reason(graded):
    book = graded["book"]
    assert "zip inside the zip" in book["kimbo"]["Layout mistake"]
    assert "empty file" in book["parkjo"]["Needs a person"]
    assert "Canvas's" in book["hw4_final"]["Needs a person"]
    assert "not a readable zip" in book["hw4_final"]["Needs a person"]
    assert "loose files" in book["chenli"]["Layout mistake"]
    assert book["chenli"]["Graded file"].count("chenli_128_1006_") == 6
    assert all(row["Failed to grade"] == "" for row in book.values())
    for name in ("doejane", "roebob", "leeann"):
        assert book[name]["Needs a person"] == "" and book[name]["Layout mistake"] == ""


def test_summary_page_stands_alone(graded):
    page = (graded["out"] / "summary.html").read_text()
    assert 'src="data:image/png;base64,' in page
    assert "never a verdict" in page
    rates = page.index("Pass rate of every test")
    assert page.index("relu_backward", rates) < page.index("fc_forward", rates)  # lowest first
    assert "Slowest" in page and "Failed to grade" in page
    for link in ("similarity/pairs/pair-001.html", "results/doejane_123.json"):
        assert f'href="{link}"' in page and (graded["out"] / link).is_file()


def test_copied_pairs_rank_first_and_independent_ones_are_not_listed(graded):
    folder = graded["out"] / "similarity"
    pairs = similarity.rank_pairs(similarity.fingerprint_all(folder / "code",
                                                             folder / "starter.py"))
    listed = [{p.a, p.b} for p in pairs]
    copies = {"doejane_123", "roebob_124", "kimbo_126"}  # the reference, renamed, one mistake
    assert listed and all(pair <= copies for pair in listed)
    assert {"doejane_123", "roebob_124"} in listed
    planted = pairs[listed.index({"doejane_123", "roebob_124"})]
    # renaming throughout also changes lines of the kit: those count as the copier's own code
    assert planted.similarity > 0.9 and min(planted.similarity_a, planted.similarity_b) > 0.75
    prints = similarity.fingerprint_all(folder / "code", folder / "starter.py")
    for a, b in (("doejane_123", "leeann_125"), ("doejane_123", "chenli_128"),
                 ("leeann_125", "chenli_128"), ("roebob_124", "leeann_125")):
        _, sims, _ = similarity.compare_files(prints[a], prints[b])
        assert max(sims) < 0.2


def test_rerun_regrades_nothing_and_a_lost_entry_only_that_one(graded, tmp_path, monkeypatch,
                                                               capsys):
    out = tmp_path / "grades"
    shutil.copytree(graded["out"], out)
    manifest = out / "manifest.jsonl"
    before = manifest.read_text().splitlines()
    # teammates' edits to the grader would (rightly) regrade everything: pin its fingerprint
    recorded = json.loads(before[-1])["grader"]
    monkeypatch.setattr(grade_all, "grader_fingerprint", lambda root=ROOT: recorded)
    command = [str(graded["download"]), "--out", str(out), "--jobs", "2", "--no-similarity"]
    assert grade_all.main(command) == 0
    assert "7 from an earlier run" in capsys.readouterr().out
    assert manifest.read_text().splitlines() == before
    kept = [line for line in before if '"doejane_123"' not in line]
    manifest.write_text("".join(line + "\n" for line in kept))
    (out / "results" / "roebob_124.json").unlink()
    assert grade_all.main(command) == 0
    assert "6 from an earlier run" in capsys.readouterr().out
    added = manifest.read_text().splitlines()[len(kept):]
    assert [json.loads(line)["student"] for line in added] == ["doejane_123"]
    assert {k: r["Homework 4"] for k, r in read_gradebook(out).items()} == \
        {k: r["Homework 4"] for k, r in graded["book"].items()}
    assert (out / "results" / "roebob_124.json").is_file()


def test_grader_fingerprint_follows_the_grader_and_the_reference(tmp_path):
    for relative in ("staff/grade.py", "staff/grade_all.py", "neuralnet/layers.py"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("# v1\n")
    first = grade_all.grader_fingerprint(tmp_path)
    (tmp_path / "staff/grade_all.py").write_text("# v2\n")
    assert grade_all.grader_fingerprint(tmp_path) == first
    (tmp_path / "neuralnet/layers.py").write_text("# v2\n")
    assert grade_all.grader_fingerprint(tmp_path) != first


def names_folder(tmp_path, names):
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    return canvas_names.group_submissions(tmp_path, checker.REQUIRED_FILES)


def test_canvas_names_are_parsed(tmp_path):
    subs = {s.student: s for s in names_folder(tmp_path, [
        "doejane_LATE_123_456_hw4-2.zip", "doejane_123_400_hw4.zip", "roebob_124_500_hw4.zip",
        "roebob_124_500_notes.pdf", "leeann_125_600_functions.py", "leeann_125_600_layers.py",
        "stray.zip", ".DS_Store"])}
    assert set(subs) == {"doejane_123", "roebob_124", "leeann_125", "stray"}
    jane = subs["doejane_123"]
    assert [u.path.name for u in jane.chosen] == ["doejane_LATE_123_456_hw4-2.zip"]
    assert jane.late and jane.resubmitted and jane.chosen[0].attempt == 2
    assert [u.path.name for u in jane.older] == ["doejane_123_400_hw4.zip"]
    assert jane.chosen[0].original == "hw4.zip" and jane.user_id == "123"
    bob = subs["roebob_124"]
    assert bob.chosen[0].path.name == "roebob_124_500_hw4.zip" and not bob.resubmitted
    assert any("roebob_124_500_notes.pdf" in note for note in bob.notes)
    assert sorted(u.original for u in subs["leeann_125"].chosen) == ["functions.py", "layers.py"]
    assert "does not follow Canvas's" in subs["stray"].misnamed


def test_plain_folder_uses_file_names_as_students(tmp_path):
    subs = names_folder(tmp_path, ["jdoe.zip", "asmith.zip"])
    assert [(s.student, s.misnamed, s.user_id) for s in subs] == [("asmith", "", ""),
                                                                 ("jdoe", "", "")]


def test_an_out_folder_of_other_files_is_never_replaced(tmp_path):
    out = tmp_path / "mine"
    (out / "results").mkdir(parents=True)
    (out / "results" / "keep.txt").write_text("mine")
    result = run_grade_all(tmp_path, "--out", out, "--no-similarity")
    assert result.returncode == 2 and "not written by grade_all" in result.stderr
    assert (out / "results" / "keep.txt").read_text() == "mine"


def test_one_students_zip_given_as_the_course_is_refused(tmp_path):
    folder = write_submission_dir(tmp_path / "jdoe", tiny=True)
    download = zip_dir(folder, tmp_path / "jdoe.zip")
    result = run_grade_all(download, "--out", tmp_path / "out")
    assert result.returncode == 2 and "make grade ZIP=" in result.stderr


FAKE_GRADER = '''
import json, os, sys, time
from pathlib import Path
source, out = Path(sys.argv[1]), Path(sys.argv[3])
text = source.read_text() if source.is_file() else ",".join(sorted(p.name for p in
                                                                   source.iterdir()))
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(text + "\\n")
time.sleep(float(os.environ.get("FAKE_SLEEP", "0")))
score = float(len(text) % 3)
out.write_text(json.dumps({"score": score, "max_score": 2, "output": "sandbox: fake",
    "tests": [{"name": "t", "score": score, "max_score": 2, "output": ""}]}))
'''


@pytest.fixture
def fake_course(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    for i in range(6):
        (course / f"s{i}.zip").write_text(f"student-{i}" + "x" * i)
    grader = tmp_path / "fake_grade.py"
    grader.write_text(FAKE_GRADER)
    return course, grader, tmp_path / "fake.log"


def start_fake(course, grader, log, out, sleep):
    env = dict(os.environ, FAKE_LOG=str(log), FAKE_SLEEP=str(sleep))
    return subprocess.Popen(
        [sys.executable, *GRADE_ALL, str(course), "--out", str(out), "--jobs", "1",
         "--grader", str(grader), "--no-similarity"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)


def wait_for_lines(path, count, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and len(path.read_text().splitlines()) >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"{path} never reached {count} lines")


def logged(log):
    return log.read_text().splitlines() if log.is_file() else []


def test_unpacked_submission_folders_are_graded_as_folders(fake_course, tmp_path):
    course, grader, log = fake_course
    write_submission_dir(course / "jdoe", tiny=True)
    result = run_grade_all(course, "--out", tmp_path / "out", "--grader", grader,
                           "--no-similarity", env={"FAKE_LOG": str(log)})
    assert result.returncode == 0, result.stderr
    row = read_gradebook(tmp_path / "out")["jdoe"]
    assert row["Graded file"] == "jdoe" and row["SIS Login ID"] == "jdoe"
    assert row["Needs a person"] == "" and row["Homework 4"] != ""
    assert ",".join(sorted(checker.REQUIRED_FILES)) in logged(log)


def test_killed_run_resumes_without_regrading(fake_course, tmp_path):
    course, grader, log = fake_course
    out = tmp_path / "out"
    process = start_fake(course, grader, log, out, sleep=0.3)
    wait_for_lines(out / "manifest.jsonl", 2)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
    finished = {json.loads(line)["student"]
                for line in (out / "manifest.jsonl").read_text().splitlines()}
    assert 2 <= len(finished) < 6
    first_run = len(logged(log))
    process = start_fake(course, grader, log, out, sleep=0)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    regraded = {line.split("-")[1].rstrip("x") for line in logged(log)[first_run:]}
    assert not regraded & {s[1:] for s in finished}
    assert regraded | {s[1:] for s in finished} == {str(i) for i in range(6)}
    book = read_gradebook(out)
    assert sorted(book) == [f"s{i}" for i in range(6)]
    assert all(row["Sandbox"] == "fake" and row["Homework 4"] != "" for row in book.values())
    assert not any((out / ".scratch").iterdir())  # the killed run's scratch is gone too


def test_interrupted_run_says_how_to_resume(fake_course, tmp_path):
    course, grader, log = fake_course
    out = tmp_path / "out"
    process = start_fake(course, grader, log, out, sleep=0.3)
    wait_for_lines(out / "manifest.jsonl", 1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "run the same command again to resume" in stderr
    assert not (out / "gradebook.csv").exists()


def test_a_grader_that_fails_or_hangs_gives_a_row_without_score(fake_course, tmp_path):
    course, _, log = fake_course
    grader = tmp_path / "bad_grade.py"
    grader.write_text("import sys, time\nif sys.argv[1].endswith('s1.zip'): time.sleep(60)\n"
                      "raise SystemExit('grader broke')\n")
    result = run_grade_all(course, "--out", tmp_path / "out", "--grader", grader,
                           "--timeout", 2, "--no-similarity", "--jobs", 2)
    assert result.returncode == 0, result.stderr
    book = read_gradebook(tmp_path / "out")
    assert "longer than 2 s" in book["s1"]["Failed to grade"]
    assert "grader broke" in book["s0"]["Failed to grade"] and book["s0"]["Homework 4"] == ""
    assert not (tmp_path / "out" / "manifest.jsonl").exists()


def test_roster_fills_canvas_columns_and_lists_students_without_submission(fake_course,
                                                                          tmp_path):
    course, grader, log = fake_course
    roster = tmp_path / "export.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section,Homework 4 (77)\n"
                      "    Points Possible,,,,,80\n"
                      "\"Zero, Sam\",900,U0,s0,CV 101,\n"
                      "\"Nine, Pat\",909,U9,s9,CV 101,\n")
    out = tmp_path / "out"
    result = run_grade_all(course, "--out", out, "--grader", grader, "--roster", roster,
                           "--assignment", "Homework 4 (77)", "--no-similarity",
                           env={"FAKE_LOG": str(log)})
    assert result.returncode == 0, result.stderr
    book = read_gradebook(out)
    sam = book["Zero, Sam"]
    assert (sam["ID"], sam["SIS User ID"], sam["SIS Login ID"], sam["Section"]) == \
        ("900", "U0", "s0", "CV 101")
    assert sam["Homework 4 (77)"] != "" and "Points Possible" not in str(book)
    assert book["Nine, Pat"]["Failed to grade"] == "no submission"
    assert book["Nine, Pat"]["Homework 4 (77)"] == ""
    assert "not in the roster" in book["s1"]["Needs a person"]


GRADESCOPE = """Name,SID,Email,Total Score,Max Points,Status,Submission ID,Submission Time,\
Lateness (H:M:S),1: Autograder (80.0 pts)
Jane Doe,123,jd@u.edu,80.0,80.0,Graded,1,2026-11-01,00:00:00,80.0
Bob Roe,124,br@u.edu,40.0,80.0,Graded,2,2026-11-02,01:02:03,40.0
Ann Lee,125,al@u.edu,,80.0,Missing,,,,
"""


def test_gradescope_export_builds_the_same_summary(tmp_path):
    export = tmp_path / "scores.csv"
    export.write_text(GRADESCOPE)
    out = tmp_path / "out"
    assert grade_all.main(["--gradescope-csv", str(export), "--out", str(out), "--quiet"]) == 0
    book = read_gradebook(out)
    assert book["Jane Doe"]["Homework 4"] == "80" and book["Jane Doe"]["Late"] == ""
    assert book["Bob Roe"]["Late"] == "yes" and book["Bob Roe"]["Source"] == "Gradescope"
    assert book["Ann Lee"]["Homework 4"] == "" and "Missing" in book["Ann Lee"]["Failed to grade"]
    page = (out / "summary.html").read_text()
    assert "1: Autograder (80.0 pts)" in page and "50%" in page
    assert 'src="data:image/png;base64,' in page


def test_gradescope_export_without_total_is_refused(tmp_path):
    export = tmp_path / "scores.csv"
    export.write_text("Name,Score\nJane,1\n")
    assert grade_all.main(["--gradescope-csv", str(export), "--out", str(tmp_path / "o"),
                           "--quiet"]) == 2
