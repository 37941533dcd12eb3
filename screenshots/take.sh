#!/usr/bin/env bash
# Retakes the README's window screenshots (start, training, gradients, evaluation, canvas, attribution, inspector,
# narrow, coach, architecture) from a real window under Xvfb, driven by real clicks (xdotool):
#   apt-get install -y xvfb xdotool imagemagick && cargo build --release && bash screenshots/take.sh [BINARY]
# MID and END: seconds from Train to the mid-run shot and on to the end of the run (release build: 8 and 30).
# A fresh data folder each time, so the window starts as a first-time user sees it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/release/lenet-playground}")"
out="$(pwd)/screenshots"
source screenshots/xwindow.sh 97
open_window 3

shot start                     # empty: the axes span the run's 5 epochs, exports wait for data, the canvas asks once
click 30 384 "${MID:-8}"       # Train (the default recipe), a few seconds in
click 1150 720 0.3             # focus, then F12: the frame-time overlay in the bottom left corner
xdotool windowfocus --sync "$win"; xdotool key F12; sleep 1
shot training
xdotool key F12
sleep "${END:-30}"             # the rest of the 5 epochs
click 474 18 2; shot gradients # Gradient flow: one legend above the three plots
click 567 18 2
click 469 218 3; shot evaluation  # Evaluation: the gallery of 2 read as 3
# The canvas: a 7 drawn with the mouse and what the network reads; what decided it (occlusion); the inspector on it.
stroke "1010 90" "1040 88" "1080 88" "1120 88" "1160 90" "1145 130" "1125 170" "1105 210" "1090 255"
sleep 1.5; shot canvas
click 965 570 4; shot attribution
click 772 18 3; shot inspector
xdotool windowsize "$win" 1024 700; sleep 2
click 383 18 2; shot narrow    # Live plots in a 1024x700 window
xdotool windowsize "$win" 1280 800; sleep 2
# The coach: the Classic preset (SGD lr 0.9, sigmoid) from scratch sits at chance; the hint says why, then Stop, Reset.
click 155 58 1; click 140 131 1; click 193 384 "${COACH:-9}"
shot coach
click 138 407 3; click 192 407 2
# Architecture: a third block, then 9×9 kernels and pooling everywhere: c5 does not fit (red), Train is disabled.
setv() { click "$1" "$2" 0.4; xdotool key ctrl+a; xdotool type --delay 80 "$3"; xdotool key Return; sleep 0.6; }
click 657 18 2; click 506 101
setv 543 124 9; setv 543 147 9; setv 543 170 9; click 736 170 2
shot architecture
