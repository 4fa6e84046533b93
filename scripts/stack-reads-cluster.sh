# shellcheck shell=bash
# The reads cluster: a small Flink session cluster (its own JobManager and TaskManager, conf dir
# and ports) on which the worker's Paimon reads ($tags, $snapshots, $consumers, $options) run as
# batch jobs, so that they never wait for a slot of the production cluster. The SQL gateway stays
# the main cluster's: the worker's Paimon sessions set rest.address/rest.port to this cluster
# (PAIMON_READS_FLINK_REST_URL), and every other session (SQL deployments, EXPLAIN) keeps
# submitting to the production cluster. Sourced by scripts/stack-lib.sh.

READS_FLINK_REST_PORT="${READS_FLINK_REST_PORT:-8091}"
READS_FLINK_RPC_PORT="${READS_FLINK_RPC_PORT:-6133}"
# Reads are parallelism-1 jobs of a second or so; 4 slots serve 4 at once, more queue briefly.
READS_TASK_SLOTS="${READS_TASK_SLOTS:-4}"
# STACK_READS_CLUSTER=off starts no reads cluster (reads then go to the production cluster).
STACK_READS_CLUSTER="${STACK_READS_CLUSTER:-on}"
READS_CONF_DIR="$STACK_HOME/reads-cluster/conf"

reads_cluster_enabled() { [[ "$STACK_READS_CLUSTER" != off ]]; }

reads_cluster_write_config() {
  reads_cluster_enabled || return 0
  local java_opts
  java_opts=$(sed -n 's/^ *all: \(--add-.*\)$/\1/p' "$FLINK_HOME/conf/config.shipped.yaml")
  mkdir -p "$READS_CONF_DIR" "$STACK_HOME/reads-cluster/jars"
  # Logging set-up as the main cluster's; only config.yaml differs.
  cp "$FLINK_HOME"/conf/log4j*.properties "$FLINK_HOME"/conf/logback*.xml "$READS_CONF_DIR/"
  cat >"$READS_CONF_DIR/config.yaml" <<EOF
# Written by scripts/stack-reads-cluster.sh on every start; edit the script, not this file.
env.java.opts.all: $java_opts
env.pid.dir: $RUN
jobmanager.rpc.address: $STACK_BIND
jobmanager.rpc.port: $READS_FLINK_RPC_PORT
jobmanager.bind-host: $STACK_BIND
jobmanager.memory.process.size: 768m
taskmanager.host: $STACK_BIND
taskmanager.bind-host: $STACK_BIND
taskmanager.numberOfTaskSlots: $READS_TASK_SLOTS
taskmanager.memory.process.size: 1280m
# Reads of system tables sort and join little: most of the small TaskManager goes to task heap.
taskmanager.memory.managed.fraction: 0.1
# A batch job's blocking exchanges are sort-shuffle partitions, each taking
# taskmanager.network.sort-shuffle.min-buffers (512) network buffers. With the default 64 MB of
# network memory (2048 buffers of 32 KB) 3 of 8 reads at once failed with "Insufficient number of
# network buffers: required 512, but only 511 available" (a read with a subquery has two exchanges).
taskmanager.network.sort-shuffle.min-buffers: 64
taskmanager.memory.network.min: 128m
taskmanager.memory.network.max: 128m
parallelism.default: 1
rest.address: $STACK_BIND
rest.bind-address: $STACK_BIND
rest.port: $READS_FLINK_REST_PORT
web.upload.dir: $STACK_HOME/reads-cluster/jars
restart-strategy.type: none
EOF
}

reads_cluster_taskmanager_registered() {
  curl -fsS --max-time 3 "http://$STACK_BIND:$READS_FLINK_REST_PORT/taskmanagers" | grep -q '"id"'
}

# Started after the main cluster, whose FLINK_HOME (Paimon jar in lib/, Hadoop outside) it shares.
reads_cluster_up() {
  reads_cluster_enabled || return 0
  reads_cluster_write_config
  # FLINK_IDENT_STRING names Flink's own log and pid files apart from the main cluster's.
  FLINK_IDENT_STRING="${USER:-flink}-reads" STACK_PROCESS_CONF_DIR="$READS_CONF_DIR" start_process reads-jobmanager "$READS_FLINK_REST_PORT" \
    "$FLINK_HOME/bin/jobmanager.sh" start-foreground
  wait_until "reads cluster JobManager REST ($STACK_BIND:$READS_FLINK_REST_PORT)" 90 \
    http_ok "http://$STACK_BIND:$READS_FLINK_REST_PORT/overview"
  FLINK_IDENT_STRING="${USER:-flink}-reads" STACK_PROCESS_CONF_DIR="$READS_CONF_DIR" start_process reads-taskmanager - \
    "$FLINK_HOME/bin/taskmanager.sh" start-foreground
  wait_until "reads cluster TaskManager" 90 reads_cluster_taskmanager_registered
}

reads_cluster_down() {
  stop_process reads-taskmanager
  stop_process reads-jobmanager
}

reads_cluster_status() {
  reads_cluster_enabled || return 0
  local name pid
  for name in reads-jobmanager reads-taskmanager; do
    if pid=$(pid_of "$name"); then
      printf '  %-17s running  pid %-8s %s\n' "$name" "$pid" \
        "$([[ $name == reads-jobmanager ]] && echo "http://$STACK_BIND:$READS_FLINK_REST_PORT (Paimon reads)" ||
          echo "(registers with the reads JobManager)")"
    else
      printf '  %-17s stopped\n' "$name"
    fi
  done
}

# 'gateway': the SQL gateway's own cluster, the production one (src/config/config.ts).
reads_cluster_env() {
  if reads_cluster_enabled; then
    echo "PAIMON_READS_FLINK_REST_URL=http://$STACK_BIND:$READS_FLINK_REST_PORT"
  else
    echo "PAIMON_READS_FLINK_REST_URL=gateway"
  fi
}
