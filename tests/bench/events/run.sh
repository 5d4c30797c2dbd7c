#!/usr/bin/env bash
# Event ingest throughput on a throwaway PostgreSQL (fsync off, as in the tests): EVENTS SendGrid
# events in signed batches of BATCH, POSTed over HTTP keep-alive to the webhook server, against a
# raw COPY of the same rows into the same events table (goal: at least 0.3x), printing both rates
# and the ratio.
#
#   tests/bench/events/run.sh BUILD_DIR [EVENTS] [BATCH]
#
# Needs the postdesk_eventbench target (cmake --build BUILD_DIR --target postdesk_eventbench).
set -euo pipefail
build=$(cd "${1:?usage: run.sh BUILD_DIR [EVENTS] [BATCH]}" && pwd)
events=${2:-50000}
batch=${3:-1000}

bench=$(find "$build" -name postdesk_eventbench -type f -perm -u+x | head -n1)
[ -n "$bench" ] || { echo "postdesk_eventbench is not built in $build (cmake --build $build --target postdesk_eventbench)" >&2; exit 1; }
pgbin=""
for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then pgbin=$dir; break; fi
done
[ -n "$pgbin" ] || { echo "PostgreSQL server programs not found: apt-get install postgresql-15" >&2; exit 1; }

work=$(mktemp -d /tmp/postdesk-eventbench.XXXXXX)
chmod 711 "$work"
as_server=()
[ "$(id -u)" -eq 0 ] && as_server=(runuser -u postgres --)
mkdir -p "$work/data" "$work/sock" "$work/log"
[ ${#as_server[@]} -eq 0 ] || chown postgres: "$work/data" "$work/sock" "$work/log"
chmod 700 "$work/data"
cleanup() {
    set +e
    [ -f "$work/data/postmaster.pid" ] && "${as_server[@]}" "$pgbin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_server[@]}" "$pgbin/initdb" -D "$work/data" -U postgres -E UTF8 --locale=C.UTF-8 -A trust >"$work/initdb.log" 2>&1 \
    || { cat "$work/initdb.log" >&2; exit 1; }
"${as_server[@]}" "$pgbin/pg_ctl" -D "$work/data" -l "$work/log/postgres.log" -w \
    -o "-k $work/sock -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=256MB" start >/dev/null \
    || { cat "$work/log/postgres.log" >&2; exit 1; }

echo "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') (fsync off), $(nproc) CPUs"
"$bench" "host=$work/sock port=$port dbname=postgres user=postgres" "$events" "$batch"
