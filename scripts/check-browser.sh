#!/usr/bin/env bash
# Opens the server's pages in headless Chromium, as a person would:
#   1. builds chat-server (as `swift test` builds it, so nothing is compiled twice) and starts it on
#      a free port, on a temporary SQLite file, trusting a fake Google issuer (`chat-sim
#      fake-google`) on another free port;
#   2. runs scripts/browser/check_pages.py: each page must render (Swagger UI must list the API's
#      operations), log no console error and ask for nothing outside the server (but the fake
#      issuer's consent page, for "Sign in with Google"); a screenshot of each is saved under
#      .build/browser/ (its path printed);
#   3. stops the server, and exits non-zero if a page failed, the server died, or it logged an
#      unexpected error.
# Needs Debian's chromium, chromium-driver and python3-selenium (scripts/install-dependencies.sh
# --services); nothing is downloaded. Arguments go to check_pages.py (`--only apischema`).
#
# Environment (all optional):
#   SWIFT_SCRATCH_PATH     Swift build folder (default .build, the one `swift test` uses)
#   BROWSER_CHECK_PYTHON   the Python with selenium (default /usr/bin/python3, Debian's)
#   BROWSER_CHECK_KEEP     set to 1 to keep the work folder (server log, database)
set -euo pipefail
cd "$(dirname "$0")/.."

scratch="${SWIFT_SCRATCH_PATH:-.build}"
python="${BROWSER_CHECK_PYTHON:-/usr/bin/python3}"
screenshots="$scratch/browser"
work="$(mktemp -d "${TMPDIR:-/tmp}/check-browser.XXXXXX")"
server_pid=""
google_pid=""

# shellcheck source=lib/server-process.sh
. scripts/lib/server-process.sh
cleanup() {
    stop_server
    if [ -n "$google_pid" ]; then kill -TERM "$google_pid" 2>/dev/null || true; wait "$google_pid" 2>/dev/null || true; fi
    if [ "${BROWSER_CHECK_KEEP:-0}" = 1 ]; then echo "work folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

"$python" -c 'import selenium' 2>/dev/null || {
    echo "$python has no selenium: run scripts/install-dependencies.sh --services (Debian's python3-selenium)" >&2
    exit 1
}

echo "== building and starting chat-server, trusting a fake Google issuer"
google_port="$(free_port)"
google="http://127.0.0.1:$google_port"
google_client_id="chat-sim.apps.googleusercontent.com"
start_server GOOGLE_CLIENT_IDS="$google_client_id" GOOGLE_JWKS_URL="$google/oauth2/v3/certs" \
    GOOGLE_TOKENINFO_URL="$google/tokeninfo" GOOGLE_AUTH_URL="$google/o/oauth2/v2/auth"
"$(dirname "$server_binary")/chat-sim" fake-google --port "$google_port" --google-client-id "$google_client_id" \
    >"$work/fake-google.log" 2>&1 &
google_pid=$!
for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$google/oauth2/v3/certs" 2>/dev/null && break
    sleep 0.1
done
curl -fsS -o /dev/null "$google/oauth2/v3/certs" || { cat "$work/fake-google.log" >&2; echo "FAILED: the fake Google issuer did not start" >&2; exit 1; }

echo "== the pages in headless Chromium"
failed=0
"$python" scripts/browser/check_pages.py --base-url "$base" --screenshots "$screenshots" --google-issuer "$google" \
    --skip load-report "$@" || failed=1

echo "== a load report (chat-sim load --report-html, on its in-process server) in headless Chromium"
"$(dirname "$server_binary")/chat-sim" load --users 6 --chats 2 --group-size 3 --rate 20 --ramp-up 0.5 \
    --duration 2 --report-html "$work/load-report.html" >"$work/load.log" 2>&1 || { cat "$work/load.log" >&2; failed=1; }
"$python" scripts/browser/check_pages.py --base-url "file://$work" --screenshots "$screenshots" --only load-report || failed=1

kill -0 "$server_pid" 2>/dev/null || { echo "FAILED: the server died during the run" >&2; failed=1; }
if grep -E "unexpected error|Fatal error|runtime failure|Crash" "$work/server.log"; then
    echo "FAILED: the server logged an unexpected error (above)" >&2
    failed=1
fi
if [ "$failed" != 0 ]; then
    echo "--- server log (last 40 lines)" >&2
    tail -n 40 "$work/server.log" >&2
    exit 1
fi
echo "OK: every page rendered, with no console error and nothing from elsewhere"
