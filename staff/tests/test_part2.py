"""Tests for part2.ipynb / python_backup/part2.py (pretrained ImageNet classifier).

The functions are tested without running the notebook's demonstration: `part2` (below) runs
only the code cells of python_backup/part2.py that are not tagged `demo`, in a fresh module.
The whole notebook is executed once, headless, in `test_notebook_executes_headless`.
"""

import json
import sys
import urllib.error

import jupytext
import nbformat
import numpy as np
import pytest
import skimage.data
import torch
from kit import ROOT, run_script
from PIL import Image

from staff.reference.notebook_code import load_as_module

NOTEBOOK = ROOT / "part2.ipynb"
BACKUP = ROOT / "python_backup" / "part2.py"
CAT_CLASSES = {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}

pytestmark = pytest.mark.torch


def load_part2_functions(path=BACKUP):
    """Run the non-demo code cells of the jupytext script in a fresh module; return it."""
    return load_as_module(path, "part2")


@pytest.fixture(scope="module")
def part2():
    module = load_part2_functions()
    module.DEVICE = "cpu"
    return module


@pytest.fixture(scope="module")
def chelsea():
    return skimage.data.chelsea()  # (300, 451, 3) uint8


def probs_of(part2, image):
    """All 1000 (label, prob) pairs of an image, as a dict label -> prob."""
    return dict(part2.predict(image, k=1000))


def assert_same_prediction(a, b, tol=1e-4):
    assert a.keys() == b.keys()
    assert max(abs(a[key] - b[key]) for key in a) < tol


def test_idx2label_has_1000_distinct_names(part2):
    assert sorted(part2.idx2label) == list(range(1000))
    assert len(set(part2.idx2label.values())) == 1000
    assert part2.idx2label[281] == "tabby"


def test_find_label_searches_case_insensitively(part2):
    assert part2.find_label("tabby") == {281: "tabby"}
    assert part2.find_label("ESPRESSO") == {550: "espresso maker", 967: "espresso"}
    assert set(part2.find_label("cat")) >= {282, 283, 284, 285}
    assert part2.find_label("no such class") == {}


def test_chelsea_is_a_cat_with_high_confidence(part2, chelsea):
    top = part2.predict(chelsea)
    assert len(top) == 5
    assert top[0][0] in CAT_CLASSES
    assert sum(p for label, p in top if label in CAT_CLASSES) > 0.8


def test_coffee_is_espresso_or_cup(part2):
    (label, prob), *_ = part2.predict(skimage.data.coffee(), k=1)
    assert label in {"espresso", "cup"}
    assert prob > 0.8


def test_predict_returns_sorted_probabilities(part2, chelsea):
    top = part2.predict(chelsea, k=10)
    probs = [p for _, p in top]
    assert len(top) == 10 and all(isinstance(label, str) for label, _ in top)
    assert probs == sorted(probs, reverse=True)
    assert 0 < sum(probs) <= 1 + 1e-6
    assert abs(sum(probs_of(part2, chelsea).values()) - 1) < 1e-4


def test_preprocess_gives_224_crop_in_minus_one_one(part2):
    img = Image.new("RGB", (300, 200), (255, 0, 128))
    x = part2.preprocess(img)
    assert x.shape == (3, 224, 224) and x.dtype == torch.float32
    assert torch.allclose(x[:, 0, 0], torch.tensor([1.0, -1.0, 128 / 127.5 - 1]), atol=1e-6)


def test_path_pil_and_array_give_the_same_prediction(part2, chelsea, tmp_path):
    path = tmp_path / "chelsea.png"
    Image.fromarray(chelsea).save(path)
    expected = probs_of(part2, chelsea)
    for image in (str(path), path, Image.open(path), Image.fromarray(chelsea)):
        assert_same_prediction(probs_of(part2, image), expected)


def test_any_size_works(part2, rng):
    for shape in ((5, 3, 3), (31, 700, 3), (1000, 250, 3)):
        top = part2.predict(rng.integers(0, 256, size=shape, dtype=np.uint8))
        assert len(top) == 5


