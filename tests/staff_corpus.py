"""Helpers for the staff tests: build notebooks, submission folders and zips (good and bad)."""

import shutil
import stat
import zipfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[1]
STAFF_DIR = ROOT / "staff"

PY_FILES = {
    "functions.py": "backprop/functions.py",
    "layers.py": "neuralnet/layers.py",
    "train.py": "neuralnet/train.py",
    "two_layer_net.py": "neuralnet/two_layer_net.py",
}
TINY_PNG = (  # a valid 1x1 PNG, base64
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def stream(text):
    return new_output("stream", name="stdout", text=text)


def image_output():
    return new_output("display_data", data={"image/png": TINY_PNG, "text/plain": "<Figure>"})


def notebook(outputs_per_cell, executed=True):
    """A valid notebook with one code cell per entry of `outputs_per_cell` (lists of outputs)."""
    cells = [new_markdown_cell("# Homework")]
    for i, outputs in enumerate(outputs_per_cell, start=1):
        cell = new_code_cell(f"print({i})", outputs=list(outputs))
        cell.execution_count = i if executed else None
        cells.append(cell)
    return nbformat.writes(new_notebook(cells=cells))


def part1_text(accuracy=0.9):
    """part1 notebook text that ran and reports `accuracy` (None: no accuracy line)."""
    outputs = [[stream("epoch 1: loss 0.5\n")], [stream("training done\n")]]
    if accuracy is not None:
        outputs.append([stream(f"Test accuracy: {accuracy * 100:.2f}%\n")])
    return notebook(outputs)


def part2_text(images=2):
    """part2 notebook text showing `images` images, each with its top-5 predictions."""
    outputs = []
    for i in range(1, images + 1):
        outputs.append([image_output(), stream(
            f"img{i} top-5 predictions:\n  tabby cat: 0.812\n  tiger cat: 0.101\n")])
    return notebook(outputs or [[stream("nothing\n")]])


def unrun_notebook_text():
    return notebook([[], []], executed=False)


def tiny_sources():
    """Stand-ins for the four .py files (for tests of the layout, not of the code)."""
    return {name: f"# {name}\nVALUE = 1\n" for name in PY_FILES}


def write_submission_dir(folder, overrides=None, omit=(), root=ROOT, tiny=False):
    """
    Write the six graded files into `folder`: reference .py files from `root` (or tiny
    stand-ins, or texts from `overrides`), part1/part2 notebooks that ran. Returns the folder.
    """
    overrides = dict(overrides or {})
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    defaults = {"part1.ipynb": part1_text(), "part2.ipynb": part2_text()}
    for name, relative in PY_FILES.items():
        defaults[name] = tiny_sources()[name] if tiny else (root / relative).read_text()
    for name, text in {**defaults, **overrides}.items():
        if name in omit:
            continue
        (folder / name).write_text(text)
    return folder


def zip_folder(folder, zip_path, arcroot=None):
    """Zip `folder` so its files sit under arcroot/ (default: the folder's name)."""
    folder = Path(folder)
    arcroot = arcroot if arcroot is not None else folder.name
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                relative = path.relative_to(folder).as_posix()
                archive.write(path, f"{arcroot}/{relative}" if arcroot else relative)
    return Path(zip_path)


def make_submission_zip(tmp_path, name="jdoe", overrides=None, omit=(), tiny=False):
    """A complete submission zip (reference code) with optional changed/missing files."""
    folder = write_submission_dir(tmp_path / "src" / name, overrides, omit, tiny=tiny)
    return zip_folder(folder, tmp_path / f"{name}.zip")


def add_entry(zip_path, name, data=b"x", attr=None):
    """Append a raw entry to a zip (for malicious archives)."""
    with zipfile.ZipFile(zip_path, "a") as archive:
        info = zipfile.ZipInfo(name)
        if attr is not None:
            info.external_attr = attr << 16
        archive.writestr(info, data)


def add_encrypted_flag_entry(zip_path, name):
    """Append an entry whose headers carry the 'encrypted' flag bit (zipfile cannot encrypt)."""
    add_entry(zip_path, name, b"secret")
    data = bytearray(Path(zip_path).read_bytes())
    encoded = name.encode()
    for signature, flag_offset, name_offset in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            if data[start + name_offset:start + name_offset + len(encoded)] == encoded:
                data[start + flag_offset] |= 0x1
            start += 4
    Path(zip_path).write_bytes(bytes(data))


def symlink_attr():
    return stat.S_IFLNK | 0o777


def copy_tree(src, dst):
    shutil.copytree(src, dst)
    return Path(dst)
