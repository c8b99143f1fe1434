#!/usr/bin/env bash
# `conch elect` on ZooKeeper, side by side with the store's floor (a program
# of ours over the raw ZooKeeper C client, bench/zk_floor.c) and with
# `conch elect` on etcd, against one throwaway standalone ZooKeeper
# (tests/servers/zk.sh) and one throwaway single-member etcd
# (scripts/lib/etcd.sh), both on 127.0.0.1.
#
# usage: bench/elect_zk.sh [--out FILE] [--quick]
#   --out FILE   also write the tables and every raw sample to FILE (markdown)
#   --quick      far fewer repetitions (a smoke test of the harness; the
#                figures it prints are not meant to be quoted)
# env:
#   CONCH_BIN    conch binary to measure (default: build/conch of this repo)
#   HAND_SETTLE  seconds a "settled" waiter queues before the release (0.3)
#
# Measures, in one run:
#   a) wall time of an uncontended `conch elect b -- true` on ZooKeeper, of
#      the floor (`zk_floor floor`: open a session with the same timeout as
#      conch's --ttl, create one ephemeral sequential node under an existing
#      parent, close), of the floor plus the rest of conch's work there
#      (`zk_floor elect`: also list the parent's children and run `true`)
#      and of `conch elect b -- true` on etcd, the four in turn (hyperfine
#      -N, else a timing loop); target: conch on ZooKeeper within 1.3x the
#      floor
#   b) peak RSS (/usr/bin/time -f %M) of the same four, median of several
#   c) handover latency, holder's child exits -> queued waiter's child
#      starts, on ZooKeeper and on etcd, for a fresh and a settled waiter
#      (as bench/elect_vs_etcdctl.sh part c), and alongside it, in the same
#      rounds, the reference "one write + one spawn": the round trip of one
#      ZooKeeper delete over an open session after the same idle time
#      (`zk_floor write`), and one posix_spawn of the waiter's command up to
#      its first instruction (`zk_floor spawn`); target: the ZooKeeper
#      handover within 1 ms of that sum (medians)
#   d) Private_Dirty of the wrapper while its child (sleep 30) runs, on
#      ZooKeeper and on etcd
# Every measurement alternates what it compares run by run (A B C A B C ...),
# so drift during the run cannot bias a ratio.
# Exits non-zero if a check the figures rely on fails: each tool runs `true`
# and leaves no node or key; the floor's parent exists before the timed
# runs; no waiter runs while the holder holds; in d) the sampled wrapper is
# the child's parent. The targets are reported, and do not change the exit
# status.
# The child commands here and in bench/lib.sh are single-quoted on purpose:
# they expand in the child.
# shellcheck disable=SC2016
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# zk.sh brings tests/servers/etcd.sh's harness (exit steps, watchdog) with
# it; scripts/lib/etcd.sh comes second so that etcd_start is the bench one,
# the etcd of bench/elect_vs_etcdctl.sh.
# shellcheck source=tests/servers/zk.sh
source "$ROOT/tests/servers/zk.sh"
# shellcheck source=scripts/lib/etcd.sh
source "$ROOT/scripts/lib/etcd.sh"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

COMMAND="bench/elect_zk.sh $*"
OUT=""
WARMUP=5 RUNS=100 RSS_RUNS=20 HAND_RUNS=20 DIRTY_RUNS=5
HAND_SETTLE=${HAND_SETTLE:-0.3}
TTL_MS=10000  # conch's default --ttl (10s), asked by the floor too
while (($#)); do
  case $1 in
    --out) [[ $# -ge 2 ]] || usage_error "--out needs a file"
           OUT=$2; shift 2 ;;
    --out=*) OUT=${1#--out=}; shift ;;
    --quick) WARMUP=2 RUNS=10 RSS_RUNS=5 HAND_RUNS=5 DIRTY_RUNS=3; shift ;;
    -h|--help) bench_usage '^# The child commands' ;;
    *) usage_error "unknown argument: $1 (try --help)" ;;
  esac
done
OUT=$(abs_path "$OUT")

# Tools in the order each round runs them.
TOOLS=(zk floor full etcd)
WRAPPERS=(zk etcd)

