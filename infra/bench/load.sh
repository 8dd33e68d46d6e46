#!/usr/bin/env bash
# Load benchmark of the release dev server (`dispatch server develop`: the five routers the
# Lambdas run, in one process) on a fresh table of the local stack (test profile):
#   - seeds LOAD_MEMBERS (default 1,000) members of organization `default` with a known password,
#     and an Owner whose token the reads send;
#   - runs wrk (LOAD_CONNECTIONS connections, default 8, 2 threads, LOAD_DURATION each, default
#     20s) on four scenarios: login of distinct members (infra/bench/load.lua cycles over them, so
#     each logs in once per cycle), /auth/me, the projects page and the users page as the UI asks
#     for them;
#   - prints one JSON object per scenario (req/s, p50 and p99 in ms, errors = non-2xx responses +
#     socket errors, with the statuses and the first error body seen), then the server's peak RSS:
#     VmHWM at the end and the largest VmRSS sampled every second.
# Needs wrk (Debian/Ubuntu: `apt-get install -y wrk`). Usage:
#   [LOAD_DURATION=20s] [LOAD_CONNECTIONS=8] [LOAD_MEMBERS=1000] [LOAD_KEEP_TABLE=1] infra/bench/load.sh
# The table is dropped at the end unless LOAD_KEEP_TABLE=1; the server logs at RUST_LOG (default
# info) to a temporary file, removed at the end with the rest.
set -Eeuo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
stack=infra/local/stack.sh

duration="${LOAD_DURATION:-20s}"
connections="${LOAD_CONNECTIONS:-8}"
members="${LOAD_MEMBERS:-1000}"
threads=2
password="correct horse battery"
owner=owner@load.example.com

if ! command -v wrk >/dev/null; then
  echo "load.sh needs wrk: install it with 'apt-get install -y wrk' (Debian/Ubuntu) or from https://github.com/wg/wrk" >&2
  exit 2
fi
if [ "$connections" -lt "$threads" ]; then threads="$connections"; fi

log() { echo "[load] $*" >&2; }

# Built first: a long build never runs against a stack that may have been stopped meanwhile.
cargo build --quiet --release -p dispatch-cli >&2
dispatch=target/release/dispatch

work="$(mktemp -d)"
started_stack=0
if ! { [ -f infra/local/.run/test/dynamodb.pid ] && kill -0 "$(cat infra/local/.run/test/dynamodb.pid)" 2>/dev/null; }; then
  started_stack=1
fi
server=""
sampler=""
table_created=0
cleanup() {
  trap - INT TERM EXIT
  if [ -n "$sampler" ]; then kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; fi
  if [ -n "$server" ]; then
    # SIGINT is the dev server's graceful shutdown; SIGKILL if it is still there after 5 s.
    kill -INT "$server" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  # The test stack keeps its tables in memory: drop ours unless LOAD_KEEP_TABLE=1.
  if [ "$table_created" = 1 ] && [ "${LOAD_KEEP_TABLE:-0}" != 1 ] && [ "$started_stack" = 0 ]; then
    "$dispatch" database drop --yes >/dev/null 2>&1 || log "could not drop table $DISPATCH_TABLE_NAME"
  fi
  rm -rf "$work"
  if [ "$started_stack" = 1 ]; then "$stack" stop test; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'log "failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR

"$stack" start test >&2
eval "$("$stack" env test)"

DISPATCH_TABLE_NAME="load-$(date +%s)"
export DISPATCH_TABLE_NAME
export DISPATCH_JWT_SECRET_ID="bench/jwt" DISPATCH_CURSOR_SECRET_ID="bench/cursor"
export DISPATCH_ENCRYPTION_SECRET_ID="bench/encryption"
infra/local/.tools/moto/bin/python infra/local/ensure_secrets.py "$AWS_ENDPOINT_URL_SECRETS_MANAGER" \
  "$DISPATCH_JWT_SECRET_ID" "$DISPATCH_CURSOR_SECRET_ID" "$DISPATCH_ENCRYPTION_SECRET_ID"
table_created=1
"$dispatch" database init --yes >/dev/null
log "table $DISPATCH_TABLE_NAME"

# Seed: one CLI process per user (one argon2 hash each), 2 per core at a time.
log "seeding $members members and $owner"
seed_started=$SECONDS
"$dispatch" user register "$owner" -o default -r Owner --password "$password" >/dev/null
# shellcheck disable=SC2016
seq 0 $((members - 1)) | xargs -P "$(($(nproc) * 2))" -I{} sh -c \
  '"$1" user register "member$2@load.example.com" -o default -r Member --password "$3" >/dev/null' \
  sh "$dispatch" {} "$password"
log "seeded in $((SECONDS - seed_started)) s"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port/api/v1"
"$dispatch" server develop --host 127.0.0.1 --port "$port" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
  curl -fs -o /dev/null "$base/healthcheck" && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; log "the server stopped"; exit 1; }
  sleep 0.1
done
curl -fs -o /dev/null "$base/healthcheck" || { cat "$work/server.log" >&2; log "the server did not come up on $base"; exit 1; }
log "server pid $server on $base"

token="$(curl -fsS -H 'Content-Type: application/json' \
  -d "{\"email\":\"$owner\",\"password\":\"$password\"}" "$base/default/auth/login" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"

# The largest VmRSS seen, sampled every second into $work/rss_max (kB).
echo 0 >"$work/rss_max"
(
  max=0
  while rss="$(awk '/^VmRSS:/ { print $2 }' "/proc/$server/status" 2>/dev/null)" && [ -n "$rss" ]; do
    if [ "$rss" -gt "$max" ]; then max="$rss"; echo "$max" >"$work/rss_max"; fi
    sleep 1
  done
) &
sampler=$!

hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$server/status"; }
mb() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

# run NAME PATH [wrk options]: one wrk run, its JSON line (with the server's VmHWM after it).
run() {
  local name="$1" path="$2"
  shift 2
  log "$name: $connections connections, $threads threads, $duration"
  LOAD_SCENARIO="$name" LOAD_RESULT="$work/$name.json" LOAD_THREADS="$threads" \
    wrk -t "$threads" -c "$connections" -d "$duration" --timeout 10s -s infra/bench/load.lua "$@" \
    "$base$path" >"$work/$name.wrk"
  python3 - "$work/$name.json" "$(mb "$(hwm_kb)")" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))
result["server_vmhwm_mb"] = float(sys.argv[2])
print(json.dumps(result))
PY
}

auth=(-H "Authorization: Bearer $token")
LOAD_LOGIN_MEMBERS="$members" LOAD_LOGIN_PASSWORD="$password" run login /default/auth/login
run me /default/auth/me "${auth[@]}"
run projects-page '/default/projects?itemsPerPage=25&page=1&sortBy[]=name&descending[]=false' "${auth[@]}"
run users-page '/default/users?itemsPerPage=25&page=1&sortBy[]=email&descending[]=false' "${auth[@]}"

hwm="$(hwm_kb)"
sampled="$(cat "$work/rss_max")"
echo "{\"server_peak_rss_mb\":$(mb "$hwm"),\"server_max_sampled_rss_mb\":$(mb "$sampled"),\"duration\":\"$duration\",\"connections\":$connections,\"threads\":$threads,\"members\":$members}"
if grep -q ERROR "$work/server.log"; then
  log "the server logged errors:"
  grep 'ERROR' "$work/server.log" | head -5 >&2
fi
