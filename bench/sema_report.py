#!/usr/bin/env python3
"""Tables of bench/sema_handoff.sh from the files its runs leave, and its musts.

usage: sema_report.py RUNS TABLE
  RUNS   the directory of runs (tp_m<M>_r<R>/, req_w<W>/, params.json), as
         bench/sema_handoff.sh leaves it (keep it with --keep DIR)
  TABLE  where to write the markdown tables; the raw samples go to
         RUNS/samples.md
Exits 1, naming each one, if a must is broken:
  - every wrapper (gate holders and waiters) exits 0;
  - every waiter's key is in the queue read before the release, and no
    waiter's command starts before the gate releases;
  - on `--max 1` the waiters' commands start in queue order (create
    revision of their keys): the maximum distance from queue order is 0;
  - herd-free: unary requests and Watch messages per handoff at the longest
    queue stay under twice those at the shortest (a herd, every waiter
    woken by every release, would multiply them by about W/2).
Run it again on a kept RUNS directory to re-check the musts without
re-running the benchmark.
"""
import base64
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from etcd_metrics import parse  # noqa: E402
from report_lib import check_queue, check_rcs, exit_on_musts, label_row, label_table_head, \
    queue_distance, read_int, write_samples, write_table  # noqa: E402

runs, table_path = sys.argv[1], sys.argv[2]
P = json.load(open(f"{runs}/params.json"))
broken = []  # broken musts


def load_run(label, n, gates, max_units):
    d = f"{runs}/{label}"
    release = min(read_int(f"{d}/gate_exit_{k}") for k in range(1, gates + 1))
    starts = {i: read_int(f"{d}/w_{i}") for i in range(1, n + 1)}
    last = max(starts.values())
    # Queue order: create revision of each waiter's key; the waiter's index
    # is the last argument of its command (stamp .../w_I) in the holder JSON.
    kvs = json.load(open(f"{d}/queue.json")).get("kvs", [])
    rev = {}
    for kv in kvs:
        v = json.loads(base64.b64decode(kv["value"]))
        last_arg = v.get("cmd", "").rsplit("/", 1)[-1]
        if last_arg.startswith("w_"):
            rev[int(last_arg[2:])] = int(kv["create_revision"])
    disp, out_of_order = queue_distance(rev, starts)
    bad = check_rcs(f"{d}/rcs", label, broken)
    check_queue(label, n, rev, starts, release, broken, what="waiter keys")
    if max_units == 1 and disp:
        broken.append(f"{label}: on --max 1 the distance from queue order must be 0; it is {disp} "
                      f"(waiters out of place, in queue order: {out_of_order[:10]})")
    return dict(elapsed_ms=(last - release) / 1e6, disp=disp, bad=len(bad),
                starts=sorted((t - release) / 1e6 for t in starts.values()))


def pauses(r):
    # Gaps between successive command starts, the first from the release.
    ts = [0.0] + r["starts"]
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    return max(gaps), sum(1 for g in gaps if g > 50)


lines = []
# --- part 1: throughput. Rounds ran interleaved: round 1 of every --max,
# then round 2, ...
n = P["tp_waiters"]
rounds = P["tp_rounds"]
tp = {}
lines += [f"### 1. Handoff throughput: {n} queued waiters (`--ttl {P['tp_ttl']}`), "
          f"{rounds} round(s) per row",
          "",
          "| semaphore | gate | release → last waiter's command starts, median (ms) | "
          "handoffs/s, median | handoffs/s, each round | longest pause between starts, each "
          "round (ms) | pauses > 50 ms, each round | waiters exited 0 | max. distance from "
          "queue order |",
          "| --- | ---: | ---: | ---: | --- | --- | --- | --- | ---: |"]
for m in P["tp_maxes"]:
    rs = [load_run(f"tp_m{m}_r{r}", n, m, m) for r in range(1, rounds + 1)]
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


