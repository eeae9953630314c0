#!/usr/bin/env bash
# Network transfer on loopback, whole sending process: uring-sync send -> recv vs rsync -a over ssh
# (-c aes128-gcm@openssh.com), scp -r and tar | ssh tar -x, interleaved, caches dropped before every
# timed run, results checked with diff -r, medians. A throw-away sshd on 127.0.0.1 (port and keys in
# a temp dir) and a uring-sync receiver are started here and stopped at the end. Needs root.
# Usage: network.sh [RUNS] [DATASETS...]   datasets: small10k (10,000 x 4 KiB), small100k (100,000 x 4 KiB in
#   1,000 dirs), big1g (one 1 GiB file). SECOND_RUN=1: time no-change re-runs; CHANGE_ONE=1 too: one file changed
# Before/after in one run: BASE_REPO=<another checkout, built> TOOLS="uring-sync uring-sync-base ..."
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/common.sh"
runs=${1:-5}
shift || true
datasets=(${@:-small10k big1g})
tools=(${TOOLS:-uring-sync rsync-ssh scp tar-ssh})
need_root
for t in sshd rsync scp; do command -v "$t" >/dev/null || [[ -x /usr/sbin/$t ]] || { echo "missing $t (apt-get install openssh-server rsync)" >&2; exit 1; }; done

tmp=$(mktemp -d /tmp/uring-sync-net.XXXXXX)
dst=$work/net-dst
secret=bench-secret-$RANDOM$RANDOM
cleanup() { [[ -n "${recv_pid:-}" ]] && kill "$recv_pid" 2>/dev/null; [[ -n "${base_pid:-}" ]] && kill "$base_pid" 2>/dev/null; [[ -f $tmp/sshd.pid ]] && kill "$(cat "$tmp/sshd.pid")" 2>/dev/null; rm -rf "$tmp"; remove_trash; }
trap cleanup EXIT

# sshd on 127.0.0.1, keys and config of its own
ssh_port=$((20000 + RANDOM % 20000))
ssh-keygen -q -t ed25519 -N '' -f "$tmp/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/user_key"
cat > "$tmp/sshd_config" <<CFG
Port $ssh_port
ListenAddress 127.0.0.1
HostKey $tmp/host_key
PidFile $tmp/sshd.pid
AuthorizedKeysFile $tmp/user_key.pub
PermitRootLogin prohibit-password
PasswordAuthentication no
UsePAM no
StrictModes no
Ciphers aes128-gcm@openssh.com
Subsystem sftp /usr/lib/openssh/sftp-server
CFG
mkdir -p /run/sshd
/usr/sbin/sshd -f "$tmp/sshd_config"
ssh_cmd="ssh -p $ssh_port -i $tmp/user_key -c aes128-gcm@openssh.com -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
$ssh_cmd root@127.0.0.1 true

# the uring-sync receiver (certificate kept in the temp dir); with BASE_REPO (another checkout, built)
# a second one from there, for the tool uring-sync-base: before/after figures from one run
mkdir -p "$dst"
start_receiver() { # repo name -> sets port_<name>, pid_<name>
  HOME=$tmp "$1/uring-sync" recv "$dst" -l 0 --bind 127.0.0.1 --secret "$secret" > "$tmp/recv-$2.out" 2>&1 &
  eval "pid_$2=$!"
  for _ in $(seq 100); do grep -q "Listening on" "$tmp/recv-$2.out" 2>/dev/null && break; sleep 0.1; done
  local port; port=$(sed -n 's/.*Listening on [^ ]*:\([0-9]*\).*/\1/p' "$tmp/recv-$2.out")
  [[ -n "$port" ]] || { cat "$tmp/recv-$2.out"; exit 1; }
  eval "port_$2=$port"
}
start_receiver "$repo" main
recv_pid=$pid_main recv_port=$port_main
if [[ -n "${BASE_REPO:-}" ]]; then
  start_receiver "$BASE_REPO" base
  base_pid=$pid_base
  "$BASE_REPO/uring-sync" --version >/dev/null  # CDS archive warm-up, not timed
fi

run_tool() { # tool src
  case $1 in
    uring-sync) "$repo/uring-sync" send "$2" "127.0.0.1:$recv_port" --secret "$secret" >/dev/null ;;
    uring-sync-base) "$BASE_REPO/uring-sync" send "$2" "127.0.0.1:$port_base" --secret "$secret" >/dev/null ;;
    rsync-ssh) rsync -a -e "$ssh_cmd" "$2/" "root@127.0.0.1:$dst/" ;;
    uring-sync-c) "$repo/uring-sync" send -c "$2" "127.0.0.1:$recv_port" --secret "$secret" >/dev/null ;;
    rsync-ssh-c) rsync -a -c -e "$ssh_cmd" "$2/" "root@127.0.0.1:$dst/" ;;
    scp) scp -q -r -P "$ssh_port" -i "$tmp/user_key" -c aes128-gcm@openssh.com -o StrictHostKeyChecking=no \
           -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "$2/." "root@127.0.0.1:$dst/" ;;
    tar-ssh) tar -C "$2" -cf - . | $ssh_cmd root@127.0.0.1 "tar -C $dst -xf -" ;;
  esac
}

"$repo/uring-sync" --version >/dev/null  # CDS archive warm-up, not timed
header
for ds in "${datasets[@]}"; do
  src=$(dataset "$ds")
  timed_rounds "$ds" "$runs" "rsync-ssh" run_tool "$src" "$dst"
done
