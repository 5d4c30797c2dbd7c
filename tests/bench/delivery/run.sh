#!/usr/bin/env bash
# Send-pipeline throughput, each side by side with its peer in one run:
#   1. claim + complete with the sandbox provider: postdeskd --workers W against graphile-worker
#      (npm, W processes, batching on: local queue and batched completion) and against pgbench
#      running the same batched statements with no program in between (claim, store in the
#      sandbox, complete): the ceiling. Goals: >= 1.0x graphile-worker, >= 0.6x pgbench.
#      Printed too, as a stricter reference: pgbench taking and completing leases alone.
#   2. end to end to postfix's smtp-sink: messages/s delivered by postdeskd (render, compose,
#      SMTP through its pool) against smtp-source sending messages of the same size over the same
#      number of connections. Goal: >= 0.7x smtp-source.
# (Enqueue against raw COPY is tests/bench/queue/run.sh.)
#
#   tests/bench/delivery/run.sh BUILD_DIR [MESSAGES] [WORKERS] [ROUNDS]
#
# Needs node and npm for graphile-worker (installed into a temporary directory), pgbench
# (postgresql-client) and postfix's smtp-sink / smtp-source.
set -euo pipefail
build=$(cd "${1:?usage: run.sh BUILD_DIR [MESSAGES] [WORKERS] [ROUNDS]}" && pwd)
messages=${2:-20000}
workers=${3:-2}
rounds=${4:-3}
here=$(cd "$(dirname "$0")" && pwd)
ctl=$build/app/postdeskctl/postdeskctl
daemon=$build/app/postdeskd/postdeskd
for program in "$ctl" "$daemon"; do
    [ -x "$program" ] || { echo "$program is not built (cmake --build $build)" >&2; exit 1; }
done
for tool in node npm pgbench smtp-sink smtp-source; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] \
        || { echo "$tool is missing (packages: nodejs npm postgresql-client postfix)" >&2; exit 1; }
done
export PATH=$PATH:/usr/sbin

source "$here/../throwaway-pg.sh"
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$pgconn" "$@"; }
daemon_pid=""
bench_cleanup_hooks+=('[ -n "$daemon_pid" ] && kill -9 $daemon_pid 2>/dev/null')

"$ctl" db migrate --db "$pgconn" >/dev/null
concurrency=64

fill_queue() { # fill_queue N: N pending pre-rendered messages, about 1 KB each once composed
    psql -c "TRUNCATE messages, sandbox_messages, provider_rate_windows, workers RESTART IDENTITY CASCADE" \
         -c "INSERT INTO messages (queue_id, recipient, subject, html_body, text_body)
             SELECT (SELECT id FROM queues WHERE name = 'bulk'), 'user' || i || '@example.net',
                    'Your weekly digest ' || i, '<h1>Hello</h1><p>' || repeat('Lorem ipsum dolor sit amet. ', 12) || '</p>',
                    'Hello\n' || repeat('Lorem ipsum dolor sit amet. ', 12)
             FROM generate_series(1, $1) i" -c "VACUUM ANALYZE messages"
}

run_postdeskd() { # run_postdeskd N: seconds from the start of postdeskd until N are sent
    # Poll over one connection kept open (a psql per poll would start a server process each
    # time, a cost pgbench's run below does not have), and cheaply (the partial indexes on pending
    # and processing): the time is taken from the server's timestamps, so a quarter second
    # between polls costs the result nothing, while each poll walks the pending index past every
    # row already claimed.
    coproc POLL { stdbuf -oL psql -X -q -At -v ON_ERROR_STOP=1 "$pgconn" 2>&1; }
    local start; start=$(date +%s.%N)
    "$daemon" --db "$pgconn" --workers "$workers" --concurrency "$concurrency" --grace 5 2>"$work/postdeskd.log" &
    daemon_pid=$!
    local busy=t
    while [ "$busy" = t ]; do
        sleep 0.25
        echo "SELECT EXISTS (SELECT 1 FROM messages WHERE state = 'pending')
                     OR EXISTS (SELECT 1 FROM messages WHERE state = 'processing');" >&"${POLL[1]}"
        read -r -t 30 busy <&"${POLL[0]}" || { echo "the progress query did not answer" >&2; exit 1; }
        kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/postdeskd.log" >&2; exit 1; }
    done
    local end; end=$(date +%s.%N)
    exec {POLL[1]}>&-
    wait "$POLL_PID" 2>/dev/null || true
    kill -TERM "$daemon_pid"; wait "$daemon_pid" || true; daemon_pid=""
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

echo
echo "== 1. claim + complete, $messages messages, $workers workers x $concurrency in flight, sandbox provider"
psql -c "INSERT INTO providers (name, type, options) VALUES ('bench', 'sandbox',
         '{\"url\": \"sandbox:\", \"from\": \"Bench <bench@example.org>\"}')"
