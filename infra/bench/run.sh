#!/usr/bin/env bash
# Reproduces the figures of BENCHMARKS.md for the functions' binaries:
#   - cold start: exec of the release bootstrap to its first response, through a minimal Lambda
#     Runtime API on loopback (infra/bench/runtime_api.py), secret fetch and table check included;
#   - login medians (correct password, wrong password, unknown email) next to a bare argon2id
#     hash and verification;
#   - peak RSS (VmHWM) of each function after its invocations, and of auth after BENCH_LOGINS
#     (default 100) correct logins in one process.
# Runs against the local stack (test profile). Prints one JSON object per measurement.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
stack=infra/local/stack.sh
work="$(mktemp -d)"
started_stack=0
if ! { [ -f infra/local/.run/test/dynamodb.pid ] && kill -0 "$(cat infra/local/.run/test/dynamodb.pid)" 2>/dev/null; }; then
  started_stack=1
fi
cleanup() { rm -rf "$work"; if [ "$started_stack" = 1 ]; then "$stack" stop test; fi; }
trap cleanup EXIT

"$stack" start test >&2
eval "$("$stack" env test)"
# BENCH_FUNCTIONS="auth maintenance" measures those functions only (a quicker rebuild; auth is
# always run, for the token the others use).
functions="${BENCH_FUNCTIONS:-auth users organizations projects plugins maintenance}"
# shellcheck disable=SC2046
cargo build --quiet --release -p dispatch-auth $(for f in $functions; do echo "-p dispatch-$f"; done) -p dispatch-cli >&2
cargo run --quiet --release -p dispatch-domain --example argon2_baseline

export DISPATCH_TABLE_NAME="bench-$(date +%s)"
export DISPATCH_JWT_SECRET_ID="bench/jwt" DISPATCH_CURSOR_SECRET_ID="bench/cursor"
# As in template.yaml, only the plugins function is given the configuration key's secret: the
# others fetch two secrets at cold start, the plugins function three.
encryption_secret_id="bench/encryption"
infra/local/.tools/moto/bin/python infra/local/ensure_secrets.py "$AWS_ENDPOINT_URL_SECRETS_MANAGER" \
  "$DISPATCH_JWT_SECRET_ID" "$DISPATCH_CURSOR_SECRET_ID" "$encryption_secret_id" 2>/dev/null
target/release/dispatch database init --yes >/dev/null
password="correct horse battery"
target/release/dispatch user register bench@example.com -o default -r Member --password "$password" >/dev/null

# Events: the fixtures of events/, with login bodies for the three login cases.
python3 - "$work" "$password" <<'PY'
import json, sys
work, password = sys.argv[1], sys.argv[2]
login = json.load(open("events/auth-login.json"))
def save(name, email, pw):
    event = dict(login, body=json.dumps({"email": email, "password": pw}))
    event["headers"] = dict(login["headers"], **{"content-length": str(len(event["body"]))})
    json.dump(event, open(f"{work}/{name}.json", "w"))
save("login-ok", "bench@example.com", password)
save("login-wrong", "bench@example.com", "wrong password!!")
save("login-unknown", "nobody@example.com", "wrong password!!")
PY

median() { python3 -c 'import json,sys,statistics; d=json.load(sys.stdin)["durations_ms"][1:]; print(round(statistics.median(d),2))'; }
runs=31
events() { for _ in $(seq 1 "$runs"); do echo "$work/$1.json"; done; }

# Auth: cold start on the health check, then one login to get a token for the other functions.
RUNTIME_API_LAST_BODY="$work/login-body.json" python3 infra/bench/runtime_api.py target/release/dispatch-auth \
  events/healthcheck.json "$work/login-ok.json" >"$work/auth-cold.json"
echo "{\"function\":\"auth\",\"cold_start\":$(cat "$work/auth-cold.json")}"
token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$work/login-body.json")

# Peak RSS after many logins in one process (BENCH_LOGINS, default 100 correct logins back to
# back): argon2's working memory must be allocated once and reused, not kept per call. Before
# the wrong-password case, whose failures get the account throttled (429, no argon2).
logins="${BENCH_LOGINS:-100}"
# shellcheck disable=SC2046
python3 infra/bench/runtime_api.py target/release/dispatch-auth events/healthcheck.json $(for _ in $(seq 1 "$logins"); do echo "$work/login-ok.json"; done) >"$work/login-many-run.json"
echo "{\"function\":\"auth\",\"case\":\"login-ok x $logins\",\"median_ms\":$(median <"$work/login-many-run.json"),\"peak_rss_kb\":$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peak_rss_kb"])' "$work/login-many-run.json"),\"statuses\":$(python3 -c 'import json,sys; print(json.dumps(sorted(set(map(str,json.load(open(sys.argv[1]))["statuses"])))))' "$work/login-many-run.json")}"

