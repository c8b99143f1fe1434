#!/usr/bin/env python3
"""Table of bench/elect_vs_etcdctl.sh from its raw samples.

usage: elect_report.py --raw DIR --table FILE --runs N --rss-runs N
                       --hand-runs N --dirty-runs N --hand-settle S
                       TOOL=LABEL... (conch variants first, etcdctl last)

DIR holds one file per metric and tool (wall_T, rss_T, hand_fresh_T,
hand_settled_T, dirty_T), one sample per line in run order. Writes the
markdown table to FILE and the raw samples, as a markdown list, to
DIR/samples.md. Every conch variant is compared with etcdctl; a target is
checked on each variant ("met" lists them in column order).
"""
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report_lib import elect_args, md_table, nearest_rank, read_samples, sample_line, \
    write_samples  # noqa: E402


def main():
    a = elect_args(tools=True)
    tools = [t.split("=", 1)[0] for t in a.tools]
    label = dict(t.split("=", 1) for t in a.tools)
    conchs = [t for t in tools if t != "etcdctl"]

    data = {m: {t: read_samples(f"{a.raw}/{m}_{t}") for t in tools}
            for m in ("wall", "rss", "hand_fresh", "hand_settled", "dirty")}

    rows = []

    def row(metric, stat, key, fmt, target="", limit=None):
        vals = {t: stat(data[key][t]) for t in tools}
        e = vals["etcdctl"]
        ratios = [vals[c] / e if e else float("nan") for c in conchs]
        met = ""
        if limit is not None:
            met = " / ".join("yes" if r <= limit else "**no**" for r in ratios)
        rows.append([metric] + [fmt.format(vals[t]) for t in tools]
                    + [f"{r:.2f}×" for r in ratios] + [target, met])

    mean, median = statistics.mean, statistics.median
    p95 = lambda xs: nearest_rank(xs, 95)
    p90 = lambda xs: nearest_rank(xs, 90)
    settle = a.hand_settle
    row(f"wall, uncontended `-- true`, mean of {a.runs} (ms)", mean, "wall", "{:.2f}",
        "≤ 0.5×", 0.5)
    row(f"wall, median of {a.runs} (ms)", median, "wall", "{:.2f}")
    row(f"wall, p95 of {a.runs} (ms)", p95, "wall", "{:.2f}")
    row(f"peak RSS, median of {a.rss_runs} (KiB)", median, "rss", "{:.0f}")
    row(f"handover, fresh waiter, median of {a.hand_runs} (ms)", median, "hand_fresh", "{:.2f}",
        "≤ 0.6×", 0.6)
    row(f"handover, fresh waiter, p90 of {a.hand_runs} (ms)", p90, "hand_fresh", "{:.2f}")
    row(f"handover, settled waiter ({settle} s), median of {a.hand_runs} (ms)", median,
        "hand_settled", "{:.2f}", "≤ 0.6×", 0.6)
    row(f"handover, settled waiter ({settle} s), p90 of {a.hand_runs} (ms)", p90,
        "hand_settled", "{:.2f}")
    third = median(data["dirty"]["etcdctl"]) / 3
    row(f"wrapper Private_Dirty while child runs, median of {a.dirty_runs} (KiB)", median,
        "dirty", "{:.0f}", f"≤ 1/3 (≈2.5 MiB in the brief; {third:.0f} KiB here)", 1 / 3)

    def short(c):  # "conch elect (shared)" -> "shared"; "conch elect" -> "conch"
        m = re.fullmatch(r"conch elect \((.+)\)", label[c])
        return m.group(1) if m else "conch"
    ratio_heads = [f"{short(c)}/etcdctl" for c in conchs]
    head = ["metric"] + [label[t] for t in tools] + ratio_heads + ["target", "met"]
    align = ["---"] + ["---:"] * (len(tools) + len(conchs)) + ["---", "---"]
    with open(a.table, "w") as f:
        f.write("\n".join(md_table(head, align, rows)) + "\n")

    write_samples(f"{a.raw}/samples.md", [
        sample_line(f"{what}, {label[t]}", unit, data[key][t])
        for key, what, unit in (("wall", "wall time", "ms"), ("rss", "peak RSS", "KiB"),
                                ("hand_fresh", "handover latency, fresh waiter", "ms"),
                                ("hand_settled", "handover latency, settled waiter", "ms"),
                                ("dirty", "Private_Dirty", "KiB"))
        for t in tools])


if __name__ == "__main__":
    main()
