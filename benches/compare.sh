#!/usr/bin/env bash
# Compare the candle engine (`lenet-playground bench --json`) with the PyTorch peer
# (benches/pytorch_peer.py) on this machine: runs them alternately ROUNDS times, takes the median
# of every metric per implementation, and prints a Markdown table with ratios.
#
# Usage: benches/compare.sh [ROUNDS] [MNIST_DIR]
#   ROUNDS     alternating rounds (default 3)
#   MNIST_DIR  folder with the gzipped IDX files (default: assets/mnist)
# Environment: PYTHON (default python3), CANDLE_BENCH_CMD (default: the release binary
#   `target/release/lenet-playground bench --json`, built first with `cargo build --release`),
#   EXTRA_CANDLE_ARGS (appended to the candle command), ARCH (the network for both, in the playground's text
#   form, e.g. ARCH=mlp or ARCH=c8k3psame-pool,f64; default LeNet-5).
set -uo pipefail

cd "$(dirname "$0")/.."
ROUNDS="${1:-3}"
MNIST_DIR="${2:-assets/mnist}"
PYTHON="${PYTHON:-python3}"
ARCH="${ARCH:-lenet5}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# Build once up front so compile time never lands inside a measurement.
if [[ -z "${CANDLE_BENCH_CMD:-}" ]]; then
    echo "building: cargo build --release" >&2
    if ! cargo build --release >&2; then
        echo "error: cargo build --release failed" >&2
    fi
    BIN="${CARGO_TARGET_DIR:-target}/release/lenet-playground"
    CANDLE_BENCH_CMD="$BIN bench --json"
fi

if ! "$PYTHON" -c 'import torch, numpy' 2>/dev/null; then
    echo "warning: '$PYTHON' cannot import torch and numpy (pip install torch numpy); PyTorch column will be empty" >&2
fi

# Last line of stdout that looks like a JSON object, or nothing.
json_line() { grep -E '^\s*\{' | tail -n 1; }

for ((r = 1; r <= ROUNDS; r++)); do
    echo "round $r/$ROUNDS: candle ($CANDLE_BENCH_CMD --arch $ARCH ${EXTRA_CANDLE_ARGS:-})" >&2
    if out=$($CANDLE_BENCH_CMD --arch "$ARCH" ${EXTRA_CANDLE_ARGS:-} 2>"$TMP/candle.err"); then
        printf '%s\n' "$out" | json_line >>"$TMP/candle.jsonl"
    else
        echo "  candle bench failed (exit $?): $(tail -n 3 "$TMP/candle.err" | tr '\n' ' ')" >&2
        echo "  (the engine's 'bench --json' subcommand may not exist yet)" >&2
    fi
    echo "round $r/$ROUNDS: pytorch ($PYTHON benches/pytorch_peer.py $MNIST_DIR --arch $ARCH)" >&2
    if out=$("$PYTHON" benches/pytorch_peer.py "$MNIST_DIR" --arch "$ARCH" 2>"$TMP/torch.err"); then
        printf '%s\n' "$out" | json_line >>"$TMP/torch.jsonl"
    else
        echo "  pytorch peer failed: $(tail -n 3 "$TMP/torch.err" | tr '\n' ' ')" >&2
    fi
done

"$PYTHON" - "$TMP/candle.jsonl" "$TMP/torch.jsonl" <<'PY'
import json, statistics, sys

def load(path):
    rows = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError:
                        pass
    except FileNotFoundError:
        pass
    return rows

def med(rows, key):
    vals = [r[key] for r in rows if isinstance(r.get(key), (int, float))]
    return statistics.median(vals) if vals else None

candle, torch = load(sys.argv[1]), load(sys.argv[2])
# (key, label, ratio kind): "time" -> candle/pytorch (lower is better for candle),
# "throughput" -> candle/pytorch (higher is better for candle).
metrics = [
    ("train_secs_per_epoch", "training, s/epoch (600 steps of 100)", "time"),
    ("train_images_per_sec", "training, images/s", "throughput"),
    ("eval_images_per_sec", "evaluation, images/s (batch 1000)", "throughput"),
    ("predict_p50_us", "predict 1 image, p50 µs", "time"),
    ("predict_p99_us", "predict 1 image, p99 µs", "time"),
    ("peak_rss_mb", "peak RSS, MB", "time"),
]
fmt = lambda v: "n/a" if v is None else (f"{v:,.1f}" if abs(v) < 1e5 else f"{v:,.0f}")
arch = next((r.get("arch") for r in candle + torch if r.get("arch")), "?")
params = {name: (None if v is None else int(v))
          for name, v in (("candle", med(candle, "params")), ("pytorch", med(torch, "params")))}
print(f"\nNetwork: {arch} ({params['candle']} parameters in candle, {params['pytorch']} in PyTorch).")
print(f"Medians over {len(candle)} candle run(s) and {len(torch)} PyTorch run(s).\n")
print("| metric | candle | pytorch | candle / pytorch | better |")
print("|---|---:|---:|---:|---|")
for key, label, kind in metrics:
    c, t = med(candle, key), med(torch, key)
    if c is None or t is None or t == 0:
        ratio, better = "n/a", ""
    else:
        q = c / t
        ratio = f"{q:.2f}x"
        better = ("candle" if q < 1 else "pytorch") if kind == "time" else ("candle" if q > 1 else "pytorch")
    print(f"| {label} | {fmt(c)} | {fmt(t)} | {ratio} | {better} |")
print("\nTime and memory rows: ratio < 1 means candle is faster/smaller; throughput rows: ratio > 1 means candle is faster.")
if not candle:
    print("\nNo candle results: does `lenet-playground bench --json` exist and print one JSON line?")
if not torch:
    print("\nNo PyTorch results: is torch installed (`pip install torch numpy`)?")
PY
