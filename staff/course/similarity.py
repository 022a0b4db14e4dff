"""Similarity leads, file by file, with copydetect (winnowing fingerprints, as MOSS).

    python -m staff.course.similarity FOLDER [--threshold 0.5] [--previous-terms DIR]

Each graded file is compared on its own (the four .py files, and each notebook's code
cells), so one copied file surfaces even when the rest of the submission is the student's
own. The starter kit's version of the file (the reference with every solution region
replaced by its stub, as staff/starter builds it) is boilerplate: its lines are left out
and its fingerprints discarded. Each student's file is compared with the other students'
same file, with the reference solution's (the staff solution as it is, `# BEGIN SOLUTION`
markers included: a copy of it is a lead, and a file holding those markers is always
listed), and with the same file of previous terms' submissions (--previous-terms DIR: every
zip below DIR, e.g. unpacked Canvas downloads, and the code files of an earlier grade-all
run, OUT/similarity/code/*.json). The pairs are estimated from the fingerprints they share
(one matrix product per file), the MAX_PAIRS most similar of each file and every pair with
the reference solution are compared by copydetect and ranked by the larger of the two
similarities (the fraction of one side's fingerprinted code
found in the other's), and the top pairs get copydetect's side-by-side HTML report.

Input: FOLDER/code/<student>.json, graded name -> code text (staff/course/uploads.py's code_texts;
grade_all.py writes them). Output: FOLDER/leads.json and FOLDER/pairs/pair-NNN.html.
copydetect fingerprints with Python's hash(), which is randomised per process: grade_all.py
runs this module in its own process with a fixed PYTHONHASHSEED and a timeout, so the same
inputs give the same leads.

A high similarity is a lead for a person to read, never a verdict: f1-f3 follow the graph
the homework draws, and short functions written the way the homework says look alike.
"""

import argparse
import dataclasses
import importlib.resources
import io
import json
import logging
import re
import shutil
import sys
import tempfile
from pathlib import Path

import copydetect
import copydetect.data
import jinja2
import numpy as np
from copydetect import CopyDetector
from copydetect.detector import CodeFingerprint, compare_files

from handin import module_prog
from handin.manifest import GRADED_FILES
from staff.course import uploads
from staff.course.canvas_names import Upload, is_zip_name
from staff.course.course_summary import LEADS_FILE, PREVIOUS_KEY, REFERENCE_KEY, Pair
from staff.starter.notebooks import strip_notebook
from staff.starter.regions import BEGIN, strip_python

ROOT = Path(__file__).resolve().parents[2]
NOISE = 25  # copydetect's noise threshold: matches shorter than this (filtered chars) ignored
GUARANTEE = 30  # matches at least this long are always found (winnowing window 6)
THRESHOLD = 0.5  # pairs above this similarity are listed
MIN_OVERLAP = 60  # ...and only when they share at least this many filtered characters
MAX_PAIRS = 100  # pairs of each file compared exactly (by copydetect) and listed
MAX_REPORTS = 30  # side-by-side reports written for the top pairs
MIN_SHARED = 4  # fingerprints two files must share to be a pair at all
MAX_PREVIOUS = 5000  # previous terms' submissions read
EMPTY_IMAGE_RE = re.compile(r'<img src="data:image/png;base64, "[^>]*>')


def reference_texts(root=ROOT):
    """dict graded name -> the reference solution's file text (markers included)."""
    return {name: (Path(root) / relative).read_text() for name, relative in GRADED_FILES.items()}


def starter_texts(root=ROOT):
    """dict graded name -> the starter kit's version of the file (the boilerplate)."""
    texts = {}
    for name, text in reference_texts(root).items():
        strip = strip_notebook if name.endswith(".ipynb") else strip_python
        texts[name] = strip(text, GRADED_FILES[name])[0]
    return texts


def student_lines(text, starter_lines):
    """The lines of `text` that are not lines of the starter kit."""
    return "".join(line for line in text.splitlines(keepends=True)
                   if line.strip() not in starter_lines)


def fingerprint(label, text, boilerplate=None):
    return CodeFingerprint(label, NOISE, GUARANTEE - NOISE + 1, boilerplate, language="python",
                           fp=io.StringIO(text))


def fingerprint_file(name, texts, starter):
    """
    dict key -> CodeFingerprint of each side's `name` (the lines not in the starter kit's
    `name`, without the kit's fingerprints); sides with nothing left are absent.

    Inputs:
    - name: a graded file name
    - texts: dict key -> dict graded name -> code text
    - starter: the starter kit's code text of `name`
    """
    starter_lines = {line.strip() for line in starter.splitlines()}
    boilerplate = sorted(fingerprint(f"starter/{name}", starter, None).hashes) if starter else []
    prints = {}
    for key in sorted(texts):
        if name not in texts[key]:
            continue
        kept = student_lines(texts[key][name], starter_lines)
        fp = fingerprint(f"{key.lstrip('@')}/{name}", kept, boilerplate)
        if fp.hashes:
            prints[key] = fp
    return prints


def is_student(key):
    return not key.startswith("@")


