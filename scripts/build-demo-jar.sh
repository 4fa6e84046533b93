#!/usr/bin/env bash
# Builds the demo jar job (demo/jar) into $STACK_HOME/demo/demo-job.jar with javac and jar against
# the local Flink's lib/ — no Maven. Does nothing when the jar is newer than its sources.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$REPO_ROOT/scripts/stack-lib.sh"

build_java_jar "demo jar job" "$REPO_ROOT/demo/jar/src/main/java" "$STACK_HOME/demo/demo-job.jar" demo.DemoJob
