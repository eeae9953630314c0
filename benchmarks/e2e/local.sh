#!/usr/bin/env bash
# Local copy, whole process: uring-sync -p vs cp -a and rsync -a, interleaved, caches dropped before
# every timed run, results checked with diff -r, medians. Needs root (drop_caches).
# Usage: local.sh [RUNS] [DATASETS...]
#   datasets: small10k (10,000 x 4 KiB in 100 dirs), small100k (100,000 x 4 KiB in 1,000 dirs),
#             big1g (one 1 GiB file), jdk (a JDK installation; JDK_TREE overrides)
# Before/after in one run: BASE_REPO=<another checkout, built> TOOLS="uring-sync uring-sync-base ..."
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/common.sh"
runs=${1:-5}
shift || true
datasets=(${@:-small10k small100k big1g})
tools=(${TOOLS:-uring-sync cp rsync})
need_root
trap remove_trash EXIT

run_tool() { # tool src dst
  case $1 in
    uring-sync) "$repo/uring-sync" -p "$2" "$3" >/dev/null ;;
    uring-sync-base) "$BASE_REPO/uring-sync" -p "$2" "$3" >/dev/null ;;  # BASE_REPO: another built checkout
    uring-sync-c) "$repo/uring-sync" -p -c "$2" "$3" >/dev/null ;;  # -c: compared by content (XXH128)
    uring-sync-base-c) "$BASE_REPO/uring-sync" -p -c "$2" "$3" >/dev/null ;;
    cp) cp -a "$2/." "$3" ;;
    rsync) rsync -a "$2/" "$3/" ;;
    rsync-c) rsync -a -c "$2/" "$3/" ;;
  esac
}

"$repo/uring-sync" --version >/dev/null  # CDS archive warm-up, not timed
[[ -n "${BASE_REPO:-}" ]] && "$BASE_REPO/uring-sync" --version >/dev/null
header
for ds in "${datasets[@]}"; do
  timed_rounds "$ds" "$runs" cp run_tool "$(dataset "$ds")" "$work/dst"
done