# A short run first, not timed: the cluster was just started, and the first run through it pays
# for touching its shared memory and caches for the first time, which pgbench, running later,
# would not.
fill_queue $(( messages / 4 ))
run_postdeskd $(( messages / 4 )) >/dev/null
size=$(psql -At -c "SELECT round(avg(octet_length(raw))) FROM sandbox_messages")
provider=$(psql -At -c "SELECT id FROM providers WHERE name = 'bench'")
# Timed from the first message stored to the last completion, by the server's clock (the
# program's start-up is not part of the throughput).
stored_rate() {
    local sent seconds
    sent=$(psql -At -c "SELECT count(*) FROM messages WHERE state = 'sent'")
    [ "$sent" -eq "$(psql -At -c "SELECT count(*) FROM sandbox_messages")" ] \
        || { echo "stored and completed different numbers of messages" >&2; exit 1; }
    seconds=$(psql -At -c "SELECT extract(epoch FROM (SELECT max(sent_at) FROM messages)
                                             - (SELECT min(created_at) FROM sandbox_messages))")
    rate "$sent" "$seconds"
}
time_postdeskd() {
    fill_queue "$messages"
    run_postdeskd "$messages" >/dev/null
    stored_rate
}

# pgbench, the ceiling: the statements postdeskd sends for each batch, run by pgbench with no
# program in between. One client per worker, batches of $concurrency. Each transaction of the
# script is one round of a worker:
#   - the claim (QueueRepository::claimStatement: the suppression lookup, the paused-queue check,
#     the lease), its rows gathered into arrays on the server instead of sent to a program;
#   - the sandbox's store of the composed messages (SandboxTransport::flush), the messages as one
#     bytea of the size postdeskd composed, cut apart by offset and length;
#   - the completion (QueueRepository::completeStatement: by lease token, with the day's rollups).
# Like postdeskd's, each statement is its own transaction. Left out: the reclaim of expired
# leases (once a second) and the worker's heartbeat.
# Plain letters read as bytea in its escape format: one character a byte, which keeps the
# batch's bytes within what one program argument may hold (128 KiB).
raw=$(head -c $(( size * concurrency )) /dev/zero | tr '\0' A)
cat >"$work/same.sql" <<SQL
WITH picked AS (
  SELECT m.id, s.reason AS suppressed FROM messages m
  LEFT JOIN suppressions s ON s.address = lower(m.recipient)
  WHERE m.state = 'pending' AND m.scheduled_at <= now()
    AND m.queue_id IN (SELECT q.id FROM queues q WHERE NOT q.paused)
  ORDER BY m.priority, m.scheduled_at, m.id
  LIMIT $concurrency
  FOR UPDATE OF m SKIP LOCKED
), blocked AS (
  UPDATE messages m SET state = 'suppressed', updated_at = now(),
    last_error = 'The recipient is on the suppression list (' || p.suppressed || '); not sent.',
    last_error_class = NULL, lease_expires_at = NULL, leased_by = NULL, lease_token = NULL
  FROM picked p
  WHERE m.id = p.id AND p.suppressed IS NOT NULL
), claimed AS (
  UPDATE messages m SET state = 'processing', leased_by = :worker,
    lease_token = gen_random_uuid(),
    lease_expires_at = now() + make_interval(secs => 120),
    attempts = m.attempts + 1, updated_at = now()
  FROM picked p, queues q
  WHERE m.id = p.id AND p.suppressed IS NULL AND q.id = m.queue_id
  RETURNING m.id, m.lease_token, m.lease_expires_at, q.name, m.priority,
    m.attempts, m.max_attempts, m.recipient, m.sender, m.template_version_id,
    m.data, m.subject, m.html_body, m.text_body, m.idempotency_key,
    m.created_at, m.scheduled_at
), numbered AS (
  SELECT c.*, c.id || '.' || extract(epoch FROM c.created_at)::bigint || '.postdesk@example.org' AS mid,
         row_number() OVER (ORDER BY c.priority, c.scheduled_at, c.id) AS n
  FROM claimed c
)
SELECT coalesce(array_agg(id ORDER BY n), '{}')::text AS ids,
       coalesce(array_agg(lease_token ORDER BY n), '{}')::text AS tokens,
       coalesce(array_agg(mid ORDER BY n), '{}')::text AS mids,
       coalesce(array_agg('sandbox-' || mid ORDER BY n), '{}')::text AS pmids,
       coalesce(array_agg('bench@example.org'::text ORDER BY n), '{}')::text AS froms,
       coalesce(array_agg(ARRAY[recipient]::text ORDER BY n), '{}')::text AS rcpts,
       coalesce(array_agg(subject ORDER BY n), '{}')::text AS subjects,
       coalesce(array_agg(1 + (n - 1) * $size ORDER BY n), '{}')::text AS offsets,
       coalesce(array_agg($size ORDER BY n), '{}')::text AS lengths,
       coalesce(array_agg($provider ORDER BY n), '{}')::text AS pids,
       coalesce(array_agg(0 ORDER BY n), '{}')::text AS sendms
