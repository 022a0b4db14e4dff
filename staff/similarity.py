"""Similarity leads between submissions, with copydetect (winnowing fingerprints, as MOSS).

Each student's code is the four graded .py files and the code cells of the two notebooks,
joined into one file. The starter kit (the reference with every solution region replaced by
its stub, as staff/starter builds it) is boilerplate: its lines are left out and its
fingerprints discarded, so code handed out to everyone never counts as shared. The pairs
are estimated from the fingerprints they share (one matrix product over the course), the
MAX_PAIRS most similar are compared by copydetect and ranked by the larger of the two
similarities (the fraction of one student's fingerprinted code found in the other's), and
the top pairs get copydetect's side-by-side HTML report.

A high similarity is a lead for a person to read, never a verdict: f1-f3 follow the graph
the homework draws, and short functions written the way the homework says look alike.
"""

import importlib.resources
import io
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import copydetect
import copydetect.data
import jinja2
import numpy as np
from copydetect import CopyDetector
from copydetect.detector import CodeFingerprint, compare_files

from handin import check as checker
from handin.manifest import GRADED_FILES
from staff.starter.notebooks import strip_notebook
from staff.starter.regions import strip_python

ROOT = Path(__file__).resolve().parents[1]
NOISE = 25  # copydetect's noise threshold: matches shorter than this (filtered chars) ignored
GUARANTEE = 30  # matches at least this long are always found (winnowing window 6)
THRESHOLD = 0.5  # pairs above this similarity are listed
MIN_OVERLAP = 60  # ...and only when they share at least this many filtered characters
MAX_FILE_CHARS = 1_000_000
MAX_PAIRS = 100  # pairs compared exactly (by copydetect) and listed, most similar first
MAX_REPORTS = 30  # side-by-side reports written for the top pairs
MIN_SHARED = 4  # fingerprints two students must share to be a pair at all
EMPTY_IMAGE_RE = re.compile(r'<img src="data:image/png;base64, "[^>]*>')


@dataclass
class Pair:
    a: str
    b: str
    similarity_a: float  # fraction of a's fingerprinted code found in b
    similarity_b: float
    overlap: int  # shared filtered characters
    report: str = ""  # side-by-side report, relative to the output folder

    @property
    def similarity(self):
        return max(self.similarity_a, self.similarity_b)



def notebook_code(text):
    """The code cells' sources of a notebook's JSON text (empty on unreadable JSON)."""
    try:
        nb = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return []
    cells = nb.get("cells", []) if isinstance(nb, dict) else []
    sources = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            if source.strip():
                sources.append(source)
    return sources


def code_text(texts):
    """
    One file's worth of code from a submission.

    Inputs:
    - texts: dict graded file name -> its text (missing files absent)

    Returns the .py sources and notebook code cells, each under a header line, in the
    order of check_submission.REQUIRED_FILES.
    """
    parts = []
    for name in checker.REQUIRED_FILES:
        if name not in texts:
            continue
        text = texts[name][:MAX_FILE_CHARS]
        parts.append(f"# ==== {name} ====\n")
        if name.endswith(".ipynb"):
            parts.extend(f"# ---- cell\n{source.rstrip()}\n" for source in notebook_code(text))
        else:
            parts.append(text.rstrip() + "\n")
    return "".join(parts)


def find_files(folder):
    """dict graded name -> Path under `folder` (the shallowest match of each name)."""
    found = {}
    for path in sorted(Path(folder).rglob("*"), key=lambda p: (len(p.parts), str(p))):
        if path.name in checker.REQUIRED_FILES and path.name not in found \
                and path.is_file() and not path.is_symlink() \
                and not any(part in checker.IGNORED_DIRS for part in path.parts):
            found[path.name] = path
    return found


def read_texts(files):
    """dict name -> text of each Path (undecodable bytes replaced)."""
    return {name: path.read_bytes()[:MAX_FILE_CHARS].decode("utf-8", errors="replace")
            for name, path in files.items()}


def submission_code(submission, scratch):
    """
    The code text of a submission zip or folder ("" if nothing could be read).

    A zip is checked and extracted by check_submission (the grader's own safe extraction)
    into `scratch`, a fresh folder the caller owns.
    """
    submission = Path(submission)
    if submission.is_dir():
        return code_text(read_texts(find_files(submission)))
    report = checker.extract_submission(submission, scratch)
    if report.rejected:
        return ""
    return code_text(read_texts(find_files(scratch)))


def starter_code(root=ROOT):
    """The starter kit's version of the graded files, as one code text (the boilerplate)."""
    texts = {}
    for name, relative in GRADED_FILES.items():  # the reference the starter stubs
        text = (Path(root) / relative).read_text()
        strip = strip_notebook if name.endswith(".ipynb") else strip_python
        texts[name] = strip(text, relative)[0]
    return code_text(texts)



def student_lines(text, starter_lines):
    """The lines of `text` that are not lines of the starter kit (file headers kept)."""
    return "".join(line for line in text.splitlines(keepends=True)
                   if line.startswith("# ==== ") or line.strip() not in starter_lines)


