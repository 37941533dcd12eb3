#!/usr/bin/env bash
# Retakes the Inside tab's three screenshots from a real window under Xvfb: the default run (5 epochs) trained with
# Train, then each view with real clicks — c3's strongest value of a test digit explained (inside-element.png),
# channel 0 of c3 and what it responds to (inside-units.png), the representation map after the run with a drawn 7 as
# the star (inside-map.png).
#   apt-get install -y xvfb xdotool imagemagick && cargo build --release && bash screenshots/take_inside.sh [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/release/lenet-playground}")"
out="$(pwd)/screenshots"
source screenshots/xwindow.sh 96
open_window 4
click 30 384 1                  # Train (the default run: 5 epochs)
until [ -n "$(find "$LENET_PLAYGROUND_HOME" -name run.json 2>/dev/null)" ]; do sleep 1; done
sleep 2
click 1097 355 2                # Random test digit
click 400 41 2                  # Inside the network
click 430 123 1                 # Stage
click 430 219 3                 # c3 (Conv2d): its strongest value
shot inside-element
click 597 73 1                  # What a unit responds to
click 465 105 1                 # Stage
click 450 201 6                 # c3: channel 0, its rankings, wanted image and epoch strip
shot inside-units
click 952 355 1                 # Clear the canvas, then draw a 7
stroke "1040 90" "1100 88" "1160 90" "1140 140" "1115 200" "1095 260"
click 778 73 2                  # How the representation forms
shot inside-map
