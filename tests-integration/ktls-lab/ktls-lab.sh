#!/bin/bash
# ktls-lab.sh - the uring-sync kernel TLS lab: runs a command inside a User-Mode Linux kernel (Debian's
# "user-mode-linux" package, Linux 6.1um, fetched with apt-get download and unpacked into a cache, never
# installed) that has kernel TLS (tls.ko), io_uring and loopback networking, on the host's root file
# system mounted read-only. The host kernel of the build machines has no CONFIG_TLS and /dev/kvm cannot
# boot stock kernels; UML is an ordinary process. Adapted from the recipe in shared/ktls-lab.
#
# Usage:  ktls-lab.sh 'COMMAND ...'        (COMMAND is run by /bin/bash -c)
#         ktls-lab.sh --setup               (only fetch/extract into the cache)
#
# Environment:
#   KTLSVM_RW       colon-separated host directories made writable inside the
#                   lab at the same path (default: the current directory).
#                   Set to "" for none.  Paths must not contain ',' or ':'.
#   KTLSVM_TIMEOUT  seconds; the lab is killed after this (exit status 124).
#                   Default 0 = no limit.
#   KTLSVM_MEM      guest memory for mem= (default 2G).
#   KTLSVM_CACHE    cache dir (default ${XDG_CACHE_HOME:-$HOME/.cache}/ktls-lab)
#   KTLSVM_UML_DIST Debian distribution whose user-mode-linux is used (default sid;
#                   "apt" = whatever the host's apt sources give, as before). Bookworm's
#                   UML 6.1 and trixie's 6.12 panic at boot on hosts whose CPUs have AMX
#                   ("userspace - ptrace set fp regs failed, errno = 14": the host's
#                   XSTATE is larger than those kernels expect); sid's 7.x boots. When
#                   that binary needs a newer glibc than the host's, trixie's libc6 is
#                   unpacked into the cache and the binary pointed at it (patchelf).
#   KTLSVM_UML_DEB, KTLSVM_BUSYBOX_DEB
#                   optional local .deb files to use instead of downloading.
#   KTLSVM_KEEP=1   keep the per-run directory (console log) for debugging.
#   KTLSVM_VERBOSE=1  print elapsed time and status at the end.
#
# Inside the lab: / is the host root (read-only, hostfs); /tmp, /var/tmp, /run,
# /dev/shm are empty tmpfs; KTLSVM_RW dirs are writable host dirs; the host
# environment and current directory are preserved; stdin is /dev/null;
# `lo` is up; tls.ko is loaded; modprobe/lsmod/insmod/rmmod are on PATH.
# The kernel console log goes to <rundir>/console.log (shown on failure).
# Exit status: the command's; 124 on timeout; 125 on lab/boot failure.
set -euo pipefail

die() { echo "ktls-lab: error: $*" >&2; exit 125; }
log() { echo "ktls-lab: $*" >&2; }

