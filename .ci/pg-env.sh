# Shared by start-postgres.sh and stop-postgres.sh (sourced, not run).
# DIR: the cluster's folder; pg_bin NAME: the folder of the newest installed
# PostgreSQL binary NAME, or nothing; as_pg: run a command as `postgres` when
# root, because the server refuses to run as root.

DIR="${DATAFLARE_PG_DIR:-/tmp/dataflare-pg}"

pg_bin() {
    local found
    found="$(ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n1)"
    [ -n "$found" ] && dirname "$found"
}

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
