# shellcheck shell=bash
# tests/e2e/common.sh: shared setup for the e2e scripts, one per scenario.
# Every script runs against etcd and against ZooKeeper (ctest registers it
# twice, as e2e.<name>.etcd and e2e.<name>.zookeeper), unless a line
# "# stores: etcd" near its top limits it to the stores it names; the
# script says there why.
#
# Usage, at the top of tests/e2e/foo_test.sh:
#   source "$(dirname "$0")/common.sh"
#   store_start         # exports CONCH_ENDPOINTS
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
#               proc_alive, holder_sleep_cmd, death_fifo
#   the store   CONCH_TEST_STORE (etcd or zookeeper, from ctest; default
#               etcd), store_start, store_kill, store_freeze, store_thaw,
#               store_endpoint, store_url, STORE_ENDPOINTS,
#               STORE_UNREACHABLE; keys: office_keys, key_count,
#               leader_json, lease_hex_of, key_re, lease_key_re,
#               key_value, key_put, key_delete, take_hold, keys_under,
#               keys_line,
#               sema_entries, sema_keys, sema_count; sessions (etcd
#               leases, ZooKeeper sessions): lease_ttl_ms, lease_alive,
#               lease_gone, lease_keys; another tool's holder: put_holder,
#               holder_end. Under them, etcd.sh's etcdctl_ and zk.sh's
#               zk_4lw, and zkctl (conch_zk_tool, CONCH_ZK_TOOL_BIN).
# Background processes started with bg are killed on exit, as is every pid
# written to a file named $T/*.pid (and its process group), so a test that
# fails half-way leaves nothing running.
#
# The two stores name a contender's key differently: etcd's is
# <prefix><lease-id-hex>, ZooKeeper's an ephemeral sequential node
# <prefix><session-id-hex>-<10-digit sequence>. Its "rev" is the create
# revision on etcd and the czxid on ZooKeeper; both grow with creation, so
# the helpers list keys oldest first by it. What etcd calls a lease is a
# session on ZooKeeper, and CONCH_LEASE is its id in hex.
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
# shellcheck source=../servers/zk.sh
source "$_common_dir/../servers/zk.sh"

TEST_NAME=$(basename "$0" .sh)
CONCH=${CONCH_BIN:-$_common_dir/../../build/conch}
ZK_TOOL=${CONCH_ZK_TOOL_BIN:-$_common_dir/../../build/tests/servers/conch_zk_tool}
HOST=$(uname -n)
CONCH_TEST_STORE=${CONCH_TEST_STORE:-etcd}

# store_require: checks the store's servers and client tools. Missing
# servers: skip (77) locally, fail under CONCH_REQUIRE_SERVERS=1, as
# etcd_require and zk_require do. A script limited to other stores by its
# "# stores:" line skips too, so that a manual run cannot pass it off as
# tested.
store_require() {
  local stores
  stores=$(sed -n 's/^# stores: *//p' "$0" | head -n 1)
  if [[ -n $stores && " $stores " != *" $CONCH_TEST_STORE "* ]]; then
    echo "SKIP [$TEST_NAME]: runs on $stores only, not on $CONCH_TEST_STORE" >&2
    exit 77
  fi
  case $CONCH_TEST_STORE in
    etcd) etcd_require ;;
    zookeeper)
      zk_require
      if [[ ! -x $ZK_TOOL ]]; then
        echo "FAIL [$TEST_NAME]: conch_zk_tool not found at $ZK_TOOL (set CONCH_ZK_TOOL_BIN)" >&2
        exit 1
      fi
      ;;
    *)
      echo "FAIL [$TEST_NAME]: CONCH_TEST_STORE=$CONCH_TEST_STORE: want etcd or zookeeper" >&2
      exit 1
      ;;
  esac
}
store_require
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
  zk_stop_all
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
    if grep -q 'Sanitizer' "$f"; then
      # A sanitizer's report is useless without its top: show all of it.
      echo "---- ${f##*/} (from its first sanitizer report, at most 300 lines)" >&2
      sed -n '/^==*$\|Sanitizer/,$p' "$f" | head -n 300 >&2
      continue
    fi
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

