#!/usr/bin/env bash
# The test command: installs dependencies, builds, and runs every test:
#   1. the thread-safety analysis build (clang -Wthread-safety -Werror, the
#      `tsa` preset): conch and the test servers compiled, nothing run,
#      since compiling is the check that shared fields are touched only
#      under their mutex
#      (base/mutex.h); first, so that a lock mistake stops the command
#      before the long test runs;
#   2. the release build (what users run): unit + integration tests;
#   3. an AddressSanitizer + UBSan build: unit + integration tests again
#      (lsan.supp silences only a leak inside Debian's ZooKeeper C client
#      when a handle is closed after its session expired);
#   4. a ThreadSanitizer build: unit + integration tests again (tsan.supp
#      silences only reports from inside Debian's uninstrumented gRPC and
#      absl; die_after_fork=0 because TSan takes the CLONE_VFORK child that
#      spawns each command for a fork, though it only execs);
#   5. the parsers' fuzz targets (clang, libFuzzer) through scripts/fuzz.sh,
#      which must be there and executable.
# Integration tests start real etcd servers on loopback; CONCH_REQUIRE_SERVERS=1
# turns a missing server into a failure instead of a skip.
# Exits non-zero on any failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs=$(nproc)

# The fuzz step is part of the test command, not an extra: a missing or
# non-executable script fails at once rather than after the long builds.
if [[ ! -f scripts/fuzz.sh || ! -x scripts/fuzz.sh ]]; then
  echo "test: scripts/fuzz.sh is missing or not executable" >&2
  exit 1
fi

echo "test: installing dependencies"
scripts/install-deps.sh

echo "test: thread-safety analysis build (clang; compiling is the check)"
cmake --preset tsa
# Every target that holds a mutex: conch itself (all of src/) and the test
# servers' tools; the test bodies share no locked state.
cmake --build build-tsa -j"$jobs" --target conch conchd conch_test_servers \
  conch_tcp_proxy conch_zk_tool

echo "test: release build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONCH_WERROR=ON
cmake --build build -j"$jobs"
echo "test: release tests (unit + integration, servers required)"
(cd build && CONCH_REQUIRE_SERVERS=1 ctest --output-on-failure -j2)

echo "test: address + undefined-behaviour sanitizer build"
cmake --preset asan
cmake --build build-asan -j"$jobs"
echo "test: sanitizer tests (unit + integration, servers required)"
(cd build-asan &&
  LSAN_OPTIONS="suppressions=$PWD/../lsan.supp" \
    CONCH_REQUIRE_SERVERS=1 ctest --output-on-failure -j2)

echo "test: thread sanitizer build"
cmake --preset tsan
cmake --build build-tsan -j"$jobs"
echo "test: thread sanitizer tests (unit + integration, servers required)"
(cd build-tsan &&
  TSAN_OPTIONS="suppressions=$PWD/../tsan.supp die_after_fork=0" \
    CONCH_REQUIRE_SERVERS=1 ctest --output-on-failure -j2)

echo "test: fuzzing the parsers"
scripts/fuzz.sh
echo "test: all passed"
