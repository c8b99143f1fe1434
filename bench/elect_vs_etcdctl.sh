#!/usr/bin/env bash
# Side-by-side benchmark: `conch elect` versus `etcdctl lock` (etcd v3 API),
# both against the same throwaway single-member etcd on 127.0.0.1.
#
# usage: bench/elect_vs_etcdctl.sh [--out FILE] [--quick] [--label LABEL]
#                                  [--also-conch LABEL=BIN]...
#   --out FILE   also write the table and every raw sample to FILE (markdown)
#   --quick      far fewer repetitions (a smoke test of the harness; the
#                figures it prints are not meant to be quoted)
#   --also-conch LABEL=BIN
#                measure a second conch binary too, as one more column
#                (bench/static_vs_shared.sh uses it for the shared-gRPC build)
#   --label LABEL  call the CONCH_BIN column "conch elect (LABEL)"
# env:
#   CONCH_BIN    conch binary to measure (default: build/conch of this repo)
#   HAND_SETTLE  seconds a "settled" waiter queues before the release (0.3)
#
# Measures, in one run, for `conch elect b -- true` and `etcdctl lock b true`:
#   a) wall time of an uncontended run (hyperfine -N, else a timing loop)
#   b) peak RSS (/usr/bin/time -f %M), median of several runs
#   c) handover latency: holder's child exits -> queued waiter's child starts,
#      releasing the holder (1) as soon as the waiter's key is seen, as a
#      freshly queued waiter, and (2) HAND_SETTLE seconds (default 0.3) later,
#      as a waiter settled in the queue
#   d) Private_Dirty of the wrapper process while its child (sleep 30) runs
# Every measurement alternates the tools run by run (conch, etcdctl, conch,
# etcdctl, ...), so drift during the run cannot bias the ratio.
# Exits non-zero if a check the figures rely on fails: each tool runs `true`
# and leaves no key; no waiter runs while the holder holds; in d) the
# sampled wrapper is the child's parent. The targets are reported, and do
# not change the exit status.
# The child commands here and in bench/lib.sh are single-quoted on purpose:
# they expand in the child.
# shellcheck disable=SC2016
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/etcd.sh
source "$ROOT/scripts/lib/etcd.sh"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

COMMAND="bench/elect_vs_etcdctl.sh $*"
OUT=""
WARMUP=5 RUNS=100 RSS_RUNS=20 HAND_RUNS=20 DIRTY_RUNS=5
HAND_SETTLE=${HAND_SETTLE:-0.3}
# Tools in the order each round runs them; conch variants before etcdctl.
TOOLS=(conch)
declare -A TOOL_BIN=() TOOL_LABEL=([conch]="conch elect" [etcdctl]="etcdctl lock")
while (($#)); do
  case $1 in
    --out) [[ $# -ge 2 ]] || usage_error "--out needs a file"
           OUT=$2; shift 2 ;;
    --out=*) OUT=${1#--out=}; shift ;;
    --quick) WARMUP=2 RUNS=10 RSS_RUNS=5 HAND_RUNS=5 DIRTY_RUNS=3; shift ;;
    --also-conch)
      [[ $# -ge 2 && $2 =~ ^([a-z0-9][a-z0-9-]*)=(.+)$ ]] \
        || usage_error "--also-conch needs LABEL=BIN (LABEL: lower-case letters, digits, -)"
      label=${BASH_REMATCH[1]}
      [[ $label != conch && $label != etcdctl && -z ${TOOL_LABEL[$label]:-} ]] \
        || usage_error "--also-conch: label '$label' is taken"
      TOOLS+=("$label"); TOOL_BIN[$label]=${BASH_REMATCH[2]}
      TOOL_LABEL[$label]="conch elect ($label)"
      shift 2 ;;
    --label) [[ $# -ge 2 && $2 =~ ^[a-z0-9][a-z0-9-]*$ ]] \
               || usage_error "--label needs a LABEL (lower-case letters, digits, -)"
             TOOL_LABEL[conch]="conch elect ($2)"; shift 2 ;;
    -h|--help) bench_usage '^# The child commands' ;;
    *) usage_error "unknown argument: $1 (try --help)" ;;
  esac
done
TOOLS+=(etcdctl)
OUT=$(abs_path "$OUT")


# --- tools ----------------------------------------------------------------
find_conch_bin
TOOL_BIN[conch]=$CONCH_BIN
for tool in "${TOOLS[@]}"; do
  [[ $tool == etcdctl ]] && continue
  bin=$(abs_path "${TOOL_BIN[$tool]}")
  [[ -x $bin ]] || die "$tool: conch binary not found or not executable: $bin"
  TOOL_BIN[$tool]=$bin
done
bench_require_tools etcd etcdctl python3
bench_require_wrapper_tools
export ETCDCTL_API=3
STARTED=$SECONDS

# --- scratch dir, etcd, cleanup -------------------------------------------
# On exit, the children we recorded (sleep 30 etc.) are stopped first,
# then the wrappers.
bench_workdir conch-bench stop_recorded_children

bench_etcd_start
log "etcd $(etcd --version | awk '/etcd Version/{print $3}') listening on $EP (pid $ETCD_PID)"

# What bench/lib.sh's wrapper measurements ask of the script.
# wrapper_argv TOOL NAME CMD...: the argv of tool TOOL (a conch variant or
# etcdctl) for lock NAME, then the child command.
# shellcheck disable=SC2034  # ARGV: read by bench/lib.sh
wrapper_argv() {
  local tool=$1 name=$2; shift 2
  case $tool in
    etcdctl) ARGV=(etcdctl --endpoints "$EP" lock "$name" -- "$@") ;;
    *)       ARGV=("${TOOL_BIN[$tool]}" elect "$name" --endpoints "$EP" -- "$@") ;;
  esac
}
# count_left TOOL NAME: how many candidate keys tool TOOL has for NAME.
count_left() {
  case $1 in
    etcdctl) count_keys "$2/" ;;
    *)       count_keys "/conch/v1/elect/$2/" ;;
  esac
}