def test_skimage_source_names(part2, chelsea):
    assert np.array_equal(np.asarray(part2.to_rgb_image("skimage:chelsea")), chelsea)
    with pytest.raises(ValueError, match="no_such_image"):
        part2.to_rgb_image("skimage:no_such_image")


def gray_chelsea(chelsea):
    return np.asarray(Image.fromarray(chelsea).convert("L"))  # (H, W) uint8


def test_grayscale_is_converted_to_rgb(part2, chelsea, tmp_path):
    gray = gray_chelsea(chelsea)
    expected = np.repeat(gray[:, :, None], 3, axis=2)
    path = tmp_path / "gray.png"
    Image.fromarray(gray).save(path)
    for image in (gray, gray[:, :, None], Image.fromarray(gray), path,
                  Image.fromarray(gray).convert("1")):
        rgb = part2.to_rgb_image(image)
        assert rgb.mode == "RGB" and rgb.size == (451, 300)
        if not (isinstance(image, Image.Image) and image.mode == "1"):
            assert np.array_equal(np.asarray(rgb), expected)
    assert part2.predict(gray)[0][0] in CAT_CLASSES


def test_rgba_is_composited_onto_white(part2, chelsea, tmp_path):
    rgba = np.dstack([chelsea, np.full(chelsea.shape[:2], 255, np.uint8)])
    assert np.array_equal(np.asarray(part2.to_rgb_image(rgba)), chelsea)  # opaque: unchanged
    rgba[:, :100, 3] = 0  # left part fully transparent
    rgba[:, 100:200, 3] = 128  # half transparent
    path = tmp_path / "rgba.png"
    Image.fromarray(rgba).save(path)
    for image in (rgba, path, Image.open(path)):
        out = np.asarray(part2.to_rgb_image(image)).astype(int)
        assert np.all(out[:, :100] == 255)
        half = (chelsea[:, 100:200].astype(int) * 128 + 255 * 127) / 255
        assert np.abs(out[:, 100:200] - half).max() <= 1
        assert np.array_equal(out[:, 200:], chelsea[:, 200:])
    assert part2.predict(path)[0][0] in CAT_CLASSES


def test_palette_images(part2, chelsea, tmp_path):
    pal = Image.fromarray(chelsea).convert("P", palette=Image.Palette.ADAPTIVE, colors=256)
    path = tmp_path / "pal.png"
    pal.save(path)
    expected = np.asarray(pal.convert("RGB"))
    for image in (pal, path):
        assert np.array_equal(np.asarray(part2.to_rgb_image(image)), expected)
    assert part2.predict(path)[0][0] in CAT_CLASSES
    # a palette GIF whose colour 0 is transparent: those pixels become white
    small = Image.new("P", (4, 2), 0)
    small.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    small.putpixel((3, 1), 1)
    gif = tmp_path / "transparent.gif"
    small.save(gif, transparency=0)
    out = np.asarray(part2.to_rgb_image(gif))
    assert out[0, 0].tolist() == [255, 255, 255] and out[1, 3].tolist() == [255, 0, 0]


def test_16bit_images_are_scaled_not_clipped(part2, chelsea, tmp_path):
    gray = gray_chelsea(chelsea)
    gray16 = gray.astype(np.uint16) * 257  # the same picture with 16-bit depth
    path = tmp_path / "gray16.png"
    Image.fromarray(gray16).save(path)
    assert Image.open(path).mode == "I;16"
    expected = np.repeat(gray[:, :, None], 3, axis=2)
    for image in (gray16, path, Image.open(path), gray16.astype(np.int32)):
        assert np.array_equal(np.asarray(part2.to_rgb_image(image)), expected)
    rgb16 = chelsea.astype(np.uint16) * 257
    assert np.array_equal(np.asarray(part2.to_rgb_image(rgb16)), chelsea)
    assert part2.predict(gray16)[0][0] in CAT_CLASSES


def test_float_and_bool_arrays(part2, chelsea):
    as_float = chelsea / 255.0
    assert np.array_equal(np.asarray(part2.to_rgb_image(as_float)), chelsea)
    assert np.array_equal(np.asarray(part2.to_rgb_image(chelsea.astype(np.float32))), chelsea)
    mask = np.zeros((10, 12), bool)
    mask[:5] = True
    out = np.asarray(part2.to_rgb_image(mask))
    assert out[:5].min() == 255 and out[5:].max() == 0