FROM numbered \gset
INSERT INTO sandbox_messages (provider_id, message_id,
  message_id_header, envelope_from, recipients, subject, raw)
SELECT :pid, nullif(u.q, 0), u.h, u.f, u.r::text[], u.s,
  substr(:raw::bytea, u.o::int, u.l::int)
FROM unnest(:ids::bigint[], :mids::text[], :froms::text[], :rcpts::text[],
  :subjects::text[], :offsets::bigint[], :lengths::bigint[])
  AS u(q, h, f, r, s, o, l);
WITH done AS (
  UPDATE messages m SET state = 'sent', sent_at = now(), updated_at = now(),
    provider_id = coalesce(u.provider_id, m.provider_id),
    provider_message_id = u.provider_message_id,
    message_id_header = coalesce(u.message_id_header, m.message_id_header),
    send_ms = u.send_ms,
    lease_expires_at = NULL, leased_by = NULL, lease_token = NULL,
    last_error = NULL, last_error_class = NULL, dead_reason = NULL
  FROM unnest(:ids::bigint[], :tokens::uuid[], :pids::bigint[], :pmids::text[], :mids::text[],
    :sendms::integer[])
    AS u(id, token, provider_id, provider_message_id, message_id_header, send_ms)
  WHERE m.id = u.id AND m.lease_token = u.token
  RETURNING m.id, m.provider_id, m.queue_id, m.template_version_id, m.send_ms
), counted AS (
  INSERT INTO daily_rollups AS r (day, provider_id, queue_id, template_id, sent, send_ms_total)
  SELECT (now() AT TIME ZONE 'UTC')::date, coalesce(d.provider_id, 0),
    d.queue_id, coalesce(tv.template_id, 0), count(*), coalesce(sum(d.send_ms), 0)
  FROM done d LEFT JOIN template_versions tv ON tv.id = d.template_version_id
  GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (day, provider_id, queue_id, template_id) DO UPDATE
    SET sent = r.sent + excluded.sent, send_ms_total = r.send_ms_total + excluded.send_ms_total
)
SELECT id FROM done;
SQL
# run_pgbench SCRIPT [OPTION...]: a full queue drained by one client per worker, batches of
# $concurrency, its statements prepared as postdeskd prepares its own.
transactions=$(( messages / concurrency / workers ))
run_pgbench() {
    fill_queue "$messages"
    local script=$1 out; shift
    out=$(pgbench -n -M prepared -f "$script" -c "$workers" -j "$workers" -t "$transactions" "$@" \
          -h "$pgsock" -p "$pgport" -U postgres postgres 2>&1) || { echo "$out" >&2; exit 1; }
}
time_same() {
    run_pgbench "$work/same.sql" -D worker=pgbench -D pid="$provider" -D raw="$raw"
    stored_rate
}

# pgbench, the lease alone: a lease taken and completed, nothing the pipeline adds (no
# suppression lookup, no paused-queue check, no sandbox store, no rollups). A stricter reference.
cat >"$work/claim.sql" <<SQL
SELECT gen_random_uuid() AS token \gset
WITH picked AS (SELECT m.id FROM messages m WHERE m.state = 'pending' AND m.scheduled_at <= now()
                ORDER BY m.priority, m.scheduled_at, m.id LIMIT $concurrency FOR UPDATE SKIP LOCKED),
     claimed AS (UPDATE messages m SET state = 'processing', lease_token = :token::uuid,
                        leased_by = 'pgbench', lease_expires_at = now() + interval '2 minutes',
                        attempts = m.attempts + 1
                 FROM picked p WHERE m.id = p.id RETURNING m.id)
SELECT coalesce(array_agg(id), '{}')::text AS ids FROM claimed \gset
UPDATE messages SET state = 'sent', sent_at = now(), lease_token = NULL, leased_by = NULL,
       lease_expires_at = NULL
