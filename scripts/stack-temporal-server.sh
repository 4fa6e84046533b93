# shellcheck shell=bash
# The production-like Temporal (STACK_TEMPORAL=server): Temporal's own server, built from its Go
# module, on PostgreSQL from Debian's packages, in place of the dev server and its SQLite file.
# Both run as our processes under $STACK_HOME (pids in run/postgres.pid, run/temporal-server.pid);
# the schema is set up and upgraded by Temporal's SQL tool from the same module, and the default
# namespace and our search attributes are registered through the frontend like an operator would.
# Sourced by scripts/stack-lib.sh.

# v1.32.0's go.mod asks for Go 1.26.8, the Go on our machines; v1.32.2 asks for a newer one.
TEMPORAL_SERVER_VERSION=1.32.0
TEMPORAL_SERVER_GO=1.26.8
STACK_TEMPORAL="${STACK_TEMPORAL:-dev}"
POSTGRES_PORT="${POSTGRES_PORT:-5433}"
POSTGRES_USER=temporal
POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-temporal}"
# Fixed at schema setup: Temporal cannot change the number of history shards of a cluster later.
TEMPORAL_HISTORY_SHARDS=4
TEMPORAL_NAMESPACE_RETENTION="${TEMPORAL_NAMESPACE_RETENTION:-7d}"

TEMPORAL_SERVER_HOME="$STACK_HOME/temporal-server-$TEMPORAL_SERVER_VERSION"
TEMPORAL_SERVER_BIN="$TEMPORAL_SERVER_HOME/bin/server"
TEMPORAL_SQL_TOOL="$TEMPORAL_SERVER_HOME/bin/sql"
POSTGRES_DATA="$DATA/postgres"
POSTGRES_EXTRACTED="$STACK_HOME/postgresql"

# The services' own ports, moved along with TEMPORAL_PORT (the frontend): with the default 7233
# they are Temporal's usual 7234/7235/7239 and membership 6933/6934/6935/6939.
temporal_server_port() { # service grpc|membership
  local offset
  case "$1" in frontend) offset=0 ;; history) offset=1 ;; matching) offset=2 ;; worker) offset=6 ;; esac
  if [[ "$2" == grpc ]]; then echo $((TEMPORAL_PORT + offset)); else echo $((TEMPORAL_PORT - 300 + offset)); fi
}

temporal_server_mode() {
  case "$STACK_TEMPORAL" in
    server) return 0 ;;
    dev) return 1 ;;
    *) die "STACK_TEMPORAL is '$STACK_TEMPORAL'; it is 'dev' (the default: Temporal's dev server) or 'server' (Temporal's server on PostgreSQL)" ;;
  esac
}

# ---------------------------------------------------------------------------------------- fetch

temporal_server_fetch() {
  temporal_server_mode || return 0
  temporal_server_build
  postgres_bin >/dev/null || postgres_install
  postgres_bin >/dev/null || die "PostgreSQL's server was installed but its binaries are not found"
}

temporal_server_build() {
  [[ -x "$TEMPORAL_SERVER_BIN" && -x "$TEMPORAL_SQL_TOOL" ]] && return 0
  require_tool go "Temporal's server is built from its Go module; install Go $TEMPORAL_SERVER_GO or newer"
  local have; have=$(go env GOVERSION); have="${have#go}"
  [[ "$(printf '%s\n%s\n' "$TEMPORAL_SERVER_GO" "$have" | sort -V | head -1)" == "$TEMPORAL_SERVER_GO" ]] ||
    die "Go $have found; go.temporal.io/server v$TEMPORAL_SERVER_VERSION needs Go $TEMPORAL_SERVER_GO or newer"
  say "building Temporal server v$TEMPORAL_SERVER_VERSION and its SQL tool from the Go module (28-50 min on 2 cores with cold Go caches, 3-4 min warm)"
  mkdir -p "$TEMPORAL_SERVER_HOME/bin"
  # Go's own module and build caches (go env GOMODCACHE, GOCACHE; STACK_GOMODCACHE and STACK_GOCACHE
  # move them), not ones under $STACK_HOME: they outlive a clone, so another clone or STACK_HOME on
  # this machine (CI's fresh clone too) builds in 3-4 minutes instead of 28-50 (README, measured).
  # GOTOOLCHAIN=local: never fetch another Go.
  GOMODCACHE="${STACK_GOMODCACHE:-$(go env GOMODCACHE)}" GOCACHE="${STACK_GOCACHE:-$(go env GOCACHE)}" \
    GOFLAGS=-modcacherw GOTOOLCHAIN=local GOBIN="$TEMPORAL_SERVER_HOME/bin" \
    go install "go.temporal.io/server/cmd/server@v$TEMPORAL_SERVER_VERSION" \
    "go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_SERVER_VERSION" >"$LOGS/temporal-server-build.log" 2>&1 ||
    die "building Temporal server v$TEMPORAL_SERVER_VERSION failed (see $LOGS/temporal-server-build.log)"
}

