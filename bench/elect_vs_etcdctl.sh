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
# The child commands below are single-quoted on purpose: they expand in the child.
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
bench_require_tools etcd etcdctl python3 timeout sync date cc
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (apt-get install time, or run scripts/install-deps.sh)"
command -v hyperfine >/dev/null || log "hyperfine not found: timing with a shell loop instead"
[[ -r /proc/self/smaps_rollup ]] || die "/proc/<pid>/smaps_rollup is not available on this kernel"
export ETCDCTL_API=3
STARTED=$SECONDS

# --- scratch dir, etcd, cleanup -------------------------------------------
# On exit, the children we recorded (sleep 30 etc.) are stopped first,
# then the wrappers.
# shellcheck disable=SC2317  # run by bench_cleanup
stop_recorded_children() {
  local pid f
  while IFS= read -r f; do
    pid=$(cat "$f" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]]; then kill -TERM "$pid" 2>/dev/null || true; fi
  done < <(find "$WORK" -name child_pid 2>/dev/null)
}
bench_workdir conch-bench stop_recorded_children

bench_etcd_start
log "etcd $(etcd --version | awk '/etcd Version/{print $3}') listening on $EP (pid $ETCD_PID)"

# Build the argv for tool $1 (a conch variant or etcdctl), lock name $2,
# then the child command.
wrapper_argv() {
  local tool=$1 name=$2; shift 2
  case $tool in
    etcdctl) ARGV=(etcdctl --endpoints "$EP" lock "$name" -- "$@") ;;
    *)       ARGV=("${TOOL_BIN[$tool]}" elect "$name" --endpoints "$EP" -- "$@") ;;
  esac
}
prefix_of() {  # where tool $1 keeps its candidate keys for name $2
  case $1 in
    etcdctl) echo "$2/" ;;
    *)       echo "/conch/v1/elect/$2/" ;;
  esac
}

RAW=$WORK/raw
mkdir -p "$RAW"
# Broken checks, reported after the table; any makes the script exit 1.
FAILURES=()

# Sanity: each tool runs `true` under the lock and exits 0, leaving no key.
for tool in "${TOOLS[@]}"; do
  wrapper_argv "$tool" "b-$tool" true
  if ! out=$(timeout 20 "${ARGV[@]}" 2>&1); then
    die "'${ARGV[*]}' failed: ${out:-<no output>}"
  fi
  n=$(count_keys "$(prefix_of "$tool" "b-$tool")")
  [[ $n -eq 0 ]] || die "$tool left $n key(s) under $(prefix_of "$tool" "b-$tool") after exiting"
done
log "sanity: every tool runs 'true' under the lock and leaves no keys behind"

# --- a) wall time, uncontended --------------------------------------------
log "a) wall time of an uncontended run, ${TOOLS[*]} in turn: $RUNS rounds after $WARMUP untimed"
WALL_ARGS=()
for tool in "${TOOLS[@]}"; do
  wrapper_argv "$tool" "b-$tool" true
  WALL_ARGS+=("$tool" "$(printf '%q ' "${ARGV[@]}")")
done
interleave_wall "$RAW" "$RUNS" "$WARMUP" "${WALL_ARGS[@]}" \
  || die "a timed run failed: $(tail -n 5 "$RAW/wall.err")"

# --- b) peak RSS ------------------------------------------------------------
log "b) peak RSS, /usr/bin/time -f %M, ${TOOLS[*]} in turn: $RSS_RUNS rounds"
for ((i = 0; i < RSS_RUNS; i++)); do
  for tool in "${TOOLS[@]}"; do
    wrapper_argv "$tool" "b-$tool" true
    timeout 20 /usr/bin/time -f %M -o "$WORK/rss.tmp" "${ARGV[@]}" >/dev/null 2>"$WORK/rss.err" \
      || die "'${ARGV[*]}' failed under /usr/bin/time: $(cat "$WORK/rss.err")"
    tail -n 1 "$WORK/rss.tmp" >>"$RAW/rss_$tool"
  done
done

