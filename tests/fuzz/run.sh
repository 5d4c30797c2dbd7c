#!/usr/bin/env bash
# Builds the template fuzzer with clang (libFuzzer, AddressSanitizer, UndefinedBehaviorSanitizer)
# and runs it for SECONDS (default 300) on the seed corpus: the conformance corpus templates and
# the Mustache specification. Needs clang (Debian: apt-get install clang) and Qt's development
# files; builds into a temporary directory unless FUZZ_BUILD_DIR is set.
set -euo pipefail
seconds=${1:-300}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${FUZZ_BUILD_DIR:-$(mktemp -d)}
cxx=$(command -v clang++-14 || command -v clang++)
mkdir -p "$out/corpus"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -fPIC -I"$root/core" $(pkg-config --cflags Qt6Core) -DQT_NO_CAST_FROM_ASCII -DQT_NO_KEYWORDS)
objs=()
for src in "$root"/core/templates/*.cpp "$root/core/common/logging.cpp"; do
    obj="$out/$(basename "$src" .cpp).o"
    "$cxx" "${flags[@]}" -c "$src" -o "$obj"
    objs+=("$obj")
done
"$cxx" "${flags[@]}" "$here/templates_fuzzer.cpp" "${objs[@]}" $(pkg-config --libs Qt6Core) \
    -o "$out/templates_fuzzer"
# Seeds: every template of the corpus and of the Mustache specification.
node -e '
const fs = require("fs"), path = require("path"), out = process.argv[1];
let i = 0;
for (const c of JSON.parse(fs.readFileSync(process.argv[2]))) fs.writeFileSync(path.join(out, "c" + i++), c.template);
for (const f of fs.readdirSync(process.argv[3]).filter((f) => f.endsWith(".json")))
  for (const t of JSON.parse(fs.readFileSync(path.join(process.argv[3], f))).tests)
    fs.writeFileSync(path.join(out, "s" + i++), t.template);
' "$out/corpus" "$root/tests/data/templates/corpus.json" "$root/tests/data/mustache-spec" 2>/dev/null || true
cd "$out"
./templates_fuzzer -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -dict="$here/templates.dict" corpus
