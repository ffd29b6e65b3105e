#!/usr/bin/env bash
# Stop the cluster `.ci/start-postgres.sh` started in $DATAFLARE_PG_DIR
# (default /tmp/dataflare-pg) and delete its folder. Safe when none runs.
set -euo pipefail
source "$(dirname "$0")/pg-env.sh"

[ -d "$DIR" ] || exit 0
if [ -f "$DIR/data/postmaster.pid" ] && BIN="$(pg_bin pg_ctl)"; then
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >&2 || true
fi
rm -rf "$DIR"
