#!/usr/bin/env bash
# First run on a fresh Debian/Ubuntu machine: install prerequisites, build, copy a real tree, check it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prereqs.sh
usync_prereqs
echo "==> building (mvn -q -B install -DskipTests)"
mvn -q -B install -DskipTests
demo_src=${1:-/usr/share/doc}
demo_dst=$(mktemp -d /tmp/uring-sync-demo.XXXXXX)/copy
echo "==> ./uring-sync -p $demo_src $demo_dst"
./uring-sync -p "$demo_src" "$demo_dst"
echo "==> diff -r --no-dereference $demo_src $demo_dst"
diff -r --no-dereference "$demo_src" "$demo_dst"
echo "identical: contents, symlinks as links; modes and times kept (-p)"
