#!/usr/bin/env bash
# switchman on ZooKeeper, side by side with the store's floor (bench/zk_floor.c
# over the raw C client) and with `conch elect` on the same server, against
# one throwaway standalone ZooKeeper (tests/servers/zk.sh) on 127.0.0.1.
#
# usage: bench/switchman_zk.sh [--out FILE] [--quick]
#   --out FILE   also write the tables and every raw sample to FILE (markdown)
#   --quick      far fewer repetitions (a smoke test of the harness)
# env:
#   CONCH_BIN    conch binary to measure (default: build/conch); switchman
#                is that binary run under the name "switchman"
#   DRAIN_N      processes in the queue drain (50)
#
# Measures, in one run:
#   a) wall time of an uncontended `switchman -- true` (lock mode: create
#      the ephemeral lock and watch it, run `true`, end the session), of the
#      floor (`zk_floor floor`: open a session, create one ephemeral node,
#      close, which deletes it), of the floor plus a read and the spawn of
#      `true` (`zk_floor elect`: the same work as switchman's) and of
#      `conch elect b -- true`, in turn; target: switchman within 1.3x the
#      floor
#   b) peak RSS (/usr/bin/time -f %M) of the same four
#   c) queue drain: DRAIN_N runs of `switchman --lockname wI --lease
#      rr=1:1 -- stamp` queued behind a holder; once all are queued the
#      holder's command exits, and the drain runs from then until the last
#      command has run. Reported as handoffs per second (DRAIN_N over the
#      drain time) and the median gap between consecutive starts; target
#      >= 100/s (the original's 1 s polling allows about 1/s). Checks that
#      the commands ran one at a time, after the holder.
#   d) group removal: a run with -g g whose command traps SIGTERM; the
#      prefix data is edited to drop the host, and the time from the edit
#      (just before the set request goes out) to the command's SIGTERM
#      handler is reported; target: within 1 s (the original polls once a
#      second).
# Exits non-zero if a check the figures rely on fails.
# shellcheck disable=SC2016
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/servers/zk.sh
source "$ROOT/tests/servers/zk.sh"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

COMMAND="bench/switchman_zk.sh $*"
OUT=""
WARMUP=5 RUNS=100 RSS_RUNS=20 DRAIN_ROUNDS=5
DRAIN_N=${DRAIN_N:-50}
TTL_MS=10000  # switchman's session timeout and conch's --ttl, both default
while (($#)); do
  case $1 in
    --out) [[ $# -ge 2 ]] || usage_error "--out needs a file"
           OUT=$2; shift 2 ;;
    --out=*) OUT=${1#--out=}; shift ;;
    --quick) WARMUP=2 RUNS=10 RSS_RUNS=3 DRAIN_ROUNDS=1; shift ;;
    -h|--help) bench_usage '^# shellcheck' ;;
    *) usage_error "unknown argument: $1 (try --help)" ;;
  esac
done
OUT=$(abs_path "$OUT")

TOOLS=(sw floor full elect)

find_conch_bin
bench_require_tools python3
bench_require_zk_client
STARTED=$SECONDS

bench_workdir conch-switchman-bench stop_recorded_children
bench_zk_start
log "ZooKeeper ${ZK_VERSION%%-*} (standalone) on $ZK_HOSTS (pid ${ZK_PIDS[0]}), data in $ZK_DIR"
build_zk_floor
build_stamp
FLOOR_PARENT=/bench/floor
SW_BIN=$WORK/switchman
ln -s "$CONCH_BIN" "$SW_BIN"
SW_CONF=$WORK/switchman.conf
printf '{"zkhosts": "%s", "prefix": "/switchman"}\n' "$ZK_HOSTS" >"$SW_CONF"
TRUE_BIN=$(type -P true)

# shellcheck disable=SC2034  # ARGV: read by bench/lib.sh
wrapper_argv() {
  local tool=$1 name=$2; shift 2
  case $tool in
    sw)    ARGV=("$SW_BIN" -c "$SW_CONF" --lockname "$name" -- "$@") ;;
    elect) ARGV=("$CONCH_BIN" elect "$name" --endpoints "$ZK_URL" -- "$@") ;;
    floor) ARGV=("$FLOOR" floor "$ZK_HOSTS" "$FLOOR_PARENT" "$TTL_MS") ;;
    full)  ARGV=("$FLOOR" elect "$ZK_HOSTS" "$FLOOR_PARENT" "$TTL_MS" "$TRUE_BIN") ;;
  esac
}
count_left() {
  case $1 in
    sw)    zk_children "/switchman/locks" ;;
    elect) zk_children "/conch/v1/elect/$2" ;;
    floor|full) zk_children "$FLOOR_PARENT" ;;
  esac
}

RAW=$WORK/raw
mkdir -p "$RAW"
FAILURES=()

