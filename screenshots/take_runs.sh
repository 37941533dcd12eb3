#!/usr/bin/env bash
# Retakes overlay.png and lr-change.png from a real window under Xvfb, driven by real clicks (xdotool):
#   apt-get install -y xvfb xdotool imagemagick && cargo build --release && bash screenshots/take_runs.sh [BINARY]
# overlay.png: three 3-epoch runs recorded by the CLI (Adam lr 0.003, Adam lr 0.01 cosine, the classic SGD lr 0.9),
# ticked in the Runs tab and drawn over the empty live plots. lr-change.png: the default run with the learning-rate
# slider dragged from 0.003 to 0.04 during epoch 1. LR_AT and LR_SHOT: seconds from Train to the drag and on to the
# shot (release build: 3 and 12). A fresh data folder each time.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/release/lenet-playground}")"
out="$(pwd)/screenshots"
source screenshots/xwindow.sh 96
"$bin" train --record --epochs 3 --preset classic --run-name "SGD lr 0.9 (classic)" >/dev/null 2>&1
"$bin" train --record --epochs 3 --lr 0.01 --schedule cosine >/dev/null 2>&1
"$bin" train --record --epochs 3 >/dev/null 2>&1
open_window 4

runs() { for y in 285 411 615; do click 376 "$y" 0.5; done; }  # the three runs' overlay boxes, newest first
click 864 18 2; runs                 # Runs: tick all three
click 383 18 2; shot overlay         # Live plots: three runs over the empty plots
click 864 18 2; runs; click 383 18 1 # untick them, back to Live plots
click 30 384 "${LR_AT:-3}"           # Train (the default recipe)
stroke "142 81" "148 81" "154 81" "160 81" "165 81"   # the learning-rate slider, 0.003 -> 0.04
sleep "${LR_SHOT:-12}"; shot lr-change
