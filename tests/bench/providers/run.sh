#!/usr/bin/env bash
# HTTP provider throughput on loopback: Postdesk's Postmark transport and a Node keep-alive client
# making the same requests (the same JSON body and headers, the same number in flight) to one fake
# Postmark server (tests/providers/fake_postmark.py), which checks every request.
#
#   tests/bench/providers/run.sh BUILD_DIR [MESSAGES] [IN_FLIGHT] [TEXT_BYTES]
#
# Needs /usr/bin/python3, Node (/usr/bin/node) and the postdesk_providerbench target built in
# BUILD_DIR. Prints both rates and the ratio.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [MESSAGES] [IN_FLIGHT] [TEXT_BYTES]}
messages=${2:-5000}
inflight=${3:-6}
size=${4:-1024}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)

bench=$(find "$build" -name postdesk_providerbench -type f -perm -u+x | head -n1)
[ -n "$bench" ] || { echo "postdesk_providerbench is not built in $build (cmake --build $build --target postdesk_providerbench)" >&2; exit 1; }
node=$(command -v node || echo /usr/bin/node)
[ -x "$node" ] || { echo "node is missing (Node 20)" >&2; exit 1; }

tmp=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

token=bench-token
/usr/bin/python3 "$root/tests/providers/fake_postmark.py" --token "$token" >"$tmp/port" 2>"$tmp/server.log" &
server_pid=$!
for _ in $(seq 100); do
    grep -q '^PORT ' "$tmp/port" 2>/dev/null && break
    sleep 0.05
done
port=$(sed -n 's/^PORT //p' "$tmp/port")
[ -n "$port" ] || { echo "the fake Postmark server did not start" >&2; cat "$tmp/server.log" >&2; exit 1; }

"$bench" --dump-postmark-body "$tmp/body.json" --size "$size"
via="postmark://$token@?stream=outbound&in_flight=$inflight&base_url=http://127.0.0.1:$port"
echo "fake Postmark on 127.0.0.1:$port; $messages messages of $(stat -c %s "$tmp/body.json") bytes, $inflight in flight"

# A short warm-up of each, then the measured runs.
"$node" "$here/nodeclient.mjs" "$port" "$tmp/body.json" 200 "$inflight" "$token" >/dev/null
"$bench" --via "$via" --messages 200 --size "$size" >/dev/null

rate_of() { sed -n 's/.*rate=\([0-9.]*\).*/\1/p'; }
node_out=$("$node" "$here/nodeclient.mjs" "$port" "$tmp/body.json" "$messages" "$inflight" "$token")
node_rate=$(echo "$node_out" | rate_of)
echo "node keep-alive: $(printf '%.0f' "$node_rate") requests/s ($node_out)"
pd_out=$("$bench" --via "$via" --messages "$messages" --size "$size")
pd_rate=$(echo "$pd_out" | rate_of)
echo "postdesk:        $(printf '%.0f' "$pd_rate") messages/s ($pd_out)"
/usr/bin/python3 -c "print(f'ratio postdesk/node: {$pd_rate / $node_rate:.2f}x')"
