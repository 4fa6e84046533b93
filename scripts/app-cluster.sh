#!/usr/bin/env bash
# The local launcher of application mode: one Flink cluster per job version, as production runs
# (the Flink Kubernetes Operator's FlinkDeployment, native Kubernetes, YARN application mode), made
# of Flink's own standalone application entry point (bin/standalone-job.sh) and one TaskManager,
# on free ports, in $STACK_HOME/apps/<token>/ (config, logs, pids, launch.json).
#
#   app-cluster.sh start --token T --name N (--sql-file F | --jar J [--entry-class C] [--program-arg A]...)
#                        [--savepoint PATH] [--parallelism K] [--vertex-parallelism JSON_OR_FLINK_STRING]
#                        [--allow-non-restored-state] [--slots S]
#       starts the version's cluster unless the token's cluster was started already, and prints
#       {"restUrl": ..., "jobId": ..., "token": ..., "name": ...} on one line. The token names one
#       version's launch: a second start with the same token (a worker killed during the launch,
#       an activity retried) prints the same cluster and never starts a second one.
#   app-cluster.sh prepare (start's options but --savepoint)
#       sets the version's cluster up and starts its TaskManager, no JobManager yet: called before the
#       old version stops, so the TaskManager's JVM start is not in the job's downtime. A start of the
#       token with the same options then starts only the JobManager (and the TaskManager if it ended).
#   app-cluster.sh release --token T    stops and removes a prepared cluster that was never started
#   app-cluster.sh stop --token T       stops that cluster's processes (its job is over)
#   app-cluster.sh reap [--except T]    stops every cluster whose job has ended (stopped, failed, cancelled),
#                                       but T's (a launch just made: its job's end is its caller's to read)
#   app-cluster.sh list                 one JSON line per cluster: token, name, restUrl, jobId, alive
#   app-cluster.sh down                 stops every cluster this launcher started
#   app-cluster.sh watch DIR            (started by start) the cluster's watcher, below
#
# The job keeps the fixed job id the launcher gives it (derived from the token), so the workflow
# knows which job to watch before the cluster answers. A cluster is stopped once its job has ended:
# each start also starts the cluster's watcher (run/watcher.pid), which stops the TaskManager and
# the JobManager APP_ENDED_GRACE_S seconds (default 300) after the job reached FINISHED, CANCELED
# or FAILED, or at once when the JobManager is gone. Not Flink's own shutdown: with
# execution.shutdown-on-application-finish the JobManager closes its REST endpoint as soon as the
# stop-with-savepoint's result was read once (Flink keeps only that operation for its reader), yet
# the worker reads on (the job's final state, its checkpoint statistics for the savepoint id, a
# cancelled job's state), and a standalone TaskManager outlives its JobManager, retrying to register
# until taskmanager.registration.timeout (5 min). So the JobManager stays up (false, as the
# Kubernetes Operator sets it) and the grace is as long as Flink keeps a stop's result for a retried
# activity (rest.async.store-duration, 5 min). `reap` (run at each launch) stops ended clusters
# without waiting: a backstop for a watcher that is gone.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/stack-lib.sh
source "$REPO_ROOT/scripts/stack-lib.sh"

APPS="$STACK_HOME/apps"
SQL_RUNNER_JAR="$STACK_HOME/runner/sql-application.jar"

