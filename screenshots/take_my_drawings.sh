#!/usr/bin/env bash
# Retakes screenshots/my-drawings.png from a real window under Xvfb with real clicks (xdotool): MNIST weights loaded,
# a set of 20 styled digits per class (styled_digits.py) plus a 7 drawn and added, "How well does it read me?", then
# "Teach it my handwriting" and a slanted 4 drawn with the taught weights.
#   apt-get install -y xvfb xdotool imagemagick && bash screenshots/take_my_drawings.sh [BINARY]
# TEACH: seconds to wait for the teaching run (debug build: 40).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/release/lenet-playground}")"
out="$(pwd)/screenshots"
source screenshots/xwindow.sh 98
python3 screenshots/styled_digits.py "$work/home/my-drawings/my-handwriting" 20 0 assets/mnist >/dev/null
"$bin" train --preset modern --epochs 2 --limit 10000 --save "$work/lenet.safetensors" >/dev/null 2>&1
open_window 4
wheel() { xdotool mousemove --window "$win" 1090 600; for _ in $(seq 10); do xdotool click "$1"; sleep 0.05; done; sleep 0.5; }
click 277 571 3                                                     # Load weights… (the export folder's lenet.safetensors)
stroke "990 80" "1040 78" "1100 76" "1160 80" "1140 130" "1110 190" "1085 250" "1070 300"   # a 7
click 967 730 1.5                                                   # Add to my set as 7 (preselected)
wheel 5
click 1158 788 5                                                    # How well does it read me?
click 989 788 "${TEACH:-40}"                                        # Teach it my handwriting
wheel 4
stroke "1010 90" "1000 150" "995 200" "1060 205" "1130 200"          # a 4 in the taught hand
stroke "1110 80" "1105 150" "1100 220" "1095 300"
wheel 5
xdotool mousemove --window "$win" 1275 300; sleep 1
import -window "$win" "$out/my-drawings.png"; echo "$out/my-drawings.png"
