"""Where the training time of the part1 CNN goes: throughput (images/s) and a profile.

The model and the batch pipeline (augment, normalize) are the notebook's own code: the
cells of part1.ipynb tagged "model" and "pipeline" are executed here. On the real
training images it measures
  1. training throughput (forward + backward + SGD step + batch preparation) at batch 256
     in float32 and with bfloat16 autocast (as the notebook does where the CPU has
     AVX-512 BF16), each with and without the channels-last memory layout, and with
     bfloat16 + channels-last at other batch sizes;
  2. torch.compile: compile time and the throughput afterwards (--compile);
  3. inference throughput (eval, inference_mode, batch 1000);
  4. a torch.profiler breakdown of 20 training iterations by phase and by operator.

    HW4_DATA=/work/data python bench/part1_profile.py --compile
"""

import argparse
import json
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torch.profiler import ProfilerActivity, profile, record_function

from staff.reference.notebook_code import run_tagged_cells

ROOT = Path(__file__).resolve().parents[1]


def notebook_namespace(mean, std):
    """Execute the notebook cells tagged 'pipeline' and 'model'; return their namespace."""
    namespace = {"torch": torch, "nn": nn, "F": F, "MEAN": mean, "STD": std}
    return run_tagged_cells(ROOT / "part1.ipynb", ["pipeline", "model"], namespace)


def make_step(ns, model, batch_size, channels_last, bf16):
    """A function doing one training iteration of the notebook (batch -> SGD step)."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True,
                                weight_decay=5e-4)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    generator = torch.Generator().manual_seed(0)

    def step(X, y):
        with record_function("data: index + augment + normalize"):
            idx = torch.randint(0, len(X), (batch_size,), generator=generator)
            images = ns["normalize"](ns["augment"](X[idx], generator))
            if not channels_last:
                images = images.contiguous()
            labels = y[idx]
        with record_function("forward + loss"):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = criterion(model(images), labels)
        with record_function("backward"):
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
        with record_function("optimizer step"):
            optimizer.step()
        return loss

    return step


def throughput(step, X, y, batch_size, iterations, warmup=5):
    """Images per second of `step` over `iterations` iterations after `warmup` ones."""
    for _ in range(warmup):
        step(X, y)
    start = time.perf_counter()
    for _ in range(iterations):
        step(X, y)
    return batch_size * iterations / (time.perf_counter() - start)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("HW4_DATA", "./data"))
    parser.add_argument("--batch-sizes", default="128,512",
                        help="batch sizes tried besides 256 (bf16, channels-last)")
    parser.add_argument("--images", type=int, default=12800,
                        help="images per throughput measurement")
    parser.add_argument("--compile", action="store_true", help="also measure torch.compile")
    parser.add_argument("--out", default="results/bench/part1/profile.json")
    return parser.parse_args(argv)


def training_throughputs(ns, X, y, batch_sizes, images):
    """Images/s of a training step for each layout, dtype and batch size: dict label -> int."""
    configs = [(256, bf16, cl) for bf16 in (False, True) for cl in (False, True)]
    configs += [(int(b), True, True) for b in batch_sizes.split(",") if b]
    found = {}
    for batch_size, bf16, channels_last in configs:
        model = ns["FashionCNN"]()
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        step = make_step(ns, model, batch_size, channels_last, bf16)
        ips = throughput(step, X, y, batch_size, max(4, images // batch_size))
        key = (f"batch {batch_size}, {'bfloat16' if bf16 else 'float32'}, "
               f"{'channels_last' if channels_last else 'contiguous (NCHW)'}")
        found[key] = round(ips)
        print(f"train  {key:45s} {ips:7.0f} images/s", flush=True)
    return found


def compiled_throughput(ns, X, y, images):
    """torch.compile's warm-up seconds and then its training images/s (dict)."""
    model = ns["FashionCNN"]().to(memory_format=torch.channels_last)
    step = make_step(ns, torch.compile(model), 256, True, True)
    start = time.perf_counter()
    step(X, y)
    step(X, y)
    compile_s = time.perf_counter() - start
    ips = throughput(step, X, y, 256, max(4, images // 256), warmup=1)
    print(f"torch.compile: first two iterations {compile_s:.1f} s, then {ips:.0f} images/s",
          flush=True)
    return {"compile_seconds": round(compile_s, 1), "train_images_per_s": round(ips)}


def eval_throughput(ns, X):
    """Images/s of evaluation in batches of 1000 (inference mode, bfloat16)."""
    model = ns["FashionCNN"]().to(memory_format=torch.channels_last).eval()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        model(ns["normalize"](X[:1000]))
        start = time.perf_counter()
        for i in range(0, 10000, 1000):
            model(ns["normalize"](X[i:i + 1000]))
        ips = 10000 / (time.perf_counter() - start)
    print(f"eval (inference_mode, bfloat16, batch 1000): {ips:.0f} images/s", flush=True)
    return round(ips)


PHASES = ("data:", "forward", "backward", "optimizer")  # record_function labels of make_step


def profile_phases(ns, X, y):
    """Percent of CPU time per phase and for the top 12 operators, over 20 training steps."""
    step = make_step(ns, ns["FashionCNN"]().to(memory_format=torch.channels_last), 256, True,
                     True)
    for _ in range(5):
        step(X, y)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(20):
            step(X, y)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    phases = {e.key: round(100 * e.cpu_time_total / total, 1) for e in events
              if e.key.startswith(PHASES)}
    top = sorted((e for e in events if not e.key.startswith(PHASES)),
                 key=lambda e: e.self_cpu_time_total, reverse=True)[:12]
    top_ops = {e.key: round(100 * e.self_cpu_time_total / total, 1) for e in top}
    print("\nshare of the CPU time of 20 training iterations (batch 256, bfloat16, "
          "channels-last) by phase:")
    for key, value in phases.items():
        print(f"  {key:40s} {value:5.1f}%")
    print("\ntop operators by self CPU time:")
    for key, value in top_ops.items():
        print(f"  {key:50s} {value:5.1f}%")
    return phases, top_ops


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(0)
    data = torchvision.datasets.FashionMNIST(args.data_dir, train=True, download=True)
    X = data.data[:50000].float().div(255).unsqueeze(1)
    y = data.targets[:50000]
    ns = notebook_namespace(X.mean().item(), X.std().item())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    results = {"threads": torch.get_num_threads(),
               "train_images_per_s": training_throughputs(ns, X, y, args.batch_sizes,
                                                          args.images)}
    if args.compile:
        results["compile"] = compiled_throughput(ns, X, y, args.images)
    results["eval_images_per_s"] = eval_throughput(ns, X)
    results["phases_percent"], results["top_ops_percent"] = profile_phases(ns, X, y)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
