"""`make homework`: run every task of the homework in order and build report.pdf.

    python -m staff.reference.homework                 # real data, outputs under results/
    python -m staff.reference.homework --smoke         # tiny generated data, a few iterations
    python -m staff.reference.homework --force         # rerun every stage, even up-to-date ones
    python -m staff.reference.homework --data-dir DIR  # where CIFAR-10 / Fashion-MNIST are

Stages, in order (each writes its outputs under the results folder; docs/STAFF.md):

    backprop  backprop driver + gradient checks  -> backprop.txt
    best      two-layer net, best config          -> best/{checkpoint.npz, plot.*, summary.json}
    overfit   two-layer net, overfitting config   -> overfit/{checkpoint.npz, plot.png, ...}
    test      test.py once on the best net        -> best/test.json
    part1     part1.ipynb (Fashion-MNIST CNN)     -> part1/{summary.json, curves.png, ...}
    part2     part2.ipynb (pretrained ImageNet)   -> part2/{predictions.json, img1.png, img2.png}
    report    staff/reference/report.py (handin/writeup.py) -> report.pdf

One line per stage with its result and elapsed time. As in make, a stage is skipped when
all its outputs exist and none of its inputs (source files, notebooks, upstream outputs) is
newer than its oldest output; --force (make homework FORCE=1) reruns every stage, which is
needed after pointing it at other data. A failing stage stops the run with its log's last
lines and deletes its own outputs (make's .DELETE_ON_ERROR); the earlier stages' outputs
stay, so the next run resumes at the failed stage.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from handin import module_prog
from handin.manifest import GRADED_FILES
from staff.grading.student_view import student_module
from staff.reference import get_data
from staff.reference.layout import DRIVER_SCRIPTS

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RESULTS = ROOT / "results"
SMOKE_RESULTS = ROOT / "results" / "smoke"
CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR_URL_HOST = "www.cs.toronto.edu"
FMNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
FMNIST_DEFAULT_ROOT = ROOT / "data"
LOG_TAIL_LINES = 25

# Source files each stage depends on (relative to the repository root; absent ones ignored).
NET_SOURCES = ("neuralnet/data.py", "neuralnet/layers.py", "neuralnet/classifier.py",
               "neuralnet/two_layer_net.py", "neuralnet/optim.py", "neuralnet/utils.py",
               "neuralnet/checkpoint.py")
# The checks are cheap: they rerun when any file they could read changes.
BACKPROP_SOURCES = ("backprop/*.py", "backprop/*.pkl", "neuralnet/*.py", "neuralnet/*.pkl")

# Small-run settings for --smoke (generated data, a few iterations).
SMOKE_CIFAR = {"num_train_per_batch": 120, "num_test": 100}
SMOKE_FMNIST = {"num_train": 600, "num_test": 200}
SMOKE_TRAIN_ARGS = ("--smoke",)  # train.py: 500 training images, 100 validation, 2 epochs
SMOKE_TEST_ARGS = ("--num-test", str(SMOKE_CIFAR["num_test"]))


class StageError(RuntimeError):
    """A stage failed; the message says which command and where its log is."""


class DataMissingError(RuntimeError):
    """A data set is not found (and could not be downloaded)."""


@dataclass
class Settings:
    results: Path
    smoke: bool = False
    force: bool = False
    data_dir: Path | None = None
    download: bool = True
    local_copy: Path | None = field(default_factory=lambda: get_data.local_copy())
    python: str = sys.executable
    only: tuple[str, ...] = ()
    # resolved lazily (only when a stage that needs the data runs)
    cifar_dir: Path | None = None
    fmnist_root: Path | None = None

    @property
    def in_place_notebooks(self) -> bool:
        """The committed notebooks are executed in place only by the standard real run."""
        return not self.smoke and self.results.resolve() == DEFAULT_RESULTS.resolve()

    @property
    def report_file(self) -> Path:
        if self.results.resolve() == DEFAULT_RESULTS.resolve():
            return ROOT / "report.pdf"
        return self.results / "report.pdf"


def _has_cifar(folder: Path) -> bool:
    return (folder / CIFAR_FOLDER / "data_batch_1").is_file() or (folder / CIFAR_ARCHIVE).is_file()


def _has_fmnist(root: Path) -> bool:
    raw = root / "FashionMNIST" / "raw"
    return all((raw / name).is_file() or (raw / f"{name}.gz").is_file() for name in FMNIST_FILES)


def data_candidates(settings: Settings, default: Path) -> list[Path]:
    """Where a data set is looked for: --data-dir, $HW4_DATA, then the task's default folder."""
    dirs = []
    if settings.data_dir is not None:
        dirs.append(Path(settings.data_dir).expanduser())
    if os.environ.get("HW4_DATA"):
        dirs.append(Path(os.environ["HW4_DATA"]).expanduser())
    dirs.append(default)
    return dirs