# --- tools ----------------------------------------------------------------
find_conch_bin
bench_require_tools etcd etcdctl python3
bench_require_wrapper_tools
bench_require_zk_client
export ETCDCTL_API=3
STARTED=$SECONDS

# --- scratch dir, servers, cleanup -----------------------------------------
bench_workdir conch-zk-bench stop_recorded_children
bench_zk_start
log "ZooKeeper ${ZK_VERSION%%-*} (standalone) on $ZK_HOSTS (pid ${ZK_PIDS[0]}), data in $ZK_DIR"
bench_etcd_start
log "etcd $(etcd --version | awk '/etcd Version/{print $3}') listening on $EP (pid $ETCD_PID)"

# The floor and its helpers, built against the system's client library.
build_zk_floor
FLOOR_PARENT=/bench/floor

TRUE_BIN=$(type -P true)  # what conch finds for `true` on PATH
# What bench/lib.sh's wrapper measurements ask of the script.
# wrapper_argv TOOL NAME CMD...: the argv of tool TOOL (zk, floor, full or
# etcd) for office NAME; the floors ignore NAME and CMD (full runs `true`).
# shellcheck disable=SC2034  # ARGV: read by bench/lib.sh
wrapper_argv() {
  local tool=$1 name=$2; shift 2
  case $tool in
    zk)    ARGV=("$CONCH_BIN" elect "$name" --endpoints "$ZK_URL" -- "$@") ;;
    etcd)  ARGV=("$CONCH_BIN" elect "$name" --endpoints "$EP" -- "$@") ;;
    floor) ARGV=("$FLOOR" floor "$ZK_HOSTS" "$FLOOR_PARENT" "$TTL_MS") ;;
    full)  ARGV=("$FLOOR" elect "$ZK_HOSTS" "$FLOOR_PARENT" "$TTL_MS" "$TRUE_BIN") ;;
  esac
}
# count_left TOOL NAME: how many contenders tool TOOL left for office NAME.
count_left() {
  case $1 in
    zk)    zk_children "/conch/v1/elect/$2" ;;
    etcd)  count_keys "/conch/v1/elect/$2/" ;;
    floor|full) zk_children "$FLOOR_PARENT" ;;
  esac
}

RAW=$WORK/raw
mkdir -p "$RAW"
# Broken checks, reported after the tables; any makes the script exit 1.
FAILURES=()

# The floor's parent, made once, outside the timed part. conch's office
# container is made by conch's own first run below (the sanity run), so
# both start the timed runs with their parent in place.
"$FLOOR" mkparent "$ZK_HOSTS" "$FLOOR_PARENT" || die "cannot create $FLOOR_PARENT"
# Sanity: each tool runs (`true`) and exits 0, leaving no node or key.
sanity_true "${TOOLS[@]}"
log "sanity: every tool runs and leaves no node or key behind"

# --- a) wall time, uncontended --------------------------------------------
log "a) wall time of an uncontended run, ${TOOLS[*]} in turn: $RUNS rounds after $WARMUP untimed"
# Every run after the same idle time, in rotated order: a ZooKeeper client
# run that follows another one closely finds the server awake and is some
# ms faster, which a fixed order would hand to the same tool every round.
WALL_PREPARE="sleep 0.05" WALL_ROTATE=1
wall_rounds "$RUNS" "$WARMUP" "${TOOLS[@]}"
[[ $(zk_children "$FLOOR_PARENT") -eq 0 ]] || die "the floor left nodes under $FLOOR_PARENT"

# --- b) peak RSS ------------------------------------------------------------
log "b) peak RSS, /usr/bin/time -f %M, ${TOOLS[*]} in turn: $RSS_RUNS rounds"
rss_rounds "$RSS_RUNS" "${TOOLS[@]}"

