"""Wall time of `make writeup` in a starter kit filled as a student fills it (target: under
a minute, offline).

The kit is laid out like the starter with the reference solution kept, so its notebooks
are the committed, executed ones (full outputs); train.py --config best / overfit and
test.py run in it on a small generated CIFAR-10 (the write-up's cost does not depend on the
data: it draws the plots the runs saved); writeup.md gets a name and an answer, backprop/ a
drawing of f4's graph (staff/tests/filled_kit.py). Then `make writeup` runs --repeats
times with the network blocked (`unshare -rn` when the machine allows it: the build must
not need one); it reports the median wall time, the CPU seconds of each run (less
sensitive to other jobs on the machine) and the load average.

    flock /tmp/hw4-cpu.lock .venv/bin/python bench/bench_writeup.py [--repeats 3] [--json-file F]
"""

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from staff.tests import filled_kit as filled

TARGET_SECONDS = 60


def offline_prefix():
    """A command prefix that runs without network (a new, empty network namespace), or []
    when this machine does not allow one."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"],
                                                  capture_output=True).returncode == 0:
        return ["unshare", "-rn"]
    return []


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_writeup(kit, prefix):
    """(wall seconds, CPU seconds, its "wrote" line) of one `make writeup` in `kit`; raises
    if it fails or finds anything missing."""
    start, cpu = time.perf_counter(), children_cpu_seconds()
    run = subprocess.run([*prefix, "make", "writeup", f"PYTHON={sys.executable}", "STRICT=1"],
                         cwd=kit, env=filled.kit_env(), capture_output=True, text=True,
                         timeout=600)
    seconds, cpu = time.perf_counter() - start, children_cpu_seconds() - cpu
    if run.returncode != 0:
        raise RuntimeError(f"make writeup failed:\n{run.stdout}\n{run.stderr}")
    return seconds, cpu, next(line for line in run.stdout.splitlines()
                              if line.startswith("writeup: wrote"))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json-file", type=Path, help="also write the numbers as JSON here")
    return parser.parse_args()


def main():
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="hw4-bench-writeup-") as tmp:
        kit = filled.filled_kit(Path(tmp) / "hw4-starter", Path(tmp) / "cifar")
        prefix = offline_prefix()
        runs = [time_writeup(kit, prefix) for _ in range(args.repeats)]
    seconds = [round(wall, 2) for wall, _, _ in runs]
    report = {"median_seconds": statistics.median(seconds), "seconds": seconds,
              "cpu_seconds": [round(cpu, 2) for _, cpu, _ in runs], "offline": bool(prefix),
              "output": runs[0][2], "cpus": os.cpu_count(),
              "load_average_1min": os.getloadavg()[0],
              "python": platform.python_version(), "target_seconds": TARGET_SECONDS}
    print(json.dumps(report, indent=1))
    if args.json_file:
        args.json_file.write_text(json.dumps(report, indent=1) + "\n")
    return 0 if report["median_seconds"] < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
