#!/usr/bin/env bash
# Builds the demo jar job (demo/jar) into $STACK_HOME/demo/demo-job.jar with javac and jar against
# the local Flink's lib/ — no Maven. Does nothing when the jar is newer than its sources.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$REPO_ROOT/scripts/stack-lib.sh"

SRC="$REPO_ROOT/demo/jar/src/main/java"
OUT="$STACK_HOME/demo"
JAR="$OUT/demo-job.jar"

require_tool javac "a JDK (11 or 17) compiles the demo jar job"
require_tool jar "a JDK (11 or 17) packs the demo jar job"
[[ -d "$FLINK_HOME/lib" ]] || die "Flink is not installed in $FLINK_HOME: run 'bash scripts/stack.sh up' first"

if [[ -f "$JAR" && -z "$(find "$SRC" -newer "$JAR" -type f -print -quit)" ]]; then
  say "demo jar is up to date: $JAR"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/classes" "$OUT"
# --release 11: the jar runs on either Java the stack accepts.
javac --release 11 -nowarn -cp "$FLINK_HOME/lib/*" -d "$tmp/classes" $(find "$SRC" -name '*.java')
jar --create --file "$tmp/demo-job.jar" --main-class demo.DemoJob -C "$tmp/classes" .
mv "$tmp/demo-job.jar" "$JAR"
say "built $JAR"
