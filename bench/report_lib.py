"""What the bench/ reporters share.

Imported by elect_report.py, elect_zk_report.py, sema_report.py and
sema_zk_report.py (each puts its own directory on sys.path first):
  - statistics: nearest_rank;
  - the raw files the shell scripts leave: read_samples, read_int;
  - markdown: md_table, label_table_head, label_row, sample_line,
    write_samples;
  - the command line of the elect reporters: elect_args;
  - the musts of the sema reporters: check_rcs, check_queue,
    queue_distance, write_table, exit_on_musts.
"""
import argparse
import math
import sys


def nearest_rank(xs, p):
    """The p-th percentile of xs by the nearest-rank method."""
    s = sorted(xs)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


# --- raw files -----------------------------------------------------------------

def read_samples(path):
    """The samples in path, one a line (the first field), in run order."""
    with open(path) as f:
        return [float(x.split()[0]) for x in f if x.strip()]


def read_int(path):
    """The integer path holds (a stamp: CLOCK_REALTIME in ns)."""
    with open(path) as f:
        return int(f.read().strip())


# --- markdown ------------------------------------------------------------------

def md_table(head, align, rows):
    """The lines of a markdown table: head and align (one cell a column),
    then rows (lists of cells)."""
    return ["| " + " | ".join(r) + " |" for r in [head, align] + list(rows)]


def label_table_head(heads):
    """The two head lines of a table whose first column labels the rows and
    has no heading; the other columns, right-aligned, are headed heads."""
    return ["| | " + " | ".join(heads) + " |", "| --- |" + " ---: |" * len(heads)]


def label_row(label, cells):
    """A row of such a table: label, then the cells."""
    return f"| {label} | " + " | ".join(cells) + " |"


def sample_line(what, unit, xs):
    """One list item of the raw samples: what, the unit, xs in run order."""
    return f"- {what} ({unit}, in run order): " + ", ".join(f"{x:g}" for x in xs) + "\n"


def write_samples(path, texts):
    """Writes the raw samples file: its heading, each text, a blank line."""
    with open(path, "w") as f:
        f.write("## Raw samples\n\n")
        for t in texts:
            f.write(t)
        f.write("\n")


# --- the elect reporters -------------------------------------------------------

ELECT_FLAGS = ("--raw", "--table", "--runs", "--rss-runs", "--hand-runs", "--dirty-runs",
               "--hand-settle")


def elect_args(tools=False):
    """The parsed command line of an elect reporter: every flag of
    ELECT_FLAGS, required; with tools, one or more TOOL=LABEL after them."""
    ap = argparse.ArgumentParser()
    for flag in ELECT_FLAGS:
        ap.add_argument(flag, required=True)
    if tools:
        ap.add_argument("tools", nargs="+")
    return ap.parse_args()


# --- the musts of the sema reporters ----------------------------------------------
# Each check appends what is broken, as one sentence starting with the
# run's label, to the list broken.

def check_rcs(path, label, broken):
    """Must: every wrapper exits 0, by the "WHO I RC" lines of path (the
    rcs file of a run). Returns the wrappers that did not."""
    rcs = [line.split() for line in open(path) if line.strip()]
    bad = [f"{who} {i} exited {rc}" for who, i, rc in rcs if rc != "0"]
    if bad:
        broken.append(f"{label}: every wrapper must exit 0, but " + ", ".join(bad))
    return bad


def check_queue(label, n, queue, starts, release, broken, what="waiters"):
    """Musts: the queue read before the release holds all n waiters (queue:
    waiter -> its place key), and no waiter's command starts (starts:
    waiter -> stamp) before the release. what names the queue's entries."""
    if len(queue) != n:
        broken.append(f"{label}: the queue read before the release must hold all {n} {what}; "
                      f"it holds {len(queue)}")
    early = [i for i, t in starts.items() if t < release]
    if early:
        broken.append(f"{label}: no waiter may start before the gate releases; waiters {early} did")


def ranks(keyed):
    """Each key's rank (0, 1, ...) in the order of its value."""
    return {i: r for r, i in enumerate(sorted(keyed, key=keyed.get))}


def queue_distance(queue, starts):
    """The largest distance between a waiter's place in the queue (queue:
    waiter -> place key) and in start order (starts: waiter -> stamp), and
    the waiters out of place, in queue order; (None, []) unless the queue
    holds as many waiters as started."""
    if len(queue) != len(starts):
        return None, []
    q, s = ranks(queue), ranks(starts)
    disp = max(abs(q[i] - s[i]) for i in queue)
    return disp, sorted((i for i in queue if q[i] != s[i]), key=q.get)


def write_table(path, lines, broken):
    """Writes the table's lines to path, then each broken must."""
    table = "\n".join(lines) + "\n"
    if broken:
        table += "\n" + "".join(f"**Must broken:** {b}\n\n" for b in broken)
    with open(path, "w") as f:
        f.write(table)


def exit_on_musts(prog, broken):
    """Names each broken must on stderr; exits 1 if there is any, else 0."""
    for b in broken:
        print(f"{prog}: MUST BROKEN: {b}", file=sys.stderr)
    sys.exit(1 if broken else 0)
