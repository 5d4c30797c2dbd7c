#!/usr/bin/env bash
# Builds the webhook parser fuzzers (SendGrid, Mailgun, Postmark, SES) with clang (libFuzzer,
# AddressSanitizer, UndefinedBehaviorSanitizer) and runs each for SECONDS (default 120) on the
# sample payloads of tests/data/events, printing each target's runs and result. Needs clang and
# Qt's development files; builds into a temporary directory unless FUZZ_BUILD_DIR is set.
#   tests/fuzz/run-events.sh [SECONDS] [TARGET...]
set -euo pipefail
seconds=${1:-120}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(sendgrid mailgun postmark ses)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${FUZZ_BUILD_DIR:-$(mktemp -d)}
mkdir -p "$out"
cxx=$(command -v clang++-14 || command -v clang++)
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -fPIC -I"$root/core" $(pkg-config --cflags Qt6Core) -DQT_NO_CAST_FROM_ASCII -DQT_NO_KEYWORDS)
objs=()
for src in "$root"/core/events/event.cpp "$root"/core/events/*parser.cpp "$root/core/common/logging.cpp"; do
    obj="$out/$(basename "$src" .cpp).o"
    "$cxx" "${flags[@]}" -c "$src" -o "$obj"
    objs+=("$obj")
done
status=0
for target in "${targets[@]}"; do
    "$cxx" "${flags[@]}" -I"$here" "$here/events_${target}_fuzzer.cpp" "${objs[@]}" \
        $(pkg-config --libs Qt6Core) -o "$out/events_${target}_fuzzer"
    corpus="$out/corpus-$target"
    mkdir -p "$corpus"
    case $target in
        ses) for f in "$root"/tests/data/events/ses-*.json; do
                 python3 -c 'import json,sys; m=open(sys.argv[1]).read().strip(); print(json.dumps({"Type":"Notification","MessageId":"seed","Message":m}))' "$f" > "$corpus/$(basename "$f")"
             done ;;
        *) cp "$root"/tests/data/events/"$target"-*.json "$corpus/" ;;
    esac
    echo "== events_${target}_fuzzer: $seconds s"
    if (cd "$out" && "./events_${target}_fuzzer" -max_total_time="$seconds" -max_len=65536 \
            -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$corpus" 2>"$out/$target.log"); then
        grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/$target.log" || true
        echo "   no crash"
    else
        status=1
        tail -n 40 "$out/$target.log"
        echo "   CRASH (reproducer in $out)"
    fi
done
exit $status