WHERE id = ANY(:ids::bigint[]) AND lease_token = :token::uuid AND state = 'processing';
SQL
time_lease() {
    run_pgbench "$work/claim.sql"
    local sent seconds
    sent=$(psql -At -c "SELECT count(*) FROM messages WHERE state = 'sent'")
    seconds=$(psql -At -c "SELECT extract(epoch FROM max(sent_at) - min(sent_at)) FROM messages WHERE state = 'sent'")
    # The first batch completes a moment after it was claimed: count one batch more.
    seconds=$(awk -v t="$seconds" -v n="$sent" -v b="$concurrency" 'BEGIN { printf "%.3f", t * (n + b) / n }')
    rate "$sent" "$seconds"
}

# The machine's speed drifts over a run: the three are timed one right after the other, in
# rounds, and the median of each ratio is printed.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
same_ratios=(); lease_ratios=(); ours_rates=()
for round in $(seq "$rounds"); do
    ours_rate=$(time_postdeskd); same_rate=$(time_same); lease_rate=$(time_lease)
    same_ratios+=("$(ratio "$ours_rate" "$same_rate")"); lease_ratios+=("$(ratio "$ours_rate" "$lease_rate")")
    ours_rates+=("$ours_rate")
    echo "round $round: postdeskd (compose, store in the sandbox, complete) $ours_rate msg/s;" \
         "pgbench, the same SQL $same_rate msg/s (${same_ratios[-1]}x);" \
         "pgbench, the lease alone $lease_rate msg/s (${lease_ratios[-1]}x)"
done
ours_rate=$(median "${ours_rates[@]}")

# graphile-worker
npmdir=$work/npm
mkdir -p "$npmdir"
(cd "$npmdir" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund graphile-worker@0.16 >/dev/null)
cp "$here/graphile.mjs" "$npmdir/"
gw_total=0; gw_max=0
pids=(); per=$(( messages / workers ))
gw_conn="postgres://postgres@localhost:$pgport/postgres?host=$pgsock"
(cd "$npmdir" && node -e "
  const { makeWorkerUtils } = require('graphile-worker');
  (async () => { const u = await makeWorkerUtils({ connectionString: '$gw_conn' }); await u.migrate(); await u.release(); })();")
# One task name per process, so that each runs exactly its share.
psql -o /dev/null -c "SELECT graphile_worker.add_job('noop' || (1 + i % $workers), json_build_object('i', i))
         FROM generate_series(0, $(( per * workers - 1 ))) i" -c "VACUUM ANALYZE"
for i in $(seq "$workers"); do
    (cd "$npmdir" && node graphile.mjs "$gw_conn" "noop$i" "$per" "$concurrency" >"$work/graphile.$i.out" 2>"$work/graphile.$i.err") &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || { cat "$work"/graphile.*.err >&2; exit 1; }; done
gw_seconds=$(awk '{ if ($3 > m) m = $3 } END { print m }' "$work"/graphile.*.out)
gw_rate=$(rate "$(( per * workers ))" "$gw_seconds")
echo "graphile-worker 0.16 ($workers processes, local queue + batched completion, no-op task): $gw_rate jobs/s"
echo "ratio postdeskd / graphile-worker: $(ratio "$ours_rate" "$gw_rate")   (goal >= 1.0)"
echo "ratio postdeskd / pgbench ceiling, the same SQL, median of $rounds rounds: $(median "${same_ratios[@]}")   (goal >= 0.6)"
echo "ratio postdeskd / pgbench, the lease alone, median of $rounds rounds: $(median "${lease_ratios[@]}")"

echo
echo "== 2. end to end to smtp-sink, $messages messages, $workers workers, 8 SMTP connections"
sinkport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sink_user=(); [ "$(id -u)" -eq 0 ] && sink_user=(-u nobody)
smtp-sink "${sink_user[@]}" -c "127.0.0.1:$sinkport" 256 >"$work/sink.log" 2>&1 &
sink_pid=$!
bench_cleanup_hooks+=('kill $sink_pid 2>/dev/null')
sleep 0.5
psql -c "DELETE FROM providers" -c "INSERT INTO providers (name, type, pool_size, options) VALUES
         ('sink', 'smtp', 8, '{\"url\": \"smtp://127.0.0.1:$sinkport?pool=8&per_connection=1000\", \"from\": \"Bench <bench@example.org>\"}')"
fill_queue "$messages"
e2e=$(run_postdeskd "$messages")
e2e_rate=$(rate "$messages" "$e2e")
echo "postdeskd to smtp-sink: $e2e_rate msg/s"
start=$(date +%s.%N)
smtp-source -s 8 -m "$messages" -l "$size" -f bench@example.org -t sink@example.net "127.0.0.1:$sinkport"
end=$(date +%s.%N)
src_rate=$(awk -v n="$messages" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", n / (b - a) }')
echo "smtp-source ($size-byte messages, 8 connections): $src_rate msg/s"
echo "ratio postdeskd / smtp-source: $(ratio "$e2e_rate" "$src_rate")   (goal >= 0.7)"
