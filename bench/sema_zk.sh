#!/usr/bin/env bash
# `conch sema` on ZooKeeper: store requests per handoff for a short and a
# long queue, counted on the server's side, against a throwaway standalone
# ZooKeeper on 127.0.0.1 (tests/servers/zk.sh).
#
# usage: bench/sema_zk.sh [--out FILE] [--quick] [--keep DIR]
#   --out FILE   also write the table and every raw sample to FILE (markdown)
#   --quick      a smoke test of the harness: shorter queues and idle window
#                (the figures it prints are not meant to be quoted)
#   --keep DIR   copy the runs' files (stamps, queues, mntr snapshots) to
#                DIR, so that `bench/sema_zk_report.py DIR TABLE` can
#                re-check them
# env:
#   CONCH_BIN    conch binary to measure (default: build/conch of this repo)
#   SETTLE       seconds the server's write and read counters for /conch
#                must stay unchanged before the idle window, so that every
#                waiter has queued and armed its watches (0.5)
#
# For W = 10 and W = 100 waiters (`stamp`, bench/lib.sh's helper) queued on
# --max 1 behind one gate holder, all with --ttl 120s (the most the server
# grants), one run each, in that order:
#   1. queue the gate holder, then the waiters in batches of 10, until the
#      semaphore's node has W+1 children; read the queue (names and data);
#      wait until the counters settle (SETTLE);
#   2. mntr snapshot A; IDLE seconds with the queue standing still (every
#      session connected, nobody releasing); snapshot B. The heartbeats of
#      W+1 sessions (a sync every ttl/6 = 20 s each; the client's own ping
#      only after ttl/3 without a request, which those syncs prevent) give
#      the idle rate, (B - A - 1) / IDLE packets per second;
#   3. release the gate (touch go); wait for every waiter's stamp, then for
#      every wrapper to exit; snapshot C.
# Between A and C the script sends ZooKeeper nothing but the mntr of
# snapshot B (waits are on files and pids), and each mntr connection counts
# one packet of its own, which is taken off. Store requests of the drain =
# zk_packets_received(C) - zk_packets_received(B) - 1 - idle rate x (t_C -
# t_B); the last term is an upper bound of the heartbeats in the drain,
# since sessions end one by one during it. A handoff is one waiter
# admitted: per handoff = requests / W. Also reported: the raw delta,
# writes under /conch (the server's zk_cnt_conch_write_per_namespace), and
# the drain time.
# Exits 1 (sema_zk_report.py names each) if a must is broken: every wrapper
# exits 0; the queue read before the release holds every waiter and no
# waiter ran before it; waiters start in queue order; herd-free: requests
# per handoff at the longer queue under twice those at the shorter (a herd
# would multiply them by about W/2). The target (requests per handoff do
# not grow with W) is reported, not enforced.
# The child commands below are single-quoted on purpose: they expand in the child.
# shellcheck disable=SC2016
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/servers/zk.sh
source "$ROOT/tests/servers/zk.sh"
# shellcheck source=scripts/lib/etcd.sh
source "$ROOT/scripts/lib/etcd.sh"  # etcd_stop, which bench_cleanup calls (no etcd runs)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