RAW=$WORK/raw
mkdir -p "$RAW"
# Broken checks, reported after the table; any makes the script exit 1.
FAILURES=()

# Sanity: each tool runs `true` under the lock and exits 0, leaving no key.
sanity_true "${TOOLS[@]}"
log "sanity: every tool runs 'true' under the lock and leaves no keys behind"

# --- a) wall time, uncontended --------------------------------------------
log "a) wall time of an uncontended run, ${TOOLS[*]} in turn: $RUNS rounds after $WARMUP untimed"
wall_rounds "$RUNS" "$WARMUP" "${TOOLS[@]}"

# --- b) peak RSS ------------------------------------------------------------
log "b) peak RSS, /usr/bin/time -f %M, ${TOOLS[*]} in turn: $RSS_RUNS rounds"
rss_rounds "$RSS_RUNS" "${TOOLS[@]}"

# --- c) handover latency ----------------------------------------------------
# Two series: "fresh" touches go as soon as the waiter's key is seen (the
# waiter may still be setting up its watch); "settled" waits HAND_SETTLE s
# first. etcd serves a watch that starts at a past revision from its
# "unsynced" group, which it catches up only every 100 ms, so the two differ.
# The holder's child (HAND_HOLDER_SH) says it runs, waits for the file `go`,
# then becomes `stamp`, which writes the time and exits at once. The
# waiter's command is `stamp` itself, so the figure is exit-to-exec with no
# shell or date(1) start-up on either side (both tools pay those equally,
# which would only blur the comparison). One handover: lib.sh's hand_round.
build_stamp
log "c) handover latency (holder's child exits -> waiter's child starts), ${TOOLS[*]} in turn: $HAND_RUNS rounds, each a fresh and a settled handover"
for ((i = 1; i <= HAND_RUNS; i++)); do
  for series in fresh settled; do
    for tool in "${TOOLS[@]}"; do hand_round "$series" "$tool" "$i"; done
  done
done
BG_PIDS=()

# --- d) private dirty memory of the wrapper while its child runs ------------
# lib.sh's dirty_rounds; it checks that the sampled pid is the child's
# parent.
log "d) Private_Dirty of the wrapper while its child (sleep 30) runs, ${TOOLS[*]} in turn: $DIRTY_RUNS rounds"
dirty_rounds "$DIRTY_RUNS" "${TOOLS[@]}"

# --- report ------------------------------------------------------------------
TABLE=$WORK/table.md
labels=()
for tool in "${TOOLS[@]}"; do labels+=("$tool=${TOOL_LABEL[$tool]}"); done
python3 "$ROOT/bench/elect_report.py" --raw "$RAW" --table "$TABLE" \
  --runs "$RUNS" --rss-runs "$RSS_RUNS" --hand-runs "$HAND_RUNS" --dirty-runs "$DIRTY_RUNS" \
  --hand-settle "$HAND_SETTLE" "${labels[@]}" || die "the report failed"
ELAPSED=$((SECONDS - STARTED))
if [[ -n $OUT ]]; then
  {
    bench_out_head "conch elect vs etcdctl lock: raw results" \
      "CONCH_BIN=$CONCH_BIN, HAND_SETTLE=$HAND_SETTLE; the run took ${ELAPSED} s"
    machine_info "$CONCH_BIN"
    for t in "${TOOLS[@]}"; do
      [[ $t == conch || $t == etcdctl ]] || echo "- conch ($t): ${TOOL_BIN[$t]} ($(ldd "${TOOL_BIN[$t]}" 2>/dev/null | grep -c .) ldd entries)"
    done
    echo "- etcd on $EP, ETCDCTL_API=3"
    echo "- wall-time method: $WALL_METHOD"
    bench_out_results "$TABLE" "$RAW/samples.md" "${FAILURES[@]}"
  } >"$OUT"
fi

about=("etcd on $EP, $(nproc) CPUs, Linux $(uname -r); conch: $CONCH_BIN; repository at $(repo_state)")
for t in "${TOOLS[@]}"; do
  [[ $t == conch || $t == etcdctl ]] || about+=("conch ($t): ${TOOL_BIN[$t]}")
done
about+=("wall time: $WALL_METHOD; the run took ${ELAPSED} s")
bench_summary "conch elect vs etcdctl lock" "$TABLE" "${about[@]}"
[[ -z $OUT ]] || { echo; echo "raw results written to $OUT"; }
exit_on_failures
