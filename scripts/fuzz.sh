#!/usr/bin/env bash
# Builds the libFuzzer targets (src/<module>/fuzz/, next to the module they
# fuzz) with clang and runs each for about 10 seconds from its seed corpus.
# Exits non-zero if any fuzzer finds a failing input; the input is saved as
# build-fuzz/src/<module>/fuzz/<name>-crash-* and replays with
# build-fuzz/src/<module>/fuzz/<name>_fuzz <file>.
#
# Only the fuzz targets are built: they compile the code under test in
# themselves and need none of the project's libraries, so the run stays
# well under two minutes.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if (($#)); then
  echo "usage: scripts/fuzz.sh" >&2
  exit 64
fi

fuzzers=(duration schedule cron_records flagset flags cron_flags endpoint
  store_address holder keys crontab layout lease options switchman_config)

echo "fuzz: configuring build-fuzz with clang"
CC=clang CXX=clang++ cmake -S . -B build-fuzz \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONCH_STATIC_GRPC=OFF \
  -DCONCH_WERROR=ON >/dev/null

echo "fuzz: building ${fuzzers[*]}"
cmake --build build-fuzz -j"$(nproc)" --target "${fuzzers[@]/%/_fuzz}"

echo "fuzz: running each fuzzer for 10 s"
cd build-fuzz
# --no-tests=error: a build without the fuzz tests (say, not clang) fails
# rather than passing with nothing run.
ctest -L fuzz --no-tests=error --output-on-failure -j"$(nproc)"
