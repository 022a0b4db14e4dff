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


# Solutions written against the ORIGINAL starter's API, the way students of the course wrote
# them: f3 with math.exp as the graph is drawn, softmax with -log(prob), TwoLayerNet weights
# as attributes behind parameters(), fc_backward(grad_out, cache), f4 left as its stub,
# `import sklearn` at the top of train.py. Each earns every code point.
ORIGINAL_FUNCTIONS = '''\
import math

import numpy as np


def f1(x1, w1, x2, w2, b, y):
    a1 = x1 * w1
    a2 = x2 * w2
    y_hat = a1 + a2 + b
    d = y_hat - y
    L = d ** 2
    grad_d = 2 * d
    grad_y_hat = grad_d
    grad_y = -grad_d
    return L, (grad_y_hat * w1, grad_y_hat * x1, grad_y_hat * w2, grad_y_hat * x2,
               grad_y_hat, grad_y)


def f2(x):
    d = 2 * x
    e = math.exp(d)
    t = e - 1
    b = e + 1
    y = t / b
    grad_t = 1 / b
    grad_b = -t / b ** 2
    grad_e = grad_t + grad_b
    grad_d = grad_e * e
    return y, (grad_d * 2,)


def f3(s1, s2, y):
    e1 = math.exp(s1)
    e2 = math.exp(s2)
    d = e1 + e2
    p1 = e1 / d
    p2 = e2 / d
    if y == 1:
        p = p1
    else:
        p = p2
    L = -math.log(p)

    grad_p = -1 / p
    grad_p1 = grad_p if y == 1 else 0
    grad_p2 = grad_p if y == 2 else 0
    grad_e1 = grad_p1 / d
    grad_e2 = grad_p2 / d
    grad_d = -grad_p1 * e1 / d ** 2 - grad_p2 * e2 / d ** 2
    grad_e1 += grad_d
    grad_e2 += grad_d
    grad_s1 = grad_e1 * e1
    grad_s2 = grad_e2 * e2
    return L, (grad_s1, grad_s2)


def f3_y1(s1, s2):
    return f3(s1, s2, 1)


def f3_y2(s1, s2):
    return f3(s1, s2, 2)


def f4():
    pass
'''

ORIGINAL_LAYERS = '''\
import numpy as np


def fc_forward(x, w, b):
    out = x.dot(w) + b
    cache = (x, w, b)
    return out, cache


def fc_backward(grad_out, cache):
    x, w, b = cache
    grad_x = grad_out.dot(w.T)
    grad_w = x.T.dot(grad_out)
    grad_b = np.sum(grad_out, axis=0)
    return grad_x, grad_w, grad_b


def relu_forward(x):
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(grad_out, cache):
    x = cache
    grad_x = grad_out.copy()
    grad_x[x <= 0] = 0
    return grad_x


def l2_loss(x, y):
    N = x.shape[0]
    diff = x - y
    loss = 0.5 * np.sum(diff * diff) / N
    grad_x = diff / N
    return loss, grad_x


def softmax_loss(x, y):
    N = x.shape[0]
    shifted = x - np.max(x, axis=1, keepdims=True)
    exp_scores = np.exp(shifted)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    loss = -np.sum(np.log(probs[range(N), y])) / N
    grad_x = probs.copy()
    grad_x[range(N), y] -= 1
    grad_x /= N
    return loss, grad_x


def l2_regularization(w, reg):
    loss = 0.5 * reg * np.sum(w * w)
    grad_w = reg * w
    return loss, grad_w
'''

ORIGINAL_TWO_LAYER_NET = '''\
import numpy as np
from classifier import Classifier
from layers import fc_backward, fc_forward, relu_backward, relu_forward


class TwoLayerNet(Classifier):
    def __init__(self, input_dim=3072, num_classes=10, hidden_dim=512, weight_scale=1e-3):
        self.W1 = weight_scale * np.random.randn(input_dim, hidden_dim)
        self.b1 = np.zeros(hidden_dim)
        self.W2 = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.b2 = np.zeros(num_classes)

    def parameters(self):
        params = {"W1": self.W1, "b1": self.b1, "W2": self.W2, "b2": self.b2}
        return params

    def forward(self, X):
        h, cache1 = fc_forward(X, self.W1, self.b1)
        h, cache2 = relu_forward(h)
        scores, cache3 = fc_forward(h, self.W2, self.b2)
        cache = (cache1, cache2, cache3)
        return scores, cache

    def backward(self, grad_scores, cache):
        cache1, cache2, cache3 = cache
        grad_h, grad_W2, grad_b2 = fc_backward(grad_scores, cache3)
        grad_h = relu_backward(grad_h, cache2)
        grad_X, grad_W1, grad_b1 = fc_backward(grad_h, cache1)
        grads = {"W1": grad_W1, "b1": grad_b1, "W2": grad_W2, "b2": grad_b2}
        return grads
'''

ORIGINAL_TRAIN = '''\
import numpy as np
import sklearn  # noqa: F401 -- the course's environment had it; students imported it
from layers import l2_regularization, softmax_loss
from two_layer_net import TwoLayerNet


def training_step(model, X_batch, y_batch, reg):
    scores, cache = model.forward(X_batch)
    loss, grad_scores = softmax_loss(scores, y_batch)
    grads = model.backward(grad_scores, cache)
    for name, param in model.parameters().items():
        if param.ndim == 2:
            reg_loss, reg_grad = l2_regularization(param, reg)
            loss += reg_loss
            grads[name] += reg_grad
    return loss, grads


def main():
    model = TwoLayerNet(3072, 10, 512, 1e-3)
    print(model)


if __name__ == "__main__":
    main()
'''

ORIGINAL_API = {"functions.py": ORIGINAL_FUNCTIONS, "layers.py": ORIGINAL_LAYERS,
                "two_layer_net.py": ORIGINAL_TWO_LAYER_NET, "train.py": ORIGINAL_TRAIN}


def renamed_net(keys, dtype="np.float64"):
    """The original-API TwoLayerNet with its attributes and keys renamed (W1 -> keys[0],
    ...) and its arrays created in `dtype`."""
    text = ORIGINAL_TWO_LAYER_NET
    for old, new in zip(("W1", "b1", "W2", "b2"), keys, strict=True):
        text = text.replace(f"self.{old}", f"self.{new}").replace(f'"{old}"', f'"{new}"')
    for old, new in (("np.random.randn(input_dim, hidden_dim)",
                      f"np.random.randn(input_dim, hidden_dim).astype({dtype})"),
                     ("np.random.randn(hidden_dim, num_classes)",
                      f"np.random.randn(hidden_dim, num_classes).astype({dtype})"),
                     ("np.zeros(hidden_dim)", f"np.zeros(hidden_dim, dtype={dtype})"),
                     ("np.zeros(num_classes)", f"np.zeros(num_classes, dtype={dtype})")):
        assert old in text
        text = text.replace(old, new)
    return text


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
