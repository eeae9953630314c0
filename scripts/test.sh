#!/usr/bin/env bash
# The whole test suite: C core through JNI, Java unit tests, launcher and library integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prereqs.sh
usync_prereqs
mvn -B install "$@"
