"""Benchmark of grading one submission: the reference, graded as Gradescope runs it.

    flock /tmp/hw4-cpu.lock .venv/bin/python bench/bench_grade.py [--repeats 3]

Zips the reference's six graded files (as `make submission` would) and times
`python staff/grade.py ZIP --out results.json` in a fresh process, the way run_autograder
calls it, in each sandbox mode this machine has (bwrap, uid, and none: without isolation;
the reference outputs are computed in every run, for its fresh inputs). Prints the median
wall time of each and checks that every run gave full marks. Target (issue "Grading you can
trust"): <= 8 s on 2 cores.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from handin.manifest import GRADED_FILES
from staff import sandbox

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
    command = [sys.executable, "-m", "staff.grade", str(zip_path), "--out",
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
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