# death_fifo NAME: starts a reader on FIFO $T/NAME.fifo that writes the
# wall time in ms to $T/NAME.dead when the last writer (the command) is
# gone. The command opens the FIFO for writing as fd 3.
death_fifo() {
  mkfifo "$T/$1.fifo"
  (
    read -r _ <"$T/$1.fifo"
    t=${EPOCHREALTIME/./}
    echo "${t:0:-3}" >"$T/$1.dead"
  ) &
  BG_PIDS+=("$!")
}

# --- the store --------------------------------------------------------------

STORE_ENDPOINTS=
# An --endpoints value nothing listens on: port 1 refuses at once.
case $CONCH_TEST_STORE in
  etcd) STORE_UNREACHABLE=127.0.0.1:1 ;;
  *) STORE_UNREACHABLE=zk://127.0.0.1:1 ;;
esac

# store_start [N]: starts an N-member store (default 1) of the kind
# CONCH_TEST_STORE names, waits until it serves, and exports
# CONCH_ENDPOINTS (also in STORE_ENDPOINTS): etcd's $ETCD_ENDPOINTS, or
# ZooKeeper's $ZK_URL (zk://host:port,...). Fails the script if it cannot.
# shellcheck disable=SC2120 # N is optional
store_start() {
  case $CONCH_TEST_STORE in
    etcd)
      etcd_cluster_start "${1:-1}"
      STORE_ENDPOINTS=$ETCD_ENDPOINTS
      ;;
    zookeeper)
      zk_start "${1:-1}"
      STORE_ENDPOINTS=$ZK_URL
      ;;
  esac
  export CONCH_ENDPOINTS=$STORE_ENDPOINTS
}

# store_kill I, store_freeze I (SIGSTOP: keeps its sockets, answers
# nothing), store_thaw I: faults of member I.
store_kill() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then etcd_kill "$1"; else zk_kill "$1"; fi
}
store_freeze() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then etcd_freeze "$1"; else zk_freeze "$1"; fi
}
store_thaw() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then etcd_thaw "$1"; else zk_thaw "$1"; fi
}

# store_endpoint I: member I's client host:port.
store_endpoint() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    echo "${ETCD_EPS[$1]}"
  else
    echo "${ZK_EPS[$1]}"
  fi
}

# store_url HOST:PORT...: the --endpoints value that names these members.
store_url() {
  local joined
  joined=$(IFS=,; echo "$*")
  if [[ $CONCH_TEST_STORE == etcd ]]; then echo "$joined"; else echo "zk://$joined"; fi
}

# with_members "I J ..." CMD ARGS...: runs CMD (a helper of this file) with
# the store reached through members I J ... only, as after a member died.
with_members() {
  local i eps=()
  for i in $1; do eps+=("$(store_endpoint "$i")"); done
  shift
  local ETCD_ENDPOINTS ZK_HOSTS
  ETCD_ENDPOINTS=$(IFS=,; echo "${eps[*]}")
  ZK_HOSTS=$ETCD_ENDPOINTS
  "$@"
}

# zkctl CMD ARGS...: conch_zk_tool against the test's ZooKeeper: ls, get,
# stat, rm, set, replace, exists, hold (see tests/servers/zk_tool.cc).
zkctl() {
  "$ZK_TOOL" "$ZK_HOSTS" "$@"
}

