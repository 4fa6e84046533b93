#!/usr/bin/env bash
# `npm start`: install if needed, build, then src/start.ts brings the stack up and runs the worker.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d node_modules ]] || npm ci --no-audit --no-fund
npm run --silent build
exec node dist/src/start.js
