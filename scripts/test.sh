#!/usr/bin/env bash
# The test command: installs dependencies, builds, and runs every test:
#   1. the release build (what users run): unit + integration tests;
#   2. an AddressSanitizer + UBSan build: unit + integration tests again;
#   3. a ThreadSanitizer build: unit + integration tests again (tsan.supp
#      silences only reports from inside Debian's uninstrumented gRPC and
#      absl; die_after_fork=0 because TSan takes the CLONE_VFORK child that
#      spawns each command for a fork, though it only execs);
#   4. the parsers' fuzz targets (clang, libFuzzer), if scripts/fuzz.sh exists.
# Integration tests start real etcd servers on loopback; CONCH_REQUIRE_SERVERS=1
# turns a missing server into a failure instead of a skip.
# Exits non-zero on any failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs=$(nproc)

echo "test: installing dependencies"
scripts/install-deps.sh

echo "test: release build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
echo "test: release tests (unit + integration, servers required)"
(cd build && CONCH_REQUIRE_SERVERS=1 ctest --output-on-failure -j2)

echo "test: address + undefined-behaviour sanitizer build"
cmake --preset asan
cmake --build build-asan -j"$jobs"
echo "test: sanitizer tests (unit + integration, servers required)"
(cd build-asan && CONCH_REQUIRE_SERVERS=1 ctest --output-on-failure -j2)

echo "test: thread sanitizer build"
cmake --preset tsan
cmake --build build-tsan -j"$jobs"
echo "test: thread sanitizer tests (unit + integration, servers required)"
(cd build-tsan &&
  TSAN_OPTIONS="suppressions=$PWD/../tsan.supp die_after_fork=0" \
    CONCH_REQUIRE_SERVERS=1 ctest --output-on-failure -j2)

if [[ -x scripts/fuzz.sh ]]; then
  echo "test: fuzzing the parsers"
  scripts/fuzz.sh
fi
echo "test: all passed"
