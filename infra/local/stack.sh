#!/usr/bin/env bash
# Starts and stops the local AWS stack: DynamoDB Local (AWS's own emulator) and moto server
# (Secrets Manager only), both on 127.0.0.1.
#
#   infra/local/stack.sh start [dev|test]   install on first use, start (idempotent), wait until ready
#   infra/local/stack.sh stop  [dev|test]   stop only the processes this script started (by PID)
#   infra/local/stack.sh env   [dev|test]   print the environment that points the AWS SDK at the stack
#
# Profiles: `dev` keeps DynamoDB data in infra/local/.data/dynamodb (ports 8100 / 5000);
# `test` runs DynamoDB in memory (ports 8101 / 5001), so tests never touch dev data.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$here/.tools"          # git-ignored: the emulator jar and the moto venv
run="$here/.run"              # git-ignored: PID files and logs
data="$here/.data"            # git-ignored: the dev profile's persistent DynamoDB data

DDB_VERSION="2.9.30"          # amplify-dynamodb-simulator, which ships DynamoDB Local 1.25.1
MOTO_VERSION="5.2.5"

cmd="${1:-}"
profile="${2:-dev}"
case "$profile" in
  dev)  ddb_port="${DISPATCH_LOCAL_DDB_PORT:-8100}";  moto_port="${DISPATCH_LOCAL_MOTO_PORT:-5000}" ;;
  test) ddb_port="${DISPATCH_LOCAL_DDB_PORT:-8101}";  moto_port="${DISPATCH_LOCAL_MOTO_PORT:-5001}" ;;
  *) echo "unknown profile '$profile' (expected dev or test)" >&2; exit 2 ;;
esac
piddir="$run/$profile"

log() { echo "[local-aws:$profile] $*" >&2; }

install_dynamodb() {
  [ -f "$tools/dynamodb/package/emulator/DynamoDBLocal.jar" ] && return
  log "installing DynamoDB Local (npm amplify-dynamodb-simulator@$DDB_VERSION)"
  mkdir -p "$tools/dynamodb"
  (cd "$tools/dynamodb" \
    && npm pack --silent "amplify-dynamodb-simulator@$DDB_VERSION" >/dev/null \
    && tar xzf "amplify-dynamodb-simulator-$DDB_VERSION.tgz" package/emulator \
    && rm -f "amplify-dynamodb-simulator-$DDB_VERSION.tgz")
}

install_moto() {
  [ -x "$tools/moto/bin/moto_server" ] && return
  log "installing moto[server]==$MOTO_VERSION"
  python3 -m venv "$tools/moto"
  "$tools/moto/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION"
}

# Is the process recorded in this PID file alive? (A zombie awaiting its reaper is not.)
alive() {
  [ -f "$1" ] || return 1
  local pid state
  pid="$(cat "$1")"
  kill -0 "$pid" 2>/dev/null || return 1
  state="$(ps -o stat= -p "$pid" 2>/dev/null || true)"
  [ -n "$state" ] && [[ "$state" != Z* ]]
}

wait_for() { # url name
  for _ in $(seq 1 300); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.1
  done
  log "$2 did not come up on $1; see $piddir/*.log"; return 1
}

start() {
  install_dynamodb
  install_moto
  mkdir -p "$piddir"
  if alive "$piddir/dynamodb.pid"; then
    log "DynamoDB Local already running (pid $(cat "$piddir/dynamodb.pid"))"
  else
    local storage=(-inMemory)
    if [ "$profile" = dev ]; then mkdir -p "$data/dynamodb"; storage=(-dbPath "$data/dynamodb"); fi
    local emu="$tools/dynamodb/package/emulator"
    # DynamoDB Local has no bind flag: it listens on every interface, so we only ever talk to 127.0.0.1.
    nohup java -Djava.library.path="$emu/DynamoDBLocal_lib" -jar "$emu/DynamoDBLocal.jar" \
      "${storage[@]}" -sharedDb -disableTelemetry -port "$ddb_port" \
      >"$piddir/dynamodb.log" 2>&1 &
    echo $! >"$piddir/dynamodb.pid"
  fi
  if alive "$piddir/moto.pid"; then
    log "moto already running (pid $(cat "$piddir/moto.pid"))"
  else
    nohup "$tools/moto/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$piddir/moto.log" 2>&1 &
    echo $! >"$piddir/moto.pid"
  fi
  wait_for "http://127.0.0.1:$ddb_port/" "DynamoDB Local"
  wait_for "http://127.0.0.1:$moto_port/moto-api/" "moto"
  log "up: DynamoDB http://127.0.0.1:$ddb_port, Secrets Manager http://127.0.0.1:$moto_port"
}

stop_one() { # name
  local pidfile="$piddir/$1.pid"
  if alive "$pidfile"; then
    local pid; pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$pidfile" || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    log "stopped $1 (pid $pid)"
  fi
  rm -f "$pidfile"
}

stop() { stop_one dynamodb; stop_one moto; }

print_env() {
  cat <<ENV
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$ddb_port AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:$moto_port
ENV
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|env [dev|test]" >&2; exit 2 ;;
esac
