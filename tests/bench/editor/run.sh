#!/usr/bin/env bash
# Typing in a 100 KB template: the longest the GUI thread goes without running its event loop
# while keys are typed (goal: under 16 ms), and the time from the last keystroke to the preview
# showing it (goal: under 300 ms). Offscreen; no database needed.
#
#   tests/bench/editor/run.sh BUILD_DIR [KEYSTROKES] [TEMPLATE_KB]
#
# Needs the postdesk_editorbench target (cmake --build BUILD_DIR --target postdesk_editorbench).
set -euo pipefail
build=$(cd "${1:?usage: run.sh BUILD_DIR [KEYSTROKES] [TEMPLATE_KB]}" && pwd)
bench=$(find "$build" -name postdesk_editorbench -type f -perm -u+x | head -n1)
[ -n "$bench" ] || { echo "postdesk_editorbench is not built in $build (cmake --build $build --target postdesk_editorbench)" >&2; exit 1; }
work=$(mktemp -d /tmp/postdesk-editorbench.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
mkdir -m 700 "$work/runtime"
export XDG_RUNTIME_DIR=$work/runtime HOME=$work
export QT_QPA_PLATFORM=offscreen
[ "$(id -u)" -ne 0 ] || export QTWEBENGINE_DISABLE_SANDBOX=1
"$bench" "${2:-120}" "${3:-100}"
