#!/usr/bin/env bash
# Checks the OpenAPI document against a live server:
#   1. installs openapi-spec-validator and schemathesis (pinned) in a virtualenv in the build folder;
#   2. builds chat-server and starts it on a free port, on a temporary SQLite file (with a
#      METRICS_TOKEN, so /metrics answers 401 without it, as documented, rather than 404);
#   3. registers users with curl, for tokens and for lists that are not empty (a friend, two chats,
#      an invitation);
#   4. validates /apischema/openapi.json with openapi-spec-validator, and checks that
#      /apischema/openapi.yaml reads as the same document in another YAML parser (PyYAML); validates
#      the sockets' /apischema/asyncapi.json against AsyncAPI 3.0's object model (asyncapi3), and
#      its YAML form likewise;
#   5. fuzzes the server with schemathesis against that document, with every check;
#   6. stops the server, and exits non-zero if any step failed, the server died, or it logged an
#      unexpected error.
#
# Environment (all optional):
#   SWIFT_SCRATCH_PATH        Swift build folder (default .build, the one `swift test` uses)
#   OPENAPI_CHECK_EXAMPLES    schemathesis examples per operation and phase (default 40)
#   OPENAPI_CHECK_SEED        schemathesis seed, to replay a run (default 20200806)
#   OPENAPI_CHECK_KEEP        set to 1 to keep the work folder (server log, reports)
set -euo pipefail
cd "$(dirname "$0")/.."

scratch="${SWIFT_SCRATCH_PATH:-.build}"
examples="${OPENAPI_CHECK_EXAMPLES:-40}"
seed="${OPENAPI_CHECK_SEED:-20200806}"
venv="$scratch/openapi-check-venv"
work="$(mktemp -d "${TMPDIR:-/tmp}/check-openapi.XXXXXX")"
server_pid=""
failed=0

say() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAILED: %s\n' "$*" >&2; failed=1; }

# shellcheck source=lib/server-process.sh
. scripts/lib/server-process.sh

