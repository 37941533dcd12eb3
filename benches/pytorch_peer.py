#!/usr/bin/env python3
"""PyTorch CPU peer of the LeNet-5 Playground benchmark.

The classic recipe (sigmoid, 2x2 average pooling, Xavier-uniform init, SGD lr 0.9, batch 100,
cross-entropy) on MNIST read from the gzipped IDX files in a folder (default: the repo's
assets/mnist/), for LeNet-5 or the network of --arch, given in the playground's text form
(`c6k5p2-pool,c16k5-pool,f120,f84`, `mlp`, `c8k3psame-pool,f64-drop0.3`: see `--help` of
`lenet-playground train`). Prints ONE JSON line:

  {"impl": "pytorch", "arch", "params", "train_images_per_sec", "train_secs_per_epoch",
   "eval_images_per_sec", "predict_p50_us", "predict_p99_us", "peak_rss_mb", ...}

Training time is the median step time over --steps steps (after warm-up), extrapolated to an
epoch of 600 steps. Usage: python3 benches/pytorch_peer.py [MNIST_DIR] [--steps 100] [--threads 2]
[--arch SPEC]
"""

import argparse
import gzip
import re
import json
import resource
import statistics
import struct
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

BATCH = 100
EPOCH_STEPS = 60_000 // BATCH


def read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(folder: Path, prefix: str):
    images = read_idx(folder / f"{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz")
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1).contiguous()
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


PRESETS = {
    "lenet5": "c6k5p2-pool,c16k5-pool,f120,f84",
    "mlp": "f300,f100",
    "wide": "c32k5p2-pool,c64k5-pool,f120,f84",
    "tiny": "c2k5p2-pool,c4k5-pool,f16",
    "linear": "",
}

CONV = re.compile(r"c(\d{1,4})k(\d{1,4})(?:p(\d{1,4}|same))?(-pool)?")
DENSE = re.compile(r"f(\d{1,4})(?:-drop([0-9.]+))?")


def parse_arch(spec: str):
    """The playground's text form as ([(channels, kernel, padding, pool)], [(width, dropout)])."""
    spec = PRESETS.get(spec.strip().lower(), spec.strip().lower())
    blocks, hidden = [], []
    for item in filter(None, (i.strip() for i in spec.split(","))):
        if m := CONV.fullmatch(item):
            if hidden:
                raise ValueError(f"'{item}': conv blocks come before the dense layers")
            k = int(m[2])
            pad = (k - 1) // 2 if m[3] == "same" else int(m[3] or 0)
            blocks.append((int(m[1]), k, pad, bool(m[4])))
        elif m := DENSE.fullmatch(item):
            hidden.append((int(m[1]), float(m[2] or 0)))
        else:
            raise ValueError(f"'{item}' is not a layer (expected e.g. c6k5p2-pool or f120-drop0.3)")
    return blocks, hidden


def network(spec: str, classes: int = 10) -> nn.Module:
    """The network of `spec` as the playground builds it: conv, sigmoid, optional 2x2 average pooling (odd
    sides floored); flatten; per hidden layer dropout (when set), linear, sigmoid; the output layer."""
    blocks, hidden = parse_arch(spec)
    layers, channels, side = [], 1, 28
    for out, k, pad, pool in blocks:
        layers += [nn.Conv2d(channels, out, k, padding=pad), nn.Sigmoid()]
        channels, side = out, side + 2 * pad - k + 1
        if pool:
            layers.append(nn.AvgPool2d(2))
            side //= 2
    layers.append(nn.Flatten())
    inputs = channels * side * side
    for width, drop in hidden:
        if drop > 0:
            layers.append(nn.Dropout(drop))
        layers += [nn.Linear(inputs, width), nn.Sigmoid()]
        inputs = width
    layers.append(nn.Linear(inputs, classes))
    model = nn.Sequential(*layers)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def lenet5() -> nn.Module:
    return network("lenet5")


def percentile(sorted_vals, q):
    i = min(len(sorted_vals) - 1, max(0, int(round(q / 100.0 * (len(sorted_vals) - 1)))))
    return sorted_vals[i]


def main() -> int:
    default_dir = Path(__file__).resolve().parent.parent / "assets" / "mnist"
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mnist_dir", nargs="?", type=Path, default=default_dir)
    ap.add_argument("--steps", type=int, default=100, help="timed training steps (default 100)")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--predict-reps", type=int, default=1000)
    ap.add_argument("--arch", default="lenet5", help="the network in the playground's text form (default lenet5)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(0)

    x_train, y_train = load(args.mnist_dir, "train")
    x_test, y_test = load(args.mnist_dir, "t10k")

    model = network(args.arch)
    opt = torch.optim.SGD(model.parameters(), lr=0.9)
    loss_fn = nn.CrossEntropyLoss()

    # Training: median step time (forward, loss, backward, update) over shuffled batches.
    perm = torch.randperm(x_train.shape[0])
    model.train()
    times = []
    for i in range(args.warmup + args.steps):
        idx = perm[(i * BATCH) % 60_000 : (i * BATCH) % 60_000 + BATCH]
        xb, yb = x_train[idx], y_train[idx]
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        t1 = time.perf_counter()
        if i >= args.warmup:
            times.append(t1 - t0)
    step = statistics.median(times)

    # Evaluation: 10k test images, batch 1000, no grad; best-of-median over 3 passes after a warm-up.
    model.eval()
    passes = []
    correct = 0
    with torch.no_grad():
        for p in range(4):
            t0 = time.perf_counter()
            correct = 0
            for s in range(0, x_test.shape[0], 1000):
                pred = model(x_test[s : s + 1000]).argmax(1)
                correct += int((pred == y_test[s : s + 1000]).sum())
            if p > 0:
                passes.append(time.perf_counter() - t0)
    eval_ips = x_test.shape[0] / statistics.median(passes)

    # Single-image prediction latency.
    one = x_test[:1].clone()
    lat = []
    with torch.no_grad():
        for _ in range(20):
            model(one)
        for _ in range(args.predict_reps):
            t0 = time.perf_counter_ns()
            model(one).argmax(1)
            lat.append((time.perf_counter_ns() - t0) / 1000.0)
    lat.sort()

    out = {
        "impl": "pytorch",
        "arch": args.arch,
        "params": sum(p.numel() for p in model.parameters()),
        "train_images_per_sec": round(BATCH / step, 1),
        "train_secs_per_epoch": round(step * EPOCH_STEPS, 3),
        "eval_images_per_sec": round(eval_ips, 1),
        "predict_p50_us": round(percentile(lat, 50), 1),
        "predict_p99_us": round(percentile(lat, 99), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "train_step_ms_median": round(step * 1000, 3),
        "test_accuracy_after_timed_steps": round(correct / x_test.shape[0], 4),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