app_fail() { printf '[app-cluster] error: %s\n' "$*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

app_pid_alive() { # dir name: stack-lib's pid_of, on the cluster's own run folder
  (RUN="$1/run" STACK_HOME="$1" pid_of "$2")
}

app_stop_process() { # dir name
  local pid
  pid=$(app_pid_alive "$1" "$2") || { rm -f "$1/run/$2.pid"; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  # Flink's scripts run helpers in the same process group while they start (BashJavaUtils, a JVM of
  # its own): gone only once the whole group is.
  for _ in $(seq 1 25); do
    pgrep -g "$pid" >/dev/null || break
    kill -KILL -- "-$pid" 2>/dev/null || true
    sleep 0.2
  done
  rm -f "$1/run/$2.pid"
}

app_json() { # dir -> launch.json with "alive"
  local dir="$1" alive=false
  if [[ ! -f "$dir/launch.json" ]]; then # prepared, never started
    printf '{"token": "%s", "prepared": true, "alive": false}\n' "$(basename "$dir")"
    return
  fi
  app_pid_alive "$dir" jobmanager >/dev/null && alive=true
  python3 - "$dir/launch.json" "$alive" <<'PY'
import json, sys
record = json.load(open(sys.argv[1]))
record["alive"] = sys.argv[2] == "true"
print(json.dumps(record))
PY
}

# The launch's options, shared by start and prepare (globals: a bash script of its own).
parse_launch_options() {
  token="" name="" sql_file="" jar="" entry_class="" savepoint="" parallelism="" vertex="" allow_nrs=false slots=""
  program_args=()
  while (($#)); do
    case "$1" in
      --token) token="$2"; shift 2 ;;
      --name) name="$2"; shift 2 ;;
      --sql-file) sql_file="$2"; shift 2 ;;
      --jar) jar="$2"; shift 2 ;;
      --entry-class) entry_class="$2"; shift 2 ;;
      --program-arg) program_args+=("$2"); shift 2 ;;
      --savepoint) savepoint="$2"; shift 2 ;;
      --parallelism) parallelism="$2"; shift 2 ;;
      --vertex-parallelism) vertex="$2"; shift 2 ;;
      --allow-non-restored-state) allow_nrs=true; shift ;;
      --slots) slots="$2"; shift 2 ;;
      *) app_fail "unknown option '$1' (see the header of scripts/app-cluster.sh)" ;;
    esac
  done
  [[ "$token" =~ ^[A-Za-z0-9._-]{1,128}$ ]] || app_fail "--token is 1 to 128 of A-Z a-z 0-9 . _ - (got '$token')"
  [[ -n "$name" ]] || app_fail "--name (the job's name) is required"
  [[ -n "$sql_file" || -n "$jar" ]] || app_fail "one of --sql-file or --jar is required"
  [[ -z "$sql_file" || -z "$jar" ]] || app_fail "--sql-file and --jar exclude each other"
  [[ -z "$sql_file" || -f "$sql_file" ]] || app_fail "SQL file '$sql_file' does not exist"
  [[ -z "$jar" || -f "$jar" ]] || app_fail "jar '$jar' does not exist"
  [[ -z "$parallelism" || "$parallelism" =~ ^[1-9][0-9]*$ ]] || app_fail "--parallelism is a whole number >= 1 (got '$parallelism')"
  [[ -z "$slots" || "$slots" =~ ^[1-9][0-9]*$ ]] || app_fail "--slots is a whole number >= 1 (got '$slots')"
  [[ "${APP_ENDED_GRACE_S:-300}" =~ ^[0-9]+$ ]] || app_fail "APP_ENDED_GRACE_S is a whole number of seconds (got '${APP_ENDED_GRACE_S}')"
  slots="${slots:-${parallelism:-1}}"
  # What a prepared cluster was set up for: everything but the savepoint, which exists only after the stop.
  shape=$(printf '%s\n' "$name" "$sql_file" "$jar" "$entry_class" "$parallelism" "$vertex" "$slots" "${program_args[@]}" | md5sum | cut -c1-32)
}

# One launch per token at a time (start, prepare and release of one token never interleave).
lock_token() { # token
  mkdir -p "$APPS/.locks"
  exec 9>"$APPS/.locks/$1"
  flock 9
}

