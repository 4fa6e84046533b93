#!/usr/bin/env bash
# `npm run test:production`: the production-topology suite (test/production). Brings the stack up
# with Temporal's server on PostgreSQL (STACK_TEMPORAL=server; TEMPORAL_PORT moves it, e.g. beside
# a dev server already on 7233), then runs the suite, which starts its own three worker processes.
# Extra arguments go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d node_modules ]] || npm ci --no-audit --no-fund
export STACK_TEMPORAL=server
bash scripts/stack.sh up
set -a
eval "$(bash scripts/stack.sh env)"
set +a
exec npx vitest run --config vitest.production.config.ts "$@"
