#!/usr/bin/env bash
# Runs every test against real, throwaway services, and stops exactly what it started:
#   - a PostgreSQL cluster on a private socket and a free 127.0.0.1 port (POSTDESK_TEST_DB,
#     POSTDESK_TEST_TCP_HOST, POSTDESK_TEST_TCP_PORT);
#   - a private D-Bus session with an unlocked gnome-keyring (the real Secret Service);
#   - HOME, XDG_* and settings in a temporary directory, so nothing of the user's is touched.
# Tests start their own SMTP peers and fake provider APIs on free ports.
# Usage: tests/run-tests.sh BUILD_DIR [ctest arguments...]
set -euo pipefail
build=$(cd "${1:?usage: run-tests.sh BUILD_DIR [ctest args]}" && pwd)
shift

pgbin=""
for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then pgbin=$dir; break; fi
done
[ -n "$pgbin" ] || { echo "PostgreSQL server programs not found: apt-get install postgresql-15" >&2; exit 1; }

work=$(mktemp -d /tmp/postdesk-test.XXXXXX)
chmod 711 "$work"
as_server=()
if [ "$(id -u)" -eq 0 ]; then
    # initdb and postgres refuse to run as root.
    as_server=(runuser -u postgres --)
fi

pgdata=$work/pgdata
pgsock=$work/pgsock
pglog=$work/pglog
mkdir -p "$pgdata" "$pgsock" "$pglog"
[ ${#as_server[@]} -eq 0 ] || chown postgres: "$pgdata" "$pgsock" "$pglog"
chmod 700 "$pgdata"

cleanup() {
    set +e
    if [ -f "$pgdata/postmaster.pid" ]; then
        "${as_server[@]}" "$pgbin/pg_ctl" -D "$pgdata" -m immediate -w stop >/dev/null 2>&1
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_server[@]}" "$pgbin/initdb" -D "$pgdata" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 --no-instructions >"$work/initdb.log" 2>&1 \
    || { cat "$work/initdb.log" >&2; exit 1; }
"${as_server[@]}" "$pgbin/pg_ctl" -D "$pgdata" -l "$pglog/postgres.log" -w \
    -o "-k $pgsock -p $port -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off" start >/dev/null \
    || { cat "$pglog/postgres.log" >&2; exit 1; }

export POSTDESK_TEST_DB="host=$pgsock port=$port dbname=postgres user=postgres"
export POSTDESK_TEST_TCP_HOST=127.0.0.1
export POSTDESK_TEST_TCP_PORT=$port
export POSTDESK_TEST_PGDATA=$pgdata
unset POSTDESK_DB PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD PGSERVICE PGSSLMODE || true

export HOME=$work/home
export XDG_RUNTIME_DIR=$work/runtime
export XDG_CONFIG_HOME=$HOME/.config
export XDG_DATA_HOME=$HOME/.local/share
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME"
chmod 700 "$XDG_RUNTIME_DIR"
chmod 711 "$HOME" "$HOME/.local" "$XDG_DATA_HOME"

export QT_QPA_PLATFORM=offscreen
echo "Test services: PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port and $pgsock; D-Bus session with gnome-keyring"

# The keyring gets a password of its own that nothing else knows; the session ends with ctest.
dbus-run-session -- bash -c '
    set -euo pipefail
    eval "$(printf %s "$(head -c 24 /dev/urandom | base64)" | gnome-keyring-daemon --unlock --components=secrets)"
    export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK 2>/dev/null || true
    cd "$0"
    ctest --output-on-failure --timeout 900 "$@"
' "$build" "$@"