COMMAND="bench/sema_zk.sh $*"
OUT="" KEEP=""
WAITERS="10 100" BATCH=10 TTL=120s IDLE=5
SETTLE=${SETTLE:-0.5}
while (($#)); do
  case $1 in
    --out) [[ $# -ge 2 ]] || usage_error "--out needs a file"
           OUT=$2; shift 2 ;;
    --out=*) OUT=${1#--out=}; shift ;;
    --quick) WAITERS="10 30" IDLE=2; shift ;;
    --keep) [[ $# -ge 2 ]] || usage_error "--keep needs a directory"
            KEEP=$2; shift 2 ;;
    -h|--help) bench_usage '^# The child commands' ;;
    *) usage_error "unknown argument: $1 (try --help)" ;;
  esac
done
OUT=$(abs_path "$OUT")
KEEP=$(abs_path "$KEEP")

# --- tools ----------------------------------------------------------------
find_conch_bin
bench_require_tools python3 timeout cc
bench_require_zk_client
STARTED=$SECONDS

# --- scratch dir, ZooKeeper, cleanup -----------------------------------------
bench_workdir conch-sema-zk
bench_zk_start
log "ZooKeeper ${ZK_VERSION%%-*} (standalone) on $ZK_HOSTS (pid ${ZK_PIDS[0]})"
build_zk_floor  # for zk_children and `zk_floor ls`
build_stamp

# snapshot FILE: saves the server's mntr answer to FILE and the time (ns)
# to FILE.t.
snapshot() {
  date +%s%N >"$1.t"
  zk_4lw 0 mntr >"$1" || die "no answer to mntr"
  grep -q '^zk_packets_received' "$1" || die "mntr gave no zk_packets_received"
}
mntr_value() { awk -v k="$2" '$1 == k {print $2}' "$1"; }
# The counters that stand still once every waiter has queued and armed its
# watches (heartbeats are syncs on "/", outside /conch).
# shellcheck disable=SC2317  # run by wait_settled
conch_counters() {
  zk_4lw 0 mntr | awk '$1 ~ /^zk_cnt_conch_(read|write)_per_namespace$/ {printf "%s ", $2}'
}

# Check: with no client connected, each mntr adds exactly one packet (its
# own), which the figures take off.
snapshot "$WORK/self0"
snapshot "$WORK/self1"
snapshot "$WORK/self2"
for k in 1 2; do
  d=$(($(mntr_value "$WORK/self$k" zk_packets_received) - $(mntr_value "$WORK/self$((k - 1))" zk_packets_received)))
  [[ $d -eq 1 ]] || die "an mntr with no client connected added $d packets, not 1: the subtraction below would be wrong"
done

# Sanity: a lone claim runs `true` and leaves no node behind.
if ! out=$(timeout 20 "$CONCH_BIN" sema sanity --max 1 --endpoints "$ZK_URL" -- true 2>&1); then
  die "'conch sema sanity --max 1 -- true' failed: ${out:-<no output>}"
fi
[[ $(zk_children /conch/v1/sema/sanity/1) -eq 0 ]] || die "conch sema left a node behind"

# The gate holder's child says it runs (held), waits (at most ~2 min) for
# the file `go`, then becomes `stamp`, which writes gate_exit and exits.
GATE_SH='echo $$ > "$1/held"; n=0
while [ ! -e "$1/go" ]; do n=$((n+1)); [ $n -lt 12000 ] || exit 99; sleep 0.01; done
exec "$2" "$1/gate_exit"'
LIMIT=300  # seconds any one wrapper may live (timeout(1))

# run_queue DIR NAME W: one measured drain of W waiters; see the head
# comment. Leaves in DIR: held, gate_exit, w_I (stamps), queue (the
# children before the release: "<name> <data>" lines), rcs, mntr_A/B/C
# (with .t), t_exited (when the last wrapper had exited, ns).
run_queue() {
  local d=$1 name=$2 n=$3 node="/conch/v1/sema/$2/1"
  local gpid
  mkdir -p "$d"
  local conch=("$CONCH_BIN" sema "$name" --max 1 --ttl "$TTL" --endpoints "$ZK_URL" --)
  timeout "$LIMIT" "${conch[@]}" sh -c "$GATE_SH" sh "$d" "$STAMP" >"$d/gate.out" 2>&1 &
  gpid=$!; BG_PIDS+=("$gpid")
  wait_file "$d/held" 15 || die "$name: the gate holder did not get the unit within 15 s ($(cat "$d/gate.out"))"
  queue_waiters "$d" "$n" "$BATCH" 1 conch zk_children "$node"
  "$FLOOR" ls "$ZK_HOSTS" "$node" >"$d/queue" || die "$name: cannot list $node"
  wait_settled "the server's /conch counters" conch_counters
  count_stamps "$d"
  ((STAMPED == 0)) || die "$name: a waiter ran while the gate held the unit"
  snapshot "$d/mntr_A"
  sleep "$IDLE"
  snapshot "$d/mntr_B"
  touch "$d/go"
  # Wait for every stamp, then every wrapper, without calling ZooKeeper.
  wait_stamps "$d" "$n" 120 || die "$name: only $STAMPED of $n waiters ran within 120 s of the release"
  : >"$d/rcs"
  reap_into "$d/rcs" gate "$gpid"
  reap_into "$d/rcs" w "${WAITER_PIDS[@]}"
  date +%s%N >"$d/t_exited"
  snapshot "$d/mntr_C"
  BG_PIDS=()
  [[ $(zk_children "$node") -eq 0 ]] || die "$name: children of $node left after every claim exited"
}

RUNS=$WORK/runs
for w in $WAITERS; do
  log "$w waiters behind 1 gate holder (--max 1, --ttl $TTL): queue, settle, ${IDLE} s idle, release"
  run_queue "$RUNS/w$w" "req-w$w" "$w"
done

# --- report ------------------------------------------------------------------
python3 - "$RUNS/params.json" <<PY
import json, sys
json.dump({"waiters": [${WAITERS// /, }], "ttl": "$TTL", "idle_s": $IDLE, "settle": "$SETTLE"},
          open(sys.argv[1], "w"))
PY
TABLE=$WORK/table.md
report_runs sema_zk_report.py "$RUNS" "$TABLE"
ELAPSED=$((SECONDS - STARTED))
if [[ -n $OUT ]]; then
  {
    bench_out_head "conch sema on ZooKeeper: requests per handoff, raw results" \
      "CONCH_BIN=$CONCH_BIN, SETTLE=$SETTLE; the run took ${ELAPSED} s"
    machine_info "$CONCH_BIN"
    echo "- ZooKeeper $ZK_VERSION, standalone, on $ZK_HOSTS (tests/servers/zk.sh: tickTime 500 ms, forceSync=no)"
    bench_out_results "$TABLE" "$RUNS/samples.md"
  } >"$OUT"
fi
bench_summary "conch sema on ZooKeeper: requests per handoff" "$TABLE" \
  "ZooKeeper ${ZK_VERSION%%-*} (standalone) on $ZK_HOSTS, $(nproc) CPUs, Linux $(uname -r); conch: $CONCH_BIN; repository at $(repo_state); the run took ${ELAPSED} s"
[[ -z $OUT ]] || { echo; echo "raw results written to $OUT"; }
exit "$REPORT_RC"
