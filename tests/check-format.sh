#!/usr/bin/env bash
# Every C++ file follows .clang-format (Qt's style). Prints the files that do not and how to fix them.
set -uo pipefail
root=${1:-$(dirname "$0")/..}
cd "$root"
cf=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$cf" ]; then
    echo "clang-format is not installed (apt-get install clang-format)" >&2
    exit 1
fi
mapfile -d '' files < <(git ls-files -z --cached --others --exclude-standard -- '*.cpp' '*.h' 2>/dev/null)
[ ${#files[@]} -gt 0 ] || { echo "no C++ files found" >&2; exit 1; }
# One run over every file; clang-format names each file that differs in its warnings.
report=$("$cf" --dry-run --Werror "${files[@]}" 2>&1 >/dev/null)
if [ -n "$report" ]; then
    bad=$(printf '%s\n' "$report" | grep -oE '^[^:]+\.(cpp|h):' | tr -d ':' | sort -u | tr '\n' ' ')
    echo "These files are not formatted; run: $cf -i $bad" >&2
    exit 1
fi
echo "all ${#files[@]} C++ files are formatted"
