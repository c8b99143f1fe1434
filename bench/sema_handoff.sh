#!/usr/bin/env bash
# `conch sema` handoffs: throughput of a drained queue, and store requests
# per handoff for a short and a long queue, against a throwaway
# single-member etcd on 127.0.0.1.
#
# usage: bench/sema_handoff.sh [--out FILE] [--quick]
#   --out FILE   also write the tables and every raw sample to FILE (markdown)
#   --quick      a smoke test of the harness: fewer waiters and rounds (the
#                figures it prints are not meant to be quoted)
# env:
#   CONCH_BIN    conch binary to measure (default: build/conch of this repo)
#   SETTLE       seconds etcd's counters must stay unchanged before a
#                release, so that every waiter has queued and watches (0.5)
#
# Measures, in one run:
#   1) handoff throughput: N=100 waiters (command: `stamp`, a static helper
#      that writes CLOCK_REALTIME) queued behind a gate of M holders on
#      --max M (M = 1 and 4, --ttl 10s, 3 rounds each, a fresh semaphore
#      name per round); the gate is released and the time from the first
#      gate holder's command exit to the last waiter's command start is
#      taken; throughput = N / that time
#   2) store requests per handoff: W=10 and W=500 waiters on --max 1
#      (--ttl 30s) behind one gate holder; etcd's own gRPC counters (metrics
#      endpoint) are read before the release and after every waiter exited
# Every wrapper runs under timeout(1), every wait is bounded, and every
# process the script starts is stopped on exit.
# The child commands below are single-quoted on purpose: they expand in the child.
# shellcheck disable=SC2016
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/etcd.sh
source "$ROOT/scripts/lib/etcd.sh"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

