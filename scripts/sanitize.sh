#!/usr/bin/env bash
# The C core under AddressSanitizer and UndefinedBehaviorSanitizer: builds a sanitized copy of the
# library beside the normal one (java/target/native-asan), then runs the tests that drive it hardest
# through JNI - rings, batches, handles, TLS sessions, transfers, the local copy - in a JVM with the
# ASan runtime preloaded and -Xcheck:jni. Any sanitizer report, and any -Xcheck:jni warning, fails.
# Needs a build first (mvn install: the JNI headers and test classes). Called by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
out=java/target/native-asan
java_home=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
cmake -S . -B "$out" -DUSYNC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DUSYNC_VERSION=asan \
  -DUSYNC_JNI_HEADERS="$PWD/java/target/jni-headers" -DUSYNC_JAVA_HOME="$java_home" \
  -DUSYNC_OUTPUT_DIR="$PWD/$out/lib" > "$out.cmake.log" 2>&1 || { cat "$out.cmake.log"; exit 1; }
cmake --build "$out" --parallel 2 > "$out.build.log" 2>&1 || { cat "$out.build.log"; exit 1; }
lib=$PWD/$out/lib/liburingsync-asan.so
runtime=$(gcc -print-file-name=libasan.so)
[[ -f $runtime ]] || { echo "sanitize: no ASan runtime ($runtime): apt-get install libasan8" >&2; exit 1; }
tests=${SANITIZE_TESTS:-RingTest,FileOpsTest,NativeHandleTest,NetTransferTest,LocalCopyTest,LocalSyncTest,NetSyncTest,ReceiverUnderAttackTest,CertificatesTest,FrameVectorsTest,MeteringTest}
log=$PWD/$out/tests.log
reports=$PWD/$out/reports
rm -rf "$reports" java/target/surefire-reports; mkdir -p "$reports"
echo "==> sanitizers: $tests with $lib (ASan + UBSan, -Xcheck:jni)"
# The JVM uses SIGSEGV itself (implicit null checks): ASan must leave it alone; its leak checker
# cannot tell the JVM's own allocations from ours at exit.
set +e
mvn -B -q -pl java surefire:test -Psanitize -Dtest="$tests" -Dsurefire.failIfNoSpecifiedTests=false \
  -Dusync.sanitized.lib="$lib" -Dusync.asan.runtime="$runtime" -Dusync.sanitizer.log="$reports/report" > "$log" 2>&1
rc=$?
set -e
if compgen -G "$reports/report*" > /dev/null || grep -qE "ERROR: AddressSanitizer|runtime error:" "$log"; then
  head -40 "$reports"/report* 2>/dev/null >&2 || true
  grep -E -A8 "ERROR: AddressSanitizer|runtime error:" "$log" | head -40 >&2 || true
  echo "sanitize: sanitizer reports (log: $log, reports: $reports)" >&2
  exit 1
fi
if grep -E "WARNING in native method|FATAL ERROR in native method" "$log" java/target/surefire-reports/*-output.txt \
    2>/dev/null | head -20; then
  echo "sanitize: -Xcheck:jni warnings above (full log: $log)" >&2
  exit 1
fi
if (( rc != 0 )); then
  tail -40 "$log" >&2
  exit "$rc"
fi
grep -h "testsuite " java/target/surefire-reports/TEST-*.xml | sed -E 's/.*name="([^"]+)".*tests="([^"]+)".*failures="([^"]+)".*/  \1: \2 tests, \3 failures/'
echo "==> sanitizers: clean"
