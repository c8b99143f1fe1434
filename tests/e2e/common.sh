# shellcheck shell=bash
# tests/e2e/common.sh: shared setup for the e2e scripts, one per scenario.
#
# Usage, at the top of tests/e2e/foo_test.sh:
#   source "$(dirname "$0")/common.sh"
#   etcd_start; export CONCH_ENDPOINTS=$ETCD_ENDPOINTS
#   ... steps, each checked with fail/assert_* ...
#   pass
#
# Provides:
#   CONCH        the binary under test ($CONCH_BIN, set by ctest; falls back
#                to build/conch for manual runs)
#   T            a temp dir, removed on exit
#   HOST         this machine's hostname, as gethostname() reports it
#   checks      fail, assert_eq, assert_match, assert_lt, assert_le, step,
#               pass
#   time        now_ms, wait_for COND TIMEOUT_S
#   processes   run (foreground, captures RC/OUT/ERR/ELAPSED_MS), bg
#               (background, sets BG_PID), wait_exit, wait_queued,
#               proc_alive, holder_sleep_cmd
#   the store   office_keys, key_count, leader_json, lease_hex_of,
#               put_holder, lease_ttl_line, and etcd.sh's etcdctl_
# Background processes started with bg are killed on exit, as is every pid
# written to a file named $T/*.pid (and its process group), so a test that
# fails half-way leaves nothing running.
#
# CONCH_E2E_KEEP_GOING=1 makes a script report every failed check instead
# of stopping at the first (see fail).
#
# Every wait is for an event (a file with content, a key in the store, a
# line in a log, a process exit), with a generous timeout (20-30 s) that
# only catches hangs: the scripts also run under AddressSanitizer and
# ThreadSanitizer on a loaded machine. A "did not happen" check comes after
# a positive proof that its moment has passed (wait_queued, or a later
# event), never after a fixed sleep. Latency targets belong in bench/; a
# script bounds a duration only to tell two behaviours apart (released at
# once vs. left to expire with a 30 s TTL) or to check a lower bound.
#
# The scripts do not use `set -e`: most steps expect a particular non-zero
# exit code, and each check is explicit. Never call a bare `wait`: the
# harness watchdog is a child of the script and never exits first.

set -u -o pipefail
ulimit -c 0  # children killed by SIGQUIT must not leave core files

_common_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../servers/etcd.sh
source "$_common_dir/../servers/etcd.sh"

TEST_NAME=$(basename "$0" .sh)
CONCH=${CONCH_BIN:-$_common_dir/../../build/conch}
HOST=$(uname -n)

# Missing etcd: skip locally, fail under CONCH_REQUIRE_SERVERS=1.
etcd_require
if ! command -v jq >/dev/null; then
  if [[ ${CONCH_REQUIRE_SERVERS:-} == 1 ]]; then
    echo "FAIL [$TEST_NAME]: jq not found and CONCH_REQUIRE_SERVERS=1" >&2
    exit 1
  fi
  echo "SKIP [$TEST_NAME]: jq not found" >&2
  exit 77
fi
if [[ ! -x $CONCH ]]; then
  echo "FAIL [$TEST_NAME]: conch binary not found at $CONCH (set CONCH_BIN)" >&2
  exit 1
fi

# Settings from the caller's environment must not leak into the tests.
unset CONCH_ENDPOINTS CONCH_DIAL_TIMEOUT CONCH_TTL
# Every store call of a wrapper is bounded by the dial timeout. On a loaded
# 2-core machine, a sanitizer build that starts with many others can take
# longer than the default 5 s for its first call, so the scripts allow 30 s
# unless a step sets its own (a flag wins over the variable; an empty
# variable counts as unset, which gives the default back).
export CONCH_DIAL_TIMEOUT=30s

declare -a BG_PIDS=()
declare -a _bg_files=()
BG_PID=
RC=
OUT=
ERR=
ELAPSED_MS=

harness_on_exit _common_cleanup
T=$(mktemp -d "$HARNESS_DIR/t.XXXXXX")

# Kills what the test started before the servers go: background wrappers
# first (their children die with them through PDEATHSIG), then any pid the
# test recorded in $T/*.pid together with its process group.
_common_cleanup() {
  local pid f
  for pid in "${BG_PIDS[@]}"; do
    kill -KILL "$pid" 2>/dev/null
  done
  for f in "$T"/*.pid; do
    [[ -f $f ]] || continue
    read -r pid <"$f" 2>/dev/null || continue
    [[ $pid =~ ^[0-9]+$ ]] || continue
    kill -KILL "$pid" "-$pid" 2>/dev/null
  done
  for pid in "${BG_PIDS[@]}"; do
    wait "$pid" 2>/dev/null
  done
  etcd_stop_all
}

# fail MSG: reports MSG with the output of the last `run` and of every
# background process, and exits 1. With CONCH_E2E_KEEP_GOING=1 it only
# counts the failure and returns 1, so that one pass lists every deviation
# (later steps may then fail as a consequence); pass then exits 1.
_failures=0
_last_run=
fail() {
  local f
  echo "FAIL [$TEST_NAME]: $*" >&2
  for f in ${_last_run:+"$T/$_last_run.out" "$T/$_last_run.err"} "${_bg_files[@]}"; do
    [[ -s $f ]] || continue
    echo "---- ${f##*/} (last 10 lines)" >&2
    tail -n 10 "$f" >&2
  done
  if [[ ${CONCH_E2E_KEEP_GOING:-} == 1 ]]; then
    _failures=$((_failures + 1))
    return 1
  fi
  exit 1
}

