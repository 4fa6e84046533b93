#!/usr/bin/env bash
# `npm start`: install if needed, build, then src/worker/start.ts brings the stack up and runs the worker.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d node_modules ]] || npm ci --no-audit --no-fund
npm run --silent build
# The worker's heap limit: WORKER_MAX_OLD_SPACE_MB in src/worker/worker.ts says why (same value).
exec node --max-old-space-size=192 dist/src/worker/start.js
