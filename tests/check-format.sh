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
bad=()
while IFS= read -r -d '' f; do
    if ! "$cf" --dry-run --Werror "$f" >/dev/null 2>&1; then
        bad+=("$f")
    fi
done < <(git ls-files -z --cached --others --exclude-standard -- '*.cpp' '*.h' 2>/dev/null)
if [ ${#bad[@]} -gt 0 ]; then
    echo "These files are not formatted; run: $cf -i ${bad[*]}" >&2
    exit 1
fi
echo "all C++ files are formatted"
