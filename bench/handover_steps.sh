#!/usr/bin/env bash
# Where the time of a `conch elect` handover goes: the steps from the
# holder's command exiting to the next candidate's command starting, taken
# from CONCH_DEBUG=1 logs (wall-clock time in microseconds) of both
# wrappers and from `stamp` files, against a throwaway single-member etcd
# on 127.0.0.1.
#
# usage: bench/handover_steps.sh [--rounds N] [--out FILE]
#   --rounds N   handovers per series (default 20)
#   --out FILE   also write the table and every raw sample to FILE (markdown)
# env:
#   CONCH_BIN    conch binary to measure (default: build/conch of this repo)
#   HAND_SETTLE  seconds a "settled" waiter queues before the release (0.3)
#
# Each round runs two handovers, in turn: "settled" (the holder is released
# HAND_SETTLE s after the waiter's key appears, so etcd has been idle) and
# "fresh" (released as soon as the key appears, right after the waiter's
# own requests). The set-up is bench/elect_vs_etcdctl.sh's part c): the
# holder's command becomes `stamp` when released, the waiter's command is
# `stamp`. Steps, per handover:
#   1. holder's command exits (stamp) -> holder logs "command reaped" (after
#      it reaped the command and killed what was left of its group and any
#      escaped descendants)
#   2. -> waiter logs "predecessor gone" (the holder's release: LeaseRevoke,
#      applied by etcd with an fsync, and the watch event to the waiter)
#   3. -> waiter logs "holding"
#   4. -> waiter's command runs its first instruction (stamp): spawn, exec
# and, for reference, holder: "command reaped" -> "session ended" (the
# LeaseRevoke round trip as the holder sees it; it overlaps step 2).
# Exits non-zero if a handover goes wrong or a log line is missing.
# The child commands below are single-quoted on purpose: they expand in the child.
# shellcheck disable=SC2016
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/etcd.sh
source "$ROOT/scripts/lib/etcd.sh"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

