#!/usr/bin/env bash
# The whole end-to-end comparison in one run: local copy (uring-sync vs cp -a and rsync -a) and
# network transfer (uring-sync vs rsync over ssh, scp, tar | ssh) on the design's data sets and a real
# mixed tree. RUNS (default 5) runs per tool and case, interleaved, caches dropped before every timed
# run, medians. Needs root. About 10 minutes on a 2-core machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runs=${RUNS:-5}
start=$(date +%s)
source "$here/common.sh"  # picks JAVA_HOME
export KEEP_TRASH=1 # one deletion of the moved-aside DESTs, at the end (see empty_dir)
trap 'KEEP_TRASH= remove_trash' EXIT
echo "# $(date -u +%Y-%m-%d) $(nproc) vCPU $(sed -n 's/model name\t: //p' /proc/cpuinfo | head -1), $(free -g | awk '/Mem:/ {print $2}') GiB,"\
  "kernel $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME"), $(java_version) (JAVA_HOME=${JAVA_HOME:-})"
echo "## local copy"
bash "$here/local.sh" "$runs" small10k small100k big1g jdk
echo "## network transfer (loopback)"
bash "$here/network.sh" "$runs" small10k big1g jdk
echo "# total $(( $(date +%s) - start )) s"
