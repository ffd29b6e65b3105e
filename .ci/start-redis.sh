#!/usr/bin/env bash
# Start a throwaway redis-server and print its URL. Installs nothing.
#
# Usage:  eval "$(bash .ci/start-redis.sh)"   # exports DATAFLARE_REDIS_URL
#         bash .ci/stop-redis.sh               # stops it and deletes its folder
#
# Needs Debian's `redis-server` package (`.ci/run` installs it; on a laptop:
# `apt-get install redis-server`); exits 3 with that hint when it is missing.
# The server runs daemonized in $DATAFLARE_REDIS_DIR (default /tmp/dataflare-redis),
# which holds its pid file and log; it listens on 127.0.0.1 only, on
# $DATAFLARE_REDIS_PORT, else 6379 when free, else the first free port from
# 63790. Persistence is off (no RDB snapshot, no AOF), so stopping it leaves
# nothing behind but the folder, which stop-redis.sh deletes. Rerunning reuses
# a running server. The last stdout line is the export.
set -euo pipefail

DIR="${DATAFLARE_REDIS_DIR:-/tmp/dataflare-redis}"
log() { echo "start-redis: $*" >&2; }

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    log "redis-server is not installed; install it with: apt-get install redis-server"
    exit 3
fi

port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

if [ -f "$DIR/redis.pid" ] && kill -0 "$(cat "$DIR/redis.pid")" 2>/dev/null \
        && [ -f "$DIR/port" ]; then
    PORT="$(cat "$DIR/port")"
    log "reusing the server in $DIR on port $PORT"
else
    if [ -n "${DATAFLARE_REDIS_PORT:-}" ]; then
        PORT="$DATAFLARE_REDIS_PORT"
    elif port_free 6379; then
        PORT=6379
    else
        PORT=63790
        while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
    fi
    rm -rf "$DIR"
    mkdir -p "$DIR"
    echo "$PORT" >"$DIR/port"
    # --save "" and --appendonly no: nothing is ever written to disk but the log
    redis-server --port "$PORT" --bind 127.0.0.1 --daemonize yes \
        --pidfile "$DIR/redis.pid" --dir "$DIR" --logfile "$DIR/redis.log" \
        --save "" --appendonly no >&2 \
        || { cat "$DIR/redis.log" >&2 2>/dev/null; exit 1; }
    for _ in $(seq 100); do
        if redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; then
            break
        fi
        sleep 0.05
    done
    if ! redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; then
        log "the server did not answer on port $PORT"
        cat "$DIR/redis.log" >&2 2>/dev/null || true
        exit 1
    fi
    log "started a server in $DIR on port $PORT"
fi

echo "export DATAFLARE_REDIS_URL='redis://127.0.0.1:$PORT/0'"
