#!/usr/bin/env bash
# Queue throughput on a throwaway PostgreSQL (fsync off, as in the tests):
#   - enqueue of MESSAGES messages with QueueRepository::enqueueBatch against a raw COPY of the
#     same rows into the same table (goal: at least 0.5x of raw COPY), printing both rates and
#     the ratio, without and with idempotency keys;
#   - claim + complete throughput (msgs/s) with WORKERS threads, each its own connection, in
#     batches of BATCH.
#
#   tests/bench/queue/run.sh BUILD_DIR [MESSAGES] [WORKERS] [BATCH]
#
# Needs the postdesk_queuebench target (cmake --build BUILD_DIR --target postdesk_queuebench).
set -euo pipefail
build=$(cd "${1:?usage: run.sh BUILD_DIR [MESSAGES] [WORKERS] [BATCH]}" && pwd)
messages=${2:-100000}
workers=${3:-4}
batch=${4:-100}

bench=$(find "$build" -name postdesk_queuebench -type f -perm -u+x | head -n1)
[ -n "$bench" ] || { echo "postdesk_queuebench is not built in $build (cmake --build $build --target postdesk_queuebench)" >&2; exit 1; }
source "$(dirname "$0")/../throwaway-pg.sh"
"$bench" "$pgconn" "$messages" "$workers" "$batch"
