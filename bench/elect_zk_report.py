#!/usr/bin/env python3
"""Tables of bench/elect_zk.sh from its raw samples.

usage: elect_zk_report.py --raw DIR --table FILE --runs N --rss-runs N
                          --hand-runs N --dirty-runs N --hand-settle S

DIR holds one file per metric and tool, one sample per line in run order:
wall_T and rss_T for T in zk, floor, full, etcd; hand_fresh_T and hand_settled_T
for T in zk, etcd; dirty_T for T in zk, etcd; and the reference of part c,
ref_write_S, ref_spawn_S and ref_true_S for S in fresh, settled. Writes the
markdown tables to FILE and the raw samples, as a markdown list, to
DIR/samples.md.
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report_lib import elect_args, label_row, label_table_head, md_table, nearest_rank, \
    read_samples, sample_line, write_samples  # noqa: E402

TOOLS = ("zk", "floor", "full", "etcd")
LABEL = {"zk": "conch elect, ZooKeeper", "floor": "floor (`zk_floor floor`)",
         "full": "floor + list + `true` (`zk_floor elect`)", "etcd": "conch elect, etcd"}
# conch on ZooKeeper / floor, mean wall time; checked against the bare
# floor (the wording) and against the floor doing the same work
# (list the queue, run the command), which the bare floor leaves out.
WALL_TARGET = 1.3
HAND_TARGET = 1.0   # ms: ZooKeeper handover - (write + spawn), medians


def main():
    a = elect_args()

    def load(name):
        return read_samples(f"{a.raw}/{name}")

    mean, median = statistics.mean, statistics.median
    p95 = lambda xs: nearest_rank(xs, 95)
    p90 = lambda xs: nearest_rank(xs, 90)
    series = ("fresh", "settled")
    wall = {t: load(f"wall_{t}") for t in TOOLS}
    rss = {t: load(f"rss_{t}") for t in TOOLS}
    dirty = {t: load(f"dirty_{t}") for t in ("zk", "etcd")}
    hand = {(s, t): load(f"hand_{s}_{t}") for s in series for t in ("zk", "etcd")}
    ref = {(k, s): load(f"ref_{k}_{s}") for k in ("write", "spawn", "true") for s in series}

    # Table 1: wall time, memory.
    rows = []

    def row(metric, stat, data, fmt, target="", limit=None):
        vals = {t: stat(data[t]) if t in data else None for t in TOOLS}
        cell = lambda v: fmt.format(v) if v is not None else "—"
        ratios = [vals["zk"] / vals[t] if vals[t] else None for t in ("floor", "full", "etcd")]
        met = ""
        if limit is not None:
            verdict = lambda r: "yes" if r <= limit else "**no**"
            met = f"{verdict(ratios[0])}; {verdict(ratios[1])}"
        rows.append([metric] + [cell(vals[t]) for t in TOOLS]
                    + [f"{r:.2f}×" if r else "—" for r in ratios] + [target, met])

    row(f"wall, uncontended `-- true`, mean of {a.runs} (ms)", mean, wall, "{:.2f}",
        f"ZooKeeper/floor ≤ {WALL_TARGET}×; ZooKeeper/(floor + list + `true`) ≤ "
        f"{WALL_TARGET}×", WALL_TARGET)
    row(f"wall, median of {a.runs} (ms)", median, wall, "{:.2f}")
    row(f"wall, p95 of {a.runs} (ms)", p95, wall, "{:.2f}")
    row(f"peak RSS, median of {a.rss_runs} (KiB)", median, rss, "{:.0f}")
    row(f"wrapper Private_Dirty while child runs, median of {a.dirty_runs} (KiB)", median,
        dirty, "{:.0f}")
    head = ["metric"] + [LABEL[t] for t in TOOLS] + [
        "ZooKeeper/floor", "ZooKeeper/(floor + list + `true`)", "ZooKeeper/etcd", "target", "met"]
    align = ["---"] + ["---:"] * 7 + ["---", "---"]
    lines = md_table(head, align, rows)

    # Table 2: handover against the reference write + spawn.
    n = a.hand_runs
    lines += ["", f"Handover (holder's command exits → waiter's command starts) and the "
              f"reference \"one write + one spawn\", the same {n} rounds:", ""]
    lines += label_table_head(["fresh waiter", f"settled waiter ({a.hand_settle} s)"])

    def hrow(label, f):
        lines.append(label_row(label, [f(s) for s in series]))

    hrow(f"handover on ZooKeeper, median of {n} (ms)",
         lambda s: f"{median(hand[s, 'zk']):.2f}")
    hrow(f"handover on ZooKeeper, p90 of {n} (ms)", lambda s: f"{p90(hand[s, 'zk']):.2f}")
    hrow(f"handover on etcd, median of {n} (ms)", lambda s: f"{median(hand[s, 'etcd']):.2f}")
    hrow(f"handover on etcd, p90 of {n} (ms)", lambda s: f"{p90(hand[s, 'etcd']):.2f}")
    hrow(f"reference: one ZooKeeper write (delete over an open session, after the same idle "
         f"time), median of {n} (ms)", lambda s: f"{median(ref['write', s]):.2f}")
    hrow(f"reference: one spawn of the waiter's command (posix_spawn → its first instruction), "
         f"median of {n} (ms)", lambda s: f"{median(ref['spawn', s]):.2f}")

    def ref_sum(s):
        return median(ref["write", s]) + median(ref["spawn", s])

    hrow("**reference: write + spawn** (ms)", lambda s: f"**{ref_sum(s):.2f}**")

    def excess(s):
        return median(hand[s, "zk"]) - ref_sum(s)

    hrow(f"**ZooKeeper handover − reference** (ms); target ≤ {HAND_TARGET:g} ms",
         lambda s: f"**{excess(s):+.2f}**")
    hrow("met", lambda s: "yes" if excess(s) <= HAND_TARGET else "**no**")
    hrow(f"for comparison: posix_spawn of `/bin/true` → reaped, median of {n} (ms)",
         lambda s: f"{median(ref['true', s]):.2f}")
    with open(a.table, "w") as f:
        f.write("\n".join(lines) + "\n")

    samples = []
    for t in TOOLS:
        samples.append(sample_line(f"wall time, {LABEL[t]}", "ms", wall[t]))
    for t in TOOLS:
        samples.append(sample_line(f"peak RSS, {LABEL[t]}", "KiB", rss[t]))
    for s in series:
        for t in ("zk", "etcd"):
            samples.append(sample_line(f"handover latency, {s} waiter, {LABEL[t]}", "ms",
                                       hand[s, t]))
        samples.append(sample_line(f"reference write, {s}", "ms", ref["write", s]))
        samples.append(sample_line(f"reference spawn → first instruction, {s}", "ms",
                                   ref["spawn", s]))
        samples.append(sample_line(f"posix_spawn of /bin/true → reaped, {s}", "ms",
                                   ref["true", s]))
    for t in ("zk", "etcd"):
        samples.append(sample_line(f"Private_Dirty, {LABEL[t]}", "KiB", dirty[t]))
    write_samples(f"{a.raw}/samples.md", samples)


if __name__ == "__main__":
    main()
