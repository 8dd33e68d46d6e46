#!/usr/bin/env bash
# Runs every test of the workspace against the local AWS stack (test profile: DynamoDB in
# memory and moto on their own ports, so dev data is never touched). Extra arguments go to
# `cargo test` (e.g. a test name filter). Stops the stack afterwards if it started it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
stack=infra/local/stack.sh

started_stack=0
if ! { [ -f infra/local/.run/test/dynamodb.pid ] && kill -0 "$(cat infra/local/.run/test/dynamodb.pid)" 2>/dev/null; }; then
  started_stack=1
fi
cleanup() { if [ "$started_stack" = 1 ]; then "$stack" stop test; fi; }
trap cleanup EXIT

"$stack" start test
eval "$("$stack" env test)"
cargo test --workspace "$@"