def estimated_pairs(prints, threshold=THRESHOLD):
    """
    [(estimate, a, b)] of the pairs (a a student; b a student, the reference or a previous
    submission) where more than `threshold` of one side's fingerprints are also the other's
    (what copydetect's similarity measures, up to token spans), and at least MIN_SHARED of
    them.
    """
    keys = sorted(prints)
    owners = {}
    for index, key in enumerate(keys):
        for value in prints[key].hashes:
            owners.setdefault(value, []).append(index)
    common = [indices for _, indices in sorted(owners.items()) if len(indices) > 1]
    matrix = np.zeros((len(keys), len(common)), dtype=np.float32)
    for column, indices in enumerate(common):
        matrix[indices, column] = 1.0
    shared = matrix @ matrix.T
    sizes = np.array([len(prints[k].hashes) for k in keys], dtype=np.float32)
    fraction = shared / sizes[:, None]
    estimate = np.maximum(fraction, fraction.T)
    students = np.array([is_student(k) for k in keys])
    wanted = (estimate > threshold) & (shared >= MIN_SHARED) & (students[:, None] | students)
    found = []
    for i, j in zip(*np.nonzero(np.triu(wanted, k=1)), strict=True):
        a, b = (keys[i], keys[j]) if is_student(keys[i]) else (keys[j], keys[i])
        found.append((float(estimate[i, j]), a, b))
    return found


def compared(prints, name, a, b, note=""):
    """copydetect's comparison of a's and b's file `name`, as a Pair."""
    overlap, (sim_a, sim_b), _ = compare_files(prints[a], prints[b])
    return Pair(a, b, name, round(float(sim_a), 6), round(float(sim_b), 6), int(overlap),
                note=note)


MARKER_NOTE = f"holds the reference's '{BEGIN}' markers"


def marker_pairs(all_prints, texts, listed):
    """A Pair with the reference for each student file holding the solution markers (a copy
    of the staff solution, whatever its similarity), unless already in `listed`."""
    done = {(p.a, p.file) for p in listed if p.b == REFERENCE_KEY}
    pairs = []
    for key in sorted(k for k in texts if is_student(k)):
        for name, text in sorted(texts[key].items()):
            prints = all_prints.get(name, {})
            if BEGIN in text and (key, name) not in done and key in prints \
                    and REFERENCE_KEY in prints:
                pairs.append(compared(prints, name, key, REFERENCE_KEY, MARKER_NOTE))
    for pair in listed:
        if pair.b == REFERENCE_KEY and BEGIN in texts[pair.a].get(pair.file, ""):
            pair.note = MARKER_NOTE
    return pairs


def most_similar(estimates, limit):
    """
    The estimated pairs to compare exactly: every pair with the reference, and the `limit`
    most similar of each graded file (so that many look-alike short files, f3 written as its
    graph is drawn, never crowd out one copied file or a copy of the staff solution).

    estimates: [(estimate, graded name, a, b)], most similar first
    """
    kept, per_file = [], {}
    for item in estimates:
        _, name, _, b = item
        if b == REFERENCE_KEY:
            kept.append(item)
        elif per_file.get(name, 0) < limit:
            per_file[name] = per_file.get(name, 0) + 1
            kept.append(item)
    return kept


def rank_pairs(texts, starter, threshold=THRESHOLD, min_overlap=MIN_OVERLAP, limit=MAX_PAIRS):
    """
    The pairs of every graded file, compared by copydetect.

    Inputs:
    - texts: dict key -> dict graded name -> code text (students, REFERENCE_KEY, and
      PREVIOUS_KEY + a name)
    - starter: dict graded name -> the starter kit's code text

    Returns a tuple of:
    - pairs: the pairs of most_similar(`limit` a file, and every pair with the reference)
      that are above `threshold` and share at least min_overlap characters, and every
      student file holding the solution markers (paired with the reference), most similar
      first
    - estimated: how many pairs are estimated above the threshold in all
    - prints: dict graded name -> key -> CodeFingerprint (for the reports)
    """
    prints, estimates = {}, []
    for name in GRADED_FILES:
        prints[name] = fingerprint_file(name, texts, starter.get(name, ""))
        estimates += [(estimate, name, a, b)
                      for estimate, a, b in estimated_pairs(prints[name], threshold)]
    estimates.sort(key=lambda item: (-round(item[0], 6), item[1], item[2], item[3]))
    pairs = []
    for _, name, a, b in most_similar(estimates, limit):
        pair = compared(prints[name], name, a, b)
        if pair.similarity > threshold and pair.overlap >= min_overlap:
            pairs.append(pair)
    pairs += marker_pairs(prints, texts, pairs)
    return sorted(pairs, key=Pair.sort_key), len(estimates), prints


def report_template():
    """copydetect's own report template (jinja2)."""
    text = importlib.resources.files(copydetect.data).joinpath("report.html").read_text("utf-8")
    return jinja2.Template(text)


