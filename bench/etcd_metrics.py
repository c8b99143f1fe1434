#!/usr/bin/env python3
"""etcd's Prometheus metrics, as the bench/ scripts read them.

usage: etcd_metrics.py URL OUT
  saves the text of URL (etcd's /metrics) to OUT and prints
  "<unary requests handled> <Watch messages received>", two counters that
  stand still once every client is idle.
As a module: parse(text) -> [(name, {label: value}, number)].
"""
import re
import sys
import urllib.request

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
    with open(out, "w") as f:
        f.write(text)
    u, w = totals(parse(text))
    print(f"{u:.0f} {w:.0f}")
