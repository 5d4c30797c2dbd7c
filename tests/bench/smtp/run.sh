#!/usr/bin/env bash
# SMTP throughput on loopback: postfix's smtp-source against Postdesk's SMTP transport, both
# sending the same number of 1 KB messages over the same number of connections (reused, as
# smtp-source -d does and the pool does) to one smtp-sink.
#
#   tests/bench/smtp/run.sh BUILD_DIR [MESSAGES] [CONNECTIONS] [BODY_BYTES]
#
# Needs postfix's smtp-sink and smtp-source (apt-get install postfix, "No configuration") and the
# postdesk_smtpbench target built in BUILD_DIR.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [MESSAGES] [CONNECTIONS] [BODY_BYTES]}
messages=${2:-20000}
connections=${3:-4}
size=${4:-1024}

bench=$(find "$build" -name postdesk_smtpbench -type f -perm -u+x | head -n1)
[ -n "$bench" ] || { echo "postdesk_smtpbench is not built in $build (cmake --build $build --target postdesk_smtpbench)" >&2; exit 1; }
sink=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
source=$(command -v smtp-source || echo /usr/sbin/smtp-source)
[ -x "$sink" ] && [ -x "$source" ] || { echo "smtp-sink/smtp-source missing: apt-get install postfix" >&2; exit 1; }

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
user=()
[ "$(id -u)" = 0 ] && user=(-u nobody)
"$sink" "${user[@]}" 127.0.0.1:"$port" 1024 &
sink_pid=$!
trap 'kill "$sink_pid" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
for _ in $(seq 50); do
    if /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then break; fi
    sleep 0.1
done

now() { date +%s.%N; }
rate() { /usr/bin/python3 -c "print(f'{$1 / ($3 - $2):.0f}')"; }

echo "smtp-sink on 127.0.0.1:$port; $messages messages, $size-byte bodies, $connections connections"

start=$(now)
"$source" -d -s "$connections" -m "$messages" -l "$size" -f foo@example.org -t bar@example.net \
    -M client.example 127.0.0.1:"$port"
end=$(now)
source_rate=$(rate "$messages" "$start" "$end")
echo "smtp-source: $source_rate messages/s"

out=$("$bench" --via "smtp://127.0.0.1:$port?pool=$connections&per_connection=1000000&helo=client.example" \
    --messages "$messages" --size "$size")
postdesk_rate=$(echo "$out" | sed -n 's/.*rate=\([0-9.]*\).*/\1/p')
postdesk_rate=${postdesk_rate%.*}
echo "postdesk:    $postdesk_rate messages/s ($out)"
/usr/bin/python3 -c "print(f'ratio postdesk/smtp-source: {$postdesk_rate / $source_rate:.2f}x')"
