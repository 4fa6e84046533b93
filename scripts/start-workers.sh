#!/usr/bin/env bash
# `npm run start:production`: the production-like topology on this machine. The stack with
# Temporal's server on PostgreSQL (STACK_TEMPORAL=server, scripts/stack-temporal-server.sh), then
# WORKERS (default 3) worker processes on the one task queue, each `node dist/src/worker/main.js`
# as a platform would run them. Ctrl-C (or SIGTERM) stops the workers, not the stack.
set -euo pipefail
cd "$(dirname "$0")/.."
WORKERS="${WORKERS:-3}"
[[ "$WORKERS" =~ ^[1-9][0-9]*$ ]] || { echo "WORKERS is '$WORKERS'; give a number of worker processes, e.g. 3" >&2; exit 2; }
[[ -d node_modules ]] || npm ci --no-audit --no-fund
npm run --silent build
export STACK_TEMPORAL="${STACK_TEMPORAL:-server}"
bash scripts/stack.sh up
set -a
eval "$(bash scripts/stack.sh env)"
set +a

pids=()
stop_workers() {
  # Only the workers this script started; each finishes its shutdown (src/worker/worker.ts runWorker).
  ((${#pids[@]})) && kill -TERM "${pids[@]}" 2>/dev/null || true
  wait || true
}
trap stop_workers INT TERM EXIT
for i in $(seq 1 "$WORKERS"); do
  # The worker's heap limits: WORKER_MAX_OLD_SPACE_MB and WORKER_MAX_SEMI_SPACE_MB in src/worker/worker.ts say why (same values).
  node --max-old-space-size=192 --max-semi-space-size=4 dist/src/worker/main.js > >(sed -u "s/^/[worker $i] /") 2>&1 &
  pids+=("$!")
done
echo "$WORKERS workers on task queue '${TEMPORAL_TASK_QUEUE:-flink-paimon-ops}' at $TEMPORAL_ADDRESS (Ctrl-C stops them)"
wait
