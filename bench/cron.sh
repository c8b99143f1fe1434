#!/usr/bin/env bash
# The distributed cron: tick lag, store requests per tick and conchd's idle
# footprint, against one throwaway store on 127.0.0.1 (etcd, or ZooKeeper
# with --store zookeeper).
#
# usage: bench/cron.sh [--store etcd|zookeeper] [--ticks N] [--out FILE]
#   --store S   the store (default etcd)
#   --ticks N   ticks of the lag run (default 60, one a second)
#   --out FILE  also write the table and the raw samples to FILE (markdown)
# env:
#   CONCH_BIN   conch binary (default build/conch); conchd is the conchd
#               binary next to it
#
# Measures, in one run:
#   a) tick lag: three conchd and one `@every 1s` job whose command is a
#      static helper that appends "<CONCH_TICK> <its start, ns>"; the lag
#      is the start minus the scheduled tick, so it includes the claim, the
#      spawn and the exec. p50, p99, max over N ticks. Checks: each tick
#      ran once. Target p99 <= 50 ms (the original adds 0-500 ms of jitter
#      on purpose).
#   b) store requests per tick: the store's own request counters (etcd's
#      unary gRPC requests from /metrics; ZooKeeper's packets received from
#      mntr) over the lag run, less the same three daemons' idle rate
#      (session renewals) measured with the job paused; for the cluster and
#      per daemon.
#   c) idle footprint: one conchd with 100 jobs none of which ticks within
#      the hour; its RSS after they are read, and the CPU time and context
#      switches it uses over 30 s of idling.
# Exits non-zero if a check fails.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

