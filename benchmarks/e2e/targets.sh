#!/usr/bin/env bash
# The cases the issues set targets for, one block on JAVA_HOME's launcher (or the newest JDK, see
# common.sh): network first send of 10,000 x 4 KiB and local 1 GiB (issue 14), one changed file among
# 10,000 and no-change re-runs of 100,000 over the network and locally (issue 12); each against the
# tool its target names, interleaved, cold, medians. Needs root. About 15 minutes here.
# Usage: JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 bash benchmarks/e2e/targets.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
export KEEP_TRASH=1 # one deletion of the moved-aside DESTs, at the end (see common.sh's empty_dir)
source "$here/common.sh"
trap 'KEEP_TRASH= remove_trash' EXIT
echo "== $(date -u) $(java_version) (JAVA_HOME=${JAVA_HOME:-})"
TOOLS="uring-sync rsync-ssh" bash "$here/network.sh" 5 small10k 2>&1 | tail -3
TOOLS="uring-sync cp" bash "$here/local.sh" 5 big1g 2>&1 | tail -3
SECOND_RUN=1 CHANGE_ONE=1 TOOLS="uring-sync rsync-ssh" bash "$here/network.sh" 5 small10k 2>&1 | tail -3
SECOND_RUN=1 TOOLS="uring-sync rsync-ssh" bash "$here/network.sh" 3 small100k 2>&1 | tail -3
SECOND_RUN=1 TOOLS="uring-sync rsync" bash "$here/local.sh" 3 small100k 2>&1 | tail -3
echo "== end $(date -u)"
