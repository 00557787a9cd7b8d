#!/bin/sh
# tools/make-screenshots.sh: regenerate the pictures of docs/student-guide.md.
#
#   tools/make-screenshots.sh [BUILD_DIR]      (default: build)
#
# Needs a build with the GUI and its tests, and xvfb-run.  The screen is
# 1600x1000 so the window keeps its default 1500x940 size.
#
# - docs/screenshots/mailsim-gtk.png: `mailsim-gtk --screenshot`, first-email
#   at 1.25 s, when C: QUIT and the resolver's query to a root server are
#   both on their way.  GTK renders the window itself (GSK_RENDERER=cairo),
#   so the picture does not depend on the X server.
# - docs/screenshots/mailsim-gtk-intervention.png: shows a right-click menu,
#   a popover, which is a surface of its own and not part of the window's
#   rendering; tests/gui/test-gui-intervention captures the X screen for it
#   (xwd and ImageMagick's convert).  Without those tools it is left as is.
# - docs/screenshots/mailsim-gtk-map.png: the map alone at 1.25 s, 1200x700,
#   drawn by tests/gui/test-gui with the map's own draw function.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
out=$root/docs/screenshots
screen='-screen 0 1600x1000x24'
log=$(mktemp)
trap 'rm -f "$log"' EXIT

export GTK_A11Y=none NO_AT_BRIDGE=1 GSETTINGS_BACKEND=memory GSK_RENDERER=cairo
# The pictures show the light theme whatever the desktop of the one who
# makes them prefers.
export GTK_THEME=Adwaita

for program in "$build/gui/mailsim-gtk" "$build/tests/gui/test-gui" "$build/tests/gui/test-gui-intervention"; do
  if [ ! -x "$program" ]; then
    echo "make-screenshots: $program is missing; build with the GUI and tests first (ninja -C $build)" >&2
    exit 1
  fi
done

xvfb-run -a -s "$screen" "$build/gui/mailsim-gtk" "$root/scenarios/first-email.mailsim" \
  --at 1.25s --screenshot "$out/mailsim-gtk.png"
echo "wrote $out/mailsim-gtk.png"

MAILSIM_GUI_PNG=$out/mailsim-gtk-map.png xvfb-run -a -s "$screen" "$build/tests/gui/test-gui" \
  >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
echo "wrote $out/mailsim-gtk-map.png"

if command -v xwd >/dev/null && command -v convert >/dev/null && command -v xwininfo >/dev/null; then
  MAILSIM_GUI_SCREENSHOT=$out/mailsim-gtk-intervention.png xvfb-run -a -s "$screen" \
    "$build/tests/gui/test-gui-intervention" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  # The capture is the whole screen; the window (with its menu) is the
  # top-left 1500x940 of it, as there is no window manager to move it.
  convert "$out/mailsim-gtk-intervention.png" -crop 1500x940+0+0 +repage "$out/mailsim-gtk-intervention.png"
  echo "wrote $out/mailsim-gtk-intervention.png"
else
  echo "make-screenshots: xwd, xwininfo or ImageMagick's convert missing: $out/mailsim-gtk-intervention.png kept as it is" >&2
fi