# --- part 2: store requests per handoff
def delta(label):
    d = f"{runs}/{label}"
    b = parse(open(f"{d}/metrics_before").read())
    a = parse(open(f"{d}/metrics_after").read())

    def key(name, labels):
        return (name, tuple(sorted(labels.items())))
    before = {key(nm, lb): v for nm, lb, v in b}
    res = {"unary": {}, "unary_err": 0, "watch_msgs": 0, "watch_streams": 0, "ka_msgs": 0}
    for nm, lb, v in a:
        dv = v - before.get(key(nm, lb), 0)
        if dv == 0:
            continue
        if nm == "grpc_server_handled_total" and lb.get("grpc_type") == "unary":
            res["unary"][lb["grpc_method"]] = res["unary"].get(lb["grpc_method"], 0) + dv
            if lb.get("grpc_code") != "OK":
                res["unary_err"] += dv
        elif nm == "grpc_server_msg_received_total" and lb.get("grpc_method") == "Watch":
            res["watch_msgs"] += dv
        elif nm == "grpc_server_started_total" and lb.get("grpc_method") == "Watch":
            res["watch_streams"] += dv
        elif nm == "grpc_server_msg_received_total" and lb.get("grpc_method") == "LeaseKeepAlive":
            res["ka_msgs"] += dv
    return res


ws = P["req_waiters"]
req = {w: (load_run(f"req_w{w}", w, 1, 1), delta(f"req_w{w}")) for w in ws}
rows = []


def row(label, f):
    rows.append(label_row(label, [f(w, *req[w]) for w in ws]))


def unary(m):
    return sum(m["unary"].values())


row("unary requests handled (Δ `grpc_server_handled_total`, unary)",
    lambda W, r, m: f"{unary(m):.0f}")
row("… by method", lambda W, r, m: ", ".join(f"{k} {v:.0f}" for k, v in sorted(m["unary"].items()))
    + (f" (**{m['unary_err']:.0f} not OK**)" if m["unary_err"] else ""))
row("**unary requests per handoff** (Δ / W)", lambda W, r, m: f"**{unary(m) / W:.2f}**")
row("unary requests per release (Δ / (W+1))", lambda W, r, m: f"{unary(m) / (W + 1):.2f}")
row("Watch messages received (Δ `grpc_server_msg_received_total`, Watch)",
    lambda W, r, m: f"{m['watch_msgs']:.0f}")
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
row("max. distance from queue order",
    lambda W, r, m: str(r["disp"]) if r["disp"] is not None else "n/a")
lines += ["",
          f"### 2. Store requests per handoff (`--max 1`, `--ttl {P['req_ttl']}`, W waiters "
          f"behind 1 gate holder; a handoff = one waiter admitted)",
          ""] + label_table_head([f"W = {w}" for w in ws]) + rows

# Herd-free: per-handoff costs must not grow with the queue.
if len(ws) >= 2:
    short, long_ = min(ws), max(ws)
    for what, get in (("unary requests", unary), ("Watch messages", lambda m: m["watch_msgs"])):
        a, b = get(req[short][1]) / short, get(req[long_][1]) / long_
        if b >= 2 * a:
            broken.append(f"herd-free: {what} per handoff must stay under twice the W={short} "
                          f"figure at W={long_}; they are {a:.2f} at W={short} and {b:.2f} "
                          f"at W={long_}")

write_table(table_path, lines, broken)

samples = ["Waiters' command start times, ms after the release (first gate holder's command "
           "exit), in start order:\n\n"]
for m, rs in tp.items():
    for i, r in enumerate(rs, 1):
        samples.append(f"- throughput, --max {m}, round {i}: "
                       + ", ".join(f"{x:.2f}" for x in r["starts"]) + "\n")
for w, (r, m) in req.items():
    samples.append(f"- requests, W={w}: " + ", ".join(f"{x:.2f}" for x in r["starts"]) + "\n")
samples.append("\nCounter deltas between the two snapshots of etcd's metrics:\n\n")
for w, (r, m) in req.items():
    by_method = json.dumps({k: int(v) for k, v in sorted(m["unary"].items())})
    samples.append(f"- W={w}: unary by method {by_method}, not OK {m['unary_err']:.0f}; "
                   f"Watch messages received {m['watch_msgs']:.0f}, Watch streams opened "
                   f"{m['watch_streams']:.0f}; LeaseKeepAlive messages received "
                   f"{m['ka_msgs']:.0f}\n")
write_samples(f"{runs}/samples.md", samples)

exit_on_musts("sema_report", broken)
