#!/usr/bin/env bash
# Installs everything conch needs to build, test, demo and benchmark on a
# fresh Debian 12. Idempotent: when every package is already installed the
# apt step is skipped, so repeat runs take well under a second.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libgtest-dev libgmock-dev nlohmann-json3-dev
  # cron: absl's time zones (also gRPC's) and the zone database they read
  libabsl-dev tzdata
  etcd-server etcd-client
  # ZooKeeper: the server for tests (Java), and the C client conch links
  zookeeper default-jre-headless libzookeeper-mt-dev
  procps python3 hyperfine time jq iproute2
  # clang: the thread-safety analysis build, and with its runtime the
  # libFuzzer fuzz targets
  clang libclang-rt-14-dev
  # conchd's status side: the HTTP server (cpp-httplib) and systemd
  # notification (sd_notify)
  libcpp-httplib-dev libsystemd-dev
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
  [[ "$status" == ii* ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed, skipping apt"
  exit 0
fi

echo "install-deps: missing ${#missing[@]} package(s): ${missing[*]}"

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -E)
  else
    echo "install-deps: must run as root (or have sudo) to install packages" >&2
    exit 1
  fi
fi

# apt's own chatter goes to a log that is shown only when a step fails.
log=$(mktemp -t conch-install-deps.XXXXXX)
trap 'rm -f "$log"' EXIT
run_logged() {
  if ! "$@" >"$log" 2>&1; then
    echo "install-deps: FAILED: $*" >&2
    cat "$log" >&2
    exit 1
  fi
}

echo "install-deps: apt-get update"
run_logged "${SUDO[@]}" apt-get update

echo "install-deps: apt-get install --no-install-recommends (${#PACKAGES[@]} packages)"
run_logged "${SUDO[@]}" apt-get install -y --no-install-recommends "${PACKAGES[@]}"

echo "install-deps: done"
