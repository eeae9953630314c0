#!/usr/bin/env bash
# Runs inside the kTLS lab: the bundled launcher as real processes, recv and send -v, on each TLS path.
# Prints RESULT lines like KtlsLabMain. Usage: launcher-checks.sh REPO
set -u
repo=$1
export URING_SYNC_CDS=0   # the checkout is writable in here: no class-data archive made from inside the lab
d=$(mktemp -d /tmp/launcher-checks.XXXXXX)
mkdir -p "$d/src/a b"
head -c 3000001 /dev/urandom > "$d/src/a b/three-mb"
printf 'small\n' > "$d/src/small"
: > "$d/src/empty"
HOME=$d "$repo/uring-sync" recv "$d/dst" -l 9443 --bind 127.0.0.1 --secret lab-secret-0123456789 -v > "$d/recv.log" 2>&1 &
recv=$!
for _ in $(seq 300); do grep -q "Listening on" "$d/recv.log" 2>/dev/null && break; sleep 0.1; done
result() { printf 'RESULT %s %s %s\n' "$1" "$2" "$3"; }
for path in auto ktls userspace; do
  rm -rf "$d/dst"/* 2>/dev/null
  if "$repo/uring-sync" send -v --tls-path "$path" "$d/src" 127.0.0.1:9443 --secret lab-secret-0123456789 > "$d/send.out" 2> "$d/send.err"; then
    line=$(grep '^tls: ' "$d/send.err")
    case $path in
      auto) want='^tls: kernel tx\+rx, TLS_[A-Z0-9_]+, splice$' ;;
      ktls) want='^tls: kernel tx\+rx, TLS_[A-Z0-9_]+, buffered$' ;;
      userspace) want='^tls: userspace \(OpenSSL record layer, kernel TLS not asked for\), TLS_' ;;
    esac
    if grep -Eq "$want" <<<"$line" && diff -r "$d/src" "$d/dst" >/dev/null; then
      result "launcher_send_--tls-path_$path" PASS "$line; diff -r identical"
    else
      result "launcher_send_--tls-path_$path" FAIL "$line; $(diff -r "$d/src" "$d/dst" 2>&1 | head -3)"
    fi
  else
    result "launcher_send_--tls-path_$path" FAIL "exit $?: $(cat "$d/send.err")"
  fi
done
if grep -q "tls: kernel tx+rx" "$d/recv.log"; then
  result launcher_recv_-v PASS "$(grep -m1 'tls: kernel' "$d/recv.log")"
else
  result launcher_recv_-v FAIL "$(cat "$d/recv.log")"
fi
kill "$recv" 2>/dev/null
wait "$recv" 2>/dev/null
rm -rf "$d"
