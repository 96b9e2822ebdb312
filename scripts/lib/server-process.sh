# Sourced by the check scripts that start a chat-server of their own: starting it, and stopping it
# whatever state it is in. Expects `scratch` (the Swift build folder), `work` (a temporary folder)
# and `server_pid` (empty when no server runs).

# SIGTERM (a graceful stop), up to 10 s, then SIGKILL; reaps the process either way.
stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    if [ -n "$server_pid" ]; then wait "$server_pid" 2>/dev/null || true; fi
    server_pid=""
}

# A free loopback port (free when asked: the caller binds it soon after).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Builds (as `swift test` does, so nothing is compiled twice) and starts chat-server on a free
# loopback port with a SQLite file in `$work`, with any extra `NAME=value` settings given; waits
# until it listens. Sets `server_binary`, `server_pid` and `base`; its log is `$work/server.log`.
# Exits 1, with the log, when it does not start.
start_server() {
    swift build --scratch-path "$scratch" --build-tests
    server_binary="$(swift build --scratch-path "$scratch" --build-tests --show-bin-path)/chat-server"
    local port
    port="$(free_port)"
    base="http://127.0.0.1:$port"
    env DATABASE_URL="sqlite:///$work/chat.sqlite3" BCRYPT_COST=4 LOG_LEVEL=notice "$@" \
        "$server_binary" --hostname 127.0.0.1 --port "$port" >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 300); do
        grep -q "listening on" "$work/server.log" && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    if ! grep -q "listening on" "$work/server.log"; then
        cat "$work/server.log" >&2
        echo "FAILED: the server did not start" >&2
        exit 1
    fi
    echo "listening on $base"
}
