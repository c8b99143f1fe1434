#!/usr/bin/env bash
# `conch sema` handoffs: throughput of a drained queue, and store requests
# per handoff for a short and a long queue, against a throwaway
# single-member etcd on 127.0.0.1.
#
# usage: bench/sema_handoff.sh [--out FILE] [--quick] [--keep DIR]
#   --out FILE   also write the tables and every raw sample to FILE (markdown)
#   --quick      a smoke test of the harness: fewer waiters and rounds (the
#                figures it prints are not meant to be quoted)
#   --keep DIR   copy the runs' files (stamps, queues, metrics) to DIR, so
#                that `bench/sema_report.py DIR TABLE` can re-check them
# env:
#   CONCH_BIN    conch binary to measure (default: build/conch of this repo)
#   SETTLE       seconds etcd's counters must stay unchanged before a
#                release, so that every waiter has queued and watches (0.5)
#
# Measures, in one run:
#   1) handoff throughput: N=100 waiters (command: `stamp`, a static helper
#      that writes CLOCK_REALTIME) queued behind a gate of M holders on
#      --max M (M = 1 and 4, --ttl 10s, 3 rounds each, a fresh semaphore
#      name per round, the two Ms in turn: M=1, M=4, M=1, ...); the gate is
#      released and the time from the first gate holder's command exit to
#      the last waiter's command start is taken; throughput = N / that time
#   2) store requests per handoff: W=10 and W=500 waiters on --max 1
#      (--ttl 30s) behind one gate holder; etcd's own gRPC counters (metrics
#      endpoint) are read before the release and after every waiter exited
# Every wrapper runs under timeout(1), every wait is bounded, and every
# process the script starts is stopped on exit.
# Exits 1 if a must is broken (bench/sema_report.py lists them), among them:
# on --max 1 the waiters' commands must start in queue order, and requests
# per handoff must not grow with the queue.
# The child commands below are single-quoted on purpose: they expand in the child.
# shellcheck disable=SC2016
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/etcd.sh
source "$ROOT/scripts/lib/etcd.sh"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

