#!/usr/bin/env bash
# Three chat-server processes on three ports, sharing one PostgreSQL database and one Redis, and
# nginx in front of them with deploy/nginx.conf (rewritten for these ports by
# scripts/nginx-local-conf.py; no root needed: its pid file, logs and temporary files go to a
# temporary folder). The simulator runs every scenario (every invariant must hold), then short
# load runs: on chat sockets and on user sockets (half of the users reconnecting) with the users
# spread over the nodes directly, then on chat sockets with every user going through nginx, which
# must spread them over all three nodes. Needs the services of scripts/test-services.sh (their env:
# CHAT_TEST_POSTGRES_URL, CHAT_TEST_REDIS_URL) and nginx (install-dependencies.sh --services).
# Writes the load reports to .build/multinode-load.json, .build/multinode-user-load.json and
# .build/multinode-nginx-load.json.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${CHAT_TEST_POSTGRES_URL:?run scripts/test-services.sh start and export its env first}"
: "${CHAT_TEST_REDIS_URL:?run scripts/test-services.sh start and export its env first}"

nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "nginx is not installed: run scripts/install-dependencies.sh --services" >&2; exit 1; }
nginx_port=18100

# The same build as `swift test` (with testing enabled), so nothing is compiled twice.
swift build --build-tests
bin=$(swift build --build-tests --show-bin-path)

database="chat_multinode_$$"
psql "$CHAT_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $database" -c "CREATE DATABASE $database"
database_url="${CHAT_TEST_POSTGRES_URL%/*}/$database"
google_port=$((20000 + $$ % 20000))
client_id="chat-sim.apps.googleusercontent.com"
logs=$(mktemp -d)
pids=()
proxy_dir=""
# The logs are kept when the check fails (their folders are named), and removed when it passes.
cleanup() {
    local status=$?
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "$status" = 0 ]; then rm -rf "$logs" "$proxy_dir"; else echo "logs kept: $logs (nodes) $proxy_dir (nginx)" >&2; fi
}
trap cleanup EXIT

servers=()
# TRUST_X_FORWARDED_FOR as behind nginx in production (docs/deploy.md); the direct runs send no
# X-Forwarded-For, so for them the peer address counts.
for port in 18101 18102 18103; do
    DATABASE_URL="$database_url" REDIS_URL="$CHAT_TEST_REDIS_URL" REDIS_CHANNEL_PREFIX="$database" BCRYPT_COST=4 RATE_LIMITS=off LOG_LEVEL=notice \
    TRUST_X_FORWARDED_FOR=true \
    GOOGLE_CLIENT_IDS="$client_id" GOOGLE_JWKS_URL="http://127.0.0.1:$google_port/oauth2/v3/certs" \
    GOOGLE_TOKENINFO_URL="http://127.0.0.1:$google_port/tokeninfo" \
        "$bin/chat-server" --port "$port" >"$logs/node-$port.log" 2>&1 &
    pids+=($!)
    servers+=("http://127.0.0.1:$port")
    # The first node applies the migrations; the others start once it listens.
    for _ in $(seq 100); do grep -q "listening on" "$logs/node-$port.log" && break; sleep 0.2; done
    grep -q "listening on" "$logs/node-$port.log" || { cat "$logs/node-$port.log"; exit 1; }
done
nodes=$(IFS=,; echo "${servers[*]}")

# nginx, in the foreground of its own process (so it is stopped with the nodes). As root its workers
# run as the file's `user` (www-data): they must be able to reach its temporary folders.
proxy_dir=$(mktemp -d)
chmod 755 "$proxy_dir"
python3 scripts/nginx-local-conf.py --work "$proxy_dir" --listen "127.0.0.1:$nginx_port" \
    --node 127.0.0.1:18101 --node 127.0.0.1:18102 --node 127.0.0.1:18103 >"$proxy_dir/nginx.conf"
"$nginx" -t -q -p "$proxy_dir/" -e "$proxy_dir/error.log" -c "$proxy_dir/nginx.conf"
"$nginx" -p "$proxy_dir/" -e "$proxy_dir/error.log" -c "$proxy_dir/nginx.conf" -g "daemon off;" &
pids+=($!)
proxy="http://127.0.0.1:$nginx_port"
for _ in $(seq 100); do curl -sf "$proxy/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -sSf "$proxy/readyz" >/dev/null || { cat "$proxy_dir/error.log"; echo "nginx does not answer /readyz" >&2; exit 1; }

echo "-- scenarios across $nodes"
"$bin/chat-sim" run fixtures/scenarios --server "$nodes" --fake-google-port "$google_port" --google-client-id "$client_id" --seed 11 \
    | tee "$logs/scenarios.txt"
# These nodes trust the fake issuer: a skipped Google scenario here is a broken sign-in, not a foreign server.
if grep -q '^skip ' "$logs/scenarios.txt"; then echo "scenarios were skipped against nodes that should run them all"; exit 1; fi

echo "-- scenarios through nginx ($proxy)"
"$bin/chat-sim" run fixtures/scenarios --server "$proxy" --fake-google-port "$google_port" --google-client-id "$client_id" --seed 13 \
    | tee "$logs/scenarios-proxy.txt"
if grep -q '^skip ' "$logs/scenarios-proxy.txt"; then echo "scenarios were skipped through the proxy"; exit 1; fi

echo "-- load across three nodes"
"$bin/chat-sim" load --server "$nodes" --users 30 --chats 10 --group-size 5 --rate 100 --ramp-up 2 --duration 10 \
    --seed 12 --report .build/multinode-load.json

echo "-- load on user sockets across three nodes, half of the users reconnecting and resuming"
"$bin/chat-sim" load --profile fixtures/load/user-sockets-reconnect.yaml --server "$nodes" --rate 100 --duration 10 \
    --seed 15 --report .build/multinode-user-load.json

echo "-- load through nginx"
"$bin/chat-sim" load --server "$proxy" --users 30 --chats 10 --group-size 5 --rate 100 --ramp-up 2 --duration 10 \
    --seed 14 --report .build/multinode-nginx-load.json

# What went through nginx reached every node, sockets included (101: an upgrade passed through).
echo "-- what nginx sent to each node (requests, of which socket upgrades)"
for port in 18101 18102 18103; do
    requests=$(grep -c "upstream=127.0.0.1:$port " "$proxy_dir/access.log" || true)
    upgrades=$(grep "upstream=127.0.0.1:$port " "$proxy_dir/access.log" | grep -c '" 101 ' || true)
    echo "127.0.0.1:$port: $requests requests, $upgrades socket upgrades"
    if [ "$requests" = 0 ] || [ "$upgrades" = 0 ]; then
        echo "nginx sent no requests or no sockets to the node on port $port (log: $proxy_dir/access.log)" >&2
        exit 1
    fi
done