app_start() {
  local began
  began=$(date +%s%3N)
  parse_launch_options "$@"
  if [[ -n "$savepoint" ]]; then
    local local_path="${savepoint#file:}"
    [[ "$savepoint" != file:* || -e "${local_path}" ]] || app_fail "savepoint '$savepoint' does not exist"
  fi
  local dir="$APPS/$token"
  lock_token "$token"
  if [[ -f "$dir/launch.json" ]]; then
    # A second start of the token (a worker killed during the launch, an activity retried): the
    # first may still wait for its job; answer as it will, once the cluster lists the job.
    flock -u 9
    local rest job
    rest=$(launch_field "$dir" restUrl)
    job=$(launch_field "$dir" jobId)
    app_pid_alive "$dir" jobmanager >/dev/null && await_listed "$dir" "$name" "$rest" "$job"
    app_json "$dir"
    return
  fi
  if [[ -d "$dir" && ! -f "$dir/prepared.env" ]]; then
    app_fail "a launch of token '$token' broke off (no $dir/launch.json); stop it with 'app-cluster.sh stop --token $token'"
  fi
  if [[ -f "$dir/prepared.env" ]] && ! grep -qx "shape=$shape" "$dir/prepared.env"; then
    # Prepared for other options: what was prepared is not this launch's.
    stop_cluster "$dir"
    rm -rf "$dir"
  fi
  [[ -d "$dir" ]] || set_up_cluster "$dir"
  # shellcheck disable=SC1091
  source "$dir/prepared.env"
  app_pid_alive "$dir" taskmanager >/dev/null || start_taskmanager "$dir"

  local entry=(--job-id "$job_id")
  if [[ -n "$sql_file" ]]; then
    entry+=(--job-classname flinkpaimonops.SqlApplication)
    [[ -n "$savepoint" ]] && entry+=(--fromSavepoint "$savepoint")
    $allow_nrs && entry+=(--allowNonRestoredState)
    entry+=(--script "$dir/catalog.sql" --script "$dir/version.sql")
  else
    [[ -n "$entry_class" ]] && entry+=(--job-classname "$entry_class")
    [[ -n "$savepoint" ]] && entry+=(--fromSavepoint "$savepoint")
    $allow_nrs && entry+=(--allowNonRestoredState)
    entry+=("${program_args[@]}")
  fi
  echo "$began" >"$dir/run/launched-at" # when this start began (bench/app-routes.ts: the launcher's own time)
  start_flink "$dir" jobmanager "$FLINK_HOME/bin/standalone-job.sh" start-foreground "${entry[@]}"
  setsid nohup bash "$REPO_ROOT/scripts/app-cluster.sh" watch "$dir" >"$dir/log/watcher.out" 2>&1 </dev/null 9>&- &
  echo $! >"$dir/run/watcher.pid"

  python3 - "$dir/launch.json" "$token" "$name" "http://$STACK_BIND:$rest_port" "$job_id" "${savepoint}" <<'PY'
import json, sys
path, token, name, rest, job, savepoint = sys.argv[1:]
json.dump({"token": token, "name": name, "restUrl": rest, "jobId": job, "savepoint": savepoint or None}, open(path + ".tmp", "w"))
import os; os.replace(path + ".tmp", path)
PY
  flock -u 9
  await_listed "$dir" "$name" "http://$STACK_BIND:$rest_port" "$job_id"
  app_json "$dir"
}

