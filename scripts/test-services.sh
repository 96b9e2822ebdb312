#!/usr/bin/env bash
# Starts and stops the PostgreSQL and Redis that the live-service tests use, on loopback.
#   scripts/test-services.sh start|stop            both services
#   scripts/test-services.sh postgres|redis start|stop
#   scripts/test-services.sh env                   the environment the tests read
# Ports: CHAT_PG_PORT (54329), CHAT_REDIS_PORT (63799); state under CHAT_SERVICES_DIR (/tmp/chat-services).
set -euo pipefail

PG_PORT=${CHAT_PG_PORT:-54329}
REDIS_PORT=${CHAT_REDIS_PORT:-63799}
STATE=${CHAT_SERVICES_DIR:-/tmp/chat-services}

pg_bin() {
    # Debian keeps the server binaries out of PATH; some machines have them in /usr/local/bin.
    if command -v pg_ctl >/dev/null 2>&1; then dirname "$(command -v pg_ctl)"; return; fi
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

postgres() {
    local bin; bin=$(pg_bin)
    case "$1" in
    start)
        mkdir -p "$STATE"
        if [ ! -d "$STATE/pg" ]; then
            mkdir -p "$STATE/pg"
            [ "$(id -u)" = 0 ] && chown postgres "$STATE/pg"
            as_postgres "$bin/initdb" -D "$STATE/pg" --auth=trust -U postgres >/dev/null
        fi
        [ "$(id -u)" = 0 ] && chown -R postgres "$STATE/pg"
        as_postgres "$bin/pg_ctl" -D "$STATE/pg" -w -l "$STATE/pg/server.log" \
            -o "-p $PG_PORT -k $STATE/pg -c listen_addresses=127.0.0.1 -c max_connections=500 -c fsync=off" start >/dev/null
        ;;
    stop)
        as_postgres "$bin/pg_ctl" -D "$STATE/pg" -w -m fast stop >/dev/null
        ;;
    esac
}

redis() {
    case "$1" in
    start)
        mkdir -p "$STATE"
        redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
            --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log" --dir "$STATE"
        for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
        echo "redis did not start" >&2; return 1
        ;;
    stop)
        redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
        for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || return 0; sleep 0.1; done
        ;;
    esac
}

case "${1:-}" in
start | stop) postgres "$1"; redis "$1" ;;
postgres | redis) "$1" "$2" ;;
env)
    echo "CHAT_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres"
    echo "CHAT_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
    echo "CHAT_TEST_SERVICE_CONTROL=$(cd "$(dirname "$0")" && pwd)/test-services.sh"
    ;;
*) sed -n '2,6p' "$0"; exit 2 ;;
esac