for case in login-ok login-wrong login-unknown; do
  # shellcheck disable=SC2046
  python3 infra/bench/runtime_api.py target/release/dispatch-auth events/healthcheck.json $(events "$case") >"$work/$case-run.json"
  echo "{\"function\":\"auth\",\"case\":\"$case\",\"median_ms\":$(median <"$work/$case-run.json"),\"peak_rss_kb\":$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peak_rss_kb"])' "$work/$case-run.json")}"
done

# The baseline again, now that the machine is warm (BENCHMARKS.md compares with the median of both).
cargo run --quiet --release -p dispatch-domain --example argon2_baseline

# The other functions: cold start and peak RSS over their fixture, with the member's token.
for function in $functions; do
  [ "$function" = auth ] && continue
  # Each function's list call (projects: one project), as a member.
  case "$function" in
    projects) fixture=events/projects-get.json ;;
    plugins) fixture=events/plugins-instances-list.json ;;
    # The scheduler's event: a finish-deletions run with nothing pending (its fixed cost).
    maintenance) fixture=events/maintenance-finish-deletions.json ;;
    *) fixture=events/"$function"-list.json ;;
  esac
  python3 - "$fixture" "$token" "$work/$function.json" <<'PY'
import json, sys
event = json.load(open(sys.argv[1]))
if "headers" in event:
    event["headers"]["authorization"] = "Bearer " + sys.argv[2]
json.dump(event, open(sys.argv[3], "w"))
PY
  if [ "$function" = plugins ]; then
    export DISPATCH_ENCRYPTION_SECRET_ID="$encryption_secret_id"
  else
    unset DISPATCH_ENCRYPTION_SECRET_ID
  fi
  # shellcheck disable=SC2046
  python3 infra/bench/runtime_api.py "target/release/dispatch-$function" $(events "$function") >"$work/$function-run.json"
  echo "{\"function\":\"$function\",\"run\":$(cat "$work/$function-run.json" | python3 -c 'import json,sys; d=json.load(sys.stdin); d["durations_ms"]=sorted(d["durations_ms"])[len(d["durations_ms"])//2]; d["statuses"]=sorted(set(map(str,d["statuses"]))); print(json.dumps(d))')}"
done

# Cold start, phase by phase (BENCH_COLD_RUNS=N, e.g. 15): N more cold starts of each function
# with RUST_LOG=dispatch::cold_start=debug, and the median time since start-up began at which
# each phase ended (BENCHMARKS.md, "Cold start: where the time goes").
if [ -n "${BENCH_COLD_RUNS:-}" ]; then
  for function in $functions; do
    if [ "$function" = plugins ]; then
      export DISPATCH_ENCRYPTION_SECRET_ID="$encryption_secret_id"
    else
      unset DISPATCH_ENCRYPTION_SECRET_ID
    fi
    event="$work/$function.json"
    [ "$function" = auth ] && event=events/healthcheck.json
    for _ in $(seq 1 "$BENCH_COLD_RUNS"); do
      RUNTIME_API_PHASES=1 python3 infra/bench/runtime_api.py "target/release/dispatch-$function" "$event"
    done | python3 -c '
import json, statistics, sys
runs = [json.loads(line) for line in sys.stdin if line.strip()]
median = lambda values: round(statistics.median(values), 2)
phases = {}
for run in runs:
    for name, at in run["phases"].items():
        phases.setdefault(name, []).append(at)
calls = {}
for run in runs:
    for call in run["calls"]:
        calls.setdefault(call["call"], []).append(call["ms"])
print(json.dumps({
    "function": sys.argv[1], "cold_runs": len(runs),
    "cold_start_ms": median([r["cold_start_ms"] for r in runs]),
    "init_ms": median([r["init_ms"] for r in runs]),
    "first_invocation_ms": median([r["durations_ms"][0] for r in runs]),
    "phase_ended_at_ms": {name: median(at) for name, at in phases.items()},
    "call_ms": {name: median(ms) for name, ms in calls.items()},
}))' "$function"
  done
fi