cleanup() {
    stop_server
    if [ "${OPENAPI_CHECK_KEEP:-0}" = 1 ]; then echo "work folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# 1. Tools. These versions run on Python 3.11 (schemathesis 4 needs 3.9 or later).
say "installing openapi-spec-validator and schemathesis"
if [ ! -x "$venv/bin/pip" ]; then
    python3 -m venv "$venv" || { echo "python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2; exit 1; }
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check \
    "openapi-spec-validator==0.9.0" "schemathesis==4.32.5" "asyncapi3==0.0.2"
"$venv/bin/schemathesis" --version

# 2. The server.
say "building and starting chat-server"
# Built as `swift test` builds (testing enabled), so after the suites nothing is compiled again.
start_server RATE_LIMITS=off METRICS_TOKEN=openapi-check-metrics

# 3. Users: alice is the fuzzing identity; bob is her friend, in a private chat and a group with her;
#    carol's invitation to alice stays pending; dave's token is the one logging out revokes.
say "registering users"
json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
post() { curl -sS --fail-with-body -X POST -H 'Content-Type: application/json' "$@"; }
register() {
    post "$base/api/rest-auth/registration/" \
        -d "{\"email\": \"$1@example.com\", \"password1\": \"Fuzz-pass-2020\", \"password2\": \"Fuzz-pass-2020\"}" | json_field key
}
alice="$(register alice)"
bob="$(register bob)"
carol="$(register carol)"
dave="$(register dave)"
uuid_of() { curl -sS --fail-with-body -H "Authorization: Token $1" "$base/api/user/currentuser/" | json_field uuid; }
bob_uuid="$(uuid_of "$bob")"
alice_uuid="$(uuid_of "$alice")"
post -H "Authorization: Token $alice" "$base/api/user/friends/" -d "{\"user_uuid\": \"$bob_uuid\"}" >/dev/null
invitation="$(curl -sS --fail-with-body -H "Authorization: Token $bob" "$base/api/user/invitations/" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')"
post -H "Authorization: Token $bob" "$base/api/user/invitations/" -d "{\"contact_id\": $invitation, \"decision\": true}" >/dev/null
group="$(post -H "Authorization: Token $alice" "$base/api/chat/mychats/groups/" -d '{"name": "fuzzers"}' | json_field uuid)"
post -H "Authorization: Token $alice" "$base/api/chat/$group/" -d "{\"user_uuid\": \"$bob_uuid\"}" >/dev/null
post -H "Authorization: Token $carol" "$base/api/user/friends/" -d "{\"user_uuid\": \"$alice_uuid\"}" >/dev/null
echo "alice has a friend, two chats and a pending invitation"

# 4. The document.
say "validating the OpenAPI document"
curl -sS --fail-with-body "$base/apischema/openapi.json" -o "$work/openapi.json"
curl -sS --fail-with-body "$base/apischema/openapi.yaml" -o "$work/openapi.yaml"
"$venv/bin/openapi-spec-validator" "$work/openapi.json" || fail "openapi-spec-validator refused the document"
"$venv/bin/python" - "$work/openapi.json" "$work/openapi.yaml" <<'PYTHON' || fail "the JSON and YAML forms differ"
import json, sys, yaml
with open(sys.argv[1]) as j, open(sys.argv[2]) as y:
    same = json.load(j) == yaml.safe_load(y)
print("the JSON and YAML forms are one document" if same else "the JSON and YAML forms differ")
sys.exit(0 if same else 1)
PYTHON

say "validating the sockets' AsyncAPI document"
curl -sS --fail-with-body "$base/apischema/asyncapi.json" -o "$work/asyncapi.json"
curl -sS --fail-with-body "$base/apischema/asyncapi.yaml" -o "$work/asyncapi.yaml"
"$venv/bin/python" -W ignore - "$work/asyncapi.json" "$work/asyncapi.yaml" <<'PYTHON' || fail "the AsyncAPI document is not valid"
import json, sys, yaml
from asyncapi3 import AsyncAPI3
with open(sys.argv[1]) as j, open(sys.argv[2]) as y:
    document, written = json.load(j), yaml.safe_load(y)
AsyncAPI3.model_validate(document)
if document != written:
    sys.exit("the JSON and YAML forms of the AsyncAPI document differ")
print("the AsyncAPI 3 document is valid; its JSON and YAML forms are one document")
PYTHON

# 5. Fuzzing. Every check runs. The adjustments below are where this API's contract (Django REST
#    Framework's conventions, kept for the original's clients) differs from schemathesis' defaults;
#    none of them hides a server error or a response that does not match the document.
say "fuzzing the server with schemathesis (seed $seed, $examples examples per operation and phase)"
cat >"$work/schemathesis.toml" <<TOML
# Per-operation expected statuses (the command line's --checks all keeps every check on).

[[operations]]
# A well-formed request can fail a rule JSON Schema cannot state, and DRF answers 400 for it
# (passwords that differ, are too common or too like the e-mail; wrong credentials; an unknown
# confirmation key; Google sign-in not configured here; inviting oneself; adding someone who is not
# a friend), or 406 (friends already; a participant already).
# The chat changes of PROTOCOL.md likewise: a read marker beyond the chat's last seq, a private
# chat renamed or left, a message deleted already (409), someone else's message (403).
include-operation-id = [
    "register", "logIn", "changePassword", "verifyEmail", "signInWithGoogle", "invite", "addParticipant",
    "markRead", "renameChat", "editMessage", "deleteMessage", "sendMessage", "leaveChat", "removeParticipant",
]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "406", "409"]

[[operations]]
# Routes kept from the original only to refuse: GET login/ and logout/ answer 405.
include-operation-id = ["logInWithGet", "logOutWithGet"]
checks.positive_data_acceptance.expected-statuses = ["405"]

[[operations]]
# ... and POST mychats/ answers 400 (create a group with POST mychats/groups/).
include-operation-id = "createChatWithoutType"
checks.positive_data_acceptance.expected-statuses = ["400", "401"]

[[operations]]
# A plain GET of the socket route answers 426: only an upgrade request can be accepted.
include-operation-id = ["chatSocket", "userSocket"]
checks.positive_data_acceptance.expected-statuses = ["401", "403", "404", "426"]

[[operations]]
# This server does not require old_password (REQUIRE_OLD_PASSWORD is off): like the original with
# its old-password field off, it ignores the field, whatever it holds.
include-operation-id = "changePassword"
checks.negative_data_rejection.expected-statuses = ["200", "400", "401", "413"]

[[operations]]
# DRF's limit/offset pagination ignores a malformed or out-of-range limit or offset (the default
# applies) and the original's clients may rely on it: such a request is answered (200 or 204).
include-operation-id = ["searchUsers", "friends", "myChats", "myChatsOfType", "searchMessages"]
checks.negative_data_rejection.expected-statuses = ["200", "204", "400", "401", "403", "404"]
TOML

run_schemathesis() {
    "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run "$base/apischema/openapi.json" \
        --url "$base" --checks all \
        --max-examples "$examples" --seed "$seed" --workers 1 --request-timeout 10 \
        --report junit --report-dir "$work/reports" "$@"
}
# Logging out revokes the token it is sent with: that operation gets a token of its own (dave's),
# after the others, so alice's stays valid for the whole run.
# Leaving a chat and removing a member take alice out of the chats every other operation is
# tried on: they come last, after the others.
run_schemathesis -H "Authorization: Token $alice" --exclude-operation-id logOut \
    --exclude-operation-id leaveChat --exclude-operation-id removeParticipant \
    --phases examples,coverage,fuzzing,stateful \
    || fail "schemathesis found problems (above)"
run_schemathesis -H "Authorization: Token $alice" --include-operation-id leaveChat --include-operation-id removeParticipant \
    --phases examples,coverage,fuzzing \
    || fail "schemathesis found problems with leaving and removing (above)"
# (No stateful phase here: no link leads to or from logging out.)
run_schemathesis -H "Authorization: Token $dave" --include-operation-id logOut \
    --phases examples,coverage,fuzzing \
    || fail "schemathesis found problems with logging out (above)"

# 6. The server must have survived without an unexpected error, and still stop gracefully.
say "checking the server"
if kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    for _ in $(seq 1 150); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$server_pid" 2>/dev/null; then
        fail "the server did not stop within 15 s of SIGTERM"
        stop_server
    else
        status=0
        wait "$server_pid" || status=$?
        server_pid=""
        [ "$status" = 0 ] || fail "the server exited with status $status on SIGTERM"
    fi
else
    fail "the server died during the run"
fi
if grep -E "unexpected error|Fatal error|runtime failure|Crash" "$work/server.log"; then
    fail "the server logged an unexpected error (above)"
fi
if [ "$failed" != 0 ]; then
    echo "--- server log (last 60 lines)" >&2
    tail -n 60 "$work/server.log" >&2
    exit 1
fi
say "OK: the document is valid, and the server answered everything as documented"