def online(host: str = CIFAR_URL_HOST, timeout: float = 5.0) -> bool:
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _download_cifar(log) -> None:
    script = ROOT / "neuralnet" / "download_cifar.sh"
    if script.is_file():
        run_logged(["bash", str(script)], log, cwd=ROOT / "neuralnet")
    else:
        import urllib.request
        url = f"https://{CIFAR_URL_HOST}/~kriz/{CIFAR_ARCHIVE}"
        print(f"downloading {url}", file=log, flush=True)
        urllib.request.urlretrieve(url, ROOT / "neuralnet" / CIFAR_ARCHIVE)


def _download_fmnist(settings: Settings, log) -> None:
    code = ("import sys, torchvision\n"
            "for train in (True, False):\n"
            "    torchvision.datasets.FashionMNIST(root=sys.argv[1], train=train, download=True)\n")
    run_logged([settings.python, "-c", code, str(FMNIST_DEFAULT_ROOT)], log, cwd=ROOT)


def missing_data_message(name: str, looked: list[Path], layout: str, tried_download: str) -> str:
    where = "\n".join(f"    {p}" for p in looked)
    return (
        f"{name} not found. Looked for {layout} in:\n{where}\n"
        f"({tried_download})\nFix it in one of three ways:\n"
        "  1. be online and rerun `make homework`: it downloads the data itself\n"
        f"  2. set HW4_DATA to a folder holding {layout}: make homework HW4_DATA=/path/to/data\n"
        "  3. pass the folder explicitly: make homework DATA_DIR=/path/to/data "
        "(python -m staff.reference.homework --data-dir /path/to/data)"
    )


def build_from_local_copy(settings: Settings, log) -> Path:
    """`make data` without internet: build both data sets into data/ from the course's
    local copy (settings.local_copy, ../shared/data where it exists); returns data/."""
    dest = ROOT / "data"
    print(f"building {dest} from the local copy {settings.local_copy} (as make data does)",
          file=log, flush=True)
    dest.mkdir(parents=True, exist_ok=True)
    get_data.from_shared(settings.local_copy, dest, output=log)
    return dest


@dataclass(frozen=True)
class DataSet:
    """How make homework finds one data set: its name, where a download puts it, how to
    tell a folder holds it, how to download it, the host that must answer first."""
    name: str
    default: Path
    present: Callable[[Path], bool]
    download: Callable[[], None]
    host: str
    layout: str  # what the folder must hold, in the messages


def find_data(settings: Settings, log, data: DataSet) -> Path:
    """The first folder holding `data`; else built from the local copy, or downloaded."""
    looked = data_candidates(settings, data.default)
    for folder in looked:
        if data.present(folder):
            return folder
    tried = "no download: --no-download"
    if settings.download and settings.local_copy is not None:
        return build_from_local_copy(settings, log)
    if settings.download:
        if online(data.host):
            data.download()
            if data.present(data.default):
                return data.default
            tried = "the download ran but left no data, see the log"
        else:
            tried = f"offline: could not reach {data.host} to download {data.name}"
    raise DataMissingError(missing_data_message(data.name, looked, data.layout, tried))


def find_cifar(settings: Settings, log) -> Path:
    """The folder holding cifar-10-batches-py/ or the archive."""
    return find_data(settings, log, DataSet(
        "CIFAR-10", ROOT / "neuralnet", _has_cifar, lambda: _download_cifar(log),
        CIFAR_URL_HOST, f"{CIFAR_FOLDER}/ or {CIFAR_ARCHIVE}"))


def find_fmnist(settings: Settings, log) -> Path:
    """The torchvision root holding FashionMNIST/raw/."""
    return find_data(settings, log, DataSet(
        "Fashion-MNIST", FMNIST_DEFAULT_ROOT, _has_fmnist,
        lambda: _download_fmnist(settings, log), "github.com",
        "FashionMNIST/raw/ (the four idx files)"))


