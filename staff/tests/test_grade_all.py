"""staff/course/grade_all.py on a generated Canvas download with known scores, graded once with
the real grade.py (JOBS=2): the reference verbatim (solution markers included), a copy of it
with renamed variables (late), a whole-project zip after an older starter upload, a zip
holding two zips (the complete one with a mistake, and a newer partial one), an empty file,
a misnamed file that is not a zip, a .rar, a truncated zip, loose files, two zips in one
submission (a complete one and a draft whose name sorts later), and a student whose only
copied file is another student's two_layer_net.py. The bookkeeping tests (resume, names,
cells, flags, sandbox, Canvas import) use a fast stand-in grader."""

import csv
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
import zipfile

import pytest

from bench.bench_grade_all import kit_notebooks  # the notebooks with the kit's code
from handin import check as checker
from handin.manifest import GRADED_FILES
from staff.course import canvas_names, grade_all, similarity, uploads
from staff.starter.regions import find_regions, python_stub, replace_regions, strip_python
from staff.tests.corpus import PY_FILES, ROOT, tiny_sources, write_submission_dir

GRADE_ALL = ["-m", "staff.course.grade_all"]
ASSIGNMENT = "Homework 4 (12345)"

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
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
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


THIRD = {  # layers.py a third way (einsum), for the student whose one copied file is elsewhere
    "fc_forward": "out = np.einsum('nd,dk->nk', x, w) + b.reshape(1, -1)",
    "fc_backward": """
        grad_b = np.einsum('nk->k', grad_out)
        grad_w = np.einsum('nd,nk->dk', x, grad_out)
        grad_x = np.einsum('nk,dk->nd', grad_out, w) if compute_grad_x else None
        """,
    "relu_forward": "out = x * (x > 0)",
    "relu_backward": "grad_x = np.multiply(grad_out, np.greater(x, 0))",
    "softmax_loss": """
        logits = x - np.amax(x, axis=1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        picked = log_probs[np.arange(len(y)), y]
        loss = -picked.mean()
        grad_x = np.exp(log_probs)
        grad_x[np.arange(len(y)), y] = grad_x[np.arange(len(y)), y] - 1
        grad_x = grad_x / len(y)
        """,
    "l2_regularization": """
        loss = 0.5 * reg * np.square(w).sum()
        grad_w = reg * w.copy()
        """,
}
KIT_OTHERS = ("backprop/backprop.py", "neuralnet/classifier.py", "neuralnet/data.py",
              "neuralnet/optim.py", "neuralnet/utils.py", "README.md")


def zip_files(zip_path, files, folder="hw4", stamp=(2026, 11, 2, 10, 0, 0)):
    """A zip of dict name -> text, under `folder`/ (every entry dated `stamp`)."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(zipfile.ZipInfo(f"{folder}/{name}" if folder else name, stamp), text)
    return zip_path


def submission(overrides):
    """The six files: the reference's .py files and the kit's notebooks, then overrides."""
    files = {name: reference(name) for name in PY_FILES}
    return {**files, **kit_notebooks(), **overrides}


def project_zip(zip_path, overrides):
    """The whole project zipped: the graded files where the kit keeps them, among the kit's
    other files and a notebook checkpoint."""
    files = {GRADED_FILES[name]: text for name, text in submission(overrides).items()}
    files.update({other: (ROOT / other).read_text() for other in KIT_OTHERS})
    files[".ipynb_checkpoints/part1-checkpoint.ipynb"] = kit_notebooks()["part1.ipynb"]
    return zip_files(zip_path, files, folder="hw4-main")


def nested_zips(zip_path, complete, partial):
    """A zip holding two zips: `complete` (older) and the first three files of `partial`."""
    full = zip_files(io.BytesIO(), submission(complete), stamp=(2026, 11, 1, 9, 0, 0))
    newer = dict(list(submission(partial).items())[:3])
    part = zip_files(io.BytesIO(), newer, stamp=(2026, 11, 3, 9, 0, 0))
    return zip_files(zip_path, {"hw4.zip": full.getvalue(), "old/part.zip": part.getvalue()},
                     folder="")


def build_course(tmp):
    """A Canvas download (flat folder) with one case per student; returns the folder."""
    course = tmp / "course"
    course.mkdir()
    independent = {name: solved(name, INDEPENDENT) for name in PY_FILES}
    zip_files(course / "doejane_123_1001_hw4.zip", submission({}))
    zip_files(course / "roebob_LATE_124_1002_hw4.zip", submission(copied()))
    zip_files(course / "leeann_125_1003_hw4.zip", submission(starter()))
    project_zip(course / "leeann_125_1010_hw4-1.zip", independent)
    nested_zips(course / "kimbo_126_1004_hw4.zip", relu_mistake(), {})
    (course / "parkjo_127_1005_hw4.zip").write_bytes(b"")
    (course / "hw4_final.zip").write_bytes(b"not a zip, and not a Canvas name")
    loose = {**starter(), "layers.py": solved("layers.py", LOOPS), **kit_notebooks()}
    for name, text in loose.items():
        (course / f"chenli_128_1006_{name}").write_text(text)
    zip_files(course / "tranvy_130_1011_final.zip", submission(starter()))
    zip_files(course / "tranvy_130_1011_zz-draft.zip",
              {name: starter()[name] for name in ("functions.py", "layers.py")})
    zip_files(course / "wuxi_131_1012_hw4.zip", submission({
        **starter(), "layers.py": solved("layers.py", THIRD),
        "two_layer_net.py": independent["two_layer_net.py"]}))
    (course / "lopezma_132_1013_hw4.rar").write_bytes(b"Rar!\x1a\x07\x00 a rar archive")
    data = zip_files(tmp / "whole.zip", submission({})).read_bytes()
    (course / "patelra_133_1014_hw4.zip").write_bytes(data[: len(data) // 2])
    return course


def previous_terms(folder):
    """Earlier terms: a zip holding wuxi's layers.py (by someone else), an earlier run's code
    file holding chenli's, and an empty upload. Returns the folder."""
    (folder / "fall2025").mkdir(parents=True)
    zip_files(folder / "fall2025" / "ngo_9_99_hw4.zip",
              submission({**starter(), "layers.py": solved("layers.py", THIRD)}))
    (folder / "fall2025" / "broken.zip").write_bytes(b"")
    code = folder / "winter2026" / "similarity" / "code"
    code.mkdir(parents=True)
    layers = uploads.code_text("layers.py", solved("layers.py", LOOPS))
    (code / "chen.json").write_text(json.dumps({"layers.py": layers}))
    return folder


