"""CPU speed of the part2 classifier (EfficientNet-Lite0): latency, throughput, load time.

Measures, on the model and preprocessing of python_backup/part2.py:
  * model load time (build the network + read the weights file from the PyPI package);
  * latency per image at batch 1 (median of --repeats runs after --warmup runs), for the
    four combinations of {autograd on, torch.inference_mode} x {contiguous, channels_last};
  * throughput at batch --batch (images/s, median of --batch-repeats runs after one warm-up)
    for the same four combinations;
  * end-to-end predict() on a photo (RGB conversion + preprocessing + network + top-5).

Run it under the shared CPU lock:
    flock /tmp/hw4-cpu.lock .venv/bin/python bench/bench_part2.py [--json-file FILE]
"""

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import skimage.data
import torch

from staff.reference.notebook_code import load_as_module

ROOT = Path(__file__).resolve().parents[1]
BACKUP = ROOT / "python_backup" / "part2.py"


def load_part2_functions(path=BACKUP):
    """Run the non-demo code cells of the jupytext script in a fresh module; return it."""
    return load_as_module(path, "part2")


def timed(fn, repeats, warmup):
    """Median wall time (s) of fn() over `repeats` runs, after `warmup` untimed runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def forward_fn(net, x, inference_mode):
    """A function that runs one forward pass of net on x, with or without inference_mode."""
    def run():
        if inference_mode:
            with torch.inference_mode():
                return net(x)
        return net(x)  # autograd on, as in a plain `model(x)` call
    return run


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="timed batch-1 runs (median)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs before timing")
    parser.add_argument("--batch", type=int, default=32, help="batch size for throughput")
    parser.add_argument("--batch-repeats", type=int, default=5, help="timed batch runs")
    parser.add_argument("--json-file", type=Path, help="also write the numbers as JSON here")
    return parser.parse_args(argv)


def time_variant(net, x1, xb, inference_mode, channels_last, args):
    """Latency at batch 1 and throughput at args.batch for one variant; one result row."""
    latency, lat_times = timed(forward_fn(net, x1, inference_mode), args.repeats, args.warmup)
    batch_time, batch_times = timed(forward_fn(net, xb, inference_mode), args.batch_repeats, 1)
    print(f"inference_mode={inference_mode!s:5} channels_last={channels_last!s:5} "
          f"batch 1: {1000 * latency:6.1f} ms ({1000 * min(lat_times):.1f}.."
          f"{1000 * max(lat_times):.1f})   batch {args.batch}: "
          f"{args.batch / batch_time:6.1f} img/s ({args.batch / max(batch_times):.1f}.."
          f"{args.batch / min(batch_times):.1f})", flush=True)
    return {"inference_mode": inference_mode, "channels_last": channels_last,
            "latency_ms": 1000 * latency,
            "latency_ms_min_max": [1000 * min(lat_times), 1000 * max(lat_times)],
            "throughput_img_s": args.batch / batch_time,
            "batch_s_min_max": [min(batch_times), max(batch_times)]}


def time_variants(part2, x1, args):
    """Every (memory format, inference mode) variant of the forward pass: list of rows.

    x1: (1, 3, 224, 224) preprocessed photo, repeated to (args.batch, 3, 224, 224).
    """
    xb = x1.repeat(args.batch, 1, 1, 1)
    rows = []
    for channels_last in (False, True):
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        net = part2.load_model(part2.OFFLINE_MODEL, "cpu").net.to(memory_format=fmt)
        for inference_mode in (False, True):
            rows.append(time_variant(net, x1.contiguous(memory_format=fmt),
                                     xb.contiguous(memory_format=fmt), inference_mode,
                                     channels_last, args))
    return rows


def channels_last_difference(model, x1):
    """Max |logit difference| between the contiguous and the channels-last forward pass."""
    with torch.inference_mode():
        reference = model.net(x1)
        out = model.net.to(memory_format=torch.channels_last)(
            x1.contiguous(memory_format=torch.channels_last))
    return float((out - reference).abs().max())


def main(argv=None):
    args = parse_args(argv)
    part2 = load_part2_functions()
    torch.manual_seed(0)
    results = {"torch": torch.__version__, "threads": torch.get_num_threads(),
               "python": platform.python_version(), "model": part2.OFFLINE_MODEL}
    start = time.perf_counter()
    model = part2.load_model(part2.OFFLINE_MODEL, "cpu")
    results["first_load_s"] = time.perf_counter() - start  # includes importing the package
    results["load_s"], _ = timed(lambda: part2.load_model(part2.OFFLINE_MODEL, "cpu"), 5, 0)
    photo = skimage.data.chelsea()
    x1 = model.preprocess(part2.to_rgb_image(photo)).unsqueeze(0)  # (1, 3, 224, 224)
    results["variants"] = time_variants(part2, x1, args)
    e2e, _ = timed(lambda: part2.predict(photo, k=5, model=model), args.repeats, args.warmup)
    results["predict_ms"] = 1000 * e2e
    results["channels_last_max_abs_diff"] = channels_last_difference(model, x1)
    print(f"model load: {results['load_s']:.3f} s (first, with imports: "
          f"{results['first_load_s']:.3f} s); predict() on chelsea (300x451): "
          f"{results['predict_ms']:.1f} ms; threads {results['threads']}, torch {results['torch']}")
    print(f"channels_last vs contiguous logits: max |diff| = "
          f"{results['channels_last_max_abs_diff']:.2e}")
    if args.json_file:
        args.json_file.parent.mkdir(parents=True, exist_ok=True)
        args.json_file.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