def make_smoke_data(settings: Settings, needs: set[str]) -> None:
    """Tiny generated CIFAR-10 / Fashion-MNIST (real file formats) under <results>/data."""
    data = settings.results / "data"
    if "cifar" in needs and settings.cifar_dir is None:
        if not _has_cifar(data):
            student_module("fake_cifar10").write_fake_cifar10(data, **SMOKE_CIFAR)
        settings.cifar_dir = data
    if "fmnist" in needs and settings.fmnist_root is None:
        from staff.reference.fake_fashion_mnist import write_fake_fashion_mnist
        if not _has_fmnist(data):
            write_fake_fashion_mnist(data, **SMOKE_FMNIST)
        settings.fmnist_root = data


def ensure_data(settings: Settings, needs: set[str], log) -> None:
    """Resolve (real) or generate (smoke) the data sets `needs` names, once per run."""
    if settings.smoke:
        make_smoke_data(settings, needs)
        return
    if "cifar" in needs and settings.cifar_dir is None:
        settings.cifar_dir = find_cifar(settings, log)
    if "fmnist" in needs and settings.fmnist_root is None:
        settings.fmnist_root = find_fmnist(settings, log)


def run_logged(cmd: list[str], log, cwd: Path = ROOT, env: dict | None = None) -> None:
    """Run cmd with stdout+stderr appended to the open log file; StageError if it fails."""
    print(f"$ {' '.join(cmd)}", file=log, flush=True)
    full_env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    full_env.update(env or {})
    proc = subprocess.run(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=full_env)
    if proc.returncode != 0:
        raise StageError(f"`{' '.join(cmd)}` exited with status {proc.returncode}")