def test_exif_orientation_is_honoured(part2, tmp_path):
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    img.paste((0, 0, 255), (20, 0, 40, 20))  # left half red, right half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = tmp_path / "phone.jpg"
    img.save(path, exif=exif, quality=95)
    for image in (path, Image.open(path)):
        out = np.asarray(part2.to_rgb_image(image)).astype(int)
        assert out.shape == (40, 20, 3)  # now portrait
        assert out[5, 10, 0] > 200 and out[5, 10, 2] < 60  # red on top
        assert out[35, 10, 2] > 200 and out[35, 10, 0] < 60  # blue at the bottom


def test_missing_path_names_the_file(part2, tmp_path):
    missing = tmp_path / "no_such_photo.jpg"
    with pytest.raises(FileNotFoundError, match="no_such_photo.jpg"):
        part2.predict(missing)
    with pytest.raises(FileNotFoundError, match="no_such_photo.jpg"):
        part2.predict(str(missing))


def test_folder_and_non_image_files(part2, tmp_path):
    with pytest.raises(ValueError, match="folder"):
        part2.predict(tmp_path)
    text = tmp_path / "notes.txt"
    text.write_text("this is not an image\n")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    for path in (text, empty):
        with pytest.raises(ValueError, match=path.name):
            part2.predict(path)


@pytest.mark.parametrize("fmt", ["png", "jpeg"])
def test_truncated_file(part2, chelsea, tmp_path, fmt):
    full = tmp_path / f"full.{fmt}"
    Image.fromarray(chelsea).save(full)
    cut = tmp_path / f"truncated.{fmt}"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(ValueError, match=r"truncated\." + fmt + ".*(truncated|corrupt)"):
        part2.predict(cut)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((0, 0, 3), np.uint8), "empty"),
    (np.zeros((0,)), "empty"),
    (np.zeros(10, np.uint8), "shape"),
    (np.zeros((2, 8, 8, 3), np.uint8), "shape"),
    (np.zeros((8, 8, 5), np.uint8), "shape"),
    (np.zeros((3, 32, 32), np.uint8), "channels-first"),
    (np.full((8, 8), np.nan), "NaN"),
    (np.full((8, 8), -1.0), "0..1"),
    (np.full((8, 8), 70000, np.int64), "0..65535"),
    (np.zeros((8, 8), complex), "dtype"),
])
def test_bad_arrays(part2, bad, message):
    with pytest.raises(ValueError, match=message) as info:
        part2.predict(bad)
    assert "numpy array" in str(info.value)


def test_bad_objects_and_k(part2, chelsea):
    with pytest.raises(ValueError, match="empty"):
        part2.predict(Image.new("RGB", (0, 0)))
    with pytest.raises(TypeError, match="no image"):
        part2.predict(None)
    with pytest.raises(TypeError, match="list"):
        part2.predict([[0, 0], [0, 0]])
    for k in (0, 1001, 2.5, True):
        with pytest.raises(ValueError, match="k must be"):
            part2.predict(chelsea, k=k)


def test_offline_model_loads_from_the_package(part2):
    model = part2.load_model("efficientnet-lite0", "cpu")
    assert model.name == "efficientnet-lite0" and not model.net.training
    assert 4e6 < sum(p.numel() for p in model.net.parameters()) < 5e6
    assert model.preprocessing == part2.PREPROCESSING


def test_download_failure_falls_back_to_offline_model(part2, monkeypatch, tmp_path, capsys):
    def no_network(*args, **kwargs):
        raise urllib.error.URLError("simulated: no network")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # no cached weights
    monkeypatch.setattr(torch.hub, "urlopen", no_network)
    model = part2.load_model("resnet18", "cpu")
    assert model.name == "efficientnet-lite0"
    err = capsys.readouterr().err
    assert "resnet18" in err and "simulated: no network" in err and "offline" in err
    assert part2.predict(skimage.data.coffee(), k=1, model=model)[0][0] == "espresso"


