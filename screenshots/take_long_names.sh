#!/usr/bin/env bash
# Retakes screenshots/long-names-1024.png from a real window under Xvfb with real clicks and a real stroke
# (xdotool): a drawing set of three classes with long names ("grandmother's sevens with a bar", …; styled MNIST test
# digits, 6 each), trained "from scratch" in a 1024x700 window, then a 7 drawn on the canvas. The shot is the
# window's right panel: the prediction's name shrinks to fit, the bars' names are cut with "…" (whole on hover).
#   apt-get install -y xvfb xdotool imagemagick && bash screenshots/take_long_names.sh [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/release/lenet-playground}")"
out="$(pwd)/screenshots"
source screenshots/xwindow.sh 98
python3 screenshots/styled_digits.py "$work/digits" 6 0 assets/mnist >/dev/null
set_dir="$work/home/my-drawings/my family's handwriting"
names=("grandmother's sevens with a bar" "my little brother's ones" "dad's very round zeros")
mkdir -p "$set_dir"
printf '%s\n' "${names[@]}" >"$set_dir/.classes"
for i in 0 1 2; do cp -r "$work/digits/$(echo 7 1 0 | cut -d' ' -f$((i + 1)))" "$set_dir/${names[$i]}"; done
open_window 4
xdotool windowsize "$win" 1024 700; sleep 2
xdotool mousemove --window "$win" 870 600; for _ in $(seq 10); do xdotool click 5; sleep 0.05; done; sleep 0.5
click 874 586 30                                                    # Train on this set: from scratch (50 epochs)
xdotool mousemove --window "$win" 870 300; for _ in $(seq 10); do xdotool click 4; sleep 0.05; done; sleep 0.5
stroke "790 60" "850 58" "910 62" "880 120" "850 180" "830 250"     # a 7 on the canvas
xdotool mousemove --window "$win" 600 690; sleep 0.5
import -window "$win" "$work/full.png"
convert "$work/full.png" -crop 300x700+724+0 +repage "$out/long-names-1024.png"
echo "$out/long-names-1024.png"
