# shellcheck shell=bash
# `scripts/stack.sh demo [v1|v2] [--from-savepoint PATH]`: create the demo's Paimon tables and
# start the demo pipeline through the SQL gateway, unless a job named paimon-demo already runs.
# The same SQL files are what the workflows deploy as "version 1" and "version 2".

DEMO_JOB_NAME=paimon-demo

demo_running_job() {
  curl -fsS --max-time 5 "http://$STACK_BIND:$FLINK_REST_PORT/jobs/overview" | python3 -c '
import json, sys
name = sys.argv[1]
live = {"INITIALIZING", "CREATED", "RUNNING", "RESTARTING", "RECONCILING"}
for job in json.load(sys.stdin)["jobs"]:
    if job["name"] == name and job["state"] in live:
        print(job["jid"])
' "$DEMO_JOB_NAME"
}

demo_main() {
  local version=v1 savepoint=""
  while (($#)); do
    case "$1" in
      v1 | v2) version="$1" ;;
      --from-savepoint) savepoint="${2:?--from-savepoint needs a path}"; shift ;;
      *) die "unknown demo argument '$1' (use: demo [v1|v2] [--from-savepoint PATH])" ;;
    esac
    shift
  done
  http_ok "http://$STACK_BIND:$SQL_GATEWAY_PORT/v1/info" ||
    die "the SQL gateway is not reachable on $STACK_BIND:$SQL_GATEWAY_PORT: run 'bash scripts/stack.sh up' first"

  local running
  running=$(demo_running_job)
  if [[ -n "$running" ]]; then
    say "demo pipeline already running as job $running"
    return
  fi

  local script="$RUN/demo-$version.sql"
  {
    sed "s#\${PAIMON_WAREHOUSE}#$PAIMON_WAREHOUSE#" "$REPO_ROOT/demo/sql/catalog.sql"
    cat "$REPO_ROOT/demo/sql/tables.sql"
    if [[ -n "$savepoint" ]]; then
      printf "SET 'execution.savepoint.path' = '%s';\n" "$savepoint"
    fi
    cat "$REPO_ROOT/demo/sql/pipeline-$version.sql"
  } >"$script"
  say "starting demo pipeline $version${savepoint:+ from $savepoint}"
  FLINK_CONF_DIR="$FLINK_HOME/conf" "$FLINK_HOME/bin/sql-client.sh" gateway \
    --endpoint "$STACK_BIND:$SQL_GATEWAY_PORT" -f "$script" >"$LOGS/demo-submit.log" 2>&1 ||
    die "the demo pipeline could not be submitted; see $LOGS/demo-submit.log"
  grep -q 'Job ID:' "$LOGS/demo-submit.log" ||
    die "the SQL client did not report a job id; see $LOGS/demo-submit.log"
  say "demo pipeline $version running as job $(sed -n 's/.*Job ID: *\([0-9a-f]*\).*/\1/p' "$LOGS/demo-submit.log")"
  say "tables: paimon.demo.seq_a and paimon.demo.seq_b in $PAIMON_WAREHOUSE"
}