def test_unknown_model_name(part2):
    with pytest.raises(ValueError, match="no_such_net"):
        part2.load_model("no_such_net", "cpu")


def test_setup_cell_installs_only_missing_packages(monkeypatch):
    import importlib.util
    import subprocess

    cell = next(c for c in jupytext.read(BACKUP).cells if "REQUIRED_PACKAGES" in c.source)
    calls = []
    monkeypatch.setattr(subprocess, "check_call", lambda cmd: calls.append(cmd))
    exec(cell.source, {})
    assert calls == []  # everything is installed here
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name: None if name == "efficientnet_lite_pytorch" else real(name))
    exec(cell.source, {})
    assert calls == [[sys.executable, "-m", "pip", "install", "-q",
                      "efficientnet-lite-pytorch==0.1.0"]]


def test_backup_script_classifies_files(chelsea, tmp_path):
    cat = tmp_path / "cat.png"
    Image.fromarray(chelsea).save(cat)
    coffee = tmp_path / "coffee.jpg"
    Image.fromarray(skimage.data.coffee()).save(coffee)
    result = run_script(BACKUP, cat, coffee, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == str(cat) and lines[6] == str(coffee) and len(lines) == 12
    assert any(name in lines[1] for name in CAT_CLASSES)
    assert "espresso" in lines[7]
    assert not (tmp_path / "results").exists()  # classifying files runs no demo


def test_backup_script_reports_bad_files(tmp_path):
    result = run_script(BACKUP, tmp_path / "missing.jpg", cwd=tmp_path, timeout=120)
    assert result.returncode == 1
    assert "missing.jpg" in result.stderr and "Traceback" not in result.stderr


def test_backup_script_in_sync_with_notebook():
    expected = jupytext.writes(jupytext.read(NOTEBOOK), fmt="py:percent")
    assert BACKUP.read_text() == expected, (
        "python_backup/part2.py is out of date: run "
        "`jupytext --to py:percent part2.ipynb -o python_backup/part2.py`")


def test_committed_notebook_has_outputs_and_markers():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "run all cells before committing"
    demo = [c for c in code if "demo" in c.metadata.get("tags", [])]
    assert len(demo) >= 5
    assert all(c.outputs for c in demo if not c.source.startswith("# BEGIN SOLUTION: IMG1"))
    figures = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(figures) == 2
    assert NOTEBOOK.stat().st_size < 1_000_000
    for cell in code:
        begins = cell.source.count("# BEGIN SOLUTION")
        assert begins == cell.source.count("# END SOLUTION")
    assert sum(c.source.count("# BEGIN SOLUTION") for c in code) >= 4


@pytest.mark.slow
def test_notebook_executes_headless(tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    results = tmp_path / "results" / "part2"
    record = json.loads((results / "predictions.json").read_text())
    assert record["model"] == "efficientnet-lite0" and "[-1, 1]" in record["preprocessing"]
    assert [entry["name"] for entry in record["images"]] == ["img1", "img2"]
    img1, img2 = record["images"]
    assert img1["source"] == "skimage:chelsea" and img1["top5"][0][0] in CAT_CLASSES
    assert img2["source"] == "skimage:horse" and "sorrel" not in [lbl for lbl, _ in img2["top5"]]
    assert all(len(entry["top5"]) == 5 for entry in record["images"])
    for name in ("img1.png", "img2.png"):
        with Image.open(results / name) as img:
            assert img.mode == "RGB" and max(img.size) <= 512


def test_bench_script_smoke(tmp_path):
    out = tmp_path / "bench.json"
    result = run_script(ROOT / "bench" / "bench_part2.py", "--repeats", 1, "--warmup", 0,
                        "--batch", 2, "--batch-repeats", 1, "--json-file", out, timeout=120)
    assert result.returncode == 0, result.stderr
    record = json.loads(out.read_text())
    assert len(record["variants"]) == 4
    assert all(row["latency_ms"] > 0 and row["throughput_img_s"] > 0
               for row in record["variants"])
    assert record["load_s"] > 0 and record["channels_last_max_abs_diff"] < 1e-3
