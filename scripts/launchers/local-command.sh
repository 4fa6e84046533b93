#!/usr/bin/env bash
# An APP_LAUNCH_COMMAND for the command launcher that starts the version with the local launcher
# (scripts/app-cluster.sh): what the tests use to drive the command path on real processes, and a
# model for a platform's own command (README: application mode). It reads the launch from the
# LAUNCH_* environment variables and prints the launcher's {"restUrl", "jobId", ...} line.
#
#   APP_LAUNCH_COMMAND='bash scripts/launchers/local-command.sh'
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

args=(start --token "$LAUNCH_DEPLOY_ID" --name "$LAUNCH_JOB_NAME")
case "$LAUNCH_KIND" in
  sql) args+=(--sql-file "$LAUNCH_ARTIFACT") ;;
  jar)
    args+=(--jar "$LAUNCH_ARTIFACT")
    [[ -n "${LAUNCH_ENTRY_CLASS:-}" ]] && args+=(--entry-class "$LAUNCH_ENTRY_CLASS")
    while IFS= read -r arg; do args+=(--program-arg "$arg"); done < <(
      python3 -c 'import json, os; [print(a) for a in json.loads(os.environ["LAUNCH_PROGRAM_ARGS"] or "[]")]'
    )
    ;;
  *) echo "LAUNCH_KIND must be sql or jar, got '${LAUNCH_KIND:-}'" >&2; exit 2 ;;
esac
[[ -n "${LAUNCH_SAVEPOINT:-}" ]] && args+=(--savepoint "$LAUNCH_SAVEPOINT")
[[ -n "${LAUNCH_PARALLELISM:-}" ]] && args+=(--parallelism "$LAUNCH_PARALLELISM")
[[ -n "${LAUNCH_VERTEX_PARALLELISM:-}" ]] && args+=(--vertex-parallelism "$LAUNCH_VERTEX_PARALLELISM")
[[ "${LAUNCH_ALLOW_NON_RESTORED_STATE:-false}" == true ]] && args+=(--allow-non-restored-state)
exec bash "$HERE/../app-cluster.sh" "${args[@]}"
