#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster and print its DSN. Installs nothing.
#
# Usage:  eval "$(bash .ci/start-postgres.sh)"   # exports DATAFLARE_PG_DSN
#         bash .ci/stop-postgres.sh               # stops it and deletes its folder
#
# Needs Debian's `postgresql` package (`.ci/run` installs it; on a laptop:
# `apt-get install postgresql`); exits 3 with that hint when it is missing.
# Runs a private cluster (trust auth, localhost only) in $DATAFLARE_PG_DIR
# (default /tmp/dataflare-pg) owned by the `postgres` user, because the server
# refuses to run as root. It listens on $DATAFLARE_PG_PORT, else 5432 when
# free (so the README's example YAML, which names localhost:5432, runs
# unchanged), else the first free port from 54320. Rerunning reuses a running
# cluster. Creates the databases `dataflare` and `mydb` and a superuser role
# for the caller, so libpq's default user works too. The last stdout line is
# the export.
set -euo pipefail

source "$(dirname "$0")/pg-env.sh"
log() { echo "start-postgres: $*" >&2; }

if ! BIN="$(pg_bin initdb)"; then
    log "PostgreSQL is not installed; install it with: apt-get install postgresql"
    exit 3
fi

port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

if [ -f "$DIR/data/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    PORT="$(sed -n 4p "$DIR/data/postmaster.pid")"
    log "reusing the cluster in $DIR on port $PORT"
else
    if [ -n "${DATAFLARE_PG_PORT:-}" ]; then
        PORT="$DATAFLARE_PG_PORT"
    elif port_free 5432; then
        PORT=5432
    else
        PORT=54320
        while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
    fi
    rm -rf "$DIR"
    mkdir -p "$DIR"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$DIR"; fi
    as_pg "$BIN/initdb" -D "$DIR/data" -A trust -U postgres -E UTF8 >"$DIR/initdb.log" 2>&1 \
        || { cat "$DIR/initdb.log" >&2; exit 1; }
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
        -o "-p $PORT -k $DIR -c listen_addresses=localhost -c fsync=off" start >&2 \
        || { cat "$DIR/server.log" >&2; exit 1; }
    log "started a cluster in $DIR on port $PORT"
fi

PSQL=("$BIN/psql" -q -h localhost -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)
for db in dataflare mydb; do
    if [ -z "$("${PSQL[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
        "${PSQL[@]}" -c "CREATE DATABASE $db" >&2
    fi
done
ME="$(id -un)"
if [ "$ME" != postgres ] && [ -z "$("${PSQL[@]}" -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$ME'")" ]; then
    "${PSQL[@]}" -c "CREATE ROLE \"$ME\" SUPERUSER LOGIN" >&2
fi

echo "export DATAFLARE_PG_DSN='postgresql://postgres@localhost:$PORT/dataflare'"