def inject_parameters(nb, params: dict) -> None:
    """Add a cell overriding `params` right after the notebook's parameters cell."""
    import nbformat

    lines = [f"{name} = {value!r}" for name, value in params.items()]
    injected = "# Injected by staff/reference/homework.py\n"
    cell = nbformat.v4.new_code_cell(injected + "\n".join(lines))
    cell.metadata["tags"] = ["injected-parameters"]
    index = next((i for i, c in enumerate(nb.cells)
                  if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if index is None:
        raise StageError("the notebook has no cell tagged 'parameters' to override")
    nb.cells.insert(index + 1, cell)


def execute_notebook(source: Path, dest: Path, params: dict, env: dict, log,
                     timeout: int = 3600) -> None:
    """Execute `source` with nbclient (cwd = repository root) and save it to `dest`."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(source, as_version=4)
    if params:
        inject_parameters(nb, params)
    full_env = dict(os.environ, PYTHONUNBUFFERED="1", **env)
    full_env.pop("MPLBACKEND", None)  # the kernel's inline backend puts the figures in the cells
    # the kernel must be this interpreter (the .venv), whatever `python` is on PATH
    full_env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + full_env.get("PATH", "")
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(ROOT)}})
    print(f"executing {source} -> {dest} with {params or 'its own parameters'}", file=log,
          flush=True)
    try:
        client.execute(env=full_env, stdout=log, stderr=log)  # kernel's own chatter -> log
    except CellExecutionError as err:
        print(str(err), file=log, flush=True)
        # keep the committed notebook intact; the partial one helps debugging
        failed = log_dir_of(log) / f"{source.stem}.failed.ipynb"
        nbformat.write(nb, failed)
        raise StageError(f"a cell of {source.name} raised an error (executed notebook up to "
                         f"the error: {_display(failed)})") from None
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)


def log_dir_of(log) -> Path:
    """The folder of an open log file (where failed notebooks are kept)."""
    return Path(getattr(log, "name", ".")).resolve().parent


@dataclass
class Stage:
    name: str
    title: str
    inputs: list[Path]
    outputs: list[Path]
    run: Callable[[Settings, object], None]
    needs: set[str] = field(default_factory=set)
    result: Callable[[Settings], str] | None = None


def _rel(paths) -> list[Path]:
    return [ROOT / p for p in paths]


def _glob(patterns) -> list[Path]:
    return sorted(path for pattern in patterns for path in ROOT.glob(pattern))


def _read(path: Path) -> dict:
    return json.loads(path.read_text())


def _run_checks(settings: Settings, log) -> None:
    out = settings.results / "backprop.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w") as txt:
        for script in DRIVER_SCRIPTS:
            if not (ROOT / script).is_file():
                raise StageError(f"{script} is missing")
            print(f"==== python {script}", file=txt, flush=True)
            proc = subprocess.run([settings.python, str(ROOT / script)], cwd=ROOT,
                                  capture_output=True, text=True,
                                  env=dict(os.environ, MPLBACKEND="Agg"))
            txt.write(proc.stdout + proc.stderr)
            log.write(f"$ python {script}\n{proc.stdout}{proc.stderr}")
            log.flush()
            if proc.returncode != 0:
                raise StageError(f"`python {script}` exited with status {proc.returncode} "
                                 "(a check FAILED)")


def _train(config: str, with_pdf: bool):
    def run(settings: Settings, log) -> None:
        folder = settings.results / config
        folder.mkdir(parents=True, exist_ok=True)
        cmd = [settings.python, str(ROOT / "neuralnet/train.py"), "--config", config,
               "--data-dir", str(settings.cifar_dir),
               "--plot-file", str(folder / "plot.png"),
               "--checkpoint-file", str(folder / "checkpoint.npz"),
               "--summary-file", str(folder / "summary.json"), "--overwrite", "--no-progress"]
        if settings.smoke:
            cmd += SMOKE_TRAIN_ARGS
        run_logged(cmd, log)
        if with_pdf:  # the homework names the plot plot.pdf: same function, same numbers
            run_logged([settings.python, "-c", REPLOT_CODE, str(folder / "summary.json"),
                        str(folder / "plot.pdf")], log, cwd=ROOT / "neuralnet")
    return run


# Redraws train.py's plot from its summary.json with neuralnet/utils.py:plot_training.
REPLOT_CODE = """import json, sys
from utils import plot_training
s = json.load(open(sys.argv[1]))
plot_training(s["loss_history"], s["train_accuracy"], s["val_accuracy"], sys.argv[2],
              title=f"two-layer net, config {s['config']}")
print("wrote", sys.argv[2])
"""


def _test(settings: Settings, log) -> None:
    best = settings.results / "best"
    run_logged([settings.python, str(ROOT / "neuralnet/test.py"),
                "--checkpoint-file", str(best / "checkpoint.npz"),
                "--data-dir", str(settings.cifar_dir),
                "--json-file", str(best / "test.json"),
                *(SMOKE_TEST_ARGS if settings.smoke else ())], log)


def _notebook(part: str):
    def run(settings: Settings, log) -> None:
        source = ROOT / f"{part}.ipynb"
        results_dir = settings.results / part
        results_dir.mkdir(parents=True, exist_ok=True)
        env = {}
        if settings.fmnist_root is not None:
            env["HW4_DATA"] = str(settings.fmnist_root)
        if settings.in_place_notebooks:
            execute_notebook(source, source, {}, env, log)
        else:
            params = {"RESULTS_DIR": str(results_dir)}
            if settings.smoke:
                params.update(SMOKE=True, DOWNLOAD=False)
            if settings.fmnist_root is not None:
                params["DATA_ROOT"] = str(settings.fmnist_root)
            execute_notebook(source, settings.results / "notebooks" / source.name, params,
                             env, log)
    return run


def _report(settings: Settings, log) -> None:
    cmd = [settings.python, "-m", "staff.reference.report", "--results-dir",
           str(settings.results), "--output", str(settings.report_file)]
    if settings.smoke:
        cmd += ["--smoke", "--note", "SMOKE run: tiny generated data and a few iterations; "
                "the numbers mean nothing"]
    run_logged(cmd, log)


def _acc_result(relpath: str, key: str, label: str):
    def result(settings: Settings) -> str:
        return f"{label} {100 * _read(settings.results / relpath)[key]:.1f} %"
    return result


def _part2_result(settings: Settings) -> str:
    images = _read(settings.results / "part2/predictions.json")["images"]
    return ", ".join(f"{e['name']}: {e['top5'][0][0]}" for e in images)


def net_stages(r: Path) -> list[Stage]:
    """backprop, best, overfit and test: Sections 1 and 2 of the homework."""
    train_sources = _rel((*NET_SOURCES, "neuralnet/train.py"))
    return [
        Stage("backprop", "backprop driver + gradient checks", _glob(BACKPROP_SOURCES),
              [r / "backprop.txt"], _run_checks,
              result=lambda s: f"{len(DRIVER_SCRIPTS)} scripts PASS"),
        Stage("best", "two-layer net, best config", train_sources,
              [r / "best" / n for n in ("checkpoint.npz", "checkpoint.preprocessing.npz",
                                        "plot.png", "plot.pdf", "summary.json")],
              _train("best", with_pdf=True), {"cifar"},
              _acc_result("best/summary.json", "final_val_accuracy", "val acc")),
        Stage("overfit", "two-layer net, overfitting config", train_sources,
              [r / "overfit" / n for n in ("checkpoint.npz", "plot.png", "summary.json")],
              _train("overfit", with_pdf=False), {"cifar"},
              _acc_result("overfit/summary.json", "final_train_accuracy", "train acc")),
        Stage("test", "test.py once on the best net",
              [*_rel((*NET_SOURCES, "neuralnet/test.py")), r / "best/checkpoint.npz",
               r / "best/checkpoint.preprocessing.npz"],
              [r / "best/test.json"], _test, {"cifar"},
              _acc_result("best/test.json", "test_accuracy", "test acc")),
    ]


def notebook_and_report_stages(settings: Settings) -> list[Stage]:
    """part1, part2 (the notebooks) and the write-up, which shows every graded file."""
    from staff.reference.report import REQUIRED_OUTPUTS

    r = settings.results
    executed = [ROOT / f"{part}.ipynb" if settings.in_place_notebooks
                else r / "notebooks" / f"{part}.ipynb" for part in ("part1", "part2")]
    code = [p for name, p in GRADED_FILES.items() if name.endswith(".py")]
    return [
        Stage("part1", "part1.ipynb, Fashion-MNIST CNN", _rel(("part1.ipynb",)),
              [r / "part1" / n for n in ("summary.json", "curves.png", "confusion.png",
                                         "misclassified.png", "samples.png")],
              _notebook("part1"), {"fmnist"},
              _acc_result("part1/summary.json", "test_accuracy", "test acc")),
        Stage("part2", "part2.ipynb, pretrained classifier", _rel(("part2.ipynb",)),
              [r / "part2" / n for n in ("predictions.json", "img1.png", "img2.png")],
              _notebook("part2"), set(), _part2_result),
        Stage("report", "write-up",
              [*_rel(("staff/reference/report.py", "staff/reference/f4_graph.py", "writeup.md",
                      *code)),
               *_glob(("handin/writeup*.py",)),
               *executed, *(r / p for p in REQUIRED_OUTPUTS)],
              [settings.report_file], _report, result=lambda s: _display(s.report_file)),
    ]


def build_stages(settings: Settings) -> list[Stage]:
    """The homework's stages in order, or only those named by settings.only."""
    stages = [*net_stages(settings.results), *notebook_and_report_stages(settings)]
    names = [s.name for s in stages]
    unknown = set(settings.only) - set(names)
    if unknown:
        raise SystemExit(f"unknown stage(s) {sorted(unknown)}; stages: {', '.join(names)}")
    return [s for s in stages if not settings.only or s.name in settings.only]


def why_stale(stage: Stage) -> str | None:
    """Why the stage must run (make's rule: a missing output or an input newer than the
    oldest output), or None when it is up to date. Absent inputs are ignored."""
    missing = [p for p in stage.outputs if not p.exists()]
    if missing:
        return f"{_display(missing[0])} is missing"
    oldest = min(p.stat().st_mtime_ns for p in stage.outputs)
    newer = [p for p in stage.inputs if p.exists() and p.stat().st_mtime_ns > oldest]
    return f"{_display(newer[0])} is newer than its outputs" if newer else None


def execute(settings: Settings, stage: Stage, log) -> None:
    """Run the stage and check its outputs; on any failure delete them, so that a later
    run cannot take half-written outputs for up-to-date ones."""
    try:
        stage.run(settings, log)
        missing = [p for p in stage.outputs if not p.exists()]
        if missing:
            raise StageError("it finished but did not write "
                             + ", ".join(_display(p) for p in missing))
    except BaseException:
        for path in stage.outputs:
            path.unlink(missing_ok=True)
        raise
    for path in stage.outputs:  # newer than anything it read or rewrote (part1.ipynb in place)
        os.utime(path)


def _display(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def tail(path: Path, n: int = LOG_TAIL_LINES) -> str:
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    return "\n".join("    " + line for line in lines[-n:])


def record_time(settings: Settings, stage: Stage, seconds: float, status: str) -> None:
    """Keep the stage's wall time in <results>/timings.json."""
    path = settings.results / "timings.json"
    timings = _read(path) if path.is_file() else {}
    timings[stage.name] = {"seconds": round(seconds, 2), "status": status}
    path.write_text(json.dumps(timings, indent=1))


def result_line(settings: Settings, stage: Stage) -> str:
    """The stage's headline number, e.g. "  val acc 51.2 %" ("" when there is none)."""
    try:
        return "  " + stage.result(settings) if stage.result else ""
    except (OSError, KeyError, IndexError, TypeError, ValueError):
        return ""


def run_stage(settings: Settings, stage: Stage, why: str, out) -> bool:
    """Run one stage with its log in <results>/logs/; print PASS or FAIL and why."""
    log_path = settings.results / "logs" / f"{stage.name}.log"
    start = time.perf_counter()
    try:
        with open(log_path, "w") as log:
            print(f"# stage {stage.name}: runs because {why}", file=log, flush=True)
            ensure_data(settings, stage.needs, log)
            execute(settings, stage, log)
    except DataMissingError as err:
        print(f"FAIL  {time.perf_counter() - start:7.1f} s", file=out, flush=True)
        print(f"\nmake homework stopped at stage '{stage.name}': {err}", file=out, flush=True)
        return False
    except (StageError, OSError) as err:
        seconds = time.perf_counter() - start
        record_time(settings, stage, seconds, "FAIL")
        print(f"FAIL  {seconds:7.1f} s", file=out, flush=True)
        print(f"\nmake homework stopped at stage '{stage.name}' ({stage.title}): {err}.\n"
              f"Last lines of its log {_display(log_path)}:\n{tail(log_path)}\n"
              f"The earlier stages' results are kept in {_display(settings.results)}/; "
              "fix the problem and rerun: up-to-date stages are skipped.", file=out, flush=True)
        return False
    seconds = time.perf_counter() - start
    record_time(settings, stage, seconds, "PASS")
    print(f"PASS  {seconds:7.1f} s{result_line(settings, stage)}", file=out, flush=True)
    return True


def run_stages(settings: Settings, stages: list[Stage], out=sys.stdout) -> int:
    """Run (or skip) every stage in order; 0 when all succeed, 1 at the first failure."""
    (settings.results / "logs").mkdir(parents=True, exist_ok=True)
    width = max(len(s.name) for s in stages)
    start = time.perf_counter()
    for k, stage in enumerate(stages, 1):
        head = f"[{k}/{len(stages)}] {stage.name:<{width}}  {stage.title:<36}"
        why = "of --force" if settings.force else why_stale(stage)
        if why is None:
            print(f"{head} skipped (up to date)", file=out, flush=True)
            continue
        print(f"{head} ", end="", file=out, flush=True)
        if not run_stage(settings, stage, why, out):
            return 1
    report = ("; write-up " + _display(settings.report_file)
              if any(s.name == "report" for s in stages) else "")
    print(f"make homework: all {len(stages)} stages done in {time.perf_counter() - start:.1f} s;"
          f" outputs in {_display(settings.results)}/{report}", file=out, flush=True)
    return 0


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=module_prog(__spec__),
        description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help="tiny generated data and a few iterations (outputs: results/smoke/)")
    parser.add_argument("--force", action="store_true", help="rerun every stage")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="folder holding cifar-10-batches-py/ (or the .tar.gz) and "
                             "FashionMNIST/raw/ (default: $HW4_DATA, then each task's folder)")
    parser.add_argument("--results-dir", type=Path, default=None,
                        help="where the outputs go (default: results/, or results/smoke/)")
    parser.add_argument("--no-download", action="store_true",
                        help="never download data; fail with a message instead")
    parser.add_argument("--only", nargs="+", default=(), metavar="STAGE",
                        help="run only these stages (still skipped when up to date)")
    return parser.parse_args(argv)


def _truthy_env(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "yes", "true", "on"}


def main(argv=None) -> int:
    args = parse_args(argv)
    smoke = args.smoke or _truthy_env("SMOKE")
    results = args.results_dir or (SMOKE_RESULTS if smoke else DEFAULT_RESULTS)
    settings = Settings(results=Path(results).resolve(), smoke=smoke,
                        force=args.force or _truthy_env("FORCE"), data_dir=args.data_dir,
                        download=not args.no_download, only=tuple(args.only))
    stages = build_stages(settings)
    mode = "SMOKE (generated data)" if smoke else "real data"
    plural = "s" if len(stages) != 1 else ""
    print(f"make homework: {len(stages)} stage{plural}, {mode}, outputs in "
          f"{_display(settings.results)}/" + (" (--force)" if settings.force else ""), flush=True)
    return run_stages(settings, stages)


if __name__ == "__main__":
    sys.exit(main())
