#!/usr/bin/env bash
# The test command: installs dependencies, builds everything and runs the
# whole test suite (unit + integration). Exits non-zero on any failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "test: installing dependencies"
scripts/install-deps.sh

echo "test: configuring and building (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"

echo "test: running ctest (unit + integration, servers required)"
cd build
CONCH_REQUIRE_SERVERS=1 ctest --output-on-failure -j2