def fingerprint_all(code_dir, boilerplate_file):
    """
    dict student -> CodeFingerprint of code_dir/<student>.py, made of the lines that are not
    in the starter kit (boilerplate_file), and without the kit's fingerprints.
    """
    starter_text = Path(boilerplate_file).read_text(encoding="utf-8")
    starter_lines = {line.strip() for line in starter_text.splitlines()}
    boilerplate = sorted(CodeFingerprint(str(boilerplate_file), NOISE, 1).hashes)
    prints = {}
    for path in sorted(Path(code_dir).glob("*.py")):
        text = student_lines(path.read_text(encoding="utf-8", errors="replace"), starter_lines)
        fingerprint = CodeFingerprint(str(path), NOISE, GUARANTEE - NOISE + 1, boilerplate,
                                      fp=io.StringIO(text))
        if fingerprint.hashes:
            prints[path.stem] = fingerprint
    return prints


def shared_fingerprints(prints):
    """
    Returns a tuple of:
    - students: sorted names
    - shared: (S, S) array, shared[i, j] = fingerprints students i and j have in common
    """
    students = sorted(prints)
    owners = {}
    for index, student in enumerate(students):
        for value in prints[student].hashes:
            owners.setdefault(value, []).append(index)
    common = [indices for indices in owners.values() if len(indices) > 1]
    matrix = np.zeros((len(students), len(common)), dtype=np.float32)
    for column, indices in enumerate(common):
        matrix[indices, column] = 1.0
    return students, matrix @ matrix.T


def estimated_pairs(prints, threshold=THRESHOLD):
    """
    [(estimate, a, b)] of the pairs where more than `threshold` of one student's fingerprints
    are also the other's (what copydetect's similarity measures, up to token spans), and at
    least MIN_SHARED of them; most similar first.
    """
    students, shared = shared_fingerprints(prints)
    sizes = np.array([len(prints[s].hashes) for s in students], dtype=np.float32)
    fraction = shared / sizes[:, None]
    estimate = np.maximum(fraction, fraction.T)
    first, second = np.nonzero(np.triu((estimate > threshold) & (shared >= MIN_SHARED), k=1))
    found = [(float(estimate[i, j]), students[i], students[j])
             for i, j in zip(first, second, strict=True)]
    return sorted(found, key=lambda item: (-item[0], item[1], item[2]))


def rank_pairs(prints, threshold=THRESHOLD, min_overlap=MIN_OVERLAP, limit=MAX_PAIRS):
    """
    copydetect's comparison of the `limit` pairs estimated most similar: the Pairs above
    `threshold` sharing at least min_overlap characters, most similar first.
    """
    pairs = []
    for _, a, b in estimated_pairs(prints, threshold)[:limit]:
        overlap, (sim_a, sim_b), _ = compare_files(prints[a], prints[b])
        pair = Pair(a, b, float(sim_a), float(sim_b), int(overlap))
        if pair.similarity > threshold and pair.overlap >= min_overlap:
            pairs.append(pair)
    return sorted(pairs, key=lambda p: (-p.similarity, -p.overlap, p.a, p.b))


def report_template():
    """copydetect's own report template (jinja2)."""
    text = importlib.resources.files(copydetect.data).joinpath("report.html").read_text("utf-8")
    return jinja2.Template(text)


def pair_report(pair, prints, path, template):
    """
    Write copydetect's side-by-side HTML report of one pair to `path`: its template and
    highlighting, without the similarity-matrix plots (meaningless for two files, and
    matplotlib would take most of the time).
    """
    detector = CopyDetector(test_dirs=[], ref_dirs=[], boilerplate_dirs=[], display_t=0.0,
                            noise_t=NOISE, guarantee_t=GUARANTEE, autoopen=False, silent=True,
                            out_file=str(path))
    files = [prints[pair.a].filename, prints[pair.b].filename]
    for name, fingerprint in zip(files, (prints[pair.a], prints[pair.b]), strict=True):
        detector.add_file(name)
        detector.file_data[name] = fingerprint
    detector.run()
    page = template.render(
        config_params=json.dumps(detector.conf.to_json(), indent=4), css_files=[],
        version=copydetect.__version__, test_count=2, test_files=files, compare_count=2,
        compare_files=files, flagged_file_count=1, code_list=detector.get_copied_code_list(),
        sim_mtx_base64="", sim_hist_base64="")
    Path(path).write_text(EMPTY_IMAGE_RE.sub("", page), encoding="utf-8")


def similarity_report(code_dir, boilerplate_file, out_dir, threshold=THRESHOLD,
                      max_reports=MAX_REPORTS, links_from=None):
    """
    Rank the similar pairs among code_dir/*.py and write the top pairs' reports.

    Returns a tuple of:
    - pairs: the Pairs above the threshold among the MAX_PAIRS estimated most similar, most
      similar first; `report` set for the first max_reports, as a link relative to the
      folder `links_from` (default out_dir)
    - estimated: how many pairs are estimated above the threshold in all
    """
    logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))
    prints = fingerprint_all(code_dir, boilerplate_file)
    estimated = len(estimated_pairs(prints, threshold))
    pairs = rank_pairs(prints, threshold)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    template = report_template()
    for rank, pair in enumerate(pairs[:max_reports], start=1):
        path = out_dir / f"pair-{rank:03d}.html"
        pair_report(pair, prints, path, template)
        pair.report = path.relative_to(links_from or out_dir).as_posix()
    return pairs, estimated