def pair_report(first, second, path, template):
    """
    Write copydetect's side-by-side HTML report of two CodeFingerprints to `path`: its
    template and highlighting, without the similarity-matrix plots (meaningless for two
    files, and matplotlib would take most of the time).
    """
    detector = CopyDetector(test_dirs=[], ref_dirs=[], boilerplate_dirs=[], display_t=0.0,
                            noise_t=NOISE, guarantee_t=GUARANTEE, autoopen=False, silent=True,
                            out_file=Path(path).name)  # shown in the page: no folder in it
    files = [first.filename, second.filename]
    for name, fingerprint_ in zip(files, (first, second), strict=True):
        detector.add_file(name)
        detector.file_data[name] = fingerprint_
    detector.run()
    page = template.render(
        config_params=json.dumps(detector.conf.to_json(), indent=4), css_files=[],
        version=copydetect.__version__, test_count=2, test_files=files, compare_count=2,
        compare_files=files, flagged_file_count=1, code_list=detector.get_copied_code_list(),
        sim_mtx_base64="", sim_hist_base64="")
    Path(path).write_text(EMPTY_IMAGE_RE.sub("", page), encoding="utf-8")


def write_reports(pairs, prints, out_dir, max_reports=MAX_REPORTS):
    """Side-by-side reports of the first max_reports pairs (pair.report: relative to out_dir)."""
    folder = Path(out_dir) / "pairs"
    folder.mkdir(parents=True, exist_ok=True)
    template = report_template()
    for rank, pair in enumerate(pairs[:max_reports], start=1):
        path = folder / f"pair-{rank:03d}.html"
        pair_report(prints[pair.file][pair.a], prints[pair.file][pair.b], path, template)
        pair.report = path.relative_to(out_dir).as_posix()


def read_code_file(path):
    """dict graded name -> code text of a code/<student>.json file ({} if unreadable)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if k in GRADED_FILES and isinstance(v, str)}


def read_code_folder(folder):
    """dict student -> dict graded name -> code text, from FOLDER/<student>.json."""
    return {path.stem: read_code_file(path) for path in sorted(Path(folder).glob("*.json"))}


def previous_texts(folder, scratch):
    """
    dict PREVIOUS_KEY + name -> dict graded name -> code text of previous terms' submissions:
    every zip below `folder` (its most complete candidate, read as grade_all reads an
    upload) and every code/*.json file of an earlier grade-all run.

    Returns a tuple of (texts, problems: the files that could not be read).
    """
    folder = Path(folder)
    texts, problems = {}, []
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()
                   and (is_zip_name(p.name)
                        or (p.suffix == ".json" and p.parent.name == "code")))
    for index, path in enumerate(paths[:MAX_PREVIOUS]):
        key = PREVIOUS_KEY + path.relative_to(folder).as_posix()
        if path.suffix == ".json":
            found = read_code_file(path)
        else:
            found = read_zip(path, Path(scratch) / str(index))
        if found:
            texts[key] = found
        else:
            problems.append(path.relative_to(folder).as_posix())
    return texts, problems


def read_zip(path, scratch):
    """The code texts of one submission zip ({} if nothing graded can be read)."""
    scratch.mkdir(parents=True)
    try:
        work = uploads.find_work([Upload(path, path.stem, path.stem, original=path.name)],
                                 scratch)
        return uploads.folder_code(work.folder) if work.folder else {}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def find_leads(folder, threshold=THRESHOLD, previous=None, max_reports=MAX_REPORTS):
    """
    The leads of FOLDER/code, written to FOLDER/leads.json and FOLDER/pairs/.

    Returns the leads.json dict: threshold, estimated, students, previous, pairs (dicts of
    Pair's fields, most similar first), problems.
    """
    folder = Path(folder)
    logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))
    texts = read_code_folder(folder / "code")
    students = len(texts)
    texts[REFERENCE_KEY] = uploads.code_texts(reference_texts())
    problems, earlier = [], {}
    if previous is not None:
        scratch = Path(tempfile.mkdtemp(prefix="previous-", dir=folder))
        try:
            earlier, problems = previous_texts(previous, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    texts.update(earlier)
    pairs, estimated, prints = rank_pairs(texts, uploads.code_texts(starter_texts()), threshold)
    write_reports(pairs, prints, folder, max_reports)
    leads = {"threshold": threshold, "estimated": estimated, "students": students,
             "previous": len(earlier), "pairs": [dataclasses.asdict(p) for p in pairs],
             "problems": [f"previous term's {p}: no graded file could be read"
                          for p in problems]}
    (folder / LEADS_FILE).write_text(json.dumps(leads, indent=1) + "\n", encoding="utf-8")
    return leads


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog=module_prog(__spec__),
        description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="holds code/<student>.json")
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    parser.add_argument("--previous-terms", type=Path, default=None)
    parser.add_argument("--max-reports", type=int, default=MAX_REPORTS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.previous_terms is not None and not args.previous_terms.is_dir():
        print(f"similarity: {args.previous_terms} is not a folder", file=sys.stderr)
        return 2
    find_leads(args.folder, args.threshold, args.previous_terms, args.max_reports)
    return 0


if __name__ == "__main__":
    sys.exit(main())
