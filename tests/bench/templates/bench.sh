#!/usr/bin/env bash
# Template rendering benchmark: a realistic order-confirmation email (a layout partial, ~25
# variables, a loop of order lines, conditionals, formatted dates and currency, ~10 KB of HTML)
# rendered N times by `postdeskctl render --bench N` and by handlebars.js 4.7 (precompiled, same
# template, data and helpers), side by side in one run. Prints both rates and the ratio, and
# whether both produced the same HTML. Builds nothing; needs node and npm for handlebars.js.
# Each side runs three times, alternating; the best round of each is reported.
#
#   tests/bench/templates/bench.sh path/to/postdeskctl [N]
set -euo pipefail
ctl=${1:?usage: $0 path/to/postdeskctl [N]}
n=${2:-20000}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

npm install --silent --no-audit --no-fund --prefix "$tmp" handlebars@4.7 >/dev/null

"$ctl" render "$here/email.hbs" --data "$here/data.json" --partials "$here/partials" >"$tmp/postdesk.html"

rate() { sed -E 's/.*\(([0-9]+) renders\/s\).*/\1/' <<<"$1"; }
# Three rounds, alternating, and the best of each: a shared machine slows one run or another.
postdesk="" handlebars=""
for round in 1 2 3; do
    p=$("$ctl" render "$here/email.hbs" --data "$here/data.json" --partials "$here/partials" --bench "$n")
    h=$(node "$here/bench.js" "$tmp" "$here/email.hbs" "$here/data.json" "$here/partials" "$n" "$tmp/handlebars.html")
    if [ -z "$postdesk" ] || [ "$(rate "$p")" -gt "$(rate "$postdesk")" ]; then postdesk=$p; fi
    if [ -z "$handlebars" ] || [ "$(rate "$h")" -gt "$(rate "$handlebars")" ]; then handlebars=$h; fi
done
echo "template:      $(wc -c <"$tmp/postdesk.html") bytes of HTML per render"
echo "postdesk:      $postdesk"
echo "handlebars.js: $handlebars"
awk -v p="$(rate "$postdesk")" -v h="$(rate "$handlebars")" \
    'BEGIN { printf "ratio:         %.2fx handlebars.js\n", p / h }'
if cmp -s "$tmp/postdesk.html" "$tmp/handlebars.html"; then
    echo "output:        identical"
else
    echo "output:        DIFFERENT (diff $tmp/postdesk.html $tmp/handlebars.html)"
    diff "$tmp/postdesk.html" "$tmp/handlebars.html" | head -20
    exit 1
fi
