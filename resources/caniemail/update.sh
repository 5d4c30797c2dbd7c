#!/usr/bin/env bash
# Regenerates caniemail.json, the compact extract of the Can I Email data set (MIT licence, see
# LICENSE; https://www.caniemail.com, npm package "caniemail") that the pre-send checks bundle.
# Needs Node 20 and npm; installs the package into a temporary directory and removes it after.
# Usage: resources/caniemail/update.sh [VERSION]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=${1:-latest}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
(cd "$work" && npm install --silent --no-audit --no-fund "caniemail@$version" >/dev/null)
cp "$work/node_modules/caniemail/LICENSE" "$here/LICENSE"
node "$here/extract.mjs" "$work/node_modules/caniemail" >"$here/caniemail.json"
echo "wrote $here/caniemail.json"
