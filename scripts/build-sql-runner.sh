#!/usr/bin/env bash
# Builds the SQL application runner (runner/sql-application: a SQL version's script run as a Flink
# application) into $STACK_HOME/runner/sql-application.jar with javac and jar against the local
# Flink's lib/. Does nothing when the jar is newer than its sources.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$REPO_ROOT/scripts/stack-lib.sh"

SRC="$REPO_ROOT/runner/sql-application/src/main/java"
OUT="$STACK_HOME/runner"
JAR="$OUT/sql-application.jar"

require_tool javac "a JDK (11 or 17) compiles the SQL application runner"
require_tool jar "a JDK (11 or 17) packs the SQL application runner"
[[ -d "$FLINK_HOME/lib" ]] || die "Flink is not installed in $FLINK_HOME: run 'bash scripts/stack.sh up' first"

if [[ -f "$JAR" && -z "$(find "$SRC" -newer "$JAR" -type f -print -quit)" ]]; then
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/classes" "$OUT"
javac --release 11 -nowarn -cp "$FLINK_HOME/lib/*" -d "$tmp/classes" $(find "$SRC" -name '*.java')
jar --create --file "$tmp/sql-application.jar" --main-class flinkpaimonops.SqlApplication -C "$tmp/classes" .
mv "$tmp/sql-application.jar" "$JAR"
say "built $JAR"
