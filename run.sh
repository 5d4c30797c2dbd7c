#!/usr/bin/env bash
# Postdesk quick start on Debian 12.
#   ./run.sh        install what is missing, build, start the embedded database, load demo data on
#                   first run and open Postdesk
#   ./run.sh test   the same setup, then every test against throwaway services; non-zero on failure
set -euo pipefail
root=$(cd "$(dirname "$0")" && pwd)
build=${POSTDESK_BUILD_DIR:-$root/build}
mode=${1:-run}

case "$mode" in
run)  "$root/packaging/install-deps.sh" build run ;;
test) "$root/packaging/install-deps.sh" build run test ;;
*)    echo "usage: ./run.sh [test]" >&2; exit 2 ;;
esac

jobs=$(nproc)
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$jobs"

if [ "$mode" = test ]; then
    exec "$root/tests/run-tests.sh" "$build"
fi

ctl="$build/app/postdeskctl/postdeskctl"
"$ctl" db migrate
if ! "$ctl" demo; then
    echo "(demo data was not loaded; the database already holds other data)"
fi
exec "$build/app/postdesk/postdesk" --page dashboard