# pass: the closing line of a successful script.
pass() {
  if ((_failures > 0)); then
    echo "FAIL [$TEST_NAME]: $_failures failure(s)" >&2
    exit 1
  fi
  echo "PASS [$TEST_NAME]"
  exit 0
}

# step MSG: a progress line, so a failure shows how far the script got.
step() {
  echo "== $*"
}

# assert_eq EXPECTED ACTUAL MSG
assert_eq() {
  [[ $1 == "$2" ]] || fail "$3: expected [$1], got [$2]"
}

# assert_match REGEX ACTUAL MSG: ACTUAL must match the extended regex.
assert_match() {
  [[ $2 =~ $1 ]] || fail "$3: [$2] does not match /$1/"
}

# assert_lt A B MSG: integer A < B.
assert_lt() {
  (($1 < $2)) || fail "$3: expected $1 < $2"
}

# assert_le A B MSG: integer A <= B. Use it for lower bounds ("waited at
# least its --wait") and for the order of two stamps ("B's child started
# after A's ended"), which hold however slow the machine is.
assert_le() {
  (($1 <= $2)) || fail "$3: expected $1 <= $2"
}

# now_ms: wall clock in milliseconds.
now_ms() {
  local ns
  ns=$(date +%s%N)
  echo $((ns / 1000000))
}

# wait_for COND TIMEOUT_S: evaluates COND every 50 ms until it succeeds
# (returns 0) or TIMEOUT_S (may be fractional) passes (returns 1).
wait_for() {
  local cond=$1 deadline
  deadline=$(($(now_ms) + $(_secs_to_ms "$2")))
  while true; do
    eval "$cond" && return 0
    (($(now_ms) >= deadline)) && return 1
    sleep 0.05
  done
}

_secs_to_ms() {
  local whole=${1%%.*} frac=
  [[ $1 == *.* ]] && frac=${1#*.}
  frac=${frac}000
  echo $((10#${whole:-0} * 1000 + 10#${frac:0:3}))
}

# proc_alive PID: true while PID exists and is not a zombie.
proc_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z && ${stat:0:1} != X ]]
}

# run NAME CMD...: runs CMD in the foreground with stdin from /dev/null and
# sets RC, OUT (stdout), ERR (stderr) and ELAPSED_MS. Output is also kept in
# $T/NAME.out and $T/NAME.err.
run() {
  local name=$1 start
  shift
  _last_run=$name
  start=$(now_ms)
  "$@" </dev/null >"$T/$name.out" 2>"$T/$name.err"
  RC=$?
  ELAPSED_MS=$(($(now_ms) - start))
  OUT=$(cat "$T/$name.out")
  ERR=$(cat "$T/$name.err")
}

# bg NAME CMD...: starts CMD in the background with stdin from /dev/null,
# stdout in $T/NAME.out and stderr in $T/NAME.err, and sets BG_PID. SIGINT
# and SIGQUIT get their default action back (bash makes background jobs
# ignore them), as they would have under a terminal.
bg() {
  local name=$1
  shift
  (
    trap - INT QUIT
    exec "$@"
  ) </dev/null >"$T/$name.out" 2>"$T/$name.err" &
  BG_PID=$!
  BG_PIDS+=("$BG_PID")
  _bg_files+=("$T/$name.out" "$T/$name.err")
  harness_track_pid "$BG_PID"
}

# wait_exit PID TIMEOUT_S: waits for background PID to exit and sets RC to
# its exit status. Returns 1 if it is still running after TIMEOUT_S.
wait_exit() {
  wait_for "! proc_alive $1" "$2" || return 1
  wait "$1" 2>/dev/null
  RC=$?
  return 0
}

# wait_queued NAME: waits up to 30 s until the wrapper started with
# `bg NAME` (not under --quiet) logs "waiting for ...": it has queued, read
# the queue and found the office or the units taken. From then on it moves
# only when the store changes, so this is the moment after which a "has not
# started" check means something. Returns 1 on timeout.
wait_queued() {
  wait_for "grep -Eq '^conch( [0-9:.]+)?: waiting for ' '$T/$1.err' 2>/dev/null" 30
}

# office_keys OFFICE: prints the keys under the office, one a line, in
# create-revision order (the queue order; the first is the leader).
office_keys() {
  etcdctl_ get --prefix "/conch/v1/elect/$1/" -w json |
    jq -r '.kvs // [] | sort_by(.create_revision) | .[].key | @base64d'
}