COMMAND="bench/sema_handoff.sh $*"
OUT="" KEEP=""
TP_WAITERS=100 TP_MAXES="1 4" TP_ROUNDS=3 TP_BATCH=10 TP_TTL=10s
REQ_WAITERS="10 500" REQ_BATCH=50 REQ_TTL=30s
SETTLE=${SETTLE:-0.5}
while (($#)); do
  case $1 in
    --out) [[ $# -ge 2 ]] || usage_error "--out needs a file"
           OUT=$2; shift 2 ;;
    --out=*) OUT=${1#--out=}; shift ;;
    --quick) TP_WAITERS=20 TP_ROUNDS=1 REQ_WAITERS="10 60"; shift ;;
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
bench_require_tools etcd etcdctl python3 timeout cc
export ETCDCTL_API=3
STARTED=$SECONDS

# --- scratch dir, etcd, cleanup -------------------------------------------
bench_workdir conch-sema-bench

# etcd takes its flags from ETCD_* variables too; this adds a metrics
# listener to the throwaway member of scripts/lib/etcd.sh.
METRICS_PORT=$(free_ports 1)
export ETCD_LISTEN_METRICS_URLS="http://127.0.0.1:$METRICS_PORT"
METRICS_URL="$ETCD_LISTEN_METRICS_URLS/metrics"
bench_etcd_start
unset ETCD_LISTEN_METRICS_URLS
ETCD_VERSION=$(etcd --version | awk '/etcd Version/{print $3}')
log "etcd $ETCD_VERSION listening on $EP (pid $ETCD_PID), metrics on $METRICS_URL"

# Saves etcd's /metrics text to $1 and prints "<unary requests handled>
# <Watch messages received>".
curl_metrics() { timeout 10 python3 "$ROOT/bench/etcd_metrics.py" "$METRICS_URL" "$1"; }
curl_metrics "$WORK/metrics.check" >/dev/null || die "cannot read etcd's metrics at $METRICS_URL"
grep -q '^grpc_server_handled_total{' "$WORK/metrics.check" \
  || die "etcd's metrics have no grpc_server_handled_total"
# Saves a snapshot to $1 once etcd's unary and Watch counters stood still
# for SETTLE seconds (every waiter has queued, read and opened its watch).
quiet_snapshot() { wait_settled "etcd's request counters" curl_metrics "$1"; }

# The stamp helper: writes CLOCK_REALTIME in ns to the file $1 and exits.
build_stamp

# Sanity: a lone claim runs `true` and leaves no key behind.
if ! out=$(timeout 20 "$CONCH_BIN" sema sanity --max 1 --endpoints "$EP" -- true 2>&1); then
  die "'conch sema sanity --max 1 -- true' failed: ${out:-<no output>}"
fi
[[ $(count_keys /conch/v1/sema/sanity/) -eq 0 ]] || die "conch sema left a key behind"

# A gate holder's child says it runs (held_K), waits (at most ~2 min) for
# the file `go`, then becomes `stamp`, which writes gate_exit_K and exits.
GATE_SH='echo $$ > "$1/held_$3"; n=0
while [ ! -e "$1/go" ]; do n=$((n+1)); [ $n -lt 12000 ] || exit 99; sleep 0.01; done
exec "$2" "$1/gate_exit_$3"'
LIMIT=300  # seconds any one wrapper may live (timeout(1))

# run_queue DIR NAME MAX GATES WAITERS BATCH TTL METRICS(0/1)
# Queues WAITERS claims behind GATES gate holders on semaphore NAME --max
# MAX, releases the gate and waits for everybody. Leaves in DIR: held_K,
# gate_exit_K, w_I (stamps), queue.json (the keys before the release),
# rcs ("gate K RC" / "w I RC" lines), and with METRICS=1
# metrics_before/metrics_after.
run_queue() {
  local d=$1 name=$2 max=$3 gates=$4 n=$5 batch=$6 ttl=$7 metrics=$8
  local prefix="/conch/v1/sema/$name/$max/" k pid
  local -a gpids=()
  mkdir -p "$d"
  local conch=("$CONCH_BIN" sema "$name" --max "$max" --ttl "$ttl" --endpoints "$EP" --)
  for ((k = 1; k <= gates; k++)); do
    timeout "$LIMIT" "${conch[@]}" sh -c "$GATE_SH" sh "$d" "$STAMP" "$k" >"$d/gate_$k.out" 2>&1 &
    pid=$!; BG_PIDS+=("$pid"); gpids+=("$pid")
    wait_file "$d/held_$k" 15 || die "$name: gate holder $k did not get a unit within 15 s ($(cat "$d/gate_$k.out"))"
  done
  queue_waiters "$d" "$n" "$batch" "$gates" conch count_keys "$prefix"
  etcdctl --endpoints "$EP" get --prefix -w json "$prefix" >"$d/queue.json"
  if ((metrics)); then quiet_snapshot "$d/metrics_before"; else quiet_snapshot "$d/metrics_settled"; fi
  count_stamps "$d"
  ((STAMPED == 0)) || die "$name: a waiter ran while the gate held every unit"
  touch "$d/go"
  # Wait for every waiter's stamp without calling etcd (no requests of our
  # own between the two snapshots), then reap everybody.
  if ! wait_stamps "$d" "$n" 120; then
    log "$name: only $STAMPED of $n waiters ran within 120 s of the release; holders and waiters now:"
    timeout 10 "$CONCH_BIN" sema "$name" --max "$max" --who --endpoints "$EP" >&2 || true
    die "$name: waiters did not drain"
  fi
  : >"$d/rcs"
  reap_into "$d/rcs" gate "${gpids[@]}"
  reap_into "$d/rcs" w "${WAITER_PIDS[@]}"
  BG_PIDS=()
  if ((metrics)); then quiet_snapshot "$d/metrics_after"; fi
  wait_keys "$prefix" 0 15 || die "$name: $(count_keys "$prefix") key(s) left under $prefix after every claim exited"
}

RUNS=$WORK/runs
# --- 1) handoff throughput ----------------------------------------------------
# The --max values take turns round by round, so drift cannot favour one.
for ((r = 1; r <= TP_ROUNDS; r++)); do
  for max in $TP_MAXES; do
    log "1) throughput, round $r of $TP_ROUNDS, --max $max: $TP_WAITERS waiters behind $max gate holder(s)"
    run_queue "$RUNS/tp_m${max}_r$r" "tp-m$max-r$r" "$max" "$max" "$TP_WAITERS" "$TP_BATCH" "$TP_TTL" 0
  done
done

# --- 2) store requests per handoff ----------------------------------------------
for w in $REQ_WAITERS; do
  log "2) store requests, --max 1: $w waiters behind 1 gate holder"
  run_queue "$RUNS/req_w$w" "req-w$w" 1 1 "$w" "$REQ_BATCH" "$REQ_TTL" 1
done

# --- report ------------------------------------------------------------------
python3 - "$RUNS/params.json" <<PY
import json, sys
json.dump({"tp_waiters": $TP_WAITERS, "tp_maxes": [${TP_MAXES// /, }], "tp_rounds": $TP_ROUNDS,
           "tp_ttl": "$TP_TTL", "req_waiters": [${REQ_WAITERS// /, }], "req_ttl": "$REQ_TTL",
           "settle": "$SETTLE"}, open(sys.argv[1], "w"))
PY
TABLE=$WORK/table.md
report_runs sema_report.py "$RUNS" "$TABLE"
ELAPSED=$((SECONDS - STARTED))
if [[ -n $OUT ]]; then
  {
    bench_out_head "conch sema handoffs: raw results" \
      "CONCH_BIN=$CONCH_BIN, SETTLE=$SETTLE; the run took ${ELAPSED} s"
    machine_info "$CONCH_BIN"
    echo "- etcd on $EP; settle: etcd's unary and Watch counters unchanged for $SETTLE s before each release"
    bench_out_results "$TABLE" "$RUNS/samples.md"
  } >"$OUT"
fi

bench_summary "conch sema: handoffs" "$TABLE" \
  "etcd $ETCD_VERSION on $EP, $(nproc) CPUs, Linux $(uname -r); conch: $CONCH_BIN; repository at $(repo_state); the run took ${ELAPSED} s"
[[ -z $OUT ]] || { echo; echo "raw results written to $OUT"; }
exit "$REPORT_RC"
