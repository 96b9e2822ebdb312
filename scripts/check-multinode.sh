#!/usr/bin/env bash
# Three chat-server processes on three ports, sharing one PostgreSQL database and one Redis; the
# simulator spreads its users over them, runs every scenario (every invariant must hold), then a
# short load run. Needs the services of scripts/test-services.sh (their env: CHAT_TEST_POSTGRES_URL,
# CHAT_TEST_REDIS_URL). Writes the load report to .build/multinode-load.json.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${CHAT_TEST_POSTGRES_URL:?run scripts/test-services.sh start and export its env first}"
: "${CHAT_TEST_REDIS_URL:?run scripts/test-services.sh start and export its env first}"

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
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

servers=()
for port in 18101 18102 18103; do
    DATABASE_URL="$database_url" REDIS_URL="$CHAT_TEST_REDIS_URL" REDIS_CHANNEL_PREFIX="$database" BCRYPT_COST=4 RATE_LIMITS=off LOG_LEVEL=notice \
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

echo "-- scenarios across $nodes"
"$bin/chat-sim" run fixtures/scenarios --server "$nodes" --fake-google-port "$google_port" --google-client-id "$client_id" --seed 11 \
    | tee "$logs/scenarios.txt"
# These nodes trust the fake issuer: a skipped Google scenario here is a broken sign-in, not a foreign server.
if grep -q '^skip ' "$logs/scenarios.txt"; then echo "scenarios were skipped against nodes that should run them all"; exit 1; fi

echo "-- load across three nodes"
"$bin/chat-sim" load --server "$nodes" --users 30 --chats 10 --group-size 5 --rate 100 --ramp-up 2 --duration 10 \
    --seed 12 --report .build/multinode-load.json
