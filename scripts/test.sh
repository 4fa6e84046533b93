#!/usr/bin/env bash
# `npm test`: the tests run against the real stack, so make sure it is installed and up first.
# Extra arguments go to vitest (e.g. `npm test -- test/smoke`). STACK_PAIR, STACK_HOME and the ports
# choose the stack (README, Compatibility: another Flink/Paimon pair beside the default one).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d node_modules ]] || npm ci --no-audit --no-fund
bash scripts/stack.sh up
# The tests reach the stack at the addresses it was started with (ports can be moved by env).
set -a
eval "$(bash scripts/stack.sh env)"
set +a
exec npx vitest run "$@"
