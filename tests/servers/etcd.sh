# shellcheck shell=bash
# tests/servers/etcd.sh: start and fault real etcd servers for e2e scripts.
#
# Source this file from bash; it defines functions and globals only and
# starts nothing by itself. Every server listens on 127.0.0.1 only, on ports
# picked fresh for each start, with its data in a private mktemp directory,
# so scripts can run in parallel without sharing anything.
#
# Cleanup is registered on EXIT (and INT/TERM/HUP, which exit). A watchdog
# process also kills the servers if the sourcing shell dies without running
# its traps (SIGKILL, ctest timeout), so no etcd outlives its test.
#
# CONCH_ETCD_BIN and CONCH_ETCDCTL_BIN override the binaries (default: etcd
# and etcdctl on PATH), as for the C++ harness.
#
# Globals after a start:
#   ETCD_ENDPOINTS     comma-separated host:port of every member (exported)
#   ETCD_METRICS_URL   metrics URL of member 0 (exported)
#   ETCD_EPS[i]        client host:port of member i
#   ETCD_PIDS[i]       pid of member i
#   ETCD_METRICS[i]    metrics URL of member i
#   ETCD_DIR           temp dir holding data dirs and logs (m<i>.log)
#
# Faults: etcd_kill I, etcd_restart I (after a kill), etcd_freeze I,
# etcd_thaw I.
#
# Other scripts may add their own cleanup steps with harness_on_exit, have
# extra pids killed by the watchdog with harness_track_pid, and keep their
# temp files under $HARNESS_DIR, which is removed on exit (by the watchdog
# too).

ETCD_BIN=${CONCH_ETCD_BIN:-etcd}
ETCDCTL_BIN=${CONCH_ETCDCTL_BIN:-etcdctl}
export ETCDCTL_API=3

ETCD_EPS=()
ETCD_PIDS=()
ETCD_METRICS=()
ETCD_DIR=
_etcd_frozen=()
_etcd_launch_args=()  # each member's _etcd_launch arguments, for a restart
_harness_exit_steps=()
HARNESS_DIR=
_harness_watchdog=

# _harness_init: on first use creates $HARNESS_DIR (every temp file of the
# script lives below it, plus the pid list the watchdog reads), installs the
# traps and starts the watchdog.
_harness_init() {
  [[ -n $HARNESS_DIR ]] && return 0
  HARNESS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/conch-test.XXXXXX") || return 1
  : >"$HARNESS_DIR/pids"
  trap _harness_run_exit_steps EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  _harness_start_watchdog
}

# harness_on_exit CMD: runs CMD (eval'd) when the script exits, after steps
# registered later (last in, first out).
harness_on_exit() {
  _harness_init || return 1
  _harness_exit_steps+=("$1")
}

# harness_track_pid PID: the watchdog SIGCONTs and SIGKILLs PID (and its
# process group, if it leads one) should this shell die without cleanup.
harness_track_pid() {
  _harness_init || return 1
  echo "$1" >>"$HARNESS_DIR/pids"
}