# Before the old version stops: the new version's cluster set up and its TaskManager started, so its
# JVM start is not part of the job's downtime. A TaskManager alone runs and commits nothing; without a
# JobManager it ends itself after taskmanager.registration.timeout (5 min), and `start` starts it
# again if it is gone by then.
app_prepare() {
  parse_launch_options "$@"
  [[ -z "$savepoint" ]] || app_fail "prepare takes no --savepoint: the savepoint is start's"
  local dir="$APPS/$token"
  lock_token "$token"
  if [[ -d "$dir" ]]; then
    printf '{"token": "%s", "prepared": false}\n' "$token"
    return
  fi
  set_up_cluster "$dir"
  start_taskmanager "$dir"
  # Back once the TaskManager's JVM has started (it looks for its JobManager): its start, ~5 s of CPU,
  # then falls before the stop, not in the downtime. Up to APP_PREPARE_WAIT_S; a slower one goes on starting.
  local deadline=$((SECONDS + ${APP_PREPARE_WAIT_S:-30}))
  until grep -qs "Connecting to ResourceManager" "$dir"/log/*taskexecutor*.log; do
    app_pid_alive "$dir" taskmanager >/dev/null || break
    ((SECONDS < deadline)) || break
    sleep 0.2
  done
  printf '{"token": "%s", "prepared": true}\n' "$token"
}

# A prepared cluster that will not be launched (its operation stopped nothing, or failed before the
# deploy): its TaskManager stopped, its folder removed. A launched cluster is left alone.
app_release() { # token
  local dir="$APPS/$1"
  lock_token "$1"
  if [[ -d "$dir" && ! -f "$dir/launch.json" && -f "$dir/prepared.env" ]]; then
    stop_cluster "$dir"
    rm -rf "$dir"
    printf '{"token": "%s", "released": true}\n' "$1"
  else
    printf '{"token": "%s", "released": false}\n' "$1"
  fi
}

set_up_cluster() { # dir (options parsed)
  local dir="$1"
  mkdir -p "$dir/conf" "$dir/log" "$dir/run" "$dir/jars" "$dir/usrlib"
  local rest_port rpc_port job_id
  rest_port=$(free_port); rpc_port=$(free_port)
  job_id=$(printf '%s' "$token" | md5sum | cut -c1-32)

  cp "$FLINK_HOME"/conf/log4j*.properties "$FLINK_HOME"/conf/logback*.xml "$dir/conf/"
  # The session cluster's settings (checkpoints, state backend, savepoint dir, restart strategy),
  # with this cluster's own ports, pid dir and size.
  grep -vE '^(parallelism\.default|pipeline\.jobvertex-parallelism-overrides|env\.pid\.dir|jobmanager\.rpc\.port|rest\.port|taskmanager\.numberOfTaskSlots|jobmanager\.memory\.process\.size|taskmanager\.memory\.process\.size|web\.upload\.dir|sql-gateway\.)' \
    "$FLINK_HOME/conf/config.yaml" >"$dir/conf/config.yaml"
  cat >>"$dir/conf/config.yaml" <<CONF
# Application cluster '$name' (token $token), written by scripts/app-cluster.sh.
env.pid.dir: $dir/run
jobmanager.rpc.port: $rpc_port
rest.port: $rest_port
web.upload.dir: $dir/jars
taskmanager.numberOfTaskSlots: $slots
jobmanager.memory.process.size: 800m
taskmanager.memory.process.size: 1400m
execution.shutdown-on-application-finish: false
# A main method that fails still leaves a FAILED job (with the error) behind the fixed job id for REST.
execution.submit-failed-job-on-application-error: true
# A TaskManager started before its JobManager (prepare) looks for it again this often, not every 10 s;
# the JobManager's ResourceManager is up seconds before the job, planned by the runner, asks for slots.
cluster.registration.error-delay: 1 s
CONF
  [[ -n "$parallelism" ]] && echo "parallelism.default: $parallelism" >>"$dir/conf/config.yaml"
  [[ -n "$vertex" ]] && echo "pipeline.jobvertex-parallelism-overrides: $vertex" >>"$dir/conf/config.yaml"
  # The version's code goes on both JVMs' classpath before either starts (usrlib/, below).
  if [[ -n "$sql_file" ]]; then
    bash "$REPO_ROOT/scripts/build-sql-runner.sh" >&2
    cp "$SQL_RUNNER_JAR" "$dir/usrlib/"
    cp "$REPO_ROOT/demo/sql/catalog.sql" "$dir/catalog.sql"
    cp "$sql_file" "$dir/version.sql"
  else
    cp "$jar" "$dir/usrlib/"
  fi
  printf 'rest_port=%s\nrpc_port=%s\njob_id=%s\nshape=%s\n' "$rest_port" "$rpc_port" "$job_id" "$shape" >"$dir/prepared.env.tmp"
  mv "$dir/prepared.env.tmp" "$dir/prepared.env"
}

start_flink() { # dir name command... : a Flink script in the background, its own process group, with the
  # cluster's own config, logs and classpath; run/<name>.pid, log/<name>.out. Not the token's lock (fd 9).
  local dir="$1" process="$2"; shift 2
  local hadoop="$FLINK_HOME/hadoop/flink-shaded-hadoop-2-uber-$HADOOP_UBER_VERSION.jar"
  # usrlib/ is read from FLINK_HOME; this cluster's own usrlib goes on the classpath instead.
  FLINK_CONF_DIR="$dir/conf" FLINK_LOG_DIR="$dir/log" FLINK_IDENT_STRING="app-$(basename "$dir")" \
    HADOOP_CLASSPATH="$hadoop:$dir/usrlib/*" PAIMON_WAREHOUSE="$PAIMON_WAREHOUSE" \
    setsid nohup "$@" >>"$dir/log/$process.out" 2>&1 </dev/null 9>&- &
  echo $! >"$dir/run/$process.pid"
}

start_taskmanager() { # dir
  # The folder on its command line from the first moment (pid_of: "still ours"), not only once the script
  # has become the JVM: a prepared cluster may be released while Flink's scripts still run.
  start_flink "$1" taskmanager "$FLINK_HOME/bin/taskmanager.sh" start-foreground "-Dflink-paimon-ops.app-cluster=$1"
}

# Launched when the cluster lists the job (in any state: the job may still fail to restore, which
# is the caller's to watch). The main method runs before the job exists: a SQL script is planned first.
await_listed() { # dir name restUrl jobId
  local dir="$1" name="$2" rest="$3" job_id="$4"
  local deadline=$((SECONDS + ${APP_START_TIMEOUT_S:-180}))
  until curl -fsS --max-time 2 "$rest/jobs/overview" 2>/dev/null | grep -qF "\"$job_id\""; do
    if ! app_pid_alive "$dir" jobmanager >/dev/null; then
      app_stop_process "$dir" taskmanager
      app_fail "the application cluster of '$name' exited while starting; its log: $(tail -n 30 "$dir/log/jobmanager.out" | tr '\n' ' ' | cut -c1-2000)"
    fi
    if ((SECONDS >= deadline)); then
      # A failed launch must leave no job behind: one that started later would be a second writer
      # beside whatever the caller starts instead.
      stop_cluster "$dir"
      app_fail "the application cluster of '$name' did not list job $job_id at $rest within ${APP_START_TIMEOUT_S:-180} s, and was stopped (log: $dir/log)"
    fi
    sleep 0.5
  done
}

stop_cluster() { # dir: its watcher first (it would stop the rest too), then the TaskManager, then the JobManager
  app_stop_process "$1" watcher
  app_stop_process "$1" taskmanager
  app_stop_process "$1" jobmanager
}

app_stop() { # token
  local dir="$APPS/$1"
  [[ -d "$dir" ]] || app_fail "no application cluster with token '$1' (app-cluster.sh list)"
  stop_cluster "$dir"
  app_json "$dir"
}

launch_field() { # dir key -> a field of the cluster's launch.json (restUrl and jobId: no quotes or escapes in them)
  grep -o "\"$2\": \"[^\"]*\"" "$1/launch.json" | cut -d'"' -f4
}

job_state() { # restUrl jobId -> the job's state in the cluster's overview ("" while not listed); fails when the cluster does not answer
  local overview
  # The overview, not /jobs/<id>: Flink answers the latter with an error for a job that failed in its main method.
  overview=$(curl -fsS --max-time 3 "$1/jobs/overview" 2>/dev/null) || return 1
  # One object per job, its "state" before its nested "tasks" object. Read without python: the watcher asks every few seconds.
  { tr '{' '\n' <<<"$overview" | grep -F "\"jid\":\"$2\"" | grep -o '"state":"[A-Z_]*"' | cut -d'"' -f4; } || true
}

ended_state() { [[ "$1" =~ ^(FINISHED|CANCELED|FAILED)$ ]]; }

job_ended() { # dir -> true when the JobManager is gone or its job is in a terminal state
  local dir="$1" state
  app_pid_alive "$dir" jobmanager >/dev/null || return 0
  state=$(job_state "$(launch_field "$dir" restUrl)" "$(launch_field "$dir" jobId)") || return 1
  ended_state "$state"
}

# The cluster's watcher, one per cluster (its own process group, run/watcher.pid): the local
# launcher's way to stop a cluster whose job ended without waiting for the next launch. A job in a
# terminal state never runs again in this cluster (the job id is fixed, the entry point submits it once).
app_watch() { # dir
  local dir="$1" rest job state ended_at="" grace="${APP_ENDED_GRACE_S:-300}"
  until [[ -f "$dir/launch.json" ]]; do
    app_pid_alive "$dir" jobmanager >/dev/null || break
    sleep 1
  done
  rest=$(launch_field "$dir" restUrl 2>/dev/null) || rest=""
  job=$(launch_field "$dir" jobId 2>/dev/null) || job=""
  while app_pid_alive "$dir" jobmanager >/dev/null; do
    if [[ -z "$ended_at" ]]; then
      state=$(job_state "$rest" "$job") || state=""
      if ended_state "$state"; then
        ended_at=$SECONDS
        printf '%s job %s is %s: stopping the cluster in %s s\n' "$(date -u +%FT%TZ)" "$job" "$state" "$grace"
      fi
    fi
    [[ -n "$ended_at" ]] && ((SECONDS - ended_at >= grace)) && break
    sleep "${APP_WATCH_INTERVAL_S:-2}"
  done
  if [[ -n "$ended_at" ]]; then
    printf '%s stopping the cluster (job %s %s)\n' "$(date -u +%FT%TZ)" "$job" "$state"
  else
    printf '%s the JobManager is gone: stopping the rest of the cluster\n' "$(date -u +%FT%TZ)"
  fi
  app_stop_process "$dir" taskmanager
  app_stop_process "$dir" jobmanager
  rm -f "$dir/run/watcher.pid"
}

app_each() { # command: on every launched cluster
  [[ -d "$APPS" ]] || return 0
  local dir
  for dir in "$APPS"/*/; do
    dir="${dir%/}"
    [[ -f "$dir/launch.json" ]] || continue
    "$@" "$dir"
  done
}