CACHE=${KTLSVM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/ktls-lab}
LAB_CACHE=/run/ktlsvm-cache     # where the cache is mounted inside the lab
MEM=${KTLSVM_MEM:-2G}
TIMEOUT=${KTLSVM_TIMEOUT:-0}
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "KTLSVM_TIMEOUT must be an integer number of seconds"
case "$CACHE" in *[[:space:],:]*) die "KTLSVM_CACHE path must not contain spaces, ',' or ':' ($CACHE)";; esac
[[ $CACHE = /* ]] || CACHE=$PWD/$CACHE

# ---------------------------------------------------------------- setup
fetch_deb() {   # fetch_deb <package> <override-file-or-empty> <destdir>
    local pkg=$1 override=$2 dest=$3 tmp deb
    if [[ -n $override ]]; then
        [[ -f $override ]] || die "$override not found"
        deb=$override
    else
        command -v apt-get >/dev/null || die "apt-get not found; set KTLSVM_UML_DEB/KTLSVM_BUSYBOX_DEB to local .deb files"
        tmp=$(mktemp -d "$CACHE/dl.XXXXXX")
        log "downloading $pkg (apt-get download) ..."
        if ! (cd "$tmp" && apt-get download "$pkg" 2>&1 | grep -v -e 'unsandboxed' >&2); then :; fi
        deb=$(ls "$tmp"/"${pkg}"_*.deb 2>/dev/null | head -n1)
        if [[ -z $deb ]]; then
            log "apt-get download $pkg failed; trying 'apt-get update' first"
            apt-get update >/dev/null 2>&1 || true
            (cd "$tmp" && apt-get download "$pkg" 2>&1 | grep -v -e 'unsandboxed' >&2) || true
            deb=$(ls "$tmp"/"${pkg}"_*.deb 2>/dev/null | head -n1)
        fi
        [[ -n $deb ]] || die "could not download $pkg (need a Debian/Ubuntu apt source providing it, or set the *_DEB override)"
    fi
    command -v dpkg-deb >/dev/null || die "dpkg-deb not found (needed to extract $pkg)"
    rm -rf "$dest.tmp"; mkdir -p "$dest.tmp"
    dpkg-deb -x "$deb" "$dest.tmp" || die "extracting $deb failed"
    [[ -n ${tmp:-} ]] && rm -rf "$tmp"
    rm -rf "$dest"; mv "$dest.tmp" "$dest"
}

MIRROR=${KTLSVM_MIRROR:-https://deb.debian.org/debian}
UML_DIST=${KTLSVM_UML_DIST:-sid}
KEYRING=${KTLSVM_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

# sha256_of <file> <hex>: dies unless the file has that SHA-256.
sha256_is() {
    local got
    got=$(sha256sum "$1" | cut -d' ' -f1)
    [[ $got == "$2" ]] || die "SHA-256 mismatch for $1 (expected $2, got $got)"
}

# index_deb <dist> <package> <out.deb>: the package's current .deb in <dist>. The chain is checked
# as apt checks it: InRelease signed by a Debian archive key (gpgv, debian-archive-keyring), the
# Packages index's SHA-256 from it, the .deb's SHA-256 from the index. No version is pinned (the
# pool keeps only current versions).
index_deb() {
    local dist=$1 pkg=$2 out=$3 idx rel sum file debsum
    command -v curl >/dev/null || die "curl not found (needed to fetch $pkg from $dist)"
    command -v xz >/dev/null || die "xz not found (needed to read $dist's package index)"
    command -v gpgv >/dev/null && [[ -f $KEYRING ]] || die "gpgv and $KEYRING are needed to check $dist's index (apt-get install gpgv debian-archive-keyring)"
    idx=$CACHE/Packages-$dist.xz
    rel=$CACHE/Release-$dist
    if [[ ! -s $idx ]] || [[ -n $(find "$idx" -mmin +1440 2>/dev/null) ]]; then
        curl -fsS -m 120 -o "$rel.signed" "$MIRROR/dists/$dist/InRelease" || die "cannot fetch $MIRROR/dists/$dist/InRelease"
        gpgv --keyring "$KEYRING" --output "$rel" "$rel.signed" 2>/dev/null \
            || die "$dist's InRelease is not signed by a key in $KEYRING"
        sum=$(awk '/^SHA256:/{on=1; next} /^[^ ]/{on=0} on && $3=="main/binary-amd64/Packages.xz"{print $1}' "$rel")
        [[ -n $sum ]] || die "no SHA-256 for main/binary-amd64/Packages.xz in $dist's Release"
        curl -fsS -m 120 -o "$idx.tmp" "$MIRROR/dists/$dist/main/binary-amd64/Packages.xz" \
            || die "cannot fetch $MIRROR/dists/$dist/main/binary-amd64/Packages.xz"
        sha256_is "$idx.tmp" "$sum"
        mv "$idx.tmp" "$idx"
    fi
    read -r file debsum < <(xz -dc "$idx" | awk -v p="$pkg" '$1=="Package:"{on=($2==p)}
        on && $1=="Filename:" && f==""{f=$2} on && $1=="SHA256:" && h==""{h=$2} END{print f, h}')
    [[ -n $file && -n $debsum ]] || die "$pkg not found in $dist's package index"
    log "downloading $pkg from $dist: $file"
    curl -fsS -m 300 -o "$out" "$MIRROR/$file" || die "cannot fetch $MIRROR/$file"
    sha256_is "$out" "$debsum"
}

fetch_uml() {
    local deb=${KTLSVM_UML_DEB:-}
    if [[ -z $deb && $UML_DIST != apt ]]; then
        deb=$CACHE/uml-$UML_DIST.deb
        index_deb "$UML_DIST" user-mode-linux "$deb"
    fi
    fetch_deb user-mode-linux "$deb" "$CACHE/uml"
    [[ -z ${KTLSVM_UML_DEB:-} && $UML_DIST != apt ]] && rm -f "$deb"
    [[ -x $CACHE/uml/usr/bin/linux.uml ]] || die "user-mode-linux package has no usr/bin/linux.uml"
    if ! "$CACHE/uml/usr/bin/linux.uml" --version >/dev/null 2>&1; then
        # built against a newer glibc than the host's: give it trixie's, unpacked beside it
        command -v patchelf >/dev/null || die "patchelf not found (needed to run $UML_DIST's UML on this host's glibc)"
        index_deb trixie libc6 "$CACHE/libc6.deb"
        fetch_deb libc6 "$CACHE/libc6.deb" "$CACHE/libc"
        rm -f "$CACHE/libc6.deb"
        local lib=$CACHE/libc/usr/lib/x86_64-linux-gnu
        patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --set-rpath "$lib" "$CACHE/uml/usr/bin/linux.uml" \
            || die "patchelf of linux.uml failed"
        "$CACHE/uml/usr/bin/linux.uml" --version >/dev/null 2>&1 || die "linux.uml from $UML_DIST does not run here"
    fi
    echo "${KTLSVM_UML_DEB:-$UML_DIST}" > "$CACHE/uml/.source"
}

setup() {
    mkdir -p "$CACHE" || die "cannot create cache dir $CACHE"
    exec 9>"$CACHE/.lock"; flock 9
    if [[ ! -x $CACHE/uml/usr/bin/linux.uml || "$(cat "$CACHE/uml/.source" 2>/dev/null)" != "${KTLSVM_UML_DEB:-$UML_DIST}" ]]; then
        fetch_uml
        rm -rf "$CACHE/modroot"
    fi
    if [[ ! -x $CACHE/busybox/bin/busybox ]]; then
        fetch_deb busybox-static "${KTLSVM_BUSYBOX_DEB:-}" "$CACHE/busybox"
        [[ -x $CACHE/busybox/bin/busybox ]] || die "busybox-static package has no bin/busybox"
        rm -rf "$CACHE/modroot"
    fi
    if [[ ! -f $CACHE/modroot/.done ]]; then
        # A tiny static chroot holding busybox + the UML module tree, so that
        # modprobe works although the host has no /lib/modules/<uml-version>.
        local mdir kver
        mdir=$(ls -d "$CACHE"/uml/usr/lib/uml/modules/*/ 2>/dev/null | head -n1)
        if [[ -z $mdir ]]; then   # module tree was moved into an older modroot: re-extract
            fetch_uml
            mdir=$(ls -d "$CACHE"/uml/usr/lib/uml/modules/*/ 2>/dev/null | head -n1)
        fi
        [[ -n $mdir ]] || die "no module tree under $CACHE/uml/usr/lib/uml/modules"
        kver=$(basename "$mdir")
        ls "$mdir"/kernel/net/tls/tls.ko* >/dev/null 2>&1 || die "the UML module tree has no net/tls/tls.ko"
        rm -rf "$CACHE/modroot"; mkdir -p "$CACHE/modroot"/{bin,proc,sys,dev,lib/modules}
        cp "$CACHE/busybox/bin/busybox" "$CACHE/modroot/bin/busybox"
        mv "${mdir%/}" "$CACHE/modroot/lib/modules/$kver"
        [[ -f $CACHE/modroot/lib/modules/$kver/modules.dep ]] || \
            "$CACHE/modroot/bin/busybox" depmod -b "$CACHE/modroot" "$kver" || die "depmod failed"
        echo "$kver" > "$CACHE/modroot/kver"
        touch "$CACHE/modroot/.done"
    fi
    if [[ ! -f $CACHE/bin/.v2 ]]; then
        # helper commands for use INSIDE the lab, where the cache is mounted at $LAB_CACHE
        local bb=$LAB_CACHE/modroot/bin/busybox
        rm -rf "$CACHE/bin"; mkdir -p "$CACHE/bin"
        cat > "$CACHE/bin/modprobe" <<EOF
#!$bb sh
# modprobe for the UML lab: busybox modprobe chrooted into the UML module tree
exec $bb chroot $LAB_CACHE/modroot /bin/busybox modprobe "\$@"
EOF
        for a in lsmod insmod rmmod; do
            printf '#!%s sh\nexec %s %s "$@"\n' "$bb" "$bb" "$a" > "$CACHE/bin/$a"
        done
        chmod +x "$CACHE"/bin/*
        touch "$CACHE/bin/.v2"
    fi
    flock -u 9; exec 9>&-
}

setup
[[ ${1:-} == --setup ]] && { log "cache ready in $CACHE (kernel $(cat "$CACHE/modroot/kver"))"; exit 0; }
[[ $# -ge 1 ]] || { sed -n '2,30p' "$0" >&2; exit 2; }
CMD="$*"

# ---------------------------------------------------------------- per run
[[ -r /dev/shm && -w /dev/shm ]] || log "warning: /dev/shm not writable; UML will put guest memory in \$TMPDIR"
RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/ktlsvm.XXXXXX")
case "$RUNDIR" in *[[:space:],:]*) die "run dir path must not contain spaces, ',' or ':' ($RUNDIR)";; esac
BB=$CACHE/modroot/bin/busybox

printf '%s' "$CMD" > "$RUNDIR/cmd"
CWD=$(pwd -P)
printf '%s' "$CWD" > "$RUNDIR/cwd"
env -0 > "$RUNDIR/env"
if [[ $CWD == / ]]; then RW_LIST=${KTLSVM_RW-}; else RW_LIST=${KTLSVM_RW-$CWD}; fi
: > "$RUNDIR/rw"
IFS=':' read -r -a rws <<< "$RW_LIST"
for d in "${rws[@]}"; do
    [[ -z $d ]] && continue
    d=$(cd "$d" 2>/dev/null && pwd -P) || die "KTLSVM_RW entry not a directory: $d"
    [[ $d == / ]] && die "KTLSVM_RW must not contain /"
    case "$d" in *,*|*[[:space:]]*) die "KTLSVM_RW path must not contain ',' or spaces: $d";; esac
    echo "$d" >> "$RUNDIR/rw"
done

cat > "$RUNDIR/init" <<EOF
#!$BB sh
# PID 1 inside the UML lab (generated by ktls-uml.sh)
BB=$BB
RUN=$RUNDIR
HOSTCACHE=$CACHE
CACHE=$LAB_CACHE
EOF
cat >> "$RUNDIR/init" <<'EOF'
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
fail() { echo "ktlsvm-init: $*" > /dev/console; echo 125 > /run/ktlsvm/rc 2>/dev/null; $BB sync; $BB poweroff -f; exit 1; }
$BB mount -t proc proc /proc
$BB mount -t sysfs sysfs /sys
$BB mount -t devtmpfs devtmpfs /dev 2>/dev/null
$BB mkdir -p /dev/pts /dev/shm
$BB mount -t devpts devpts /dev/pts 2>/dev/null
$BB mount -t tmpfs -o mode=1777 tmpfs /dev/shm
$BB mount -t tmpfs -o mode=755 tmpfs /run || fail "mount /run"
$BB mkdir -p /run/ktlsvm $CACHE
$BB mount -t hostfs -o "$RUN" none /run/ktlsvm || fail "hostfs mount of run dir $RUN"
$BB mount -t hostfs -o "$HOSTCACHE" none $CACHE || fail "hostfs mount of cache $HOSTCACHE"
BB=$CACHE/modroot/bin/busybox    # the host path may be hidden by the tmpfs on /tmp below
$BB mount -t tmpfs -o mode=1777 tmpfs /tmp || fail "mount /tmp"
$BB mount -t tmpfs -o mode=1777 tmpfs /var/tmp 2>/dev/null
while read -r d; do
    [ -n "$d" ] || continue
    $BB mkdir -p "$d" 2>/dev/null
    $BB mount -t hostfs -o "$d" none "$d" || fail "hostfs mount of $d"
done < /run/ktlsvm/rw
# modules: busybox modprobe chrooted into the UML module tree
$BB mount -t proc proc "$CACHE/modroot/proc" || fail "proc in modroot"
echo "$CACHE/bin/modprobe" > /proc/sys/kernel/modprobe
$CACHE/bin/modprobe tls || fail "modprobe tls failed"
$BB ip link set lo up || $BB ifconfig lo 127.0.0.1 up
$BB hostname ktlsvm
# consoles: tty1 -> host stdout, tty2 -> host stderr; no CR/LF translation
$BB stty -F /dev/tty1 raw -echo 2>/dev/null
$BB stty -F /dev/tty2 raw -echo 2>/dev/null
echo booted > /run/ktlsvm/booted
# stdout/stderr go through fifos (not the ttys directly) so isatty() is false
# inside, as with a pipe on the host
$BB mkfifo /run/ktlsvm-out /run/ktlsvm-err
$BB cat /run/ktlsvm-out > /dev/tty1 & P1=$!
$BB cat /run/ktlsvm-err > /dev/tty2 & P2=$!
/bin/bash -c '
  while IFS= read -r -d "" kv; do
    case "$kv" in PWD=*|OLDPWD=*|SHLVL=*|_=*|BASH_*|SHELLOPTS=*|BASHOPTS=*) continue;; esac
    export "$kv" 2>/dev/null
  done < /run/ktlsvm/env
  export PATH="'"$CACHE"'/bin:$PATH"
  cd "$(cat /run/ktlsvm/cwd)" 2>/dev/null || { echo "ktls-lab: warning: cwd $(cat /run/ktlsvm/cwd) not visible inside, using /" >&2; cd /; }
  exec /bin/bash -c "$(cat /run/ktlsvm/cmd)"
' </dev/null >/run/ktlsvm-out 2>/run/ktlsvm-err
RC=$?
# let the output drain; give up after 5 s if a background process keeps the fifos open
i=0
while [ $i -lt 50 ] && { $BB kill -0 $P1 2>/dev/null || $BB kill -0 $P2 2>/dev/null; }; do
    $BB sleep 0.1; i=$((i+1))
done
$BB kill $P1 $P2 2>/dev/null
echo $RC > /run/ktlsvm/rc
$BB sync
$BB poweroff -f
EOF
chmod +x "$RUNDIR/init"

UML=$CACHE/uml/usr/bin/linux.uml
START=$(date +%s.%N)
# fds: 3 = kernel console log, 5 = command stdout, 6 = command stderr.
# UML's own stdout/stderr (startup chatter) go to the log as well.
setsid "$UML" mem="$MEM" root=/dev/root rootfstype=hostfs rootflags=/ ro \
    init="$RUNDIR/init" con=null ssl=null con0=null,fd:3 con1=null,fd:5 con2=null,fd:6 \
    loglevel=4 printk.time=1 uml_dir="$RUNDIR" umid=lab </dev/null 3>"$RUNDIR/console.log" 5>&1 6>&2 >>"$RUNDIR/uml.log" 2>&1 &
UPID=$!
cleanup() { kill -KILL -- -"$UPID" 2>/dev/null || true; wait "$UPID" 2>/dev/null || true; }
trap 'cleanup; log "interrupted"; [[ ${KTLSVM_KEEP:-0} == 1 ]] || rm -rf "$RUNDIR"; exit 130' INT TERM HUP

if (( TIMEOUT > 0 )); then
    sleep "$TIMEOUT" & SPID=$!
    set +e; wait -n "$UPID" "$SPID" 2>/dev/null; set -e
    if kill -0 "$SPID" 2>/dev/null; then          # the lab finished first
        kill "$SPID" 2>/dev/null || true
    else                                          # the timer finished first
        touch "$RUNDIR/timedout"
        kill -KILL -- -"$UPID" 2>/dev/null || true
    fi
    wait "$SPID" 2>/dev/null || true
fi
set +e; wait "$UPID" 2>/dev/null; URC=$?; set -e
# reap any leftover UML helper processes of this run
kill -KILL -- -"$UPID" 2>/dev/null || true
ELAPSED=$(awk -v a="$START" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}')

if [[ -f $RUNDIR/timedout ]]; then
    log "timeout after ${TIMEOUT}s, lab killed (log: $RUNDIR/console.log)"
    RC=124; KTLSVM_KEEP=1
elif [[ -f $RUNDIR/rc ]]; then
    RC=$(cat "$RUNDIR/rc")
    [[ $RC =~ ^[0-9]+$ ]] || RC=125
    if [[ $RC == 125 && ! -f $RUNDIR/booted ]]; then
        log "lab init failed; console log:"; tail -n 30 "$RUNDIR/console.log" >&2; KTLSVM_KEEP=1
    fi
else
    log "lab exited (status $URC) without a command result; last console lines:"
    tail -n 30 "$RUNDIR/console.log" "$RUNDIR/uml.log" >&2 || true
    RC=125; KTLSVM_KEEP=1
fi
[[ -n ${KTLSVM_VERBOSE:-} ]] && log "elapsed ${ELAPSED}s, status $RC, run dir $RUNDIR"
if [[ ${KTLSVM_KEEP:-0} == 1 ]]; then log "run dir kept: $RUNDIR"; else rm -rf "$RUNDIR"; fi
exit "$RC"
