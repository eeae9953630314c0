#!/usr/bin/env bash
# The whole test suite: C core through JNI, Java unit tests, launcher and library integration tests,
# and the kernel TLS tests inside the User-Mode Linux lab.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prereqs.sh
usync_prereqs
# The kernel TLS lab (User-Mode Linux kernel with tls.ko, unpacked into ~/.cache/ktls-lab, never
# installed): fetched once here so that a lab that cannot be had fails loudly before the tests.
bash tests-integration/ktls-lab/ktls-lab.sh --setup
mvn -B install "$@"
# The C core again, under ASan and UBSan, with -Xcheck:jni (JNI-level and transfer tests, ~1.5 min).
bash scripts/sanitize.sh
