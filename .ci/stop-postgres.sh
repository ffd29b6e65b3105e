#!/usr/bin/env bash
# Stop the cluster `.ci/start-postgres.sh` started in $DATAFLARE_PG_DIR
# (default /tmp/dataflare-pg) and delete its folder. Safe when none runs.
set -euo pipefail

DIR="${DATAFLARE_PG_DIR:-/tmp/dataflare-pg}"
[ -d "$DIR" ] || exit 0
if [ -f "$DIR/data/postmaster.pid" ] && ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    BIN="$(dirname "$(ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n1)")"
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >&2 || true
    else
        "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >&2 || true
    fi
fi
rm -rf "$DIR"
