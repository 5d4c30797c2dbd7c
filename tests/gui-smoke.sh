#!/usr/bin/env bash
# The real postdesk program under Xvfb, as a person starts it: the window titled Postdesk appears on
# the dashboard with the sidebar and the connection state, and a screenshot of the screen is saved.
# Usage: gui-smoke.sh BUILD_DIR
set -euo pipefail
build=$1
: "${POSTDESK_TEST_DB:?run the tests with ./run.sh test}"
shots=$build/screenshots
mkdir -p "$shots"
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

schema=gui_smoke
psql -q "$POSTDESK_TEST_DB" -c "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null

exec 3>"$work/display"
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/display" ] && break; sleep 0.1; done
export DISPLAY=":$(cat "$work/display")"
export QT_QPA_PLATFORM=xcb

"$build/app/postdesk/postdesk" --page dashboard \
    --db "$POSTDESK_TEST_DB options='-c search_path=$schema'" >"$work/postdesk.log" 2>&1 &
pids+=($!)

found=""
for _ in $(seq 300); do
    if xwininfo -root -tree 2>/dev/null | grep -q '"Postdesk"'; then found=yes; break; fi
    sleep 0.1
done
[ -n "$found" ] || { echo "no window titled Postdesk appeared"; cat "$work/postdesk.log"; exit 1; }
# The schema is migrated by the program itself once it is connected.
for _ in $(seq 300); do
    v=$(psql -qtA "$POSTDESK_TEST_DB" -c "SELECT max(version) FROM $schema.schema_migrations" 2>/dev/null || true)
    [ -n "$v" ] && break
    sleep 0.1
done
[ -n "$v" ] || { echo "postdesk did not connect and migrate"; cat "$work/postdesk.log"; exit 1; }
sleep 2
import -window root "$shots/xvfb-dashboard.png"
kill -0 "${pids[1]}" || { echo "postdesk exited"; cat "$work/postdesk.log"; exit 1; }
echo "window 'Postdesk' shown on $DISPLAY, schema version $v; screenshot $shots/xvfb-dashboard.png"
