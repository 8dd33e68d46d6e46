#!/usr/bin/env bash
# Runs the whole system locally: the local AWS stack (dev profile; DynamoDB data kept in
# infra/local/.data), the table with its seed data (organization `default`), and the API on
# http://127.0.0.1:8000/api/v1, serving the same routers the Lambdas run, and beside it the
# maintenance jobs on their schedule (`dispatch scheduler start`, the code the maintenance
# Lambda runs; DISPATCH_SCHEDULER=0 leaves it out). Ctrl-C stops both, and the stack too if
# this script started it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
stack=infra/local/stack.sh

started_stack=0
if ! { [ -f infra/local/.run/dev/dynamodb.pid ] && kill -0 "$(cat infra/local/.run/dev/dynamodb.pid)" 2>/dev/null; }; then
  started_stack=1
fi
server=""
scheduler=""
cleanup() {
  trap - INT TERM EXIT
  if [ -n "$scheduler" ]; then kill "$scheduler" 2>/dev/null || true; wait "$scheduler" 2>/dev/null || true; fi
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ "$started_stack" = 1 ]; then "$stack" stop dev; fi
}
trap cleanup INT TERM EXIT

"$stack" start dev
eval "$("$stack" env dev)"
export DISPATCH_TABLE_NAME="${DISPATCH_TABLE_NAME:-dispatch-local}"
export DISPATCH_JWT_SECRET_ID="${DISPATCH_JWT_SECRET_ID:-dispatch/local/jwt}"
export DISPATCH_CURSOR_SECRET_ID="${DISPATCH_CURSOR_SECRET_ID:-dispatch/local/cursor}"
export DISPATCH_ENCRYPTION_SECRET_ID="${DISPATCH_ENCRYPTION_SECRET_ID:-dispatch/local/encryption}"
infra/local/.tools/moto/bin/python infra/local/ensure_secrets.py "$AWS_ENDPOINT_URL_SECRETS_MANAGER" \
  "$DISPATCH_JWT_SECRET_ID" "$DISPATCH_CURSOR_SECRET_ID" "$DISPATCH_ENCRYPTION_SECRET_ID"

cargo build --quiet -p dispatch-cli --bin dispatch
target/debug/dispatch database init --yes
if [ "${DISPATCH_SCHEDULER:-1}" != 0 ]; then
  target/debug/dispatch scheduler start &
  scheduler=$!
fi
# DISPATCH_UI=DIR also serves a build of Dispatch's web UI from DIR (README, "Dispatch's UI, locally").
ui=()
if [ -n "${DISPATCH_UI:-}" ]; then ui=(--ui "$DISPATCH_UI"); fi
target/debug/dispatch server develop --host 127.0.0.1 --port "${DISPATCH_PORT:-8000}" "${ui[@]}" &
server=$!
wait "$server"
