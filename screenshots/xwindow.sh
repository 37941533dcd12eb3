# Sourced, not run: the one set-up of the scripts that drive the app in a real window under Xvfb (screenshots/take*.sh,
# benches/window_vs_cli.sh). A throwaway home (the window keeps its size and settings in XDG_DATA_HOME, its runs and
# drawings in LENET_PLAYGROUND_HOME), so the window starts as a first-time user sees it; everything goes at exit.
#   bin=... ; source screenshots/xwindow.sh DISPLAY_NUMBER ; (set-up in "$work") ; open_window [SETTLE_SECONDS]
# then click X Y [PAUSE], stroke "X Y" "X Y"..., shot NAME (into $out), with $win the window and $app its process.
work="$(mktemp -d)"
trap 'kill "${app:-}" "${xvfb:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
export DISPLAY=":$1" XDG_RUNTIME_DIR="$work/xdg" XDG_DATA_HOME="$work/data" LENET_PLAYGROUND_HOME="$work/home" \
  LENET_PLAYGROUND_EXPORT_DIR="$work"
mkdir -m 700 "$XDG_RUNTIME_DIR"

open_window() {
  Xvfb "$DISPLAY" -screen 0 1280x800x24 -nolisten tcp & xvfb=$!
  sleep 1
  (cd "$work" && exec "$bin") & app=$!
  win="$(xdotool search --sync --name '^LeNet-5 Playground$' | head -1)"
  sleep "${1:-3}"
}
click() { xdotool mousemove --window "$win" "$1" "$2" click 1; sleep "${3:-${click_pause:-1}}"; }
stroke() { # a mouse drag through the given points, as a hand draws
  xdotool mousemove --window "$win" $1 mousedown 1; shift
  for p in "$@"; do xdotool mousemove --window "$win" $p; sleep 0.05; done
  xdotool mouseup 1; sleep 0.5
}
shot() { xdotool mousemove --window "$win" 1270 790; sleep 0.5; import -window "$win" "$out/$1.png"; echo "$out/$1.png"; }
