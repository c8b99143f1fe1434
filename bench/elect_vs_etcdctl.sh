#!/usr/bin/env bash
# Side-by-side benchmark: `conch elect` versus `etcdctl lock` (etcd v3 API),
# both against the same throwaway single-member etcd on 127.0.0.1.
#
# usage: bench/elect_vs_etcdctl.sh [--out FILE] [--quick]
#   --out FILE   also write the table and every raw sample to FILE (markdown)
#   --quick      far fewer repetitions (a smoke test of the harness; the
#                figures it prints are not meant to be quoted)
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
# The child commands below are single-quoted on purpose: they expand in the child.
# shellcheck disable=SC2016
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/etcd.sh
source "$ROOT/scripts/lib/etcd.sh"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

OUT=""
WARMUP=5 RUNS=100 RSS_RUNS=20 HAND_RUNS=20 DIRTY_RUNS=5
HAND_SETTLE=${HAND_SETTLE:-0.3}
while (($#)); do
  case $1 in
    --out) [[ $# -ge 2 ]] || { echo "--out needs a file" >&2; exit 2; }
           OUT=$2; shift 2 ;;
    --out=*) OUT=${1#--out=}; shift ;;
    --quick) WARMUP=2 RUNS=10 RSS_RUNS=5 HAND_RUNS=5 DIRTY_RUNS=3; shift ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
done
if [[ -n $OUT && $OUT != /* ]]; then OUT="$PWD/$OUT"; fi


# --- tools ----------------------------------------------------------------
find_conch_bin
for tool in etcd etcdctl python3 timeout sync date; do
  command -v "$tool" >/dev/null || die "required tool '$tool' is missing (run scripts/install-deps.sh)"
done
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (apt-get install time, or run scripts/install-deps.sh)"
HAVE_HYPERFINE=0
if command -v hyperfine >/dev/null; then HAVE_HYPERFINE=1; else
  log "hyperfine not found: timing with a shell loop instead"; fi
[[ -r /proc/self/smaps_rollup ]] || die "/proc/<pid>/smaps_rollup is not available on this kernel"
export ETCDCTL_API=3

# --- scratch dir, etcd, cleanup -------------------------------------------
WORK=$(mktemp -d -t conch-bench.XXXXXX)
BG_PIDS=()
cleanup() {
  local pid f
  trap - EXIT INT TERM HUP
  # Children we recorded (sleep 30 etc.) first, then the wrappers.
  while IFS= read -r f; do
    pid=$(cat "$f" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]]; then kill -TERM "$pid" 2>/dev/null || true; fi
  done < <(find "$WORK" -name child_pid 2>/dev/null)
  for pid in "${BG_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${BG_PIDS[@]}"; do wait_bounded "$pid" 5 || true; done
  etcd_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP


log "etcd data dir (normal disk, not tmpfs): $WORK/etcd"
etcd_start "$WORK" || die "could not start etcd (log: $WORK/etcd.log)"
EP=$ETCD_ENDPOINT
log "etcd $(etcd --version | awk '/etcd Version/{print $3}') listening on $EP (pid $ETCD_PID)"

# The two wrappers, as argv prefixes; each is followed by -- and the child.
CONCH=("$CONCH_BIN" elect)
CONCH_OPTS=(--endpoints "$EP")
ETCDCTL=(etcdctl --endpoints "$EP" lock)
# Build the argv for tool $1, lock name $2, then the child command.
wrapper_argv() {
  local tool=$1 name=$2; shift 2
  case $tool in
    conch)   ARGV=("${CONCH[@]}" "$name" "${CONCH_OPTS[@]}" -- "$@") ;;
    etcdctl) ARGV=("${ETCDCTL[@]}" "$name" -- "$@") ;;
  esac
}
prefix_of() {  # where each tool keeps its candidate keys for name $2
  case $1 in
    conch)   echo "/conch/v1/elect/$2/" ;;
    etcdctl) echo "$2/" ;;
  esac
}

RAW=$WORK/raw
mkdir -p "$RAW"

# Sanity: each tool runs `true` under the lock and exits 0.
for tool in conch etcdctl; do
  wrapper_argv "$tool" b true
  if ! out=$(timeout 20 "${ARGV[@]}" 2>&1); then
    die "'${ARGV[*]}' failed: ${out:-<no output>}"
  fi
  n=$(count_keys "$(prefix_of "$tool" b)")
  [[ $n -eq 0 ]] || die "$tool left $n key(s) under $(prefix_of "$tool" b) after exiting"
done
log "sanity: both tools run 'true' under the lock and leave no keys behind"

# --- a) wall time, uncontended --------------------------------------------
log "a) wall time of an uncontended run ($RUNS runs each, $WARMUP warm-up)"
q() { printf '%q ' "$@"; }
wrapper_argv conch b true;   CMD_CONCH=$(q "${ARGV[@]}")
wrapper_argv etcdctl b true; CMD_ETCDCTL=$(q "${ARGV[@]}")
if ((HAVE_HYPERFINE)); then
  WALL_METHOD="hyperfine -N --warmup $WARMUP --runs $RUNS"
  timeout 900 hyperfine -N --style basic --warmup "$WARMUP" --runs "$RUNS" \
    --export-json "$WORK/wall.json" \
    -n conch "$CMD_CONCH" -n etcdctl "$CMD_ETCDCTL" >&2 \
    || die "hyperfine failed"
  python3 - "$WORK/wall.json" "$RAW" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
for r in res:
    with open(f"{sys.argv[2]}/wall_{r['command']}", "w") as f:
        f.write("".join(f"{t * 1000:.3f}\n" for t in r["times"]))
PY
else
  WALL_METHOD="shell loop, date +%s%N around each run ($WARMUP warm-up, $RUNS runs)"
  for tool in conch etcdctl; do
    wrapper_argv "$tool" b true
    for ((i = 0; i < WARMUP; i++)); do timeout 20 "${ARGV[@]}" >/dev/null 2>&1; done
    for ((i = 0; i < RUNS; i++)); do
      t0=$(date +%s%N)
      timeout 20 "${ARGV[@]}" >/dev/null 2>&1 || die "'${ARGV[*]}' failed"
      t1=$(date +%s%N)
      echo "$(( (t1 - t0) / 1000 ))" | awk '{printf "%.3f\n", $1 / 1000}' >>"$RAW/wall_$tool"
    done
  done
fi

# --- b) peak RSS ------------------------------------------------------------
log "b) peak RSS, /usr/bin/time -f %M over $RSS_RUNS runs each"
for tool in conch etcdctl; do
  wrapper_argv "$tool" b true
  for ((i = 0; i < RSS_RUNS; i++)); do
    timeout 20 /usr/bin/time -f %M -o "$WORK/rss.tmp" "${ARGV[@]}" >/dev/null 2>"$WORK/rss.err" \
      || die "'${ARGV[*]}' failed under /usr/bin/time: $(cat "$WORK/rss.err")"
    tail -n 1 "$WORK/rss.tmp" >>"$RAW/rss_$tool"
  done
done

# --- c) handover latency ----------------------------------------------------
log "c) handover latency, $HAND_RUNS rounds each (holder's child exits -> waiter's child starts)"
# Two series: "fresh" touches go as soon as the waiter's key is seen (the
# waiter may still be setting up its watch); "settled" waits HAND_SETTLE s
# first. etcd serves a watch that starts at a past revision from its
# "unsynced" group, which it catches up only every 100 ms, so the two differ.
# The holder's child says it runs, waits (at most ~30 s) for the file `go`,
# then becomes `stamp`, which writes the time and exits at once. The
# waiter's command is `stamp` itself, so the figure is exit-to-exec with no
# shell or date(1) start-up on either side (both tools pay those equally,
# which would only blur the comparison).
build_stamp
HOLDER_SH='echo $$ > "$1/held"; n=0
while [ ! -e "$1/go" ]; do n=$((n+1)); [ $n -lt 3000 ] || exit 99; sleep 0.01; done
exec "$2" "$1/t_exit"'
for series in fresh settled; do
settle=0
[[ $series == fresh ]] || settle=$HAND_SETTLE
for tool in conch etcdctl; do
  name=hand-$tool
  prefix=$(prefix_of "$tool" "$name")
  for ((i = 1; i <= HAND_RUNS; i++)); do
    d=$WORK/hand/$series/$tool/$i
    mkdir -p "$d"
    wait_keys "$prefix" 0 15 || die "$tool: keys under $prefix did not go away before round $i"
    wrapper_argv "$tool" "$name" sh -c "$HOLDER_SH" sh "$d" "$STAMP"
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
    echo "$(($(cat "$d/t_start") - $(cat "$d/t_exit")))" \
      | awk '{printf "%.3f\n", $1 / 1e6}' >>"$RAW/hand_${series}_$tool"
  done
done
done
BG_PIDS=()

# --- d) private dirty memory of the wrapper while its child runs ------------
log "d) Private_Dirty of the wrapper while its child (sleep 30) runs, $DIRTY_RUNS samples each"
DIRTY_NOTE=""
for tool in conch etcdctl; do
  for ((i = 1; i <= DIRTY_RUNS; i++)); do
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
      DIRTY_NOTE+="$tool sample $i: the child's parent is pid $ppid, not the wrapper ($pid). "
    fi
    sync
    awk '/^Private_Dirty:/{s += $2} END{print s + 0}' "/proc/$pid/smaps_rollup" >>"$RAW/dirty_$tool"
    kill -TERM "$child" 2>/dev/null || true
    wait_bounded "$pid" 15 || true
    rm -f "$d/child_pid"
  done
done
BG_PIDS=()
[[ -z $DIRTY_NOTE ]] || log "note: $DIRTY_NOTE"

# --- report ------------------------------------------------------------------
ETCD_VERSION=$(etcd --version | awk '/etcd Version/{print $3}')
ETCDCTL_VERSION=$(etcdctl version | awk '/etcdctl version/{print $3}')
export RAW WALL_METHOD RUNS RSS_RUNS HAND_RUNS HAND_SETTLE DIRTY_RUNS CONCH_BIN EP ETCD_VERSION \
  ETCDCTL_VERSION DIRTY_NOTE
TABLE=$WORK/table.md
python3 - "$TABLE" "${OUT:-}" <<'PY'
import math, os, platform, statistics, sys
from datetime import datetime, timezone

raw = os.environ["RAW"]
def load(name):
    with open(f"{raw}/{name}") as f:
        return [float(x) for x in f if x.strip()]
def pct(xs, p):  # nearest-rank percentile
    s = sorted(xs)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]

wall = {t: load(f"wall_{t}") for t in ("conch", "etcdctl")}
rss = {t: load(f"rss_{t}") for t in ("conch", "etcdctl")}
hand = {t: load(f"hand_fresh_{t}") for t in ("conch", "etcdctl")}
hands = {t: load(f"hand_settled_{t}") for t in ("conch", "etcdctl")}
dirty = {t: load(f"dirty_{t}") for t in ("conch", "etcdctl")}
E = os.environ

rows = []  # metric, conch, etcdctl, unit format, target text, target ratio
def row(metric, c, e, fmt, target="", limit=None):
    ratio = c / e if e else float("nan")
    met = ""
    if limit is not None:
        met = "yes" if ratio <= limit else "**no**"
    rows.append((metric, fmt.format(c), fmt.format(e), f"{ratio:.2f}×", target, met))

n = E["RUNS"]
row(f"wall, uncontended `-- true`, mean of {n} (ms)", statistics.mean(wall["conch"]),
    statistics.mean(wall["etcdctl"]), "{:.2f}", "≤ 0.5×", 0.5)
row(f"wall, median of {n} (ms)", statistics.median(wall["conch"]),
    statistics.median(wall["etcdctl"]), "{:.2f}")
row(f"wall, p95 of {n} (ms)", pct(wall["conch"], 95), pct(wall["etcdctl"], 95), "{:.2f}")
row(f"peak RSS, median of {E['RSS_RUNS']} (KiB)", statistics.median(rss["conch"]),
    statistics.median(rss["etcdctl"]), "{:.0f}")
row(f"handover, fresh waiter, median of {E['HAND_RUNS']} (ms)", statistics.median(hand["conch"]),
    statistics.median(hand["etcdctl"]), "{:.2f}", "≤ 0.6×", 0.6)
row(f"handover, fresh waiter, p90 of {E['HAND_RUNS']} (ms)", pct(hand["conch"], 90),
    pct(hand["etcdctl"], 90), "{:.2f}")
row(f"handover, settled waiter ({E['HAND_SETTLE']} s), median of {E['HAND_RUNS']} (ms)",
    statistics.median(hands["conch"]), statistics.median(hands["etcdctl"]), "{:.2f}",
    "≤ 0.6×", 0.6)
row(f"handover, settled waiter ({E['HAND_SETTLE']} s), p90 of {E['HAND_RUNS']} (ms)",
    pct(hands["conch"], 90), pct(hands["etcdctl"], 90), "{:.2f}")
row(f"wrapper Private_Dirty while child runs, median of {E['DIRTY_RUNS']} (KiB)",
    statistics.median(dirty["conch"]), statistics.median(dirty["etcdctl"]), "{:.0f}",
    f"≤ 1/3 (≈2.5 MiB in the brief; {statistics.median(dirty['etcdctl']) / 3:.0f} KiB here)",
    1 / 3)

lines = ["| metric | conch elect | etcdctl lock | conch/etcdctl | target | met |",
         "| --- | ---: | ---: | ---: | --- | --- |"]
lines += ["| " + " | ".join(r) + " |" for r in rows]
table = "\n".join(lines) + "\n"
open(sys.argv[1], "w").write(table)

out = sys.argv[2]
if out:
    def fmt(xs):
        return ", ".join(f"{x:g}" for x in xs)
    with open(out, "w") as f:
        f.write("# conch elect vs etcdctl lock: raw results\n\n")
        f.write(f"- date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M:%S UTC')}\n")
        f.write(f"- machine: {os.cpu_count()} CPUs, Linux {platform.release()}\n")
        f.write(f"- etcd {E['ETCD_VERSION']}, etcdctl {E['ETCDCTL_VERSION']} (ETCDCTL_API=3), "
                f"single member on {E['EP']}\n")
        f.write(f"- conch binary: {E['CONCH_BIN']}\n")
        f.write(f"- wall-time method: {E['WALL_METHOD']}\n")
        if E.get("DIRTY_NOTE"):
            f.write(f"- note: {E['DIRTY_NOTE']}\n")
        f.write("\n" + table + "\n## Raw samples\n\n")
        for label, data, unit in (("wall time", wall, "ms"), ("peak RSS", rss, "KiB"),
                                  ("handover latency, fresh waiter", hand, "ms"),
                                  ("handover latency, settled waiter", hands, "ms"),
                                  ("Private_Dirty", dirty, "KiB")):
            for t in ("conch", "etcdctl"):
                f.write(f"- {label}, {t} ({unit}, in run order): {fmt(data[t])}\n")
        f.write("\n")
PY

echo
echo "## conch elect vs etcdctl lock"
echo
echo "etcd $ETCD_VERSION on $EP, $(nproc) CPUs, Linux $(uname -r); conch: $CONCH_BIN"
echo "wall time: $WALL_METHOD"
echo
cat "$TABLE"
[[ -z $OUT ]] || { echo; echo "raw results written to $OUT"; }
