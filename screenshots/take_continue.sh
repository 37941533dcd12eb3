#!/usr/bin/env bash
# Retakes the fresh-vs-continued screenshots from a real window under Xvfb, driven by real clicks (xdotool):
#   apt-get install -y xvfb xdotool imagemagick && cargo build && bash screenshots/take_continue.sh [BINARY]
# A 2-epoch Modern run on the first 2000 images, continued for 2 more: the Train control with both choices, the
# continued run's label in the Runs tab (continue-training.png), its curves going on from epoch 2
# (continued-plots.png), and Delete asking first (delete-confirm.png). A fresh data folder each time.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/debug/lenet-playground}")"
out="$(pwd)/screenshots"
click_pause=0.7
source screenshots/xwindow.sh 94
open_window 4

click 155 58; click 143 154          # Preset: Modern
click 113 312                        # Images: the first 2000
click 233 107; xdotool windowfocus --sync "$win"; xdotool type --delay 100 2; xdotool key Return; sleep 0.7  # 2 epochs
click 30 384 "${RUN:-12}"            # Train, to the end of the run
click 16 343                         # tick "Continue from current weights"
click 66 388 "${RUN:-12}"            # Continue training, to the end
shot continued-plots                 # the curves go on from epoch 2 to 4
click 864 18 2
shot continue-training               # both choices; the continued run's label
click 660 379 1
shot delete-confirm                  # Delete asks first
