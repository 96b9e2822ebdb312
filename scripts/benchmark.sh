#!/usr/bin/env bash
# One benchmark run as docs/performance.md describes it: release builds, a fresh database, the
# server(s) started here, `chat-sim load` with the given profile, then the server's own view of the
# fan-out (commit to the last socket's write, from /metrics) and its CPU time.
#
#   scripts/benchmark.sh sqlite       fixtures/load/groups-of-10-5000.yaml [chat-sim load options...]
#   scripts/benchmark.sh postgres     fixtures/load/groups-of-10-1000.yaml --rate 2500
#   scripts/benchmark.sh postgres-3   fixtures/load/groups-of-10-1000.yaml      (three nodes, one Redis)
#
# PostgreSQL and Redis come from scripts/test-services.sh (started here if not running).
# Environment: SCRATCH (release build folder, default .build-release), SERVER_BIN (a chat-server
# binary to run instead of this checkout's, e.g. an older release kept to compare before and
# after with the same chat-sim), PERF=1 to record the first
# node with `perf record -g` into .build-release/perf.data (needs Debian's linux-perf).
set -euo pipefail
cd "$(dirname "$0")/.."

backend=${1:?backend: sqlite, postgres or postgres-3}
profile=${2:?a load profile, e.g. fixtures/load/groups-of-10-1000.yaml}
shift 2
scratch=${SCRATCH:-.build-release}

swift build -c release --scratch-path "$scratch" --product chat-server >/dev/null
swift build -c release --scratch-path "$scratch" --product chat-sim >/dev/null
bin="$scratch/release"
server_bin=${SERVER_BIN:-$bin/chat-server}

work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

common=(RATE_LIMITS=off BCRYPT_COST=4 LOG_LEVEL=warning METRICS_TOKEN=benchmark)
case "$backend" in
sqlite)
    nodes=1
    storage=(DATABASE_URL="sqlite://$work/bench.sqlite3")
    ;;
postgres | postgres-3)
    nodes=$([ "$backend" = postgres-3 ] && echo 3 || echo 1)
    scripts/test-services.sh start >/dev/null 2>&1 || true
    eval "$(scripts/test-services.sh env | sed 's/^/export /')"
    database="chat_bench_$$"
    psql "$CHAT_TEST_POSTGRES_URL" -qc "CREATE DATABASE $database"
    storage=(DATABASE_URL="${CHAT_TEST_POSTGRES_URL%/*}/$database" REDIS_URL="$CHAT_TEST_REDIS_URL" REDIS_CHANNEL_PREFIX="$database")
    ;;
*)
    echo "unknown backend $backend (sqlite, postgres or postgres-3)" >&2
    exit 2
    ;;
esac

servers=()
for index in $(seq "$nodes"); do
    port=$((18800 + index))
    if [ "${PERF:-0}" = 1 ] && [ "$index" = 1 ]; then
        env "${common[@]}" "${storage[@]}" perf record -F 499 -g -o "$scratch/perf.data" "$server_bin" --port "$port" >"$work/node-$index.log" 2>&1 &
    else
        env "${common[@]}" "${storage[@]}" "$server_bin" --port "$port" >"$work/node-$index.log" 2>&1 &
    fi
    pids+=($!)
    servers+=("http://127.0.0.1:$port")
    # The first node applies the migrations; the others start once it listens.
    for _ in $(seq 150); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$work/node-$index.log"; exit 1; }
done

status=0
"$bin/chat-sim" load --profile "$profile" --server "$(IFS=,; echo "${servers[*]}")" "$@" || status=$?

for index in $(seq "$nodes"); do
    port=$((18800 + index))
    # The server, not perf; by its file's name, which SERVER_BIN may change.
    pid=$(pgrep -f -- "^[^ ]*$(basename "$server_bin") --port $port" | head -n 1 || true)
    [ -n "$pid" ] || pid=none  # never /proc//stat, which is the whole machine's
    # CPU to the hundredth of a second (ps rounds to whole seconds): user + system ticks.
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f s", ($14 + $15) / hz }' "/proc/$pid/stat" 2>/dev/null || echo '?')
    echo "-- node $index: CPU $cpu, RSS $(ps -o rss= -p "$pid" 2>/dev/null || echo '?') KiB"
    curl -sf -H "Authorization: Bearer benchmark" "http://127.0.0.1:$port/metrics" | python3 -c '
import sys
buckets, count = [], 0.0
for line in sys.stdin:
    if line.startswith("chat_fanout_duration_seconds_bucket"):
        le = line.split("le=\"")[1].split("\"")[0]
        buckets.append((float("inf") if le == "+Inf" else float(le), float(line.rsplit(" ", 1)[1])))
    elif line.startswith("chat_fanout_duration_seconds_count"):
        count = float(line.rsplit(" ", 1)[1])
def bound(q):
    for le, n in sorted(buckets):
        if n >= q * count: return le
if count:
    print("   fan-out, commit to last socket write (server): %d messages; p50 <= %s s, p99 <= %s s, max bucket <= %s s"
          % (count, bound(0.5), bound(0.99), bound(1.0)))
'
done
exit "$status"
