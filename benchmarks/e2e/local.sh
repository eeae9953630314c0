#!/usr/bin/env bash
# Local copy, whole process: uring-sync -p vs cp -a (and rsync -a), interleaved, caches dropped before
# every timed run, medians. Needs root (drop_caches). Usage: local.sh [RUNS] [DATASETS...]
#   datasets: small10k (10,000 x 4 KiB in 100 dirs), small100k (100,000 x 4 KiB in 1,000 dirs), big1g (one 1 GiB file)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
runs=${1:-5}
shift || true
datasets=("${@:-small10k small100k big1g}")
datasets=(${datasets[*]})
work=${BENCH_DIR:-/var/tmp/uring-sync-bench}
tools=(uring-sync cp rsync)
[[ $(id -u) -eq 0 ]] || { echo "needs root to drop caches" >&2; exit 1; }
mkdir -p "$work"

make_small() { # dir files dirs
  local d=$1 n=$2 nd=$3
  [[ -f "$d/.done" ]] && return
  rm -rf "$d"; mkdir -p "$d"
  echo "creating $n x 4 KiB files in $nd dirs under $d" >&2
  python3 - "$d" "$n" "$nd" <<'PY'
import os, sys
root, n, nd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per = n // nd
for i in range(nd):
    sub = os.path.join(root, "d%04d" % i)
    os.mkdir(sub)
    for j in range(per):
        with open(os.path.join(sub, "f%05d" % j), "wb") as f:
            f.write(os.urandom(4096))
PY
  touch "$d/.done"
}

make_big() {
  local d=$1
  [[ -f "$d/.done" ]] && return
  rm -rf "$d"; mkdir -p "$d"
  head -c $((1 << 30)) /dev/urandom > "$d/big.bin"
  touch "$d/.done"
}

drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }

run_tool() { # tool src dst
  case $1 in
    uring-sync) "$repo/uring-sync" -p "$2" "$3" >/dev/null ;;
    cp) cp -a "$2/." "$3" ;;
    rsync) rsync -a "$2/" "$3/" ;;
  esac
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

# Warm the launcher's class-data-sharing archive once (not timed).
"$repo/uring-sync" --version >/dev/null

printf '%-10s %-11s %8s %8s %8s  %s\n' dataset tool median min max "runs (s)"
for ds in "${datasets[@]}"; do
  case $ds in
    small10k) src=$work/src-small10k; make_small "$src" 10000 100 ;;
    small100k) src=$work/src-small100k; make_small "$src" 100000 1000 ;;
    big1g) src=$work/src-big1g; make_big "$src" ;;
    *) echo "unknown dataset $ds" >&2; exit 2 ;;
  esac
  declare -A times=()
  for ((i = 0; i < runs; i++)); do
    for t in "${tools[@]}"; do
      dst=$work/dst
      rm -rf "$dst"; mkdir -p "$dst"
      drop
      s=$(date +%s.%N)
      run_tool "$t" "$src" "$dst"
      e=$(date +%s.%N)
      times[$t]+="$(echo "$e - $s" | bc) "
      if ((i == 0)); then diff -r --no-dereference --exclude=.done "$src" "$dst" >/dev/null || { echo "$t: copy differs" >&2; exit 1; }; fi
    done
  done
  rm -rf "$work/dst"
  declare -A med=()
  for t in "${tools[@]}"; do
    med[$t]=$(tr ' ' '\n' <<<"${times[$t]}" | grep . | median)
    mn=$(tr ' ' '\n' <<<"${times[$t]}" | grep . | sort -n | head -1)
    mx=$(tr ' ' '\n' <<<"${times[$t]}" | grep . | sort -n | tail -1)
    printf '%-10s %-11s %8.3f %8.3f %8.3f  %s\n' "$ds" "$t" "${med[$t]}" "$mn" "$mx" "${times[$t]}"
  done
  printf '%-10s speed-up of uring-sync: %.2fx vs cp -a, %.2fx vs rsync -a\n' "$ds" \
    "$(echo "${med[cp]} / ${med[uring-sync]}" | bc -l)" "$(echo "${med[rsync]} / ${med[uring-sync]}" | bc -l)"
  unset times med
done
