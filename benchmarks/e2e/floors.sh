#!/usr/bin/env bash
# What the issues' target cases cost at the least on this machine, with no JVM, no network and no
# crypto (compare with the rsync figures of targets.sh from the same day): two cold walks at once of
# the 100,000-file tree and a copy of it (getdents and fstatat: find), reading and creating 10,000
# files (tar | tar into a fresh directory), reading them with 8 readers at once, one cold walk of the
# 10,000-file tree and a copy, and the launcher's start. Cold caches before each; RUNS rounds.
# Needs root and the data sets (run targets.sh once first: it makes them and their copies).
# Usage: RUNS=3 bash benchmarks/e2e/floors.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/common.sh"
need_root
runs=${RUNS:-3}
s100k=$(dataset small100k)
s10k=$(dataset small10k)
copy100k=$work/floor-copy100k copy10k=$work/floor-copy10k out=$work/floor-out
[[ -f "$copy100k/.done" ]] || { rm -rf "$copy100k"; cp -a "$s100k" "$copy100k"; }
[[ -f "$copy10k/.done" ]] || { rm -rf "$copy10k"; cp -a "$s10k" "$copy10k"; }
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}'; }
walks() { find "$1" -printf '%s %T@\n' > /dev/null & find "$2" -printf '%s %T@\n' > /dev/null; wait; }
tartar() { tar -C "$1" -cf - . | tar -C "$2" -xf -; }
readers() { find "$1" -type f -print0 | xargs -0 -n 100 -P 8 cat > /dev/null; }
declare -A t=()
for ((i = 0; i < runs; i++)); do
  drop_caches; t[walks100k]+="$(secs walks "$s100k" "$copy100k") "
  drop_caches; t[walks10k]+="$(secs walks "$s10k" "$copy10k") "
  empty_dir "$out"; drop_caches; t[tartar10k]+="$(secs tartar "$s10k" "$out") "
  drop_caches; t[readers10k]+="$(secs readers "$s10k") "
  t[jvm]+="$(secs "$repo/uring-sync" --version) "
done
empty_dir "$out"
for k in walks100k walks10k tartar10k readers10k jvm; do
  printf '%-11s median %s  runs %s\n' "$k" "$(tr ' ' '\n' <<<"${t[$k]}" | grep . | median)" "${t[$k]}"
done
remove_trash