# key_count OFFICE: prints how many keys the office has.
key_count() {
  local keys
  keys=$(office_keys "$1") || return 1
  if [[ -z $keys ]]; then echo 0; else wc -l <<<"$keys"; fi
}

# leader_json OFFICE: prints the leader as one JSON object {key, rev, value}
# with the value parsed when it is JSON. (Lease ids are int64, beyond jq's
# exact range: take them from the key with lease_hex_of.)
leader_json() {
  etcdctl_ get --prefix "/conch/v1/elect/$1/" -w json |
    jq -c '.kvs // [] | sort_by(.create_revision) | .[0] // empty |
      {key: (.key | @base64d), rev: .create_revision,
       value: (.value | @base64d | fromjson? // .)}'
}

# lease_hex_of KEY: the lease id in a key's last path element.
lease_hex_of() {
  echo "${1##*/}"
}

# holder_sleep_cmd PIDFILE: a child command that records its pid in PIDFILE
# and then sleeps; exec keeps the pid.
holder_sleep_cmd() {
  echo "echo \$\$ > '$1'; exec sleep 60"
}

# put_holder OFFICE JSON [TTL_S]: writes a holder key the way another tool
# would: grants a lease (default 30 s) and puts JSON at the office's key for
# it. Sets HOLDER_LEASE (hex), HOLDER_KEY and HOLDER_REV (create revision).
put_holder() {
  local office=$1 json=$2 ttl=${3:-30} granted
  granted=$(etcdctl_ lease grant "$ttl") || fail "lease grant: $granted"
  HOLDER_LEASE=$(awk '{print $2}' <<<"$granted")
  HOLDER_KEY="/conch/v1/elect/$office/$HOLDER_LEASE"
  etcdctl_ put --lease="$HOLDER_LEASE" "$HOLDER_KEY" "$json" >/dev/null ||
    fail "put $HOLDER_KEY"
  HOLDER_REV=$(etcdctl_ get "$HOLDER_KEY" -w json | jq '.kvs[0].create_revision')
  [[ $HOLDER_REV =~ ^[1-9][0-9]*$ ]] || fail "create revision of $HOLDER_KEY: [$HOLDER_REV]"
}

# lease_ttl_line LEASE_HEX: etcdctl's one-line view of a lease, e.g.
# "lease 694d... granted with TTL(10s), remaining(9s)" or "... already expired".
lease_ttl_line() {
  etcdctl_ lease timetolive "$1" 2>&1
}

# stamp FILE: a shell snippet for a child to run, writing the time in ms to
# $T/FILE.
stamp() {
  echo "echo \$((\$(date +%s%N) / 1000000)) > '$T/$1'"
}

# --- semaphores ------------------------------------------------------------

# sema_entries NAME: one JSON object a claim {key, rev, value}, in creation
# order, for every --max of semaphore NAME.
sema_entries() {
  etcdctl_ get --prefix "/conch/v1/sema/$1/" -w json |
    jq -c '.kvs // [] | sort_by(.create_revision) | .[] |
      {key: (.key | @base64d), rev: .create_revision,
       value: (.value | @base64d | fromjson? // .)}'
}

# sema_keys NAME: the claims' keys, one a line, in creation order.
sema_keys() {
  etcdctl_ get --prefix "/conch/v1/sema/$1/" -w json |
    jq -r '.kvs // [] | sort_by(.create_revision) | .[].key | @base64d'
}

# sema_count NAME: how many claims semaphore NAME has.
sema_count() {
  etcdctl_ get --prefix "/conch/v1/sema/$1/" --keys-only -w json |
    jq '.kvs // [] | length'
}

# --- processes seen from outside, logs, the store from a hook ---------------

# watch_death PID TIMEOUT_S: polls PID every 20 ms until it is dead
# (returns 0) or TIMEOUT_S passes (returns 1). Sets LAST_ALIVE_MS to the
# last time PID was seen alive: it died after that moment, which is what a
# "not killed before" check needs (a later poll can only delay the death
# being seen, never make it look later than it was).
watch_death() {
  local deadline
  deadline=$(($(now_ms) + $(_secs_to_ms "$2")))
  LAST_ALIVE_MS=
  while true; do
    local now
    now=$(now_ms)
    proc_alive "$1" || return 0
    LAST_ALIVE_MS=$now
    ((now >= deadline)) && return 1
    sleep 0.02
  done
}

# pgid_of PID: the process group of PID.
pgid_of() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  read -r -a stat <<<"${stat##*) }"
  echo "${stat[2]}"
}

# err_has NAME TEXT: true once the stderr of `bg NAME` ($T/NAME.err)
# contains TEXT (a fixed string).
err_has() {
  grep -qF -- "$2" "$T/$1.err" 2>/dev/null
}

# etcdctl_line: etcdctl against the test's store as one shell command line,
# for a hook or a child to run (they do not see the script's functions).
etcdctl_line() {
  echo "'$ETCDCTL_BIN' --endpoints '$ETCD_ENDPOINTS' --dial-timeout 2s --command-timeout 3s"
}
