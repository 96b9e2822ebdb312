# Sourced by the check scripts that start a chat-server of their own: stopping it, whatever state
# it is in. Expects `server_pid` (empty when no server runs).

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