app_down() { # every cluster this launcher started, launched or only prepared
  [[ -d "$APPS" ]] || return 0
  local dir
  for dir in "$APPS"/*/; do
    dir="${dir%/}"
    [[ -f "$dir/launch.json" || -f "$dir/prepared.env" ]] && stop_cluster "$dir"
  done
  return 0
}

reap_one() { # dir [except-token]
  [[ -n "${2:-}" && "$(basename "$1")" == "$2" ]] && return 0
  if job_ended "$1"; then stop_cluster "$1"; fi
}

case "${1:-}" in
  start) app_start "${@:2}" ;;
  prepare) app_prepare "${@:2}" ;;
  release) [[ -n "${3:-}" && "${2:-}" == --token ]] || app_fail "usage: app-cluster.sh release --token T"; app_release "$3" ;;
  stop) [[ -n "${3:-}" && "${2:-}" == --token ]] || app_fail "usage: app-cluster.sh stop --token T"; app_stop "$3" ;;
  reap)
    except=""
    if [[ "${2:-}" == --except ]]; then [[ -n "${3:-}" ]] || app_fail "usage: app-cluster.sh reap [--except T]"; except="$3"; fi
    reap_except() { reap_one "$1" "$except"; }
    app_each reap_except ;;
  list) app_each app_json ;;
  down) app_down ;;
  watch) [[ -d "${2:-}" ]] || app_fail "usage: app-cluster.sh watch DIR (started by start)"; app_watch "$2" ;;
  *) sed -n '2,37p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