postgres_bin() { # the folder with initdb and postgres: ours, else the system's newest
  local dir
  for dir in $(compgen -G "$POSTGRES_EXTRACTED/usr/lib/postgresql/*/bin" | sort -rV) \
    $(compgen -G "/usr/lib/postgresql/*/bin" | sort -rV); do
    [[ -x "$dir/postgres" && -x "$dir/initdb" ]] && echo "$dir" && return 0
  done
  return 1
}

postgres_install() {
  require_tool apt-get "PostgreSQL comes from Debian's packages; install the 'postgresql' package"
  if [[ "$(id -u)" == 0 ]]; then
    say "installing PostgreSQL from Debian's packages (apt-get install postgresql)"
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql ||
      { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql; }; } \
      >"$LOGS/postgres-install.log" 2>&1 || die "apt-get could not install postgresql (see $LOGS/postgres-install.log)"
    return 0
  fi
  # Not root: the server's package and its client library, unpacked under $STACK_HOME.
  local server
  server=$(apt-cache depends postgresql 2>/dev/null | sed -n 's/^ *Depends: \(postgresql-[0-9][0-9]*\)$/\1/p' | head -1)
  [[ -n "$server" ]] || die "apt-cache knows no 'postgresql' package; run 'apt-get update' or install postgresql as root"
  say "downloading $server from Debian's packages into $POSTGRES_EXTRACTED"
  local debs="$DOWNLOADS/debs"
  mkdir -p "$debs"
  (cd "$debs" && apt-get download "$server" libpq5) >"$LOGS/postgres-install.log" 2>&1 ||
    die "apt-get download $server failed (see $LOGS/postgres-install.log)"
  local deb
  for deb in "$debs"/*.deb; do dpkg -x "$deb" "$POSTGRES_EXTRACTED"; done
  local missing
  missing=$(LD_LIBRARY_PATH="$POSTGRES_EXTRACTED/usr/lib/x86_64-linux-gnu" ldd "$(postgres_bin)/postgres" | grep 'not found' || true)
  [[ -z "$missing" ]] || die "$server needs libraries this machine lacks: $(xargs <<<"$missing"); install 'postgresql' with apt-get as root"
}

# ---------------------------------------------------------------------------------- processes

# PostgreSQL refuses to run as root: as root it runs as the 'postgres' user Debian's package made.
# Sets POSTGRES_AS, the prefix that runs a PostgreSQL program (by exec: a recorded pid is its own).
postgres_user() {
  POSTGRES_AS=(env "LD_LIBRARY_PATH=$POSTGRES_EXTRACTED/usr/lib/x86_64-linux-gnu")
  [[ "$(id -u)" == 0 ]] || return 0
  id postgres >/dev/null 2>&1 ||
    useradd --system --user-group --home-dir /nonexistent --shell /usr/sbin/nologin postgres
  POSTGRES_AS=(setpriv --reuid=postgres --regid=postgres --init-groups "${POSTGRES_AS[@]}")
}

postgres_initdb() {
  [[ -f "$POSTGRES_DATA/PG_VERSION" ]] && return 0
  say "creating a PostgreSQL cluster in $POSTGRES_DATA"
  local pwfile="$RUN/postgres-init.pw"
  mkdir -p "$POSTGRES_DATA"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  [[ "$(id -u)" != 0 ]] || chown postgres: "$POSTGRES_DATA" "$pwfile"
  chmod 700 "$POSTGRES_DATA"
  "${POSTGRES_AS[@]}" "$(postgres_bin)/initdb" --pgdata="$POSTGRES_DATA" --username="$POSTGRES_USER" \
    --pwfile="$pwfile" --auth-local=scram-sha-256 --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
    >"$LOGS/postgres-initdb.log" 2>&1 || { rm -f "$pwfile"; die "initdb failed (see $LOGS/postgres-initdb.log)"; }
  rm -f "$pwfile"
}

postgres_ready() {
  LD_LIBRARY_PATH="$POSTGRES_EXTRACTED/usr/lib/x86_64-linux-gnu" "$(postgres_bin)/pg_isready" -q -h "$STACK_BIND" -p "$POSTGRES_PORT" -U "$POSTGRES_USER" -d postgres
}

temporal_sql_tool() { # database command...
  local db="$1"; shift
  SQL_PASSWORD="$POSTGRES_PASSWORD" "$TEMPORAL_SQL_TOOL" --plugin postgres12 --endpoint "$STACK_BIND" \
    --port "$POSTGRES_PORT" --user "$POSTGRES_USER" --database "$db" "$@" >>"$LOGS/temporal-schema.log" 2>&1 ||
    die "Temporal's SQL tool failed on database $db ($*; see $LOGS/temporal-schema.log)"
}

# Temporal's two databases, from the schemas compiled into its SQL tool (the module's
# schema/postgresql/v12/{temporal,visibility}); update-schema applies only versions not yet applied.
temporal_schema() {
  local db schema
  for db in temporal temporal_visibility; do
    schema=postgresql/v12/temporal
    [[ "$db" == temporal_visibility ]] && schema=postgresql/v12/visibility
    if [[ ! -f "$POSTGRES_DATA/.schema-$db" ]]; then
      say "creating database $db with Temporal's SQL tool"
      temporal_sql_tool "$db" create-database
      temporal_sql_tool "$db" setup-schema --version 0.0
      touch "$POSTGRES_DATA/.schema-$db"
    fi
    temporal_sql_tool "$db" update-schema --schema-name "$schema"
  done
}

temporal_server_write_config() {
  local dir="$TEMPORAL_SERVER_HOME/config" service sql
  mkdir -p "$dir"
  sql="pluginName: postgres12
        connectAddr: \"$STACK_BIND:$POSTGRES_PORT\"
        connectProtocol: tcp
        user: $POSTGRES_USER
        password: \"$POSTGRES_PASSWORD\"
        maxConnLifetime: 1h"
  {
    cat <<EOF
# Written by scripts/stack-temporal-server.sh on every start; edit the script, not this file.
log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: $TEMPORAL_HISTORY_SHARDS
  datastores:
    postgres-default:
      sql:
        databaseName: temporal
        maxConns: 20
        maxIdleConns: 20
        $sql
    postgres-visibility:
      sql:
        databaseName: temporal_visibility
        maxConns: 4
        maxIdleConns: 4
        $sql
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "$STACK_BIND"
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "$STACK_BIND:$TEMPORAL_PORT"
dcRedirectionPolicy:
  policy: noop
services:
EOF
    for service in frontend history matching worker; do
      cat <<EOF
  $service:
    rpc:
      grpcPort: $(temporal_server_port "$service" grpc)
      membershipPort: $(temporal_server_port "$service" membership)
      bindOnIP: "$STACK_BIND"
EOF
    done
  } >"$dir/server.yaml"
}

temporal_server_start() {
  temporal_server_mode || return 0
  local bin; bin=$(postgres_bin) || die "PostgreSQL not installed: run 'STACK_TEMPORAL=server scripts/stack.sh fetch'"
  postgres_user
  postgres_initdb
  # Loopback TCP only, no Unix socket (its default folder belongs to the system's PostgreSQL).
  start_process postgres "$POSTGRES_PORT" "${POSTGRES_AS[@]}" "$bin/postgres" -D "$POSTGRES_DATA" \
    -p "$POSTGRES_PORT" -c listen_addresses="$STACK_BIND" -c unix_socket_directories=
  wait_until "PostgreSQL ($STACK_BIND:$POSTGRES_PORT)" 60 postgres_ready
  temporal_schema
  temporal_server_write_config
  local service
  for service in history matching worker; do
    pid_of temporal-server >/dev/null || ! port_open "$(temporal_server_port "$service" grpc)" ||
      die "port $STACK_BIND:$(temporal_server_port "$service" grpc) (Temporal's $service service) is already taken; move TEMPORAL_PORT"
  done
  start_process temporal-server "$TEMPORAL_PORT" "$TEMPORAL_SERVER_BIN" \
    --config-file "$TEMPORAL_SERVER_HOME/config/server.yaml" --allow-no-auth start
}

temporal_namespace_ready() {
  "$TEMPORAL_BIN" operator namespace describe --address "$STACK_BIND:$TEMPORAL_PORT" --namespace default
}

temporal_search_attributes() {
  "$TEMPORAL_BIN" operator search-attribute list --address "$STACK_BIND:$TEMPORAL_PORT" --namespace default
}

# The default namespace and our search attributes, registered once; a search attribute reaches the
# history service's cache only after up to a minute, so the server restarts after a registration.
temporal_server_ready() {
  temporal_server_mode || return 0
  local address="$STACK_BIND:$TEMPORAL_PORT" sa name registered=0
  wait_until "Temporal server ($address)" 90 temporal_healthy
  if ! temporal_namespace_ready >/dev/null 2>&1; then
    say "registering namespace default (retention $TEMPORAL_NAMESPACE_RETENTION)"
    "$TEMPORAL_BIN" operator namespace create --address "$address" --namespace default \
      --retention "$TEMPORAL_NAMESPACE_RETENTION" >/dev/null || die "could not create namespace default"
    wait_until "namespace default" 60 temporal_namespace_ready
  fi
  # Describing a namespace reads the database, so it finds a new namespace at once; listing (and
  # adding) search attributes asks the frontend's namespace registry, a cache refreshed every few
  # seconds (system.namespaceCacheRefreshInterval), and answers "Namespace default is not found"
  # until then: on a new cluster the first `up` failed there every time (issue 27).
  wait_until "namespace default in the frontend's namespace registry" 60 temporal_search_attributes
  local known
  known=$(temporal_search_attributes) || die "could not list the search attributes of namespace default"
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do
    name="${sa%%=*}"
    grep -qw "$name" <<<"$known" && continue
    say "registering search attribute $sa"
    "$TEMPORAL_BIN" operator search-attribute create --address "$address" --namespace default \
      --name "$name" --type "${sa#*=}" >/dev/null || die "could not register search attribute $sa"
    registered=1
  done
  if ((registered)); then
    stop_process temporal-server
    temporal_server_start
    wait_until "Temporal server ($address)" 90 temporal_healthy
  fi
}

postgres_stop() {
  local pid
  pid=$(pid_of postgres) || { rm -f "$RUN/postgres.pid"; return 0; }
  # SIGINT is PostgreSQL's fast shutdown (SIGTERM waits for every client to leave).
  say "stopping postgres (pid $pid)"
  kill -INT "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  kill -0 "$pid" 2>/dev/null && die "postgres (pid $pid) did not stop in 60s; see $LOGS/postgres.out"
  rm -f "$RUN/postgres.pid"
}

# Whatever of the two runs, whichever mode this call is in.
temporal_server_down() {
  stop_process temporal-server
  postgres_stop
}

temporal_server_status() {
  temporal_server_mode || [[ -f "$RUN/temporal-server.pid" || -f "$RUN/postgres.pid" ]] || return 0
  local pid
  if pid=$(pid_of temporal-server); then
    printf '  %-12s running  pid %-8s %s\n' temporal-server "$pid" "grpc://$STACK_BIND:$TEMPORAL_PORT (Temporal v$TEMPORAL_SERVER_VERSION; no Web UI)"
  else
    printf '  %-12s stopped\n' temporal-server
  fi
  if pid=$(pid_of postgres); then
    printf '  %-12s running  pid %-8s %s\n' postgres "$pid" "postgresql://$STACK_BIND:$POSTGRES_PORT (databases temporal, temporal_visibility)"
  else
    printf '  %-12s stopped\n' postgres
  fi
}

temporal_server_env() {
  echo "STACK_TEMPORAL=$STACK_TEMPORAL"
  temporal_server_mode || return 0
  echo "POSTGRES_PORT=$POSTGRES_PORT"
}
