#!/usr/bin/env bash
# Event ingest throughput on a throwaway PostgreSQL (fsync off, as in the tests): EVENTS SendGrid
# events in signed batches of BATCH, POSTed over HTTP keep-alive to the webhook server, against a
# raw COPY of the same rows into the same events table (goal: at least 0.3x), printing both rates
# and the ratio for each of ROUNDS rounds, then the median ratio.
#
#   tests/bench/events/run.sh BUILD_DIR [EVENTS] [BATCH] [ROUNDS]
#
# Needs the postdesk_eventbench target (cmake --build BUILD_DIR --target postdesk_eventbench).
set -euo pipefail
build=$(cd "${1:?usage: run.sh BUILD_DIR [EVENTS] [BATCH] [ROUNDS]}" && pwd)
events=${2:-50000}
batch=${3:-1000}
rounds=${4:-3}

bench=$(find "$build" -name postdesk_eventbench -type f -perm -u+x | head -n1)
[ -n "$bench" ] || { echo "postdesk_eventbench is not built in $build (cmake --build $build --target postdesk_eventbench)" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../throwaway-pg.sh"
"$bench" "$pgconn" "$events" "$batch" "$rounds"
