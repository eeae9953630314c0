# Shared by the e2e scripts: data sets, cache dropping, interleaved timing, medians.
work=${BENCH_DIR:-/var/tmp/uring-sync-bench}
mkdir -p "$work"

# The Java the launcher runs on: JAVA_HOME if set, else the newest JDK under /usr/lib/jvm (Java 25 and
# newer start ~40 ms sooner, with an AOT cache), else java on the PATH.
if [[ -z "${JAVA_HOME:-}" ]]; then
  newest=$(ls -d /usr/lib/jvm/*/ 2>/dev/null | while read -r d; do
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$d/release" 2>/dev/null); [[ -n "$v" ]] && echo "$v $d"
  done | sort -n | tail -1 | cut -d' ' -f2)
  [[ -n "$newest" ]] && export JAVA_HOME=${newest%/}
fi
java_version() { "${JAVA_HOME:+$JAVA_HOME/bin/}java" -version 2>&1 | head -1; }

need_root() { [[ $(id -u) -eq 0 ]] || { echo "needs root to drop caches" >&2; exit 1; }; }

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

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

# A real mixed tree: a JDK installation (JDK_TREE, default the newest under /usr/lib/jvm), copied once
# with symlinks dereferenced (the same data set for every tool; protocol version 2 carried regular files only).
make_jdk() {
  local d=$1 jdk=${JDK_TREE:-$(ls -d /usr/lib/jvm/*/ | tail -1)}
  [[ -f "$d/.done" ]] && return
  rm -rf "$d"; mkdir -p "$d"
  echo "copying $jdk (symlinks dereferenced) to $d" >&2
  cp -rL "$jdk/." "$d/" 2>/dev/null || true
  find "$d" -type l -delete
  touch "$d/.done"
}

# Prints the source directory of a data set, creating it once.
dataset() {
  case $1 in
    small10k) make_small "$work/src-small10k" 10000 100; echo "$work/src-small10k" ;;
    small100k) make_small "$work/src-small100k" 100000 1000; echo "$work/src-small100k" ;;
    big1g) make_big "$work/src-big1g"; echo "$work/src-big1g" ;;
    jdk) make_jdk "$work/src-jdk"; echo "$work/src-jdk" ;;
    *) echo "unknown dataset $1" >&2; exit 2 ;;
  esac
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

header() { printf '%-10s %-11s %8s %8s %8s  %s\n' dataset tool median min max "runs (s)"; }

# timed_rounds DATASET RUNS BASELINE RUNNER SRC DST: runs every tool in ${tools[@]} RUNS times,
# interleaved in rotating order, each on an empty DST (see empty_dir) after dropping caches; checks the first result of each tool with
# diff -r; prints medians and each tool's speed-up against BASELINE and the first tool. With SECOND_RUN=1
# each timed run is the tool's second: it first fills the empty DST once, untimed (a nightly sync);
# with CHANGE_ONE=1 as well, one source file is touched between the two (one changed file to send).
# A timed run's DEST starts empty: the one before is moved aside into $trash, not deleted. On this VM's
# ext4 (no journal) each new inode's allocation skips, one by one, every inode freed in the last five
# minutes (ext4's recently_deleted), so deleting the last run's 10,000 files made the next run's file
# creation cost 2-3x as much, growing run after run, whatever the tool. A DEST of few entries (one big
# file) is deleted: a handful of inodes costs nothing, and its bytes would fill the disk. The trash goes
# when the script ends (KEEP_TRASH=1 keeps it, for several scripts in a row, as run-all.sh does): wait
# five minutes before timing first runs again, or they measure that scan.
trash=$work/trash
empty_dir() {
  if [[ -e "$1" && $(find "$1" -mindepth 1 2>/dev/null | head -n 1001 | wc -l) -gt 1000 ]]; then
    mkdir -p "$trash"; mv "$1" "$trash/$(date +%s%N)"
  else
    rm -rf "$1"
  fi
  mkdir -p "$1"
}
remove_trash() { [[ -n "${KEEP_TRASH:-}" ]] || rm -rf "$trash"; }

timed_rounds() {
  local ds=$1 runs=$2 base=$3 runner=$4 src=$5 dst=$6 t i k s e n=${#tools[@]} one=
  declare -A times=()
  [[ -n "${CHANGE_ONE:-}" ]] && one=$(find "$src" -type f ! -name .done -print -quit)
  for ((i = 0; i < runs; i++)); do
    # the order rotates every round (A B C, B C A, C A B, ...): on this VM a process's exit changes
    # how fast the next one gets memory (a JVM's exit makes the next tool's page-cache fills slow
    # about two times in three), so no tool may always follow the same one
    for ((k = 0; k < n; k++)); do
      t=${tools[(i + k) % n]}
      empty_dir "$dst"
      [[ -n "${SECOND_RUN:-}" ]] && "$runner" "$t" "$src" "$dst"
      [[ -n "$one" ]] && touch "$one"
      drop_caches
      s=$(date +%s.%N)
      "$runner" "$t" "$src" "$dst"
      e=$(date +%s.%N)
      times[$t]+="$(awk -v a="$s" -v b="$e" 'BEGIN {printf "%.3f", b - a}') "
      if ((i == 0)); then
        diff -r --no-dereference --exclude=.done "$src" "$dst" >/dev/null || { echo "$t: result differs from $src" >&2; exit 1; }
      fi
    done
  done
  empty_dir "$dst"
  declare -A med=()
  for t in "${tools[@]}"; do
    local all; all=$(tr ' ' '\n' <<<"${times[$t]}" | grep .)
    med[$t]=$(median <<<"$all")
    printf '%-10s %-11s %8.3f %8.3f %8.3f  %s\n' "$ds" "$t" "${med[$t]}" "$(sort -n <<<"$all" | head -1)" \
      "$(sort -n <<<"$all" | tail -1)" "${times[$t]}"
  done
  for t in "${tools[@]}"; do
    [[ $t == "${tools[0]}" ]] && continue
    printf '%-10s %s is %.2fx faster than %s\n' "$ds" "${tools[0]}" "$(awk -v a="${med[$t]}" -v b="${med[${tools[0]}]}" 'BEGIN {print a / b}')" "$t"
  done
}
