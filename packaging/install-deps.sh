#!/usr/bin/env bash
# Installs the Debian packages Postdesk needs that are not installed yet (never re-installs or
# upgrades what is there). Usage: packaging/install-deps.sh [build] [run] [test]  (default: all)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(build run test)

wanted=()
section=""
while IFS= read -r line; do
    line=${line%%#*}
    line=$(echo "$line" | xargs)
    [ -n "$line" ] || continue
    if [[ $line =~ ^\[(.*)\]$ ]]; then
        section=${BASH_REMATCH[1]}
        continue
    fi
    for s in "${sections[@]}"; do
        [ "$s" = "$section" ] && wanted+=("$line")
    done
done < "$here/debian-packages.txt"

missing=()
for pkg in "${wanted[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "installed" ] || missing+=("$pkg")
done
[ ${#missing[@]} -gt 0 ] || exit 0

echo "Installing: ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "Installing packages needs root; install sudo or run as root." >&2; exit 1; }
    sudo=(sudo)
fi
for pkg in "${missing[@]}"; do
    if [ "$pkg" = postfix ]; then
        # Only its smtp-sink and smtp-source load tools are used: no mail service is configured.
        echo "postfix postfix/main_mailer_type select No configuration" | "${sudo[@]}" debconf-set-selections
    fi
done
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
