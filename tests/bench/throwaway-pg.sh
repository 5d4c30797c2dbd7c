# Sourced by the benchmark scripts: starts a throwaway PostgreSQL (fsync off, as in the tests) in
# a temporary directory and stops it, and removes the directory, when the script exits.
# Sets: work (the directory), pgbin, pgport, pgsock, pgconn (a libpq connection string).
pgbin=""
for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then pgbin=$dir; break; fi
done
[ -n "$pgbin" ] || { echo "PostgreSQL server programs not found: apt-get install postgresql-15" >&2; exit 1; }

work=$(mktemp -d /tmp/postdesk-bench.XXXXXX)
chmod 711 "$work"
as_server=()
[ "$(id -u)" -eq 0 ] && as_server=(runuser -u postgres --)
mkdir -p "$work/data" "$work/sock" "$work/log"
[ ${#as_server[@]} -eq 0 ] || chown postgres: "$work/data" "$work/sock" "$work/log"
chmod 700 "$work/data"
bench_cleanup_hooks=()
bench_cleanup() {
    set +e
    for hook in "${bench_cleanup_hooks[@]}"; do eval "$hook"; done
    [ -f "$work/data/postmaster.pid" ] && "${as_server[@]}" "$pgbin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1
    rm -rf "$work"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

pgport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pgsock=$work/sock
"${as_server[@]}" "$pgbin/initdb" -D "$work/data" -U postgres -E UTF8 --locale=C.UTF-8 -A trust >"$work/initdb.log" 2>&1 \
    || { cat "$work/initdb.log" >&2; exit 1; }
"${as_server[@]}" "$pgbin/pg_ctl" -D "$work/data" -l "$work/log/postgres.log" -w \
    -o "-k $pgsock -p $pgport -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=256MB -c max_connections=200 ${BENCH_PG_OPTIONS:-}" start >/dev/null \
    || { cat "$work/log/postgres.log" >&2; exit 1; }
pgconn="host=$pgsock port=$pgport dbname=postgres user=postgres"
echo "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') (fsync off), $(nproc) CPUs"