COMMAND="bench/cron.sh $*"
OUT="" STORE=etcd TICKS=60 IDLE_S=30
while (($#)); do
  case $1 in
    --store) [[ $# -ge 2 ]] || usage_error "--store needs a value"
             STORE=$2; shift 2 ;;
    --ticks) [[ $# -ge 2 ]] || usage_error "--ticks needs a value"
             TICKS=$2; shift 2 ;;
    --out) [[ $# -ge 2 ]] || usage_error "--out needs a file"
           OUT=$2; shift 2 ;;
    -h|--help) bench_usage '^set -euo' ;;
    *) usage_error "unknown argument: $1 (try --help)" ;;
  esac
done
[[ $STORE == etcd || $STORE == zookeeper ]] || usage_error "--store etcd|zookeeper"
[[ $TICKS =~ ^[0-9]+$ ]] && ((TICKS >= 5)) || usage_error "--ticks: at least 5"
OUT=$(abs_path "$OUT")

find_conch_bin
CONCHD=$(dirname "$CONCH_BIN")/conchd
[[ -x $CONCHD ]] || die "no conchd next to $CONCH_BIN"
bench_require_tools python3
FAILURES=()

if [[ $STORE == etcd ]]; then
  # shellcheck source=scripts/lib/etcd.sh
  source "$ROOT/scripts/lib/etcd.sh"
else
  # shellcheck source=tests/servers/zk.sh
  source "$ROOT/tests/servers/zk.sh"
fi
bench_workdir conch-cron-bench
if [[ $STORE == etcd ]]; then
  bench_etcd_start
  export CONCH_ENDPOINTS=$EP
else
  bench_zk_start
  export CONCH_ENDPOINTS=$ZK_URL
fi
log "$STORE at $CONCH_ENDPOINTS"

# The job's command: appends "<tick> <start ns>" to the file named by $1.
cat >"$WORK/tickstamp.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char** argv) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  const char* tick = getenv("CONCH_TICK");
  if (argc < 2 || tick == NULL) return 2;
  char line[128];
  int n = snprintf(line, sizeof(line), "%s %lld\n", tick,
                   (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
  int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd < 0 || write(fd, line, (size_t)n) != n) return 2;
  return close(fd) == 0 ? 0 : 2;
}
C
cc -O2 -static -o "$WORK/tickstamp" "$WORK/tickstamp.c" || die "cannot build the helper"

# The store's request counter, as one number.
requests() {
  if [[ $STORE == etcd ]]; then
    python3 "$ROOT/bench/etcd_metrics.py" "http://$EP/metrics" "$WORK/metrics.txt" | awk '{print $1}'
  else
    zk_4lw 0 mntr | awk '$1 == "zk_packets_received" {print $2}'
  fi
}

start_daemons() {
  local n
  for n in a b c; do
    "$CONCHD" --node "$n" --history 200 >"$WORK/conchd_$n.out" 2>"$WORK/conchd_$n.err" &
    BG_PIDS+=($!)
  done
}

# --- a) and b) ------------------------------------------------------------
"$CONCH_BIN" cron add lag --schedule '@every 1s' -- "$WORK/tickstamp" "$WORK/ticks.txt"
"$CONCH_BIN" cron pause lag
start_daemons
for _ in $(seq 100); do
  [[ $("$CONCH_BIN" cron history lag --json 2>/dev/null || true) == "[]" ]] && break
  sleep 0.1
done
sleep 3  # the sessions' first renewals, then the idle rate
idle0=$(requests); sleep 10; idle1=$(requests)
idle_rate=$(python3 -c "print(($idle1 - $idle0) / 10)")
log "idle: $idle_rate requests/s from three daemons"
"$CONCH_BIN" cron resume lag
r0=$(requests); t0=$(date +%s)
sleep "$TICKS"
r1=$(requests); t1=$(date +%s)
"$CONCH_BIN" cron pause lag
for pid in "${BG_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in "${BG_PIDS[@]}"; do wait_bounded "$pid" 10 || true; done
BG_PIDS=()

python3 - "$WORK/ticks.txt" "$r0" "$r1" "$t0" "$t1" "$idle_rate" >"$WORK/ab.txt" <<'PY'
import sys, datetime
path, r0, r1, t0, t1, idle = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
lags, ticks = [], []
for line in open(path):
    tick, ns = line.split()
    t = datetime.datetime.strptime(tick, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    ticks.append(tick)
    lags.append(int(ns) / 1e6 - t.timestamp() * 1000)
lags.sort()
def pct(p):
    return lags[min(len(lags) - 1, int(round(p / 100 * (len(lags) - 1))))]
dup = len(ticks) - len(set(ticks))
n = len(ticks)
per_tick = ((r1 - r0) - idle * (t1 - t0)) / max(n, 1)
print(f"{n} {dup} {pct(50):.1f} {pct(99):.1f} {lags[-1]:.1f} {per_tick:.1f} {idle:.1f}")
PY
read -r N DUP P50 P99 MAX PER_TICK IDLE <"$WORK/ab.txt"
((DUP == 0)) || FAILURES+=("$DUP tick(s) ran twice")
((N >= TICKS - 2)) || FAILURES+=("only $N ticks ran in $TICKS s")

# --- c) --------------------------------------------------------------------
for i in $(seq -w 1 100); do
  "$CONCH_BIN" cron add "idle$i" --schedule "$((10#$i % 60)) $((10#$i % 24)) 1 1 *" -- true
done
"$CONCHD" --node idle >"$WORK/idle.out" 2>"$WORK/idle.err" &
IDLE_PID=$!
BG_PIDS+=("$IDLE_PID")
sleep 5  # session up, 101 jobs read
cpu() { awk '{print $14 + $15}' "/proc/$IDLE_PID/stat"; }
ctx() { cat /proc/"$IDLE_PID"/task/*/status | awk '/ctxt_switches/ {s += $2} END {print s}'; }
c0=$(cpu); x0=$(ctx)
sleep "$IDLE_S"
c1=$(cpu); x1=$(ctx)
RSS=$(awk '/^VmRSS/ {print $2}' "/proc/$IDLE_PID/status")
HZ=$(getconf CLK_TCK)
CPU_MS=$(python3 -c "print(round(($c1 - $c0) * 1000 / $HZ))")
CTX=$((x1 - x0))
THREADS=$(awk '/^Threads/ {print $2}' "/proc/$IDLE_PID/status")

{
  echo "| measure ($STORE) | result |"
  echo "|---|---|"
  echo "| tick lag, scheduled → command started, p50 / p99 / max over $N ticks, 3 daemons | $P50 / $P99 / $MAX ms |"
  echo "| ticks run twice | $DUP |"
  echo "| store requests per tick, whole cluster (3 daemons, 1 job), idle renewals taken out | $PER_TICK |"
  echo "| idle renewals of the 3 daemons | $IDLE requests/s |"
  echo "| conchd idle with 100 jobs: RSS | $((RSS / 1024)) MiB ($RSS KiB), $THREADS threads |"
  echo "| conchd idle with 100 jobs: CPU time over ${IDLE_S} s | $CPU_MS ms |"
  echo "| conchd idle with 100 jobs: context switches over ${IDLE_S} s (all threads) | $CTX |"
} >"$WORK/table.md"

bench_summary "cron on $STORE" "$WORK/table.md" "- $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ -n $OUT ]]; then
  {
    bench_out_head "cron on $STORE" "CONCH_BIN=$CONCH_BIN"
    machine_info "$CONCH_BIN"
    echo
    cat "$WORK/table.md"
    echo
    echo '```'
    cat "$WORK/ticks.txt"
    echo '```'
  } >"$OUT"
fi
exit_on_failures