def canvas_zip(course, zip_path):
    """Canvas's Download Submissions zip: the course's files at the top level."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(course.iterdir()):
            archive.write(path, path.name)
    return zip_path


def run_grade_all(*args, env=None, timeout=600):
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, *GRADE_ALL, *map(str, args)], cwd=ROOT,
                          env=full_env, capture_output=True, text=True, timeout=timeout)


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def read_gradebook(out):
    return {row["Student"]: row for row in read_csv(out / "gradebook.csv")}


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


def notebook_columns(row):
    return {h: v for h, v in points_columns(row).items() if ".py]" not in h}


def full(columns):
    return bool(columns) and all(score == top for score, top in columns.values())


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("course")
    course = build_course(tmp)
    download = canvas_zip(course, tmp / "submissions.zip")
    out = tmp / "grades"
    previous = previous_terms(tmp / "previous")
    result = run_grade_all(download, "--out", out, "--jobs", 2, "--assignment-id", 12345,
                           "--previous-terms", previous)
    assert result.returncode == 0, result.stderr[-3000:]
    return {"tmp": tmp, "download": download, "out": out, "previous": previous,
            "stdout": result.stdout,
            "stderr": result.stderr, "book": read_gradebook(out),
            "leads": json.loads((out / "similarity" / "leads.json").read_text())}


SETTLED = {"wuxi"}
COPIES = {"doejane", "roebob"}  # the reference's solution markers: flagged, graded
GRADED = SETTLED | COPIES | {"leeann", "kimbo", "chenli", "tranvy"}
UNREADABLE = {"parkjo", "hw4_final.zip", "lopezma", "patelra"}


def test_gradebook_keeps_every_row_and_the_canvas_import_only_settled_ones(graded):
    book = graded["book"]
    assert set(book) == GRADED | UNREADABLE
    header = list(next(iter(book.values())))
    assert header[:6] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT]
    assert book["doejane"]["ID"] == "123" and book["hw4_final.zip"]["ID"] == ""
    canvas = read_csv(graded["out"] / "canvas_import.csv")
    assert list(canvas[0]) == header[:6]
    assert {row["Student"] for row in canvas} == SETTLED
    for name, row in book.items():
        assert (row["In Canvas import"] == "yes") == (name in SETTLED)
        assert (name in SETTLED) == (row["Needs a person"] == "" and row["Failed to grade"] == "")
    for name in SETTLED:
        assert f"  {name}:" not in graded["stdout"]  # the console lists the rows left out
    for name in (GRADED | UNREADABLE) - SETTLED:
        assert f"  {name}:" in graded["stdout"]
    assert "failed=" in graded["stderr"]  # the progress bar's running count of failures


def test_scores_match_what_each_submission_deserves(graded):
    book = graded["book"]
    ref = book["doejane"]
    for file_name in ("layers.py", "two_layer_net.py", "train.py", "functions.py"):
        assert full(code_columns(ref, file_name))
    for row in book.values():
        total = sum(score for score, _ in points_columns(row).values())
        assert row[ASSIGNMENT] == "" or float(row[ASSIGNMENT]) == pytest.approx(total)
    assert points_columns(book["roebob"]) == points_columns(ref)
    kimbo = points_columns(book["kimbo"])  # the complete inner zip, not the newer partial one
    assert {h for h, (s, _) in kimbo.items() if s != points_columns(ref)[h][0]} == \
        {h for h in kimbo if h.startswith("relu_backward")}
    leeann = points_columns(book["leeann"])  # the whole project: every file found
    assert all(s == 0 for h, (s, _) in leeann.items() if h.startswith("f3"))
    for file_name in ("layers.py", "two_layer_net.py", "train.py"):
        assert full(code_columns(book["leeann"], file_name))
    assert full(code_columns(book["chenli"], "layers.py"))
    assert full(code_columns(book["wuxi"], "layers.py"))
    assert full(code_columns(book["wuxi"], "two_layer_net.py"))
    for name in ("leeann", "chenli", "tranvy", "wuxi"):  # the tranvy draft has no notebooks
        assert notebook_columns(book[name]) == notebook_columns(ref) != {}
    for name in UNREADABLE:
        assert book[name][ASSIGNMENT] == "" and book[name]["Failed to grade"] != ""


def test_every_row_a_person_should_settle_says_why(graded):
    book = graded["book"]
    assert book["roebob"]["Late"] == "yes" and book["doejane"]["Late"] == ""
    leeann = book["leeann"]
    assert leeann["Graded file"] == "leeann_125_1010_hw4-1.zip"
    assert leeann["Older files"] == "leeann_125_1003_hw4.zip" and leeann["Resubmitted"] == "yes"
    assert "layout repaired: graded files not where the grader looks" in leeann["Needs a person"]
    assert "hw4-main/neuralnet/ (layers.py, train.py, two_layer_net.py)" in leeann["Layout mistake"]
    kimbo = book["kimbo"]["Needs a person"]
    assert "chosen among several: graded the most complete, kimbo_126_1004_hw4.zip > hw4.zip" \
        in kimbo and "not kimbo_126_1004_hw4.zip > old/part.zip (3 graded file(s)" in kimbo
    assert "a zip inside the zip" in book["kimbo"]["Layout mistake"]
    tranvy = book["tranvy"]
    assert tranvy["Graded file"] == "tranvy_130_1011_final.zip"
    assert "not tranvy_130_1011_zz-draft.zip (2 graded file(s)" in tranvy["Needs a person"]
    assert "loose files" in book["chenli"]["Needs a person"]
    assert book["chenli"]["Graded file"].count("chenli_128_1006_") == 6
    assert "empty file" in book["parkjo"]["Failed to grade"]
    assert "Canvas's" in book["hw4_final.zip"]["Needs a person"]
    assert "not a readable zip" in book["hw4_final.zip"]["Failed to grade"]
    assert "is not a zip" in book["lopezma"]["Failed to grade"]
    assert "not a readable zip" in book["patelra"]["Failed to grade"]
    for name in SETTLED | COPIES:
        assert book[name]["Layout mistake"] == ""
    for name in COPIES | {"kimbo"}:
        assert "functions.py, layers.py, train.py, two_layer_net.py: the reference solution's " \
            "'# BEGIN SOLUTION' markers" in book[name]["Needs a person"]
    assert (graded["out"] / "results" / "leeann_125.json").is_file()


def test_summary_page_shows_every_flagged_row_with_its_reasons(graded):
    page = (graded["out"] / "summary.html").read_text()
    assert 'src="data:image/png;base64,' in page and "never a verdict" in page
    flagged = page[page.index("<h2>Flagged rows"):page.index("<h2>Slowest")]
    for name, row in graded["book"].items():
        reasons = [row[c] for c in ("Needs a person", "Failed to grade", "Layout mistake")]
        reasons = [part for reason in reasons for part in reason.split("; ") if part]
        if row["Late"]:
            reasons.append("Canvas marked the submission late")
        if row["Resubmitted"]:
            reasons.append(row["Older files"])
        assert (f">{name}<" in flagged) == bool(reasons), name
        for reason in reasons:
            assert html_text(reason) in flagged, (name, reason)
    rates = page.index("Pass rate of every test")
    assert page.index("relu_backward", rates) < page.index("fc_forward", rates)  # lowest first
    relu = page[page.index("<td>relu_backward", rates):]
    assert "1&times; grad_x[#, #] is #, expected #" in relu[:relu.index("</tr>")]  # kimbo
    assert f"under the column <code>{ASSIGNMENT}</code>" in page
    for link in ("similarity/pairs/pair-001.html", "results/doejane_123.json"):
        assert f'href="{link}"' in page and (graded["out"] / link).is_file()


def html_text(text):
    import html

    return html.escape(text)


def lead_pairs(leads):
    return {(p["a"], p["b"], p["file"]) for p in leads["pairs"]}


def test_a_single_copied_file_and_copies_of_the_reference_are_leads(graded):
    leads = graded["leads"]
    pairs = lead_pairs(leads)
    assert ("leeann_125", "wuxi_131", "two_layer_net.py") in pairs
    earlier = {p for p in pairs if p[1].startswith("@previous/")}  # previous terms
    assert earlier == {("wuxi_131", "@previous/fall2025/ngo_9_99_hw4.zip", "layers.py"),
                       ("chenli_128", "@previous/winter2026/similarity/code/chen.json",
                        "layers.py")}
    assert leads["previous"] == 2 and "fall2025/broken.zip" in leads["problems"][0]
    copies = {"doejane_123", "roebob_124", "kimbo_126"}  # the reference, renamed, one mistake
    for student in copies:
        for name in ("functions.py", "layers.py", "two_layer_net.py", "train.py"):
            assert (student, "@reference", name) in pairs
    marked = [p for p in leads["pairs"] if p["a"] == "doejane_123" and p["b"] == "@reference"]
    assert all(p["similarity_a"] == 1.0 and "BEGIN SOLUTION" in p["note"] for p in marked)
    others = {p for p in pairs if p[1] != "@reference"} - earlier - {
        ("leeann_125", "wuxi_131", "two_layer_net.py")}
    assert others and all({a, b} <= copies for a, b, _ in others)
    assert all(p["report"] for p in leads["pairs"][:similarity.MAX_REPORTS])
    page = (graded["out"] / "summary.html").read_text()
    assert "the reference solution" in page and "<td>two_layer_net.py</td><td>leeann</td>" in page
    assert "previous term: fall2025/ngo_9_99_hw4.zip" in page


def test_two_runs_give_identical_leads(graded, tmp_path):
    out = tmp_path / "grades"
    shutil.copytree(graded["out"], out)
    os.environ["PYTHONHASHSEED"] = "123"  # the parent's seed must not matter
    try:
        leads = grade_all.run_similarity(out, 0.5, quiet=True, previous=graded["previous"])
    finally:
        del os.environ["PYTHONHASHSEED"]
    assert not leads.problem
    assert json.loads((out / "similarity" / "leads.json").read_text()) == graded["leads"]
    first = (graded["out"] / "similarity" / "pairs" / "pair-001.html").read_text()
    assert (out / "similarity" / "pairs" / "pair-001.html").read_text() == first


def test_rerun_regrades_nothing_and_a_lost_entry_only_that_one(graded, tmp_path, monkeypatch,
                                                               capsys):
    out = tmp_path / "grades"
    shutil.copytree(graded["out"], out)
    manifest = out / "manifest.jsonl"
    before = manifest.read_text().splitlines()
    # teammates' edits to the grader would (rightly) regrade everything: pin its fingerprint
    recorded = json.loads(before[-1])["grader"]
    monkeypatch.setattr(grade_all, "grader_fingerprint", lambda root=ROOT: recorded)
    command = [str(graded["download"]), "--out", str(out), "--jobs", "2", "--no-similarity",
               "--assignment", ASSIGNMENT]
    assert grade_all.main(command) == 0
    assert f"{len(GRADED)} from an earlier run" in capsys.readouterr().out
    assert manifest.read_text().splitlines() == before
    kept = [line for line in before if '"doejane_123"' not in line]
    manifest.write_text("".join(line + "\n" for line in kept))
    (out / "results" / "roebob_124.json").unlink()
    assert grade_all.main(command) == 0
    assert f"{len(GRADED) - 1} from an earlier run" in capsys.readouterr().out
    added = manifest.read_text().splitlines()[len(kept):]
    assert [json.loads(line)["student"] for line in added] == ["doejane_123"]
    assert {k: r[ASSIGNMENT] for k, r in read_gradebook(out).items()} == \
        {k: r[ASSIGNMENT] for k, r in graded["book"].items()}
    assert (out / "results" / "roebob_124.json").is_file()


def test_grader_fingerprint_follows_the_grader_and_the_reference(tmp_path):
    for relative in ("staff/grading/grade.py", "staff/course/grade_all.py", "neuralnet/layers.py"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("# v1\n")
    first = grade_all.grader_fingerprint(tmp_path)
    (tmp_path / "staff/course/grade_all.py").write_text("# v2\n")
    assert grade_all.grader_fingerprint(tmp_path) == first
    (tmp_path / "neuralnet/layers.py").write_text("# v2\n")
    assert grade_all.grader_fingerprint(tmp_path) != first
    second = grade_all.grader_fingerprint(tmp_path)
    # every file the autograder ships
    (tmp_path / "staff/grading/model_check.py").write_text("# v1\n")
    assert grade_all.grader_fingerprint(tmp_path) != second


def names_folder(tmp_path, names):
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    return canvas_names.group_submissions(tmp_path, checker.REQUIRED_FILES)


def test_canvas_names_are_parsed(tmp_path):
    subs = {s.student: s for s in names_folder(tmp_path, [
        "doejane_LATE_123_456_hw4-2.zip", "doejane_123_400_hw4.zip", "roebob_124_500_hw4.zip",
        "roebob_124_500_notes.pdf", "leeann_125_600_functions.py", "leeann_125_600_layers.py",
        "kimbo_126_700_b-final.zip", "kimbo_126_700_a-draft.zip", "stray.zip", ".DS_Store"])}
    assert set(subs) == {"doejane_123", "roebob_124", "leeann_125", "kimbo_126", "stray.zip"}
    jane = subs["doejane_123"]
    assert [u.path.name for u in jane.chosen] == ["doejane_LATE_123_456_hw4-2.zip"]
    assert jane.late and jane.resubmitted and jane.chosen[0].attempt == 2
    assert [u.path.name for u in jane.older] == ["doejane_123_400_hw4.zip"]
    assert jane.chosen[0].original == "hw4.zip" and jane.user_id == "123"
    bob = subs["roebob_124"]
    assert [u.path.name for u in bob.chosen] == ["roebob_124_500_hw4.zip"]
    assert not bob.resubmitted
    assert "also uploaded, not graded: roebob_124_500_notes.pdf" in bob.notes
    assert sorted(u.original for u in subs["leeann_125"].chosen) == ["functions.py", "layers.py"]
    assert len(subs["kimbo_126"].chosen) == 2  # both zips are candidates (staff/course/uploads.py)
    assert "does not follow Canvas's" in subs["stray.zip"].misnamed


def test_plain_folder_matches_students_only_by_their_exact_name(tmp_path):
    (tmp_path / "asmith").mkdir()
    subs = {s.student: s for s in names_folder(tmp_path, [
        "jdoe.zip", "jdoe.zz.zip", "=HYPERLINK(1).zip", "jdoe.pdf"])}
    assert set(subs) == {"asmith", "jdoe", "jdoe.zz.zip", "=HYPERLINK(1).zip", "jdoe.pdf"}
    assert [u.path.name for u in subs["jdoe"].chosen] == ["jdoe.zip"]
    assert subs["jdoe"].plain and subs["asmith"].plain and not subs["jdoe"].misnamed
    for name in ("jdoe.zz.zip", "=HYPERLINK(1).zip", "jdoe.pdf"):
        assert not subs[name].plain and "not exactly <uniqname>.zip" in subs[name].misnamed


def test_an_out_folder_of_other_files_is_never_replaced(tmp_path):
    out = tmp_path / "mine"
    (out / "results").mkdir(parents=True)
    (out / "results" / "keep.txt").write_text("mine")
    result = run_grade_all(tmp_path, "--out", out, "--no-similarity")
    assert result.returncode == 2 and "not written by grade_all" in result.stderr
    assert (out / "results" / "keep.txt").read_text() == "mine"


def test_one_students_zip_given_as_the_course_is_refused(tmp_path):
    download = zip_files(tmp_path / "jdoe.zip", tiny_sources(), folder="jdoe")
    result = run_grade_all(download, "--out", tmp_path / "out")
    assert result.returncode == 2 and "make grade ZIP=" in result.stderr


def test_assignment_column_takes_canvas_name_and_id_form():
    column = grade_all.course_summary.assignment_column
    assert column("Homework 4", 12345) == "Homework 4 (12345)"
    assert column("Homework 4 (12345)", None) == "Homework 4 (12345)"
    assert column("Homework 4 (12345)", 12345) == "Homework 4 (12345)"
    with pytest.raises(ValueError, match="give one of them"):
        column("Homework 4 (12345)", 7)


FAKE_GRADER = """
import json, os, sys, time, zipfile
from pathlib import Path
source, out = Path(sys.argv[1]), Path(sys.argv[3])
if source.is_dir():
    text = (source / "functions.py").read_text()