OUT=""
TP_WAITERS=100 TP_MAXES="1 4" TP_ROUNDS=3 TP_BATCH=10 TP_TTL=10s
REQ_WAITERS="10 500" REQ_BATCH=50 REQ_TTL=30s
SETTLE=${SETTLE:-0.5}
while (($#)); do
  case $1 in
    --out) [[ $# -ge 2 ]] || { echo "--out needs a file" >&2; exit 2; }
           OUT=$2; shift 2 ;;
    --out=*) OUT=${1#--out=}; shift ;;
    --quick) TP_WAITERS=20 TP_ROUNDS=1 REQ_WAITERS="10 60"; shift ;;
    -h|--help) sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
done
if [[ -n $OUT && $OUT != /* ]]; then OUT="$PWD/$OUT"; fi


# --- tools ----------------------------------------------------------------
find_conch_bin
for tool in etcd etcdctl python3 timeout cc; do
  command -v "$tool" >/dev/null || die "required tool '$tool' is missing (run scripts/install-deps.sh)"
done
export ETCDCTL_API=3

# --- scratch dir, etcd, cleanup -------------------------------------------
WORK=$(mktemp -d -t conch-sema-bench.XXXXXX)
BG_PIDS=()
cleanup() {
  local pid
  trap - EXIT INT TERM HUP
  # timeout(1) passes the TERM on to the wrapper, which stops its child.
  for pid in "${BG_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${BG_PIDS[@]}"; do wait_bounded "$pid" 5 || true; done
  etcd_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP


# etcd takes its flags from ETCD_* variables too; this adds a metrics
# listener to the throwaway member of scripts/lib/etcd.sh.
METRICS_PORT=$(free_ports 1)
export ETCD_LISTEN_METRICS_URLS="http://127.0.0.1:$METRICS_PORT"
METRICS_URL="$ETCD_LISTEN_METRICS_URLS/metrics"
log "etcd data dir (normal disk, not tmpfs): $WORK/etcd"
etcd_start "$WORK" || die "could not start etcd (log: $WORK/etcd.log)"
unset ETCD_LISTEN_METRICS_URLS
EP=$ETCD_ENDPOINT
ETCD_VERSION=$(etcd --version | awk '/etcd Version/{print $3}')
log "etcd $ETCD_VERSION listening on $EP (pid $ETCD_PID), metrics on $METRICS_URL"

# metrics.py fetch OUT: saves etcd's /metrics text to OUT and prints
# "<unary requests handled> <Watch messages received>".
cat >"$WORK/metrics.py" <<'PY'
import re, sys, urllib.request
LINE = re.compile(r'^(\w+)\{([^}]*)\}\s+(\S+)$')
def parse(text):
    out = []
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
            out.append((m.group(1), labels, float(m.group(3))))
    return out
def totals(samples):
    unary = sum(v for n, l, v in samples
                if n == "grpc_server_handled_total" and l.get("grpc_type") == "unary")
    watch = sum(v for n, l, v in samples
                if n == "grpc_server_msg_received_total" and l.get("grpc_method") == "Watch")
    return unary, watch
if __name__ == "__main__":
    url, out = sys.argv[1], sys.argv[2]
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    open(out, "w").write(text)
    u, w = totals(parse(text))
    print(f"{u:.0f} {w:.0f}")
PY
curl_metrics() { timeout 10 python3 "$WORK/metrics.py" "$METRICS_URL" "$1"; }
curl_metrics "$WORK/metrics.check" >/dev/null || die "cannot read etcd's metrics at $METRICS_URL"
grep -q '^grpc_server_handled_total{' "$WORK/metrics.check" \
  || die "etcd's metrics have no grpc_server_handled_total"
# Saves a snapshot to $1 once etcd's unary and Watch counters stood still
# for SETTLE seconds (every waiter has queued, read and opened its watch).
quiet_snapshot() {
  local a b deadline=$((SECONDS + 60))
  a=$(curl_metrics "$1.tmp") || die "cannot read etcd's metrics"
  while :; do
    sleep "$SETTLE"
    b=$(curl_metrics "$1") || die "cannot read etcd's metrics"
    [[ $a != "$b" ]] || break
    ((SECONDS < deadline)) || die "etcd's request counters did not settle within 60 s"
    a=$b
  done
  rm -f "$1.tmp"
}

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
  local prefix="/conch/v1/sema/$name/$max/" k i j pid stamps
  local -a gpids=() wpids=()
  mkdir -p "$d"
  local conch=("$CONCH_BIN" sema "$name" --max "$max" --ttl "$ttl" --endpoints "$EP" --)
  for ((k = 1; k <= gates; k++)); do
    timeout "$LIMIT" "${conch[@]}" sh -c "$GATE_SH" sh "$d" "$STAMP" "$k" >"$d/gate_$k.out" 2>&1 &
    pid=$!; BG_PIDS+=("$pid"); gpids+=("$pid")
    wait_file "$d/held_$k" 15 || die "$name: gate holder $k did not get a unit within 15 s ($(cat "$d/gate_$k.out"))"
  done
  for ((i = 1; i <= n; i += batch)); do
    for ((j = i; j < i + batch && j <= n; j++)); do
      timeout "$LIMIT" "${conch[@]}" "$STAMP" "$d/w_$j" >"$d/w_$j.out" 2>&1 &
      pid=$!; BG_PIDS+=("$pid"); wpids+=("$pid")
    done
    wait_keys "$prefix" "$((gates + j - 1))" 60 \
      || die "$name: expected $((gates + j - 1)) keys under $prefix, found $(count_keys "$prefix")"
  done
  etcdctl --endpoints "$EP" get --prefix -w json "$prefix" >"$d/queue.json"
  if ((metrics)); then quiet_snapshot "$d/metrics_before"; else quiet_snapshot "$d/metrics_settled"; fi
  stamps=("$d"/w_*[0-9])
  [[ ! -e ${stamps[0]} ]] || die "$name: a waiter ran while the gate held every unit"
  touch "$d/go"
  # Wait for every waiter's stamp without calling etcd (no requests of our
  # own between the two snapshots), then reap everybody.
  local deadline=$((SECONDS + 120))
  while :; do
    stamps=("$d"/w_*[0-9])
    [[ -e ${stamps[0]} ]] || stamps=()
    ((${#stamps[@]} < n)) || break
    if ((SECONDS >= deadline)); then
      log "$name: only ${#stamps[@]} of $n waiters ran within 120 s of the release; holders and waiters now:"
      timeout 10 "$CONCH_BIN" sema "$name" --max "$max" --who --endpoints "$EP" >&2 || true
      die "$name: waiters did not drain"
    fi
    sleep 0.05
  done
  : >"$d/rcs"
  for k in "${!gpids[@]}"; do
    wait_bounded "${gpids[k]}" 30 || true
    echo "gate $((k + 1)) $WAIT_RC" >>"$d/rcs"
  done
  for i in "${!wpids[@]}"; do
    wait_bounded "${wpids[i]}" 30 || true
    echo "w $((i + 1)) $WAIT_RC" >>"$d/rcs"
  done
  BG_PIDS=()
  if ((metrics)); then quiet_snapshot "$d/metrics_after"; fi
  wait_keys "$prefix" 0 15 || die "$name: $(count_keys "$prefix") key(s) left under $prefix after every claim exited"
}

RUNS=$WORK/runs
# --- 1) handoff throughput ----------------------------------------------------
for max in $TP_MAXES; do
  for ((r = 1; r <= TP_ROUNDS; r++)); do
    log "1) throughput, --max $max, round $r of $TP_ROUNDS: $TP_WAITERS waiters behind $max gate holder(s)"
    run_queue "$RUNS/tp_m${max}_r$r" "tp-m$max-r$r" "$max" "$max" "$TP_WAITERS" "$TP_BATCH" "$TP_TTL" 0
  done
done

# --- 2) store requests per handoff ----------------------------------------------
for w in $REQ_WAITERS; do
  log "2) store requests, --max 1: $w waiters behind 1 gate holder"
  run_queue "$RUNS/req_w$w" "req-w$w" 1 1 "$w" "$REQ_BATCH" "$REQ_TTL" 1
done

# --- report ------------------------------------------------------------------
ETCDCTL_VERSION=$(etcdctl version | awk '/etcdctl version/{print $3}')
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
export RUNS TP_WAITERS TP_MAXES TP_ROUNDS TP_TTL REQ_WAITERS REQ_TTL SETTLE CONCH_BIN EP \
  ETCD_VERSION ETCDCTL_VERSION COMMIT LOAD WORK
TABLE=$WORK/table.md
set +e
python3 - "$TABLE" "${OUT:-}" <<'PY'
import base64, json, math, os, platform, statistics, sys
from datetime import datetime, timezone
sys.path.insert(0, os.environ["WORK"])
from metrics import parse

E = os.environ
runs = E["RUNS"]
failures = []

def stamp(path):
    with open(path) as f:
        return int(f.read().strip())

def load_run(label, n, gates):
    d = f"{runs}/{label}"
    release = min(stamp(f"{d}/gate_exit_{k}") for k in range(1, gates + 1))
    starts = {i: stamp(f"{d}/w_{i}") for i in range(1, n + 1)}
    last = max(starts.values())
    # Queue order: create revision of each waiter's key; the waiter's index
    # is the last argument of its command (stamp .../w_I) in the holder JSON.
    kvs = json.load(open(f"{d}/queue.json")).get("kvs", [])
    rev = {}
    for kv in kvs:
        v = json.loads(base64.b64decode(kv["value"]))
        cmd = v.get("cmd", "")
        last_arg = cmd.rsplit("/", 1)[-1]
        if last_arg.startswith("w_"):
            rev[int(last_arg[2:])] = int(kv["create_revision"])
    queue_rank = {i: r for r, i in enumerate(sorted(rev, key=rev.get))}
    start_rank = {i: r for r, i in enumerate(sorted(starts, key=starts.get))}
    disp = max(abs(queue_rank[i] - start_rank[i]) for i in rev) if len(rev) == n else None
    rcs = [l.split() for l in open(f"{d}/rcs") if l.strip()]
    bad = [f"{who} {i} exited {rc}" for who, i, rc in rcs if rc != "0"]
    if bad:
        failures.append(f"{label}: " + ", ".join(bad))
    if len(rev) != n:
        failures.append(f"{label}: found {len(rev)} of {n} waiter keys in queue.json")
    early = [i for i, t in starts.items() if t < release]
    if early:
        failures.append(f"{label}: waiters {early} started before the gate released")
    return dict(elapsed_ms=(last - release) / 1e6, disp=disp, bad=len(bad),
                starts=sorted((t - release) / 1e6 for t in starts.values()))

def pauses(r):
    # Gaps between successive command starts, the first from the release.
    ts = [0.0] + r["starts"]
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    return max(gaps), sum(1 for g in gaps if g > 50)

lines = []
# --- part 1
n = int(E["TP_WAITERS"])
rounds = int(E["TP_ROUNDS"])
tp = {}
lines += [f"### 1. Handoff throughput: {n} queued waiters (`--ttl {E['TP_TTL']}`), {rounds} round(s) per row",
          "",
          "| semaphore | gate | release → last waiter's command starts, median (ms) | handoffs/s, median | handoffs/s, each round | longest pause between starts, each round (ms) | pauses > 50 ms, each round | waiters exited 0 | max. distance from queue order |",
          "| --- | ---: | ---: | ---: | --- | --- | --- | --- | ---: |"]
for m in E["TP_MAXES"].split():
    rs = [load_run(f"tp_m{m}_r{r}", n, int(m)) for r in range(1, rounds + 1)]
    tp[m] = rs
    el = [r["elapsed_ms"] for r in rs]
    thr = [n / (x / 1000) for x in el]
    ok = sum(n - r["bad"] for r in rs)
    disp = [r["disp"] for r in rs if r["disp"] is not None]
    ps = [pauses(r) for r in rs]
    lines.append(f"| `--max {m}` | {m} holder(s) | {statistics.median(el):.1f} | "
                 f"{statistics.median(thr):.0f} | {', '.join(f'{x:.0f}' for x in thr)} | "
                 f"{', '.join(f'{p[0]:.1f}' for p in ps)} | {', '.join(str(p[1]) for p in ps)} | "
                 f"{ok} of {n * rounds} | {max(disp) if disp else 'n/a'} |")

# --- part 2
def delta(label):
    d = f"{runs}/{label}"
    b = parse(open(f"{d}/metrics_before").read())
    a = parse(open(f"{d}/metrics_after").read())
    def key(name, labels):
        return (name, tuple(sorted(labels.items())))
    before = {key(nm, l): v for nm, l, v in b}
    res = {"unary": {}, "unary_err": 0, "watch_msgs": 0, "watch_streams": 0, "ka_msgs": 0}
    for nm, l, v in a:
        dv = v - before.get(key(nm, l), 0)
        if dv == 0:
            continue
        if nm == "grpc_server_handled_total" and l.get("grpc_type") == "unary":
            res["unary"][l["grpc_method"]] = res["unary"].get(l["grpc_method"], 0) + dv
            if l.get("grpc_code") != "OK":
                res["unary_err"] += dv
        elif nm == "grpc_server_msg_received_total" and l.get("grpc_method") == "Watch":
            res["watch_msgs"] += dv
        elif nm == "grpc_server_started_total" and l.get("grpc_method") == "Watch":
            res["watch_streams"] += dv
        elif nm == "grpc_server_msg_received_total" and l.get("grpc_method") == "LeaseKeepAlive":
            res["ka_msgs"] += dv
    return res

ws = E["REQ_WAITERS"].split()
req = {}
for w in ws:
    req[w] = (load_run(f"req_w{w}", int(w), 1), delta(f"req_w{w}"))
rows = []
def row(label, f):
    rows.append(f"| {label} | " + " | ".join(f(int(w), *req[w]) for w in ws) + " |")
U = lambda m: sum(m["unary"].values())
row("unary requests handled (Δ `grpc_server_handled_total`, unary)", lambda W, r, m: f"{U(m):.0f}")
row("… by method", lambda W, r, m: ", ".join(f"{k} {v:.0f}" for k, v in sorted(m["unary"].items()))
    + (f" (**{m['unary_err']:.0f} not OK**)" if m["unary_err"] else ""))
row("**unary requests per handoff** (Δ / W)", lambda W, r, m: f"**{U(m) / W:.2f}**")
row("unary requests per release (Δ / (W+1))", lambda W, r, m: f"{U(m) / (W + 1):.2f}")
row("Watch messages received (Δ `grpc_server_msg_received_total`, Watch)", lambda W, r, m: f"{m['watch_msgs']:.0f}")
row("**Watch messages per handoff** (Δ / W)", lambda W, r, m: f"**{m['watch_msgs'] / W:.2f}**")
row("Watch messages per release (Δ / (W+1))", lambda W, r, m: f"{m['watch_msgs'] / (W + 1):.2f}")
row("Watch streams opened per handoff (Δ `grpc_server_started_total`, Watch / W)",
    lambda W, r, m: f"{m['watch_streams'] / W:.2f}")
row("LeaseKeepAlive messages received (not counted above)", lambda W, r, m: f"{m['ka_msgs']:.0f}")
row("drain: release → last waiter's command starts (ms)", lambda W, r, m: f"{r['elapsed_ms']:.1f}")
row("handoffs/s during the drain", lambda W, r, m: f"{W / (r['elapsed_ms'] / 1000):.0f}")
row("longest pause between starts (ms); pauses > 50 ms",
    lambda W, r, m: f"{pauses(r)[0]:.1f}; {pauses(r)[1]}")
row("waiters exited 0", lambda W, r, m: f"{W - r['bad']} of {W}")
row("max. distance from queue order", lambda W, r, m: str(r["disp"]) if r["disp"] is not None else "n/a")
lines += ["",
          f"### 2. Store requests per handoff (`--max 1`, `--ttl {E['REQ_TTL']}`, W waiters behind 1 gate holder; a handoff = one waiter admitted)",
          "",
          "| | " + " | ".join(f"W = {w}" for w in ws) + " |",
          "| --- |" + " ---: |" * len(ws)] + rows
table = "\n".join(lines) + "\n"
if failures:
    table += "\n**Failures:** " + "; ".join(failures) + "\n"
open(sys.argv[1], "w").write(table)

out = sys.argv[2]
if out:
    with open(out, "w") as f:
        f.write("# conch sema handoffs: raw results\n\n")
        f.write(f"- date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M:%S UTC')}\n")
        f.write(f"- machine: {os.cpu_count()} CPUs, Linux {platform.release()}, "
                f"load average at the end {E['LOAD']}\n")
        f.write(f"- etcd {E['ETCD_VERSION']}, etcdctl {E['ETCDCTL_VERSION']}, single member on {E['EP']}\n")
        f.write(f"- conch binary: {E['CONCH_BIN']} (repository at {E['COMMIT']})\n")
        f.write(f"- settle: etcd's unary and Watch counters unchanged for {E['SETTLE']} s before each release\n")
        f.write("\n" + table + "\n## Raw samples\n\n")
        f.write("Waiters' command start times, ms after the release (first gate holder's command exit), in start order:\n\n")
        for m, rs in tp.items():
            for i, r in enumerate(rs, 1):
                f.write(f"- throughput, --max {m}, round {i}: "
                        + ", ".join(f"{x:.2f}" for x in r["starts"]) + "\n")
        for w, (r, m) in req.items():
            f.write(f"- requests, W={w}: " + ", ".join(f"{x:.2f}" for x in r["starts"]) + "\n")
        f.write("\nCounter deltas between the two snapshots of etcd's metrics:\n\n")
        for w, (r, m) in req.items():
            f.write(f"- W={w}: unary by method {json.dumps({k: int(v) for k, v in sorted(m['unary'].items())})}, "
                    f"not OK {m['unary_err']:.0f}; Watch messages received {m['watch_msgs']:.0f}, "
                    f"Watch streams opened {m['watch_streams']:.0f}; "
                    f"LeaseKeepAlive messages received {m['ka_msgs']:.0f}\n")
        f.write("\n")
sys.exit(1 if failures else 0)
PY
report_rc=$?
set -e

echo
echo "## conch sema: handoffs"
echo
echo "etcd $ETCD_VERSION on $EP, $(nproc) CPUs, Linux $(uname -r); conch: $CONCH_BIN"
echo
cat "$TABLE"
[[ -z $OUT ]] || { echo; echo "raw results written to $OUT"; }
exit "$report_rc"
