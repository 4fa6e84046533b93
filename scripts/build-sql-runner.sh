#!/usr/bin/env bash
# Builds the SQL application runner (runner/sql-application: a SQL version's script run as a Flink
# application) into $STACK_HOME/runner/sql-application.jar with javac and jar against the local
# Flink's lib/. Does nothing when the jar is newer than its sources.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$REPO_ROOT/scripts/stack-lib.sh"

build_java_jar "SQL application runner" "$REPO_ROOT/runner/sql-application/src/main/java" "$STACK_HOME/runner/sql-application.jar" flinkpaimonops.SqlApplication
