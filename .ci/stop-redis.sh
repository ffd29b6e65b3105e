#!/usr/bin/env bash
# Stop the server `.ci/start-redis.sh` started in $DATAFLARE_REDIS_DIR
# (default /tmp/dataflare-redis) and delete its folder. Safe when none runs.
set -euo pipefail

DIR="${DATAFLARE_REDIS_DIR:-/tmp/dataflare-redis}"
[ -d "$DIR" ] || exit 0
if [ -f "$DIR/redis.pid" ]; then
    PID="$(cat "$DIR/redis.pid")"
    if kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID"
        # persistence is off, so the server exits at once; wait so the port is free after
        for _ in $(seq 100); do
            kill -0 "$PID" 2>/dev/null || break
            sleep 0.05
        done
        kill -0 "$PID" 2>/dev/null && kill -KILL "$PID"
    fi
fi
rm -rf "$DIR"