"$FLOOR" mkparent "$ZK_HOSTS" "$FLOOR_PARENT" || die "cannot create $FLOOR_PARENT"
sanity_true "${TOOLS[@]}"
log "sanity: every tool runs and leaves no node behind"

# --- a) wall time ------------------------------------------------------------
log "a) wall time of an uncontended run, ${TOOLS[*]} in turn: $RUNS rounds after $WARMUP untimed"
WALL_PREPARE="sleep 0.05" WALL_ROTATE=1
wall_rounds "$RUNS" "$WARMUP" "${TOOLS[@]}"

# --- b) peak RSS ---------------------------------------------------------------
log "b) peak RSS, ${TOOLS[*]} in turn: $RSS_RUNS rounds"
rss_rounds "$RSS_RUNS" "${TOOLS[@]}"

# --- c) queue drain --------------------------------------------------------------
# The prefix data lists the resource (the prefix exists since the
# sanity run).
"$FLOOR" set "$ZK_HOSTS" /switchman '{"resources": ["rr"]}' >/dev/null || die "cannot write the prefix data"
drain_round() {
  local r=$1 d=$WORK/drain/$1 i holder n
  mkdir -p "$d"
  "$SW_BIN" -c "$SW_CONF" --lockname holder --lease rr=1:1 -- \
    sh -c "$HAND_HOLDER_SH" sh "$d" "$STAMP" >"$d/holder.log" 2>&1 &
  holder=$!
  BG_PIDS+=("$holder")
  wait_file "$d/held" 30 || die "drain $r: the holder did not start"
  local -a pids=()
  for ((i = 1; i <= DRAIN_N; i++)); do
    "$SW_BIN" -c "$SW_CONF" --lockname "w$i" --lease rr=1:1 -- "$STAMP" "$d/s_$i" \
      >"$d/w$i.log" 2>&1 &
    pids+=("$!")
  done
  BG_PIDS+=("${pids[@]}")
  # All queued: DRAIN_N entries in the queue (the holder left it when it
  # took its lease), and the head waits on the leases.
  wait_count "$DRAIN_N" 60 zk_children /switchman/queues/rr ||
    die "drain $r: the waiters did not all queue"
  touch "$d/go"
  wait "$holder" || die "drain $r: the holder failed"
  for i in "${pids[@]}"; do wait "$i" || die "drain $r: a waiter failed (see $d)"; done
  BG_PIDS=()
  n=$(find "$d" -name 's_*' | wc -l)
  [[ $n -eq $DRAIN_N ]] || die "drain $r: $n of $DRAIN_N commands ran"
  python3 - "$d" "$DRAIN_N" "$RAW" <<'PY' || die "drain $r: the commands overlapped or ran out of order"
import sys, pathlib
d, n, raw = pathlib.Path(sys.argv[1]), int(sys.argv[2]), pathlib.Path(sys.argv[3])
t_exit = int((d / "t_exit").read_text())
starts = sorted((int((d / f"s_{i}").read_text()), i) for i in range(1, n + 1))
# Queue order: waiter i queued before waiter i+1 only if started so; they
# were started together, so only check that every start follows the exit.
assert starts[0][0] > t_exit, "a waiter ran while the holder held"
total_ms = (starts[-1][0] - t_exit) / 1e6
gaps = [(b[0] - a[0]) / 1e6 for a, b in zip(starts, starts[1:])]
gaps.sort()
with open(raw / "drain_rate", "a") as f:
    f.write(f"{n / (total_ms / 1000):.1f}\n")
with open(raw / "drain_total_ms", "a") as f:
    f.write(f"{total_ms:.1f}\n")
with open(raw / "drain_gap_ms", "a") as f:
    f.write(f"{gaps[len(gaps) // 2]:.3f}\n")
PY
  [[ $(zk_children /switchman/queues/rr) -eq 0 ]] || die "drain $r: queue entries left"
  [[ $(zk_children /switchman/semaphores/rr/leases) -eq 0 ]] || die "drain $r: leases left"
}
log "c) queue drain: $DRAIN_N runs on --lease rr=1:1 behind a holder, $DRAIN_ROUNDS rounds"
for ((r = 1; r <= DRAIN_ROUNDS; r++)); do drain_round "$r"; done

