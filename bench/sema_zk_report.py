#!/usr/bin/env python3
"""Table of bench/sema_zk.sh from the files its runs leave, and its musts.

usage: sema_zk_report.py RUNS TABLE
  RUNS   the directory of runs (w<W>/, params.json), as bench/sema_zk.sh
         leaves it (keep it with --keep DIR)
  TABLE  where to write the markdown table; the raw samples go to
         RUNS/samples.md
Exits 1, naming each one, if a must is broken:
  - every wrapper (gate holder and waiters) exits 0;
  - every waiter is in the queue read before the release, and no waiter's
    command starts before the gate releases;
  - the waiters' commands start in queue order (--max 1);
  - herd-free: store requests per handoff at the longest queue stay under
    twice those at the shortest.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report_lib import check_queue, check_rcs, exit_on_musts, label_row, label_table_head, \
    queue_distance, read_int, write_samples, write_table  # noqa: E402

runs, table_path = sys.argv[1], sys.argv[2]
P = json.load(open(f"{runs}/params.json"))
broken = []


def mntr(path):
    out = {}
    for line in open(path):
        parts = line.split()
        if len(parts) == 2:
            try:
                out[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return out


def load(w):
    d = f"{runs}/w{w}"
    release = read_int(f"{d}/gate_exit")
    starts = {i: read_int(f"{d}/w_{i}") for i in range(1, w + 1)}
    # Queue order: the sequence suffix of each child; a waiter's index is
    # the last argument of its command (stamp .../w_I) in the node's data.
    seq = {}
    for line in open(f"{d}/queue"):
        name, _, data = line.strip().partition(" ")
        cmd = json.loads(data).get("cmd", "") if data else ""
        last = cmd.rsplit("/", 1)[-1]
        if last.startswith("w_"):
            seq[int(last[2:])] = int(name.rsplit("-", 1)[-1])
    label = f"W={w}"
    bad = check_rcs(f"{d}/rcs", label, broken)
    check_queue(label, w, seq, starts, release, broken)
    disp, _ = queue_distance(seq, starts)
    if disp:
        broken.append(f"{label}: on --max 1 the waiters must start in queue order; the "
                      f"largest distance from it is {disp}")
    a, b, c = (mntr(f"{d}/mntr_{k}") for k in "ABC")
    ta, tb, tc = (read_int(f"{d}/mntr_{k}.t") for k in "ABC")
    pk = "zk_packets_received"
    wk = "zk_cnt_conch_write_per_namespace"
    idle_packets = b[pk] - a[pk] - 1          # B's own mntr taken off
    idle_rate = idle_packets / ((tb - ta) / 1e9)
    drain_raw = c[pk] - b[pk] - 1             # C's own mntr taken off
    window_s = (tc - tb) / 1e9
    heartbeats = idle_rate * window_s
    last = max(starts.values())
    return dict(w=w, disp=disp, bad=len(bad), idle_packets=idle_packets, idle_rate=idle_rate,
                idle_s=(tb - ta) / 1e9, drain_raw=drain_raw, window_s=window_s,
                heartbeats=heartbeats, requests=drain_raw - heartbeats,
                writes=c.get(wk, 0) - b.get(wk, 0),
                sessions=b.get("zk_num_alive_connections", 0),
                drain_ms=(last - release) / 1e6,
                starts=sorted((t - release) / 1e6 for t in starts.values()))


ws = P["waiters"]
R = {w: load(w) for w in ws}
rows = []


def row(label, f):
    rows.append(label_row(label, [f(R[w]) for w in ws]))


row("client connections open while the queue stood (mntr `zk_num_alive_connections`, "
    "the mntr's own included)", lambda r: f"{r['sessions']:.0f}")
row("idle window: packets received (Δ `zk_packets_received`, less the mntr's own) over its "
    "length", lambda r: f"{r['idle_packets']:.0f} in {r['idle_s']:.2f} s")
row("idle rate: heartbeats per second, whole queue", lambda r: f"{r['idle_rate']:.2f}")
row("drain window: snapshot B → every wrapper exited, snapshot C (s)",
    lambda r: f"{r['window_s']:.2f}")
row("packets received in the drain window (Δ `zk_packets_received`, less the mntr's own)",
    lambda r: f"{r['drain_raw']:.0f}")
row("… less the idle rate × the drain window (an upper bound of its heartbeats)",
    lambda r: f"{r['requests']:.1f}")
row("**store requests per handoff** (… / W)", lambda r: f"**{r['requests'] / r['w']:.2f}**")
row("store requests per release (… / (W+1))", lambda r: f"{r['requests'] / (r['w'] + 1):.2f}")
row("writes under /conch per handoff (Δ `zk_cnt_conch_write_per_namespace` / W)",
    lambda r: f"{r['writes'] / r['w']:.2f}")
row("drain: release → last waiter's command starts (ms)", lambda r: f"{r['drain_ms']:.1f}")
row("handoffs/s during the drain", lambda r: f"{r['w'] / (r['drain_ms'] / 1000):.0f}")
row("waiters exited 0", lambda r: f"{r['w'] - r['bad']} of {r['w']}")
row("max. distance from queue order",
    lambda r: str(r["disp"]) if r["disp"] is not None else "n/a")

short, long_ = min(ws), max(ws)
per = {w: R[w]["requests"] / w for w in ws}
# "Does not grow": within 25 % of the shorter queue's figure. Timing
# decides how many watches fire twice and how many check reads a handoff
# takes, so one W varies by some 15 % from run to run; a herd (every
# waiter woken by every release) would multiply the figure by about W/2.
GROWTH_LIMIT = 1.25
grows = per[long_] > per[short] * GROWTH_LIMIT
lines = [f"Store requests per handoff on ZooKeeper (`--max 1`, `--ttl {P['ttl']}`, W waiters "
         f"behind 1 gate holder; a handoff = one waiter admitted; idle window {P['idle_s']} s):",
         ""] + label_table_head([f"W = {w}" for w in ws]) + rows + [
         "",
         f"Target: requests per handoff do not grow with W: {per[short]:.2f} at W = {short}, "
         f"{per[long_]:.2f} at W = {long_} ({per[long_] / per[short]:.2f}×; met when under "
         f"{GROWTH_LIMIT}×): " + ("**not met**" if grows else "met") + "."]
if len(ws) >= 2 and per[long_] >= 2 * per[short]:
    broken.append(f"herd-free: requests per handoff must stay under twice the W={short} figure "
                  f"at W={long_}; they are {per[short]:.2f} and {per[long_]:.2f}")
write_table(table_path, lines, broken)

samples = ["Waiters' command start times, ms after the release (the gate holder's command "
           "exit), in start order:\n\n"]
for w in ws:
    samples.append(f"- W={w}: " + ", ".join(f"{x:.2f}" for x in R[w]["starts"]) + "\n")
samples.append("\nmntr counters at the three snapshots (A: idle window starts; B: release; "
               "C: every wrapper exited):\n\n")
for w in ws:
    d = f"{runs}/w{w}"
    vals = []
    for k in "ABC":
        m = mntr(f"{d}/mntr_{k}")
        vals.append(f"{k}: packets_received {m['zk_packets_received']:.0f}, "
                    f"conch writes {m.get('zk_cnt_conch_write_per_namespace', 0):.0f}, "
                    f"connections {m.get('zk_num_alive_connections', 0):.0f}")
    samples.append(f"- W={w}: " + "; ".join(vals) + "\n")
write_samples(f"{runs}/samples.md", samples)

exit_on_musts("sema_zk_report", broken)