COMMAND="bench/handover_steps.sh $*"
OUT="" ROUNDS=20
HAND_SETTLE=${HAND_SETTLE:-0.3}
while (($#)); do
  case $1 in
    --rounds) [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || usage_error "--rounds needs a number"
              ROUNDS=$2; shift 2 ;;
    --out) [[ $# -ge 2 ]] || usage_error "--out needs a file"
           OUT=$2; shift 2 ;;
    -h|--help) bench_usage '^# The child commands' ;;
    *) usage_error "unknown argument: $1 (try --help)" ;;
  esac
done
OUT=$(abs_path "$OUT")

find_conch_bin
bench_require_tools etcd etcdctl python3 timeout cc
export ETCDCTL_API=3
STARTED=$SECONDS

bench_workdir conch-steps
bench_etcd_start
build_stamp

# One handover: DIR gets t_exit, t_start, holder.log, waiter.log.
handover() {
  local d=$1 settle=$2 prefix=/conch/v1/elect/steps/ hpid wpid
  mkdir -p "$d"
  wait_keys "$prefix" 0 15 || die "keys under $prefix did not go away before $d"
  CONCH_DEBUG=1 timeout 60 "$CONCH_BIN" elect steps --endpoints "$EP" -- \
    sh -c "$HAND_HOLDER_SH" sh "$d" "$STAMP" 2>"$d/holder.log" &
  hpid=$!; BG_PIDS+=("$hpid")
  wait_file "$d/held" 15 || die "holder did not lead within 15 s ($(cat "$d/holder.log"))"
  CONCH_DEBUG=1 timeout 60 "$CONCH_BIN" elect steps --endpoints "$EP" -- \
    "$STAMP" "$d/t_start" 2>"$d/waiter.log" &
  wpid=$!; BG_PIDS+=("$wpid")
  wait_keys "$prefix" 2 15 || die "waiter did not queue ($(count_keys "$prefix") keys under $prefix)"
  sleep "$settle"
  [[ ! -e $d/t_start ]] || die "the waiter ran while the holder still led"
  touch "$d/go"
  wait_bounded "$hpid" 30 || die "holder exited with $WAIT_RC ($(cat "$d/holder.log"))"
  wait_bounded "$wpid" 30 || die "waiter exited with $WAIT_RC ($(cat "$d/waiter.log"))"
  BG_PIDS=()
}

log "$ROUNDS rounds, each a settled (${HAND_SETTLE} s) and a fresh handover"
for ((i = 1; i <= ROUNDS; i++)); do
  handover "$WORK/settled/$i" "$HAND_SETTLE"
  handover "$WORK/fresh/$i" 0
done

TABLE=$WORK/table.md
python3 - "$WORK" "$ROUNDS" "$HAND_SETTLE" "$TABLE" <<'PY' || die "the report failed"
import datetime, re, statistics, sys

work, rounds, settle, table = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
LINE = re.compile(r"^conch (\d\d):(\d\d):(\d\d)\.(\d{6}): (.*)$")

def ns(path):
    return int(open(path).read().strip())

def log_time(path, text, near_ns):
    # Debug lines carry local wall-clock time of day; put them on the day
    # (of three around near_ns) that lands closest to near_ns.
    day = datetime.datetime.fromtimestamp(near_ns / 1e9).date()
    for line in open(path):
        m = LINE.match(line.rstrip("\n"))
        if m and m.group(5).startswith(text):
            h, mi, s, us = (int(x) for x in m.groups()[:4])
            best = None
            for dd in (-1, 0, 1):
                t = datetime.datetime.combine(day + datetime.timedelta(days=dd),
                                              datetime.time(h, mi, s, us))
                cand = int(t.timestamp()) * 10**9 + us * 1000
                if best is None or abs(cand - near_ns) < abs(best - near_ns):
                    best = cand
            return best
    sys.exit(f"handover_steps: no line starting {text!r} in {path}")

STEPS = [
    "holder's command exits → holder has reaped it and swept its group and escaped descendants",
    "→ waiter sees its predecessor's key deleted (release: LeaseRevoke, etcd's write and fsync, watch event)",
    "→ waiter holds the office",
    "→ waiter's command runs (spawn, exec)",
    "**total**: holder's command exits → waiter's command runs",
    "for reference, holder: reaped → LeaseRevoke answered",
]
series = {}
for name in ("settled", "fresh"):
    cols = [[] for _ in STEPS]
    for i in range(1, rounds + 1):
        d = f"{work}/{name}/{i}"
        t_exit, t_start = ns(f"{d}/t_exit"), ns(f"{d}/t_start")
        reaped = log_time(f"{d}/holder.log", "command reaped", t_exit)
        revoked = log_time(f"{d}/holder.log", "session ended", t_exit)
        gone = log_time(f"{d}/waiter.log", "predecessor gone", t_exit)
        holding = log_time(f"{d}/waiter.log", "holding ", t_exit)
        vals = [reaped - t_exit, gone - reaped, holding - gone, t_start - holding,
                t_start - t_exit, revoked - reaped]
        for c, v in zip(cols, vals):
            c.append(v / 1e6)
    series[name] = cols

def cell(xs):
    return f"{statistics.median(xs):.2f} ({min(xs):.2f}–{max(xs):.2f})"

lines = [f"| step | settled waiter ({settle} s), median (min–max) of {rounds}, ms "
         f"| fresh waiter, median (min–max) of {rounds}, ms |",
         "| --- | ---: | ---: |"]
for k, step in enumerate(STEPS):
    lines.append(f"| {step} | {cell(series['settled'][k])} | {cell(series['fresh'][k])} |")
open(table, "w").write("\n".join(lines) + "\n")
with open(f"{work}/samples.md", "w") as f:
    f.write("## Raw samples (ms, in run order)\n\n")
    for name, cols in series.items():
        for step, xs in zip(STEPS, cols):
            f.write(f"- {name}, {step}: " + ", ".join(f"{x:.3f}" for x in xs) + "\n")
    f.write("\n")
PY
ELAPSED=$((SECONDS - STARTED))
if [[ -n $OUT ]]; then
  {
    bench_out_head "conch elect: where a handover's time goes" \
      "CONCH_BIN=$CONCH_BIN, HAND_SETTLE=$HAND_SETTLE; the run took ${ELAPSED} s"
    machine_info "$CONCH_BIN"
    echo "- etcd on $EP"
    echo
    cat "$TABLE"
    echo
    cat "$WORK/samples.md"
  } >"$OUT"
fi
bench_summary "conch elect: where a handover's time goes" "$TABLE" \
  "etcd on $EP, $(nproc) CPUs, Linux $(uname -r); conch: $CONCH_BIN; repository at $(repo_state); the run took ${ELAPSED} s"
[[ -z $OUT ]] || { echo; echo "raw results written to $OUT"; }