# --- d) group removal ---------------------------------------------------------------
GROUP_RUNS=${GROUP_RUNS:-20}
[[ $RUNS -gt 10 ]] || GROUP_RUNS=3
group_round() {
  local r=$1 d=$WORK/group/$1 pid edit
  mkdir -p "$d"
  "$FLOOR" set "$ZK_HOSTS" /switchman '{"groups": {"g": ["bench.example.com"]}}' >/dev/null ||
    die "cannot write the prefix data"
  SWITCHMAN_FQDN=bench.example.com "$SW_BIN" -c "$SW_CONF" -g g --lockname group -- \
    sh -c 'trap "$1 $2/t_term; exit 0" TERM; echo $$ > "$2/held"; while :; do sleep 0.01; done' \
    sh "$STAMP" "$d" >"$d/log" 2>&1 &
  pid=$!
  BG_PIDS+=("$pid")
  # The prefix watch was armed before the command started, and the trap
  # before "held" was written.
  wait_file "$d/held" 30 || die "group $r: the command did not start"
  edit=$("$FLOOR" set "$ZK_HOSTS" /switchman '{"groups": {"g": ["other.example.com"]}}') ||
    die "cannot edit the group"
  wait "$pid" || die "group $r: switchman failed (see $d/log)"
  BG_PIDS=()
  [[ -s $d/t_term ]] || die "group $r: the command got no SIGTERM"
  echo "$((($(<"$d/t_term") - edit) / 1000))" | awk '{printf "%.3f\n", $1 / 1000}' >>"$RAW/group_ms"
}
log "d) group removal: edit -> SIGTERM, $GROUP_RUNS rounds"
for ((r = 1; r <= GROUP_RUNS; r++)); do group_round "$r"; done

# --- report -----------------------------------------------------------------------
TABLE=$WORK/table.md
python3 - "$RAW" "$TABLE" "$RUNS" "$RSS_RUNS" "$DRAIN_ROUNDS" "$DRAIN_N" <<'PY' || die "the report failed"
import statistics as st, sys, pathlib
raw, table = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
runs, rss_runs, drain_rounds, drain_n = map(int, sys.argv[3:7])
def nums(name):
    return [float(x) for x in (raw / name).read_text().split()]
names = {"sw": "switchman -- true", "floor": "floor: session, create, close",
         "full": "floor + read + spawn true", "elect": "conch elect -- true"}
w = {k: nums(f"wall_{k}") for k in names}
med = {k: st.median(v) for k, v in w.items()}
out = []
out.append(f"a) wall time, median of {runs} runs (ms)\n")
out.append("| run | median | p90 | vs floor |")
out.append("|---|---|---|---|")
for k, label in names.items():
    p90 = sorted(w[k])[int(len(w[k]) * 0.9) - 1]
    out.append(f"| {label} | {med[k]:.2f} | {p90:.2f} | {med[k] / med['floor']:.2f}x |")
ratio = med["sw"] / med["floor"]
out.append(f"\nswitchman / floor: {ratio:.2f}x (target <= 1.3x): "
           f"{'met' if ratio <= 1.3 else 'NOT met'}; "
           f"switchman / same-work floor: {med['sw'] / med['full']:.2f}x\n")
out.append(f"b) peak RSS, median of {rss_runs} runs (MiB)\n")
out.append("| run | RSS |")
out.append("|---|---|")
for k, label in names.items():
    out.append(f"| {label} | {st.median(nums(f'rss_{k}')) / 1024:.1f} |")
rate = nums("drain_rate")
out.append(f"\nc) queue drain, {drain_n} runs on rr=1:1, {drain_rounds} rounds\n")
out.append("| handoffs/s (median) | min | drain time ms (median) | gap between starts ms (median) |")
out.append("|---|---|---|---|")
out.append(f"| {st.median(rate):.0f} | {min(rate):.0f} | {st.median(nums('drain_total_ms')):.0f} | "
           f"{st.median(nums('drain_gap_ms')):.2f} |")
out.append(f"\nqueue drain: {st.median(rate):.0f} handoffs/s (target >= 100/s): "
           f"{'met' if st.median(rate) >= 100 else 'NOT met'}")
g = nums("group_ms")
out.append(f"\nd) group removal, edit -> the command's SIGTERM handler, {len(g)} runs (ms)\n")
out.append("| median | max |")
out.append("|---|---|")
out.append(f"| {st.median(g):.1f} | {max(g):.1f} |")
table.write_text("\n".join(out) + "\n")
PY
cat "$TABLE"
ELAPSED=$((SECONDS - STARTED))
if [[ -n $OUT ]]; then
  {
    bench_out_head "switchman on ZooKeeper: raw results" "CONCH_BIN=$CONCH_BIN; the run took ${ELAPSED} s"
    machine_info "$CONCH_BIN"
    echo "- ZooKeeper $ZK_VERSION, standalone, on $ZK_HOSTS (tests/servers/zk.sh, forceSync=no)"
    echo "- wall-time method: $WALL_METHOD"
    SAMPLES=$WORK/samples.md
    for f in "$RAW"/*; do
      [[ ${f##*/} == wall.err || ${f##*/} == hf.json ]] && continue
      printf '\n### %s\n\n```\n%s\n```\n' "${f##*/}" "$(cat "$f")"
    done >"$SAMPLES"
    bench_out_results "$TABLE" "$SAMPLES" "${FAILURES[@]}"
  } >"$OUT"
  log "wrote $OUT"
fi
exit_on_failures
