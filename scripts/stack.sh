#!/usr/bin/env bash
# The local stack: Temporal dev server, a Flink 1.20 session cluster with its SQL gateway, and
# Paimon on a local-filesystem warehouse. Installs pinned versions from package registries into
# $STACK_HOME (git-ignored), starts each process on 127.0.0.1 and records its pid; `down` stops
# only the pids it recorded.
#
#   scripts/stack.sh fetch     download and assemble everything (idempotent)
#   scripts/stack.sh up        fetch, then start what is not running, wait until healthy
#   scripts/stack.sh demo      create the demo tables and start demo pipeline v1 unless it runs
#   scripts/stack.sh down      stop what `up` started
#   scripts/stack.sh status    what runs and where
#   scripts/stack.sh env       the addresses as env lines, for tests and the worker
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/stack-lib.sh
source "$REPO_ROOT/scripts/stack-lib.sh"

case "${1:-}" in
  fetch) stack_fetch ;;
  up) stack_fetch; stack_up ;;
  demo) stack_demo "${@:2}" ;;
  down) stack_down ;;
  status) stack_status ;;
  env) stack_env ;;
  *)
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