# _zk_keys PREFIX: the contender nodes (<hex>-<10 digits>) at any depth
# under PREFIX, each container's in sequence order.
_zk_keys() {
  local node
  zkctl ls "${1%/}" | while read -r node; do
    if [[ ${node##*/} =~ ^[0-9a-f]+-[0-9]{10}$ ]]; then
      echo "$node"
    else
      _zk_keys "$node/"
    fi
  done
}

# _zk_entry KEY: KEY as {key, rev, value}; nothing if it is gone.
_zk_entry() {
  local stat value
  stat=$(zkctl stat "$1") || return 0
  value=$(zkctl get "$1") || return 0
  [[ $stat =~ czxid=([0-9]+) ]] || return 0
  jq -cn --arg key "$1" --argjson rev "${BASH_REMATCH[1]}" --arg raw "$value" \
    '{key: $key, rev: $rev, value: ($raw | fromjson? // .)}'
}

# _entries PREFIX: one JSON object {key, rev, value} a key under PREFIX (at
# any depth), oldest first, with the value parsed when it is JSON. (Lease
# ids are int64, beyond jq's exact range: take them from the key with
# lease_hex_of.) On ZooKeeper the listing and the reads are separate calls:
# a key deleted in between is left out.
_entries() {
  local key
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    etcdctl_ get --prefix "$1" -w json |
      jq -c '.kvs // [] | sort_by(.create_revision) | .[] |
        {key: (.key | @base64d), rev: .create_revision,
         value: (.value | @base64d | fromjson? // .)}'
  else
    _zk_keys "$1" | while read -r key; do _zk_entry "$key"; done |
      jq -sc 'sort_by(.rev) | .[]'
  fi
}

# keys_under PREFIX: the contender keys under PREFIX (at any depth), one a
# line, oldest first.
keys_under() {
  local keys
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    etcdctl_ get --prefix "$1" -w json |
      jq -r '.kvs // [] | sort_by(.create_revision) | .[].key | @base64d'
    return
  fi
  keys=$(_zk_keys "$1") || return 1
  # Sequences order the children of one container only.
  # shellcheck disable=SC2001 # sed works line by line
  if [[ -z $keys ]]; then
    return 0
  elif (($(sed 's|/[^/]*$||' <<<"$keys" | sort -u | wc -l) == 1)); then
    echo "$keys"
  else
    _entries "$1" | jq -r .key
  fi
}

# office_keys OFFICE: prints the keys under the office, one a line, in
# creation order (the queue order; the first is the leader).
office_keys() {
  keys_under "/conch/v1/elect/$1/"
}

# key_count OFFICE: prints how many keys the office has.
key_count() {
  local keys
  keys=$(office_keys "$1") || return 1
  if [[ -z $keys ]]; then echo 0; else wc -l <<<"$keys"; fi
}

# leader_json OFFICE: prints the leader as one JSON object {key, rev, value}
# (see _entries).
leader_json() {
  _entries "/conch/v1/elect/$1/" | head -n 1
}

# lease_hex_of KEY: the lease (etcd) or session (ZooKeeper) id in a key's
# last path element.
lease_hex_of() {
  local name=${1##*/}
  if [[ $CONCH_TEST_STORE == etcd ]]; then echo "$name"; else echo "${name%-*}"; fi
}

# key_re PREFIX: an anchored extended regex for a contender's key under
# PREFIX (a path ending in /).
key_re() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    echo "^$1[0-9a-f]+\$"
  else
    echo "^$1[0-9a-f]+-[0-9]{10}\$"
  fi
}

# lease_key_re PREFIX LEASE_HEX: the same for the key of that lease or
# session.
lease_key_re() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    echo "^$1$2\$"
  else
    echo "^$1$2-[0-9]{10}\$"
  fi
}

# key_value KEY: prints KEY's value; fails if KEY does not exist.
key_value() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    local out
    out=$(etcdctl_ get "$1" -w json | jq -r '.kvs // [] | .[0].value // empty | @base64d') || return 1
    [[ -n $out ]] && echo "$out"
  else
    zkctl get "$1"
  fi
}

# key_put KEY VALUE: writes VALUE at KEY from outside, the way an operator
# would: on etcd a put without a lease, so that an existing key loses its
# lease; on ZooKeeper, where a node keeps its owner while it exists, the
# node is replaced in one transaction by a persistent one (a new czxid, no
# owner). Creates KEY (persistent) when absent.
key_put() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    etcdctl_ put "$1" "$2" >/dev/null
  else
    zkctl replace "$1" "$2"
  fi
}

# key_delete KEY: deletes KEY from outside, behind its holder's back.
# Fails unless exactly that key was there and is now gone.
key_delete() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    [[ $(etcdctl_ del "$1") == 1 ]]
  else
    zkctl rm "$1"
  fi
}

# take_hold KEY: ends the hold of KEY's holder from outside, at once: on
# etcd its lease is revoked; on ZooKeeper, where no shell can end another
# client's session, its key is deleted. Fails if that did not succeed.
take_hold() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    etcdctl_ lease revoke "$(lease_hex_of "$1")" >/dev/null
  else
    key_delete "$1"
  fi
}

