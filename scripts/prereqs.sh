#!/usr/bin/env bash
# Installs what building and testing uring-sync needs, when missing (Debian/Ubuntu, apt-get).
# Sourced by demo.sh and test.sh; safe to run again.
set -euo pipefail

usync_prereqs() {
  # rsync: the reference FilterTest checks --exclude/--include against; attr: getfattr/setfattr for -X tests;
  # libxxhash-dev: the -c hash (compiled in); xxhash: its xxhsum command, which RingTest checks it against
  # the linux-aarch64 library: Debian's cross compiler, arm64 liburing and OpenSSL from multiarch; its
  # smoke test (PlatformSmokeIT): qemu-user and an arm64 JVM
  local pkgs=(cmake gcc make liburing-dev libssl-dev libxxhash-dev xxhash maven openjdk-17-jdk-headless curl xz-utils patchelf gpgv debian-archive-keyring
    rsync attr gcc-aarch64-linux-gnu liburing-dev:arm64 libssl-dev:arm64 qemu-user-static openjdk-17-jre-headless:arm64)
  local missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # A JDK other than Debian's (e.g. Temurin under JAVA_HOME) satisfies the JDK requirement.
  if [[ " ${missing[*]} " == *" openjdk-17-jdk-headless "* ]] && command -v javac >/dev/null; then
    missing=("${missing[@]/openjdk-17-jdk-headless}")
  fi
  local todo=()
  for p in "${missing[@]}"; do [[ -n "$p" ]] && todo+=("$p"); done
  if ((${#todo[@]})); then
    echo "==> installing build prerequisites: ${todo[*]}"
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo=sudo
    if [[ " ${todo[*]} " == *":arm64 "* ]] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
      $sudo dpkg --add-architecture arm64
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${todo[@]}" >/dev/null
  fi
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  usync_prereqs
fi
