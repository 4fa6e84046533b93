#!/usr/bin/env bash
# `npm start`: install if needed, build, then src/worker/start.ts brings the stack up and runs the worker.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d node_modules ]] || npm ci --no-audit --no-fund
npm run --silent build

# The local stack's approvers (README walkthrough: alice approves, bob asks): an SSH key each under
# the git-ignored stack folder, and the allowed-signers file the worker verifies approvals against.
# Only for the local stack, and only when no file is configured: these keys must never be trusted
# by a worker of a real platform.
local_stack() {
  [[ "${TEMPORAL_ADDRESS:-127.0.0.1:7233}" == 127.0.0.1:7233 && "${FLINK_REST_URL:-http://127.0.0.1:8081}" == http://127.0.0.1:8081 ]]
}
if [[ -z "${APPROVERS_ALLOWED_SIGNERS:-}" ]] && local_stack; then
  approvers="$(realpath -m "${STACK_HOME:-.stack}")/approvers"
  mkdir -p "$approvers"
  for name in alice bob; do
    [[ -f "$approvers/$name" ]] || ssh-keygen -q -t ed25519 -N '' -C "$name (local stack)" -f "$approvers/$name"
  done
  : > "$approvers/allowed_signers.new"
  for name in alice bob; do
    printf '%s %s\n' "$name" "$(cut -d' ' -f1,2 "$approvers/$name.pub")" >> "$approvers/allowed_signers.new"
  done
  mv "$approvers/allowed_signers.new" "$approvers/allowed_signers"
  export APPROVERS_ALLOWED_SIGNERS="$approvers/allowed_signers"
  echo "Approvers' keys (local stack): $approvers/{alice,bob}; savepointctl approve ... --key $approvers/alice"
fi
# The worker's heap limits: WORKER_MAX_OLD_SPACE_MB and WORKER_MAX_SEMI_SPACE_MB in src/worker/worker.ts say why (same values).
exec node --max-old-space-size=192 --max-semi-space-size=4 dist/src/worker/start.js