else:
    with zipfile.ZipFile(source) as archive:
        text = next(archive.read(n).decode() for n in archive.namelist()
                    if n.endswith("functions.py"))
student = text.splitlines()[0]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(student + " " + " ".join(sys.argv[4:]) + "\\n")
time.sleep(float(os.environ.get("FAKE_SLEEP", "0")))
score = float(len(text) % 3)
extra = {"sandbox": os.environ.get("FAKE_SANDBOX", "fake")}
flags = []
if student in os.environ.get("FAKE_FAIL", "").split(","):
    extra["failed_to_grade"] = "the sandbox could not start"
if student in os.environ.get("FAKE_FLAG", "").split(","):
    flags.append("part1.ipynb: the outputs were not made by the code")
out.write_text(json.dumps({"score": score, "max_score": 2, "needs_person": flags,
    "extra_data": extra, "output": "",
    "tests": [{"name": "t", "score": score, "max_score": 2, "output": "t failed at 3.5"}]}))
"""


def fake_zip(course, i, name=None):
    files = {**tiny_sources(), "functions.py": f"# student-{i}{'x' * i}\n"}
    return zip_files(course / (name or f"s{i}_{100 + i}_{1000 + i}_hw4.zip"), files,
                     folder=f"s{i}")


@pytest.fixture
def fake_course(tmp_path):
    """Six Canvas uploads s0..s5 (Canvas ids 100..105) and the stand-in grader."""
    course = tmp_path / "course"
    course.mkdir()
    for i in range(6):
        fake_zip(course, i)
    grader = tmp_path / "fake_grade.py"
    grader.write_text(FAKE_GRADER)
    return course, grader, tmp_path / "fake.log"


def run_fake(course, grader, log, out, *args, env=None):
    result = run_grade_all(course, "--out", out, "--grader", grader, *args,
                           env={"FAKE_LOG": str(log), **(env or {})})
    assert result.returncode == 0, result.stderr
    return result


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


def test_plain_folder_names_and_cells_are_data(tmp_path):
    """A plain folder: exact names only; formulas in names or cells never reach a
    spreadsheet as formulas; an unpacked folder is graded as it is."""
    course = tmp_path / "course"
    course.mkdir()
    write_submission_dir(course / "asmith", {"functions.py": "# student-a\n"}, tiny=True)
    fake_zip(course, 1, "jdoe.zip")
    fake_zip(course, 2, "jdoe.zz.zip")  # another student's file, named like jdoe's
    fake_zip(course, 3, '=HYPERLINK("evil.example","y").zip')
    grader = tmp_path / "fake_grade.py"
    grader.write_text(FAKE_GRADER)
    out = tmp_path / "out"
    run_fake(course, grader, tmp_path / "fake.log", out, "--no-similarity")
    book = read_gradebook(out)
    formula = '=HYPERLINK("evil.example","y").zip'
    assert set(book) == {"asmith", "jdoe", "jdoe.zz.zip", "'" + formula}
    assert book["jdoe"]["Graded file"] == "jdoe.zip" and book["jdoe"]["SIS Login ID"] == "jdoe"
    assert book["jdoe"]["Needs a person"] == "" and "jdoe.zz" not in book["jdoe"]["Notes"]
    for name in ("jdoe.zz.zip", "'" + formula):
        assert "not exactly <uniqname>.zip" in book[name]["Needs a person"]
        assert book[name]["SIS Login ID"] == "" and book[name]["In Canvas import"] != "yes"
    assert book["asmith"]["Graded file"] == "asmith"
    assert "# student-a " in logged(tmp_path / "fake.log")  # the folder, graded as it is
    with open(out / "gradebook.csv", newline="") as handle:
        cells = [cell for line in csv.reader(handle) for cell in line]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert book["'" + formula]["Graded file"] == "'" + formula
    assert book["'" + formula]["Needs a person"].startswith("'" + formula + ": the name")
    assert read_csv(out / "canvas_import.csv") == []  # no Canvas ids without a roster


def test_killed_run_resumes_without_regrading(fake_course, tmp_path):
    course, grader, log = fake_course
    out = tmp_path / "out"
    process = start_fake(course, grader, log, out, sleep=1)  # time to spare on a busy machine
    wait_for_lines(out / "manifest.jsonl", 2)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
    finished = {json.loads(line)["student"].split("_")[0][1:]
                for line in (out / "manifest.jsonl").read_text().splitlines()}
    assert 2 <= len(finished) < 6
    first_run = len(logged(log))
    process = start_fake(course, grader, log, out, sleep=0)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    regraded = {line.split()[1].split("-")[1].rstrip("x") for line in logged(log)[first_run:]}
    assert not regraded & finished
    assert regraded | finished == {str(i) for i in range(6)}
    book = read_gradebook(out)
    assert sorted(book) == [f"s{i}" for i in range(6)]
    assert all(row["Sandbox"] == "fake" and row["Homework 4"] != "" for row in book.values())
    assert not any((out / ".scratch").iterdir())  # the killed run's scratch is gone too


def test_interrupted_run_says_how_to_resume(fake_course, tmp_path):
    course, grader, log = fake_course
    out = tmp_path / "out"
    process = start_fake(course, grader, log, out, sleep=2)  # not done before the signal, even
    wait_for_lines(out / "manifest.jsonl", 1)                # on a busy machine
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "run the same command again to resume" in stderr
    assert not (out / "gradebook.csv").exists()


def test_a_grader_that_fails_or_hangs_gives_a_row_without_score(fake_course, tmp_path):
    course, _, log = fake_course
    grader = tmp_path / "bad_grade.py"
    grader.write_text("import sys, time\nif 's1_' in sys.argv[1]: time.sleep(60)\n"
                      "raise SystemExit('grader broke')\n")
    result = run_grade_all(course, "--out", tmp_path / "out", "--grader", grader,
                           "--timeout", 1, "--no-similarity", "--jobs", 2)
    assert result.returncode == 0, result.stderr
    book = read_gradebook(tmp_path / "out")
    assert "longer than 1 s" in book["s1"]["Failed to grade"]
    assert "grader broke" in book["s0"]["Failed to grade"] and book["s0"]["Homework 4"] == ""
    entries = (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()
    assert all(json.loads(line)["failed"] for line in entries)  # counted, never reused
    assert read_csv(tmp_path / "out" / "canvas_import.csv") == []


def test_flagged_and_failed_rows_stay_out_of_the_canvas_import(fake_course, tmp_path):
    course, grader, log = fake_course
    env = {"FAKE_FAIL": "# student-1x", "FAKE_FLAG": "# student-2xx"}
    out = tmp_path / "out"
    result = run_fake(course, grader, log, out, "--no-similarity", "--assignment-id", 77,
                      env=env)
    book = read_gradebook(out)
    column = "Homework 4 (77)"
    assert "the sandbox could not start" in book["s1"]["Failed to grade"]
    assert book["s1"][column] == "" and book["s2"][column] != ""
    assert "not made by the code" in book["s2"]["Needs a person"]
    assert {r["Student"] for r in read_csv(out / "canvas_import.csv")} == {"s0", "s3", "s4", "s5"}
    assert "  s1: failed to grade: the grader failed" in result.stdout
    assert "  s2: needs a person: part1.ipynb" in result.stdout
    lines = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert [bool(entry.get("failed")) for entry in lines].count(False) == 5
    run_fake(course, grader, log, out, "--no-similarity", "--assignment-id", 77,
             "--include-flagged", env=env)
    assert {r["Student"] for r in read_csv(out / "canvas_import.csv")} == \
        {"s0", "s2", "s3", "s4", "s5"}
    assert sum("student-1x " in line for line in logged(log)) == 2  # a failure is retried
    book = read_gradebook(out)  # ...and one that keeps failing says so
    assert "failed on the same upload in 1 earlier run(s) too" in book["s1"]["Failed to grade"]
    assert "earlier run" not in book["s0"]["Failed to grade"] + book["s0"]["Needs a person"]


def test_grading_without_isolation_is_announced_everywhere(fake_course, tmp_path):
    course, grader, log = fake_course
    out = tmp_path / "out"
    result = run_fake(course, grader, log, out, "--sandbox", "none", "--no-similarity",
                      env={"FAKE_SANDBOX": "none"})
    assert result.stderr.count("WITHOUT isolation") >= 2  # before grading, and after
    assert all(line.endswith("--sandbox none") for line in logged(log))
    page = (out / "summary.html").read_text()
    assert 'class="warn">6 submission(s) were graded WITHOUT isolation' in page
    assert all("WITHOUT isolation" in row["Notes"] and row["Sandbox"] == "none"
               for row in read_gradebook(out).values())
    assert "has no Canvas assignment id" in result.stderr and "has no Canvas assignment id" in page


def test_outputs_and_staging_are_private_and_a_stopped_similarity_says_so(fake_course,
                                                                           tmp_path):
    course, grader, log = fake_course
    download = canvas_zip(course, tmp_path / "download.zip")
    with zipfile.ZipFile(download, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb_140_1040_hw4.zip", b"\0" * 2**22)  # 4 MB, ratio over 100
    out = tmp_path / "out"
    result = run_fake(download, grader, log, out, "--similarity-timeout", 0.01)
    bomb = read_gradebook(out)["bomb"]
    assert "could not be unpacked" in bomb["Failed to grade"]
    assert "zip bomb" in bomb["Failed to grade"]
    for folder in (out, out / "inbox", *(out / "inbox").iterdir(), out / ".scratch",
                   out / ".cache", out / "results", out / "logs", out / "similarity"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert "similarity: NO LEADS: the similarity report was stopped after 0.01 s" \
        in result.stderr
    page = (out / "summary.html").read_text()
    assert "No similarity leads: the similarity report was stopped after 0.01 s" in page


def test_roster_fills_canvas_columns_and_lists_students_without_submission(fake_course,
                                                                          tmp_path):
    course, grader, log = fake_course
    roster = tmp_path / "export.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section,Homework 4 (77)\n"
                      "    Points Possible,,,,,80\n"
                      "\"Zero, Sam\",100,U0,s0,CV 101,\n"
                      "\"Nine, Pat\",909,U9,s9,CV 101,\n")
    out = tmp_path / "out"
    result = run_fake(course, grader, log, out, "--roster", roster, "--no-similarity")
    assert "score column: 'Homework 4 (77)'" in result.stdout  # found in the export
    book = read_gradebook(out)
    sam = book["Zero, Sam"]
    assert (sam["ID"], sam["SIS User ID"], sam["SIS Login ID"], sam["Section"]) == \
        ("100", "U0", "s0", "CV 101")
    assert sam["Homework 4 (77)"] != "" and "Points Possible" not in str(book)
    assert book["Nine, Pat"]["Failed to grade"] == "no submission"
    assert book["Nine, Pat"]["Homework 4 (77)"] == ""
    assert "not in the roster" in book["s1"]["Needs a person"]
    assert [r["Student"] for r in read_csv(out / "canvas_import.csv")] == ["Zero, Sam"]


def test_two_uploads_matched_to_one_student_are_both_left_out(tmp_path):
    """`jdoe.zip` and `JDoe.zip` (someone else's) both match jdoe's roster login: Canvas would
    keep whichever row comes last, so both are flagged and neither is imported."""
    course = tmp_path / "course"
    course.mkdir()
    for i, name in enumerate(("jdoe.zip", "JDoe.zip", "asmith.zip")):
        fake_zip(course, i, name)
    grader = tmp_path / "fake_grade.py"
    grader.write_text(FAKE_GRADER)
    roster = tmp_path / "export.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section\n"
                      "\"Doe, Jane\",100,U0,jdoe,CV 101\n\"Smith, Al\",101,U1,asmith,CV 101\n")
    out = tmp_path / "out"
    run_fake(course, grader, tmp_path / "fake.log", out, "--roster", roster, "--no-similarity")
    assert [r["Student"] for r in read_csv(out / "canvas_import.csv")] == ["Smith, Al"]
    flagged = [r["Needs a person"] for r in read_csv(out / "gradebook.csv") if r["ID"] == "100"]
    assert flagged == ["Canvas id 100 has 2 rows (JDoe.zip, jdoe.zip): keep the one that is "
                       "this student's"] * 2
    run_fake(course, grader, tmp_path / "fake.log", out, "--roster", roster, "--no-similarity",
             "--include-flagged")  # never both, whatever the option
    assert [r["Student"] for r in read_csv(out / "canvas_import.csv")] == ["Smith, Al"]


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


def test_look_alike_files_never_crowd_out_a_copied_file_or_the_reference():
    """Many students' identical functions.py (f1, f2 written the same way) fill more than
    the listing's limit; a layers.py copied between two students and a copy of the staff
    solution's two_layer_net.py (markers removed) are still leads."""
    unmarked = "".join(line for line in reference("two_layer_net.py").splitlines(True)
                       if "SOLUTION" not in line)
    same = {"functions.py": solved("functions.py", INDEPENDENT)}
    texts = {f"s{i}": same for i in range(4)}  # 6 pairs of functions.py, over the limit of 5
    texts["copier"] = {"two_layer_net.py": unmarked}
    texts["x"] = texts["y"] = {"layers.py": solved("layers.py", THIRD)}
    texts[similarity.REFERENCE_KEY] = similarity.reference_texts()
    texts = {key: uploads.code_texts(files) for key, files in texts.items()}
    starter = uploads.code_texts(similarity.starter_texts())
    pairs, _, _ = similarity.rank_pairs(texts, starter, limit=5)
    found = lead_pairs({"pairs": [vars(p) for p in pairs]})
    assert ("copier", similarity.REFERENCE_KEY, "two_layer_net.py") in found
    assert ("x", "y", "layers.py") in found
    assert sum(1 for p in found if p[2] == "functions.py") == 5
