#!/usr/bin/env bash
# Retakes runs-scatter.png from a real window under Xvfb: four short runs recorded by the CLI (LeNet-5, the MLP and
# the tiny net on MNIST, LeNet-5 on Fashion-MNIST), then the Runs tab, whose scatter fits its accuracy axis to the
# runs and tells the data sets apart.
#   apt-get install -y xvfb xdotool imagemagick dataset-fashion-mnist && cargo build --release &&
#   bash screenshots/take_scatter.sh [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/release/lenet-playground}")"
out="$(pwd)/screenshots"
source screenshots/xwindow.sh 97
"$bin" train --record --epochs 1 --run-name "LeNet-5, 1 epoch" >/dev/null 2>&1
"$bin" train --record --epochs 1 --arch mlp --run-name "MLP, 1 epoch" >/dev/null 2>&1
"$bin" train --record --epochs 1 --arch tiny --run-name "tiny, 1 epoch" >/dev/null 2>&1
"$bin" train --record --epochs 1 --data /usr/share/datasets/fashion-mnist --run-name "LeNet-5 on Fashion-MNIST" \
    >/dev/null 2>&1
open_window 4
click 864 18 2        # Runs
shot runs-scatter
