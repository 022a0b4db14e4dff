"""Benchmark of grading one submission: the reference, graded as Gradescope runs it.

    flock /tmp/hw4-cpu.lock .venv/bin/python bench/bench_grade.py [--repeats 3]
    flock /tmp/hw4-cpu.lock .venv/bin/python bench/bench_grade.py --worst-case

Zips the reference's six graded files (as `make submission` would) and times
`python -m staff.grading.grade ZIP --out results.json` in a fresh process, the way run_autograder
calls it, in each sandbox mode this machine has (bwrap, uid, and none: without isolation;
the reference outputs are computed in every run, for its fresh inputs). Prints the median
wall time of each and checks that every run gave full marks. Target (issue "Grading you can
trust"): <= 8 s on 2 cores.

--worst-case times the slowest submission we know of instead, in the best mode: every .py
file loops forever catching the alarm (train.py creating empty files in its /tmp as it
goes, which the sandbox must tear down), part1.ipynb just under the size cap and part2.ipynb
just under the cap on JSON objects. It must end within grade.py's budget (90 s) with 0 code
points and no failure to grade; prints the wall time and the grader's peak memory.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from handin.manifest import CODE_FILES, GRADED_FILES
from staff.grading import sandbox

ROOT = Path(__file__).resolve().parents[1]


def reference_zip(folder):
    path = Path(folder) / "bench.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, relative in GRADED_FILES.items():
            archive.write(ROOT / relative, f"bench/{name}")
    return path


def grade_once(zip_path, folder, mode):
    """Seconds for one grade.py run; checks it gave full marks in `mode`."""
    out = Path(folder) / "results.json"
    command = [sys.executable, "-m", "staff.grading.grade", str(zip_path), "--out",
               str(out), "--sandbox", mode, "--allow-readable"]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    results = json.loads(out.read_text())
    if results["score"] != results["max_score"] or results["extra_data"]["sandbox"] != mode:
        raise SystemExit(f"{mode}: expected full marks, got {results['score']}: "
                         f"{results['output']}")
    return seconds


def available_modes():
    modes = []
    for mode in sandbox.MODES:
        try:
            if sandbox.choose_mode(mode).name == mode:
                modes.append(mode)
        except RuntimeError:
            continue
    return modes


LOOP_FOREVER = """
import os
count = 0
while True:
    try:
        while True:
            if MAKE_FILES:
                open(f"/tmp/f{count}", "w").close()
                count += 1
    except BaseException:  # the alarm, a full disk: go on
        pass
"""


def notebook_near_caps(relative, filler):
    """The reference notebook `relative` with `filler` (JSON text) added to its first code
    cell's outputs, as one more stream output."""
    notebook = json.loads((ROOT / relative).read_text())
    cell = next(c for c in notebook["cells"] if c["cell_type"] == "code")
    cell.setdefault("outputs", []).append(json.loads(filler))
    return json.dumps(notebook)


def worst_case_zip(folder):
    """Every .py file loops forever; the notebooks just under the grader's caps."""
    from handin import notebooks

    path = Path(folder) / "worst.zip"
    size = notebooks.MAX_NOTEBOOK_CHARS - (ROOT / "part1.ipynb").stat().st_size - 2**16
    big_text = json.dumps({"name": "stdout", "output_type": "stream", "text": "x" * size})
    many_objects = json.dumps({"output_type": "display_data", "data": {"text/plain": ""},
                               "metadata": {"x": [{}] * (notebooks.MAX_JSON_ITEMS - 20000)}})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in CODE_FILES:
            code = LOOP_FOREVER.replace("MAKE_FILES", str(name == "train.py"))
            archive.writestr(f"worst/{name}", code)
        archive.writestr("worst/part1.ipynb", notebook_near_caps("part1.ipynb", big_text))
        archive.writestr("worst/part2.ipynb", notebook_near_caps("part2.ipynb", many_objects))
    return path


def worst_case(folder):
    """Grade worst_case_zip in the best mode; returns 1 if it broke the budget."""
    zip_path, out = worst_case_zip(folder), Path(folder) / "results.json"
    command = [sys.executable, "-m", "staff.grading.grade", str(zip_path), "--out", str(out),
               "--allow-readable"]
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, cwd=ROOT, check=False)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    results = json.loads(out.read_text())
    failed = results.get("extra_data", {}).get("failed_to_grade")
    code = sum(t["score"] for t in results["tests"] if ".py]" in t["name"])
    print(f"worst case ({results['extra_data'].get('sandbox')}): {seconds:.1f} s wall, grader "
          f"peak {peak_mb:.0f} MB, code points {code:g}, score {results['score']:g}"
          + (f", FAILED TO GRADE: {failed}" if failed else ""))
    return 1 if failed or seconds >= 90 or code else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worst-case", action="store_true",
                        help="time the slowest known submission instead (see above)")
    args = parser.parse_args(argv)
    if args.worst_case:
        with tempfile.TemporaryDirectory(prefix="hw4-bench-") as folder:
            return worst_case(folder)
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}; "
          f"median of {args.repeats} fresh grade.py runs on the reference submission")
    with tempfile.TemporaryDirectory(prefix="hw4-bench-") as folder:
        zip_path = reference_zip(folder)
        for mode in available_modes():
            times = [grade_once(zip_path, folder, mode) for _ in range(args.repeats)]
            print(f"  {mode:5s}  {statistics.median(times):6.2f} s  "
                  f"(runs: {', '.join(f'{t:.2f}' for t in times)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