_harness_run_exit_steps() {
  local rc=$? i
  trap - EXIT INT TERM HUP
  for ((i = ${#_harness_exit_steps[@]} - 1; i >= 0; i--)); do
    eval "${_harness_exit_steps[i]}" || true
  done
  if [[ -n $_harness_watchdog ]]; then
    kill -KILL "$_harness_watchdog" 2>/dev/null
    # Killed, the watchdog reports 137: not this script's status, and not
    # a failure that `set -e` in a sourcing script may act on.
    wait "$_harness_watchdog" 2>/dev/null || true
  fi
  [[ -n $HARNESS_DIR ]] && rm -rf "$HARNESS_DIR"
  exit "$rc"
}

# The watchdog polls the sourcing shell every 200 ms. Its stdio goes to
# /dev/null so that it never holds a pipe of ctest open.
_harness_start_watchdog() {
  local parent=$$ dir=$HARNESS_DIR
  (
    trap '' INT TERM HUP
    while kill -0 "$parent" 2>/dev/null; do sleep 0.2; done
    while read -r pid; do
      kill -CONT "$pid" "-$pid" 2>/dev/null
      kill -KILL "$pid" "-$pid" 2>/dev/null
    done <"$dir/pids"
    rm -rf "$dir"
  ) </dev/null >/dev/null 2>&1 &
  _harness_watchdog=$!
}

# etcd_require: makes sure the etcd binaries exist. When they do not, the
# script fails (exit 1) if CONCH_REQUIRE_SERVERS=1, and otherwise skips with
# exit 77 (ctest's SKIP_RETURN_CODE for these tests).
etcd_require() {
  if command -v "$ETCD_BIN" >/dev/null && command -v "$ETCDCTL_BIN" >/dev/null; then
    return 0
  fi
  if [[ ${CONCH_REQUIRE_SERVERS:-} == 1 ]]; then
    echo "FAIL: etcd or etcdctl not found and CONCH_REQUIRE_SERVERS=1" >&2
    exit 1
  fi
  echo "SKIP: etcd or etcdctl not found" >&2
  exit 77
}

# _etcd_free_ports N: prints N distinct ports that nobody listens on. They
# come from 20000-32767, below the kernel's ephemeral range, so outgoing
# connections cannot take them. Another process may still bind one before
# etcd does; the start functions retry with new ports when that happens.
_etcd_free_ports() {
  local n=$1 picked=" " port listening
  listening=" $(ss -Htln 2>/dev/null | awk '{n = split($4, a, ":"); printf "%s ", a[n]}') "
  while ((n > 0)); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
    [[ $picked == *" $port "* || $listening == *" $port "* ]] && continue
    picked+="$port "
    n=$((n - 1))
  done
  echo "${picked# }"
}

# _etcd_healthy EP: true when etcdctl reports EP healthy within 1 s.
_etcd_healthy() {
  "$ETCDCTL_BIN" --endpoints "$1" --dial-timeout 1s --command-timeout 1s \
    endpoint health >/dev/null 2>&1
}

# _etcd_launch I NAME CLIENT PEER METRICS CLUSTER TOKEN: starts member I in
# the background and records its pid, endpoint and metrics URL.
_etcd_launch() {
  local i=$1 name=$2 client=$3 peer=$4 metrics=$5 cluster=$6 token=$7
  _etcd_launch_args[i]="$*"
  mkdir -p "$ETCD_DIR/$name"
  "$ETCD_BIN" --name "$name" --data-dir "$ETCD_DIR/$name" \
    --listen-client-urls "http://127.0.0.1:$client" \
    --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --listen-metrics-urls "http://127.0.0.1:$metrics" \
    --initial-cluster "$cluster" --initial-cluster-state new \
    --initial-cluster-token "$token" \
    --heartbeat-interval 100 --election-timeout 1000 \
    --snapshot-count 10000 \
    </dev/null >"$ETCD_DIR/$name.log" 2>&1 &
  ETCD_PIDS[i]=$!
  ETCD_EPS[i]="127.0.0.1:$client"
  ETCD_METRICS[i]="http://127.0.0.1:$metrics"
  harness_track_pid "${ETCD_PIDS[i]}"
}

# _etcd_wait_healthy: waits up to 10 s until every member is healthy.
# Returns 1 early if a member exits (a port was taken, for example).
_etcd_wait_healthy() {
  local deadline=$((SECONDS + 10)) i pending
  while ((SECONDS <= deadline)); do
    pending=0
    for i in "${!ETCD_PIDS[@]}"; do
      if ! kill -0 "${ETCD_PIDS[i]}" 2>/dev/null; then
        echo "etcd member $i exited during start; log tail:" >&2
        tail -n 5 "$ETCD_DIR/m$i.log" >&2
        return 1
      fi
      _etcd_healthy "${ETCD_EPS[i]}" || pending=1
    done
    ((pending == 0)) && return 0
    sleep 0.1
  done
  echo "etcd not healthy within 10 s" >&2
  return 1
}

# _etcd_start_members N: one attempt at starting an N-member cluster.
_etcd_start_members() {
  local n=$1 i ports cluster="" token="conch-test-$$-$RANDOM"
  read -r -a ports <<<"$(_etcd_free_ports $((3 * n)))"
  for ((i = 0; i < n; i++)); do
    cluster+="${cluster:+,}m$i=http://127.0.0.1:${ports[3 * i + 1]}"
  done
  for ((i = 0; i < n; i++)); do
    _etcd_launch "$i" "m$i" "${ports[3 * i]}" "${ports[3 * i + 1]}" \
      "${ports[3 * i + 2]}" "$cluster" "$token"
  done
  _etcd_wait_healthy
}

# etcd_cluster_start N: starts an N-member cluster (members m0..m<N-1>),
# retrying up to 3 times with fresh ports. Waits until every member is
# healthy (at most 10 s per attempt), then exports ETCD_ENDPOINTS (all
# members, m0 first) and ETCD_METRICS_URL (m0). Fails the script (exit 1)
# if it cannot. Only one cluster per script.
etcd_cluster_start() {
  local n=${1:-3} attempt
  etcd_require
  if ((${#ETCD_PIDS[@]} > 0)); then
    echo "FAIL: etcd already started in this script" >&2
    exit 1
  fi
  harness_on_exit etcd_stop_all
  for attempt in 1 2 3; do
    ETCD_DIR=$(mktemp -d "$HARNESS_DIR/etcd.XXXXXX") || exit 1
    if _etcd_start_members "$n"; then
      ETCD_ENDPOINTS=$(IFS=,; echo "${ETCD_EPS[*]}")
      ETCD_METRICS_URL=${ETCD_METRICS[0]}
      export ETCD_ENDPOINTS ETCD_METRICS_URL
      return 0
    fi
    echo "etcd start attempt $attempt failed, retrying" >&2
    etcd_stop_all
  done
  echo "FAIL: could not start $n-member etcd" >&2
  exit 1
}

# etcd_start: starts a single etcd member; see etcd_cluster_start.
etcd_start() {
  etcd_cluster_start 1
}

# etcd_kill I: SIGKILLs member I and reaps it.
etcd_kill() {
  local pid=${ETCD_PIDS[$1]}
  kill -CONT "$pid" 2>/dev/null
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  _etcd_frozen[$1]=
  return 0
}

# etcd_restart I: starts member I again after etcd_kill, on its old ports
# and data (so it rejoins the cluster as itself), and waits up to 10 s until
# it is healthy. Returns 1 if it is not.
etcd_restart() {
  local i=$1 args deadline=$((SECONDS + 10))
  read -r -a args <<<"${_etcd_launch_args[i]}"
  _etcd_launch "${args[@]}"
  while ((SECONDS <= deadline)); do
    kill -0 "${ETCD_PIDS[i]}" 2>/dev/null || return 1
    _etcd_healthy "${ETCD_EPS[i]}" && return 0
    sleep 0.1
  done
  return 1
}

# etcd_freeze I: SIGSTOPs member I. It keeps its sockets but answers nothing.
etcd_freeze() {
  kill -STOP "${ETCD_PIDS[$1]}" && _etcd_frozen[$1]=1
}

# etcd_thaw I: SIGCONTs member I.
etcd_thaw() {
  kill -CONT "${ETCD_PIDS[$1]}" && _etcd_frozen[$1]=
}

# etcd_stop_all: kills every member (SIGCONT first, so a frozen one can
# die), reaps them and removes the data directory. Safe to call twice.
etcd_stop_all() {
  local i
  for i in "${!ETCD_PIDS[@]}"; do
    kill -CONT "${ETCD_PIDS[i]}" 2>/dev/null
    kill -KILL "${ETCD_PIDS[i]}" 2>/dev/null
  done
  for i in "${!ETCD_PIDS[@]}"; do
    wait "${ETCD_PIDS[i]}" 2>/dev/null
  done
  ETCD_PIDS=()
  ETCD_EPS=()
  ETCD_METRICS=()
  _etcd_frozen=()
  [[ -n $ETCD_DIR ]] && rm -rf "$ETCD_DIR"
  ETCD_DIR=
  return 0
}

# etcdctl_ ARGS...: etcdctl against $ETCD_ENDPOINTS with short dial and
# command timeouts. To reach chosen members only, override the variable for
# one call: ETCD_ENDPOINTS=${ETCD_EPS[1]} etcdctl_ get k
etcdctl_() {
  "$ETCDCTL_BIN" --endpoints "$ETCD_ENDPOINTS" \
    --dial-timeout 2s --command-timeout 3s "$@"
}