# keys_line PREFIX: one shell command line, for a hook or a child to run
# (they do not see the script's functions), that lists the keys directly
# under PREFIX, one a line (etcd's listing has blank lines between).
keys_line() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    echo "$(etcdctl_line) get --prefix --keys-only '$1'"
  else
    echo "'$ZK_TOOL' '$ZK_HOSTS' ls '${1%/}'"
  fi
}

# holder_sleep_cmd PIDFILE: a child command that records its pid in PIDFILE
# and then sleeps; exec keeps the pid.
holder_sleep_cmd() {
  echo "echo \$\$ > '$1'; exec sleep 60"
}

# put_holder OFFICE JSON [TTL_S]: writes a holder key the way another tool
# would, on its own lease (etcd: granted with TTL_S, default 30 s) or
# session (ZooKeeper: an ephemeral sequential node of a conch_zk_tool
# session kept open in the background, timeout TTL_S). Sets HOLDER_LEASE
# (hex), HOLDER_KEY and HOLDER_REV (create revision or czxid). holder_end
# ends it.
declare -A _zk_holders=()
_holders=0
put_holder() {
  local office=$1 json=$2 ttl=${3:-30} granted out pid
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    granted=$(etcdctl_ lease grant "$ttl") || fail "lease grant: $granted"
    HOLDER_LEASE=$(awk '{print $2}' <<<"$granted")
    HOLDER_KEY="/conch/v1/elect/$office/$HOLDER_LEASE"
    etcdctl_ put --lease="$HOLDER_LEASE" "$HOLDER_KEY" "$json" >/dev/null ||
      fail "put $HOLDER_KEY"
    HOLDER_REV=$(etcdctl_ get "$HOLDER_KEY" -w json | jq '.kvs[0].create_revision')
  else
    _holders=$((_holders + 1))
    out=$T/zk_holder$_holders
    # Not through zkctl: $! must be the tool's own pid, for holder_end.
    "$ZK_TOOL" "$ZK_HOSTS" hold "/conch/v1/elect/$office/" "$json" "$ttl" \
      </dev/null >"$out.out" 2>"$out.err" &
    pid=$!
    BG_PIDS+=("$pid")
    harness_track_pid "$pid"
    wait_for "[[ -s $out.out ]]" 20 || fail "conch_zk_tool hold: $(cat "$out.err")"
    HOLDER_KEY=$(<"$out.out")
    HOLDER_LEASE=$(lease_hex_of "$HOLDER_KEY")
    _zk_holders[$HOLDER_LEASE]=$pid
    HOLDER_REV=$(zkctl stat "$HOLDER_KEY" | sed -n 's/^czxid=\([0-9]*\) .*/\1/p')
  fi
  [[ $HOLDER_REV =~ ^[1-9][0-9]*$ ]] || fail "create revision of $HOLDER_KEY: [$HOLDER_REV]"
}

