"""Helpers for the staff tests: build notebooks, submission folders and zips (good and bad)."""

import base64
import stat
import struct
import zipfile
import zlib
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from handin import notebooks as grade_notebooks

ROOT = Path(__file__).resolve().parents[2]
STAFF_DIR = ROOT / "staff"

PY_FILES = {
    "functions.py": "backprop/functions.py",
    "layers.py": "neuralnet/layers.py",
    "train.py": "neuralnet/train.py",
    "two_layer_net.py": "neuralnet/two_layer_net.py",
}
TINY_PNG = (  # a valid 1x1 PNG, base64 (too small to be a real figure)
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def stream(text):
    return new_output("stream", name="stdout", text=text)


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_base64(width=96, height=72):
    """A valid RGB PNG of width x height pixels (a color gradient), base64 as notebooks hold it."""
    rows = b"".join(b"\0" + bytes(v for x in range(width)
                                  for v in (x * 255 // width, y * 255 // height, 128))
                    for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b""))
    return base64.b64encode(data).decode()


def image_output(png=None):
    """A displayed figure (default: a real 96x72 PNG)."""
    return new_output("display_data", data={"image/png": png or png_base64(),
                                            "text/plain": "<Figure>"})


def notebook(outputs_per_cell, executed=True):
    """A valid notebook with one code cell per entry of `outputs_per_cell` (lists of outputs)."""
    cells = [new_markdown_cell("# Homework")]
    for i, outputs in enumerate(outputs_per_cell, start=1):
        cell = new_code_cell(f"print({i})", outputs=list(outputs))
        cell.execution_count = i if executed else None
        cells.append(cell)
    return nbformat.writes(new_notebook(cells=cells))


def starter_run(name, outputs, executed=True):
    """
    The repository's notebook `name` as a student hands it in: the starter's cells (same ids)
    run in order, with `outputs` (cell id -> list of outputs) and a short stream in every
    other cell that always shows one. executed=False: not run, no outputs.
    """
    nb = nbformat.read(ROOT / name, as_version=4)
    spec = grade_notebooks.SPECS[name]
    cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    for count, cell in enumerate(cells, start=1):
        default = [stream("ok\n")] if cell.get("id") in spec.with_outputs else []
        cell.outputs = list(outputs.get(cell.get("id"), default)) if executed else []
        cell.execution_count = count if executed else None
    return nbformat.writes(nb)


def part1_text(accuracy=0.9):
    """part1 notebook text that ran and reports `accuracy` (None: no accuracy line)."""
    line = "the evaluation was skipped\n" if accuracy is None else (
        f"TEST ACCURACY: {accuracy:.4f} ({round(accuracy * 10000)}/10000), test loss 0.3000\n")
    return starter_run("part1.ipynb", {grade_notebooks.PART1.key_cells[0]: [stream(line)]})


def part2_text(images=2):
    """part2 notebook text whose first `images` display cells show an image and its top-5."""
    outputs = {}
    for i, cell_id in enumerate(grade_notebooks.PART2.key_cells, start=1):
        outputs[cell_id] = [] if i > images else [stream(
            f"tabby cat                  {80 + i:.2f}%\ntiger cat                  10.10%\n"),
            image_output()]
    return starter_run("part2.ipynb", outputs)


def unrun_notebook_text(name="part1.ipynb"):
    return starter_run(name, {}, executed=False)


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


def original_solution(name):
    """The four graded .py files of the whole original-style solution `name` (the mistakes
    corpus's SOLUTIONS, in staff/corpus/original_solutions/), as dict file name -> text."""
    folder = STAFF_DIR / "corpus" / "original_solutions" / name
    return {path.name: path.read_text() for path in sorted(folder.glob("*.py"))}


# The original starter's stubs: functions that return None (or tuples of None) where the
# student has not written anything yet.
ORIGINAL_STUBS = {
    "functions.py": "def f3(s1, s2, y):\n    L, grads = None, None\n    return L, grads\n",
    "layers.py": (
        "def fc_forward(x, w, b):\n    out, cache = None, None\n    return out, cache\n\n\n"
        "def fc_backward(grad_out, cache):\n    return None, None, None\n\n\n"
        "def relu_forward(x):\n    return None, None\n\n\n"
        "def relu_backward(grad_out, cache):\n    return None\n\n\n"
        "def softmax_loss(x, y):\n    return None, None\n\n\n"
        "def l2_regularization(w, reg):\n    return None, None\n"),
    "two_layer_net.py": (
        "from classifier import Classifier\n\n\nclass TwoLayerNet(Classifier):\n"
        "    def __init__(self, input_dim=3072, num_classes=10, hidden_dim=512,\n"
        "                 weight_scale=1e-3):\n        pass\n\n"
        "    def parameters(self):\n        params = None\n        return params\n\n"
        "    def forward(self, X):\n        return None, None\n\n"
        "    def backward(self, grad_scores, cache):\n        return None\n"),
    "train.py": ("def training_step(model, X_batch, y_batch, reg):\n"
                 "    loss, grads = None, None\n    return loss, grads\n"),
}
