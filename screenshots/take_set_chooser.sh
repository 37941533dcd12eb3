#!/usr/bin/env bash
# Retakes screenshots/set-chooser.png from a real window under Xvfb with real clicks (xdotool): two drawing sets (a
# digits set of 3 styled digits per class, changed last, and a two-class "shapes" set); the collector's set chooser
# opened (left), then "Delete…" and its question (right). Both halves are cropped to the collector.
#   apt-get install -y xvfb xdotool imagemagick && bash screenshots/take_set_chooser.sh [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/release/lenet-playground}")"
out="$(pwd)/screenshots"
source screenshots/xwindow.sh 96
sets="$work/home/my-drawings"
python3 screenshots/styled_digits.py "$sets/my-handwriting" 3 0 assets/mnist >/dev/null
mkdir -p "$sets/shapes/circle" "$sets/shapes/square"
printf 'circle\nsquare\n' >"$sets/shapes/.classes"
cp "$sets/my-handwriting/0/1.png" "$sets/shapes/circle/1.png"
cp "$sets/my-handwriting/1/1.png" "$sets/shapes/square/1.png"
touch "$sets/my-handwriting"
open_window 4
xdotool mousemove --window "$win" 1090 600; for _ in $(seq 10); do xdotool click 5; sleep 0.05; done; sleep 0.5
click 1030 509 1                                                    # the set chooser
import -window "$win" "$work/open.png"
click 700 300 1                                                     # (closes it)
click 962 532 1                                                     # Delete…
xdotool mousemove --window "$win" 1270 790; sleep 0.5
import -window "$win" "$work/delete.png"
convert "$work/open.png" -crop 360x200+920+470 +repage "$work/a.png"
convert "$work/delete.png" -crop 360x200+920+470 +repage "$work/b.png"
convert "$work/a.png" "$work/b.png" -background '#1b1b1b' -splice 8x0 +append "$out/set-chooser.png"
echo "$out/set-chooser.png"
