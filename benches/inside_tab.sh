#!/usr/bin/env bash
# Training throughput with the Inside tab open (its "What a unit responds to" view: rankings of the test set, the
# wanted image and the epoch strip rebuilt every epoch, plus the map frames) against the tab closed (Live plots), in
# a real window under Xvfb, the default recipe (5 epochs), alternating closed / open ROUNDS times. Each run's
# `summary.duration_secs` (first batch to last test pass) comes from the run store.
#   apt-get install -y xvfb xdotool && cargo build --release && bash benches/inside_tab.sh [BINARY] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/release/lenet-playground}")"
rounds="${2:-2}"
source screenshots/xwindow.sh 94

duration() { # the newest run's status and duration in a store
  python3 - "$1" <<'PY'
import json, pathlib, sys
runs = sorted(pathlib.Path(sys.argv[1], "runs").glob("*/run.json"))
r = json.loads(runs[-1].read_text())
print(r["status"], r["summary"]["duration_secs"])
PY
}

Xvfb "$DISPLAY" -screen 0 1280x800x24 -nolisten tcp & xvfb=$!
sleep 1
one_run() { # $1: closed | open
  export LENET_PLAYGROUND_HOME="$work/$1-$2"
  (cd "$work" && exec "$bin") & app=$!
  win="$(xdotool search --sync --name '^LeNet-5 Playground$' | head -1)"
  sleep 3
  if [ "$1" = open ]; then
    click 400 41 1   # Inside the network
    click 597 73 1   # What a unit responds to
  fi
  click 30 384 1     # Train
  until duration "$LENET_PLAYGROUND_HOME" 2>/dev/null | grep -qE "finished|stopped|failed"; do sleep 1; done
  read -r status secs < <(duration "$LENET_PLAYGROUND_HOME")
  kill "$app"; wait "$app" 2>/dev/null || true
  echo "$1 $secs $status"
}
results=()
for r in $(seq "$rounds"); do
  results+=("$(one_run closed "$r")" "$(one_run open "$r")")
done
printf '%s\n' "${results[@]}" >"$work/results"
python3 - "$work/results" <<'PY'
import sys
runs = [l.split() for l in open(sys.argv[1]) if l.strip()]
secs = {k: [float(s) for kk, s, _ in runs if kk == k] for k in ("closed", "open")}
for kind, values in secs.items():
    print(f"Inside tab {kind:6}: " + ", ".join(f"{s:.1f} s ({300000 / s:.0f} images/s)" for s in values))
best = min(secs["closed"]) / min(secs["open"])
mean = (sum(secs["closed"]) / len(secs["closed"])) / (sum(secs["open"]) / len(secs["open"]))
print(f"open / closed throughput: best {best:.2f}x, mean {mean:.2f}x")
PY
