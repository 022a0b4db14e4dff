"""Build the student starter kit from the reference: copy, transform, zip.

Copies the student-facing part of this repository (SHIPPED, minus SKIPPED_NAMES,
SKIPPED_SUFFIXES and NOT_SHIPPED_FILES) and removes the solutions:
  * .py files outside tests/ and handin/: each solution region becomes a stub
    (staff/starter/regions.py); neuralnet/train.py ships its hyperparameter block as it is;
  * notebooks: regions stubbed, outputs cleared (staff/starter/notebooks.py), and
    python_backup/ regenerated from them;
  * requirements files: lines that name staff/ are dropped;
  * the student README.md, Makefile and pyproject.toml come from staff/starter_files/.
build(root, out, strip=False) lays out the same files with the solutions kept.
"""

import shutil
import zipfile
from pathlib import Path

from staff.starter.notebooks import strip_notebook
from staff.starter.regions import StarterError, strip_python

ROOT = Path(__file__).resolve().parents[2]
STARTER_FILES_DIR = ROOT / "staff" / "starter_files"
STAMP = ".hw4-starter"  # marks a folder this tool wrote (so --out may replace it)

SHIPPED = (  # paths relative to the root; folders are copied recursively (minus SKIPPED)
    "backprop", "neuralnet", "tests", "handin", "part1.ipynb", "part2.ipynb", "writeup.md",
    "requirements.txt", "requirements-dev.txt", ".gitignore",
)
STARTER_FILES = ("README.md", "Makefile", "pyproject.toml")  # from staff/starter_files/
SKIPPED_NAMES = {"__pycache__", ".ipynb_checkpoints", ".cache", "results", "checkpoints", "data",
                 "cifar-10-batches-py", "FashionMNIST", ".DS_Store"}
SKIPPED_SUFFIXES = (".pyc", ".npz", ".zip", ".tar.gz", ".pt", ".pth", ".json", ".pdf", ".png")


def is_skipped(relative):
    parts = Path(relative).parts
    if any(part in SKIPPED_NAMES for part in parts):
        return True
    return relative.endswith(SKIPPED_SUFFIXES)


def shipped_files(root):
    """Relative POSIX paths of the reference files that go into the starter (sorted)."""
    found = []
    for item in SHIPPED:
        path = root / item
        if path.is_file():
            found.append(item)
        elif path.is_dir():
            for sub in sorted(path.rglob("*")):
                relative = sub.relative_to(root).as_posix()
                if sub.is_file() and not sub.is_symlink() and not is_skipped(relative):
                    found.append(relative)
    return sorted(found)


def drop_staff_requirements(text):
    """A requirements file without what only staff tools need: a line that names staff/
    (`-r staff/...`, or a package whose comment points there), with the comment lines
    right above it."""
    out = []
    for line in text.splitlines(keepends=True):
        if "staff/" in line:
            while out and out[-1].lstrip().startswith("#"):
                out.pop()
        else:
            out.append(line)
    return "".join(out)


def transform(relative, data, regions, strip=True):
    """
    The starter content of one file (bytes), collecting its Regions into `regions`.
    strip=False keeps the solutions (a reference copy laid out like the starter).
    """
    if relative.endswith(".py"):
        if not strip or relative.startswith(("tests/", "handin/")):
            return data
        text, found = strip_python(data.decode("utf-8"), relative)
        regions.extend(found)
        return text.encode()
    if Path(relative).name.startswith("requirements"):
        return drop_staff_requirements(data.decode("utf-8")).encode()
    if relative.endswith(".ipynb") and strip:
        text, found = strip_notebook(data.decode("utf-8"), relative)
        regions.extend(found)
        return text.encode()
    return data


def prepare_out(out):
    """Empty `out` if this tool made it (has the stamp); refuse to touch anything else."""
    if out.exists():
        if not (out / STAMP).is_file():
            raise StarterError(f"{out} exists and was not written by staff.starter; "
                               "remove it or choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / STAMP).write_text("written by python -m staff.starter; safe to delete\n")


def write_extras(out):
    """The student's README, Makefile and pyproject.toml."""
    for name in STARTER_FILES:
        shutil.copyfile(STARTER_FILES_DIR / name, out / name)


def regenerate_backups(out):
    """python_backup/partN.py from the starter notebooks (jupytext, as in the repository)."""
    notebooks = sorted(out.glob("part*.ipynb"))
    if not notebooks:
        return
    (out / "python_backup").mkdir(exist_ok=True)
    import jupytext

    for nb_path in notebooks:
        notebook = jupytext.read(nb_path)
        jupytext.write(notebook, out / "python_backup" / f"{nb_path.stem}.py", fmt="py:percent")


def build(root, out, strip=True):
    """Write the starter kit into `out`. Returns the Regions removed."""
    prepare_out(out)
    regions = []
    for relative in shipped_files(root):
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        data = (root / relative).read_bytes()
        target.write_bytes(transform(relative, data, regions, strip))
        shutil.copymode(root / relative, target)
    write_extras(out)
    if strip:
        regenerate_backups(out)
    return regions


def write_zip(folder, zip_path):
    """Zip `folder` under its own name, deterministic order and dates, modes kept."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    partial = zip_path.with_name(zip_path.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.name != STAMP:
                name = f"{folder.name}/{path.relative_to(folder).as_posix()}"
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = (path.stat().st_mode & 0o777 | 0o100000) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    partial.replace(zip_path)
