#!/usr/bin/env bash
# Fuzzes the API against its own OpenAPI document with schemathesis (PyPI): the dev server on a
# fresh table, signed in as an Owner, an Admin and a Member in turn, every operation, bounded in
# time. Fails on any 5xx, any status or body the document does not describe, a wrong content
# type, or a request slower than the timeout. One worker: with two, hypothesis' introspection of
# its own strategies raced on Python 3.11 (an `ast` error inside the tool, not a finding).
# `.ci/run` runs it; alone:
#   infra/local/fuzz.sh            (FUZZ_SECONDS per role, default 50; FUZZ_SEED, default 1)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

venv=.venv-tools
if [ ! -x "$venv/bin/schemathesis" ]; then
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==4.32.5"
fi

port="${FUZZ_PORT:-8010}"
export DISPATCH_TABLE_NAME="fuzz-$$-$(date +%s)"
export DISPATCH_PORT="$port" DISPATCH_SCHEDULER=0
if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
  echo "port $port is taken (another server would be fuzzed); set FUZZ_PORT"; exit 1
fi
log=$(mktemp)
infra/local/dev.sh >"$log" 2>&1 &
dev=$!
stop() { kill -TERM "$dev" 2>/dev/null || true; wait "$dev" 2>/dev/null || true; }
trap stop EXIT
base="http://127.0.0.1:$port/api/v1"
up=0
for _ in $(seq 1 600); do
  if curl -sf "$base/healthcheck" >/dev/null; then up=1; break; fi
  kill -0 "$dev" 2>/dev/null || break
  sleep 0.5
done
if [ "$up" != 1 ]; then cat "$log"; echo "the dev server did not answer on port $port"; exit 1; fi

# The same environment dev.sh gives the server, for the CLI that creates the three accounts.
eval "$(infra/local/stack.sh env dev)"
export DISPATCH_JWT_SECRET_ID="${DISPATCH_JWT_SECRET_ID:-dispatch/local/jwt}"
export DISPATCH_CURSOR_SECRET_ID="${DISPATCH_CURSOR_SECRET_ID:-dispatch/local/cursor}"
password="Fuzzing-password-1"
for role in Owner Admin Member; do
  email="$(echo "$role" | tr '[:upper:]' '[:lower:]')@fuzz.example.com"
  target/debug/dispatch --quiet user register "$email" -o default -r "$role" --password "$password" >/dev/null
done

# Every token first, then the runs, the Owner's last: what the Owner may do (reset another
# member's password, change roles) must not sign the others out before their turn.
declare -A tokens
for role in Member Admin Owner; do
  email="$(echo "$role" | tr '[:upper:]' '[:lower:]')@fuzz.example.com"
  tokens[$role]=$(curl -sf -X POST "$base/default/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
done

status=0
for role in Member Admin Owner; do
  echo "== schemathesis as $role (${FUZZ_SECONDS:-50} s)"
  "$venv/bin/schemathesis" --config-file infra/local/schemathesis.toml run "$base/docs/openapi.json" \
    --url "http://127.0.0.1:$port" \
    -H "Authorization: Bearer ${tokens[$role]}" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --phases coverage,fuzzing \
    --max-time "${FUZZ_SECONDS:-50}" \
    --request-timeout 10 \
    --seed "${FUZZ_SEED:-1}" \
    --workers 1 \
    --suppress-health-check all \
    --warnings off \
    --no-color || status=1
done
exit "$status"