# --- c) handover latency, and the reference write + spawn ---------------------
# As bench/elect_vs_etcdctl.sh part c: the holder's child (HAND_HOLDER_SH)
# says it runs, waits for the file `go`, then becomes `stamp`, which writes
# the time and exits at once; the waiter's command is `stamp` itself.
# "fresh" touches go as soon as the waiter's node (key) is seen, "settled"
# HAND_SETTLE s later. One handover: lib.sh's hand_round.
build_stamp
# ref_round SERIES I: the reference, one ZooKeeper write after the series'
# idle time and one spawn of the waiter's command; appends to
# $RAW/ref_write_SERIES, ref_spawn_SERIES (to the first instruction) and
# ref_true_SERIES (posix_spawn of /bin/true to reaped, for comparison).
ref_round() {
  local series=$1 i=$2 settle=0 d out
  [[ $series == fresh ]] || settle=$HAND_SETTLE
  d=$WORK/ref/$series/$i
  mkdir -p "$d"
  "$FLOOR" write "$ZK_HOSTS" "$FLOOR_PARENT" "$TTL_MS" "$settle" >>"$RAW/ref_write_$series" \
    || die "the reference write failed"
  out=$("$FLOOR" spawn "$STAMP" "$d/t_spawn") || die "the reference spawn failed"
  echo "${out%% *}" >>"$RAW/ref_spawn_$series"
  "$FLOOR" run /bin/true >>"$RAW/ref_true_$series" || die "the reference /bin/true failed"
}
log "c) handover latency (holder's child exits -> waiter's child starts), ${WRAPPERS[*]} in turn, and the reference write + spawn: $HAND_RUNS rounds, each a fresh and a settled series"
for ((i = 1; i <= HAND_RUNS; i++)); do
  for series in fresh settled; do
    for tool in "${WRAPPERS[@]}"; do hand_round "$series" "$tool" "$i"; done
    ref_round "$series" "$i"
  done
done
BG_PIDS=()

# --- d) private dirty memory of the wrapper while its child runs ------------
# lib.sh's dirty_rounds; it checks that the sampled pid is the child's
# parent.
log "d) Private_Dirty of the wrapper while its child (sleep 30) runs, ${WRAPPERS[*]} in turn: $DIRTY_RUNS rounds"
dirty_rounds "$DIRTY_RUNS" "${WRAPPERS[@]}"

# --- report ------------------------------------------------------------------
TABLE=$WORK/table.md
python3 "$ROOT/bench/elect_zk_report.py" --raw "$RAW" --table "$TABLE" \
  --runs "$RUNS" --rss-runs "$RSS_RUNS" --hand-runs "$HAND_RUNS" --dirty-runs "$DIRTY_RUNS" \
  --hand-settle "$HAND_SETTLE" || die "the report failed"
ELAPSED=$((SECONDS - STARTED))
JAVA_VERSION=$("$ZK_JAVA_BIN" -version 2>&1 | head -n 1)
if [[ -n $OUT ]]; then
  {
    bench_out_head "conch elect on ZooKeeper: raw results" \
      "CONCH_BIN=$CONCH_BIN, HAND_SETTLE=$HAND_SETTLE; the run took ${ELAPSED} s"
    machine_info "$CONCH_BIN"
    echo "- ZooKeeper $ZK_VERSION, standalone, on $ZK_HOSTS (tests/servers/zk.sh: tickTime 500 ms, forceSync=no, container check every 60 s, the server's default); $JAVA_VERSION"
    echo "- ZooKeeper C client: $(dpkg-query -W -f='${Package} ${Version}' libzookeeper-mt2 2>/dev/null || echo '?')"
    echo "- etcd on $EP, data on disk (fsync), ETCDCTL_API=3"
    echo "- session timeout / TTL: ${TTL_MS} ms for all three (conch's default --ttl)"
    echo "- wall-time method: $WALL_METHOD"
    bench_out_results "$TABLE" "$RAW/samples.md" "${FAILURES[@]}"
  } >"$OUT"
fi

bench_summary "conch elect on ZooKeeper" "$TABLE" \
  "ZooKeeper ${ZK_VERSION%%-*} (standalone) on $ZK_HOSTS, etcd on $EP, $(nproc) CPUs, Linux $(uname -r); conch: $CONCH_BIN; repository at $(repo_state)" \
  "wall time: $WALL_METHOD; the run took ${ELAPSED} s"
[[ -z $OUT ]] || { echo; echo "raw results written to $OUT"; }
exit_on_failures