# --- c) handover latency ----------------------------------------------------
# Two series: "fresh" touches go as soon as the waiter's key is seen (the
# waiter may still be setting up its watch); "settled" waits HAND_SETTLE s
# first. etcd serves a watch that starts at a past revision from its
# "unsynced" group, which it catches up only every 100 ms, so the two differ.
# The holder's child (HAND_HOLDER_SH) says it runs, waits for the file `go`,
# then becomes `stamp`, which writes the time and exits at once. The
# waiter's command is `stamp` itself, so the figure is exit-to-exec with no
# shell or date(1) start-up on either side (both tools pay those equally,
# which would only blur the comparison).
build_stamp
# hand_round SERIES TOOL I: one handover; appends its latency (ms) to
# $RAW/hand_SERIES_TOOL.
hand_round() {
  local series=$1 tool=$2 i=$3 settle=0 name prefix d hpid wpid
  [[ $series == fresh ]] || settle=$HAND_SETTLE
  name=hand-$tool
  prefix=$(prefix_of "$tool" "$name")
  d=$WORK/hand/$series/$tool/$i
  mkdir -p "$d"
  wait_keys "$prefix" 0 15 || die "$tool: keys under $prefix did not go away before round $i"
  wrapper_argv "$tool" "$name" sh -c "$HAND_HOLDER_SH" sh "$d" "$STAMP"
  timeout 60 "${ARGV[@]}" >"$d/holder.out" 2>&1 &
  hpid=$!; BG_PIDS+=("$hpid")
  wait_file "$d/held" 15 || die "$tool: holder did not get the lock within 15 s ($(cat "$d/holder.out"))"
  wrapper_argv "$tool" "$name" "$STAMP" "$d/t_start"
  timeout 60 "${ARGV[@]}" >"$d/waiter.out" 2>&1 &
  wpid=$!; BG_PIDS+=("$wpid")
  wait_keys "$prefix" 2 15 || die "$tool: waiter did not queue (expected 2 keys under $prefix, found $(count_keys "$prefix"))"
  [[ ! -e $d/t_start ]] || die "$tool: waiter ran while the holder still held the lock"
  sleep "$settle"
  [[ ! -e $d/t_start ]] || die "$tool: waiter ran while the holder still held the lock"
  touch "$d/go"
  wait_bounded "$hpid" 30 || die "$tool: holder exited with $WAIT_RC ($(cat "$d/holder.out"))"
  wait_bounded "$wpid" 30 || die "$tool: waiter exited with $WAIT_RC ($(cat "$d/waiter.out"))"
  [[ -s $d/t_exit && -s $d/t_start ]] || die "$tool: round $i is missing a timestamp"
  awk -v ns=$(($(cat "$d/t_start") - $(cat "$d/t_exit"))) 'BEGIN{printf "%.3f\n", ns / 1e6}' \
    >>"$RAW/hand_${series}_$tool"
}
log "c) handover latency (holder's child exits -> waiter's child starts), ${TOOLS[*]} in turn: $HAND_RUNS rounds, each a fresh and a settled handover"
for ((i = 1; i <= HAND_RUNS; i++)); do
  for series in fresh settled; do
    for tool in "${TOOLS[@]}"; do hand_round "$series" "$tool" "$i"; done
  done
done
BG_PIDS=()

# --- d) private dirty memory of the wrapper while its child runs ------------
# dirty_sample TOOL I: appends the wrapper's Private_Dirty (KiB) to
# $RAW/dirty_TOOL. Check: the sampled pid must be the child's parent, or the
# figure is not the wrapper's.
dirty_sample() {
  local tool=$1 i=$2 d pid child ppid k
  d=$WORK/dirty/$tool/$i
  mkdir -p "$d"
  wrapper_argv "$tool" "dirty-$tool" sh -c 'echo $$ > "$1/child_pid"; exec sleep 30' sh "$d"
  "${ARGV[@]}" >"$d/out" 2>&1 &
  pid=$!; BG_PIDS+=("$pid")
  wait_file "$d/child_pid" 15 || die "$tool: child did not start within 15 s ($(cat "$d/out"))"
  child=$(cat "$d/child_pid")
  # Wait for the exec to sleep so the child is really running.
  for ((k = 0; k < 200; k++)); do
    [[ $(cat "/proc/$child/comm" 2>/dev/null) == sleep ]] && break
    sleep 0.005
  done
  ppid=$(awk '/^PPid:/{print $2}' "/proc/$child/status")
  if [[ $ppid != "$pid" ]]; then
    FAILURES+=("$tool, Private_Dirty sample $i: the child's parent is pid $ppid, not the wrapper ($pid), so the sample is not the wrapper's")
  fi
  sync
  awk '/^Private_Dirty:/{s += $2} END{print s + 0}' "/proc/$pid/smaps_rollup" >>"$RAW/dirty_$tool"
  kill -TERM "$child" 2>/dev/null || true
  wait_bounded "$pid" 15 || true
  rm -f "$d/child_pid"
}
log "d) Private_Dirty of the wrapper while its child (sleep 30) runs, ${TOOLS[*]} in turn: $DIRTY_RUNS rounds"
for ((i = 1; i <= DIRTY_RUNS; i++)); do
  for tool in "${TOOLS[@]}"; do dirty_sample "$tool" "$i"; done
done
BG_PIDS=()

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
    echo
    cat "$TABLE"
    echo
    for f in "${FAILURES[@]}"; do echo "**Check failed:** $f"; echo; done
    cat "$RAW/samples.md"
  } >"$OUT"
fi

about=("etcd on $EP, $(nproc) CPUs, Linux $(uname -r); conch: $CONCH_BIN; repository at $(repo_state)")
for t in "${TOOLS[@]}"; do
  [[ $t == conch || $t == etcdctl ]] || about+=("conch ($t): ${TOOL_BIN[$t]}")
done
about+=("wall time: $WALL_METHOD; the run took ${ELAPSED} s")
bench_summary "conch elect vs etcdctl lock" "$TABLE" "${about[@]}"
[[ -z $OUT ]] || { echo; echo "raw results written to $OUT"; }
if ((${#FAILURES[@]})); then
  echo
  for f in "${FAILURES[@]}"; do echo "CHECK FAILED: $f"; done
  exit 1
fi