# holder_end LEASE_HEX: ends the lease or session of a holder put_holder
# wrote (etcd: revokes the lease; ZooKeeper: closes the session), which
# deletes its key at once. Fails if that did not succeed.
holder_end() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    etcdctl_ lease revoke "$1" >/dev/null
    return
  fi
  local pid=${_zk_holders[$1]:-}
  [[ -n $pid ]] || return 1
  kill -TERM "$pid" || return 1
  wait "$pid"
}

# --- sessions: etcd leases, ZooKeeper sessions -------------------------------

# lease_ttl_line LEASE_HEX: etcdctl's one-line view of a lease, e.g.
# "lease 694d... granted with TTL(10s), remaining(9s)" or "... already
# expired". etcd only.
lease_ttl_line() {
  etcdctl_ lease timetolive "$1" 2>&1
}

# _zk_serving: the index of the member that tracks sessions (the leader,
# or the one standalone member).
_zk_serving() {
  if ((${#ZK_EPS[@]} == 1)); then echo 0; else zk_leader; fi
}

# _zk_dump SECTION: the lines of one section of the serving member's
# `dump` ("SessionTracker", "ephemeral nodes" or "Connections"); fails
# when the member does not answer.
_zk_dump() {
  local member answer
  member=$(_zk_serving) || return 1
  answer=$(zk_4lw "$member" dump) || return 1
  [[ $answer == *"SessionTracker dump:"* ]] || return 1
  awk -v want="$1 dump:" '/ dump:$/ {on = ($0 == want); next} on' <<<"$answer"
}

# lease_ttl_ms LEASE_HEX: the TTL the store granted the lease, or the
# session timeout it negotiated, in ms; nothing when it is gone.
lease_ttl_ms() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    [[ $(lease_ttl_line "$1") =~ granted\ with\ TTL\(([0-9]+)s\) ]] &&
      echo $((BASH_REMATCH[1] * 1000))
    return 0
  fi
  # `cons` on the member the session is connected to shows its timeout.
  local i answer
  for i in "${!ZK_PIDS[@]}"; do
    [[ -n ${ZK_PIDS[i]} ]] || continue
    answer=$(zk_4lw "$i" cons) || continue
    if [[ $answer =~ sid=0x$1,[^\)]*,to=([0-9]+), ]]; then
      echo "${BASH_REMATCH[1]}"
      return 0
    fi
  done
}

# lease_alive LEASE_HEX: true while the lease or session exists with time
# left.
lease_alive() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    [[ $(lease_ttl_line "$1") =~ remaining\([1-9][0-9]*s\) ]]
  else
    local sessions
    sessions=$(_zk_dump SessionTracker) || return 1
    grep -qx $'\t'"0x$1" <<<"$sessions"
  fi
}

# lease_gone LEASE_HEX: true once the store says the lease or session no
# longer exists (revoked, closed or expired); false also when the store
# cannot tell.
lease_gone() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    [[ $(lease_ttl_line "$1") =~ already\ expired|not\ found ]]
  else
    local sessions
    sessions=$(_zk_dump SessionTracker) || return 1
    ! grep -qx $'\t'"0x$1" <<<"$sessions"
  fi
}

# lease_keys LEASE_HEX: the keys bound to the lease or session (its
# ephemeral nodes), one a line.
lease_keys() {
  if [[ $CONCH_TEST_STORE == etcd ]]; then
    etcdctl_ lease timetolive "$1" --keys | grep -o '/conch/[^] ,)]*'
  else
    _zk_dump "ephemeral nodes" |
      awk -v id="0x$1:" '/^0x/ {on = ($0 == id); next} on && /^\t/ {sub(/^\t/, ""); print}'
  fi
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
  _entries "/conch/v1/sema/$1/"
}

# sema_keys NAME: the claims' keys, one a line, in creation order.
sema_keys() {
  keys_under "/conch/v1/sema/$1/"
}

# sema_count NAME: how many claims semaphore NAME has.
sema_count() {
  local keys
  keys=$(sema_keys "$1") || return 1
  if [[ -z $keys ]]; then echo 0; else wc -l <<<"$keys"; fi
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
