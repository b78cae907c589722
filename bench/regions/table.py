#!/usr/bin/python3
"""Summarizes two viewer runs of bench/regions/run.sh (JSON lines from tests/cluster/lib/regions_clients.py)
as a Markdown table: connection time, viewer<->server RTT and loss after retransmission, direct (viewers
attached to the remote region A) vs regional (their own region B, relayed from A), with the reduction.

A viewer that failed (refused, or no first frame within the timeout) or never reported (its process died)
is counted in the table's first row and left out of the metrics; the metrics are of the viewers measured.

Usage: table.py DIRECT.jsonl REGIONAL.jsonl [VIEWERS_STARTED_PER_RUN]"""
import json
import statistics
import sys


def load(path):
    viewers, failed = [], 0
    with open(path) as f:
        for line in f:
            if not line.startswith("{"):
                continue
            ev = json.loads(line)
            if ev.get("event") == "viewer":
                viewers.append(ev)
            elif ev.get("event") == "viewer_failed":
                failed += 1
    return viewers, failed


def pct(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def metrics(viewers):
    conn = [v["connect_ms"] for v in viewers]
    rtt = [v["rtt_ms"] for v in viewers if v.get("rtt_ms") is not None]
    rtt_min = [v["rtt_min_ms"] for v in viewers if v.get("rtt_min_ms") is not None]
    # Pooled over every viewer's packets (a per-viewer mean would weigh a viewer with few packets
    # as much as one with many).
    expected = sum(v.get("expected", 0) for v in viewers)
    lost = sum(v.get("lost", 0) for v in viewers)
    raw_expected = sum(v.get("raw_expected", 0) for v in viewers)
    raw_lost = sum(v.get("raw_lost", 0) for v in viewers)
    return {
        "connection time, median (ms)": statistics.median(conn) if conn else float("nan"),
        "connection time, p90 (ms)": pct(conn, 0.9),
        "viewer<->server RTT, median of samples (ms)": statistics.median(rtt) if rtt else float("nan"),
        "viewer<->server RTT, floor (min sample; ms)": statistics.median(rtt_min) if rtt_min else float("nan"),
        "loss after retransmission (%)": 100 * lost / expected if expected else float("nan"),
        "loss before retransmission (%)": 100 * raw_lost / raw_expected if raw_expected else float("nan"),
    }


def main():
    direct, dfail = load(sys.argv[1])
    regional, rfail = load(sys.argv[2])
    started = int(sys.argv[3]) if len(sys.argv) > 3 else None
    # Failed, plus those that never reported at all.
    dfail = max(dfail, started - len(direct)) if started is not None else dfail
    rfail = max(rfail, started - len(regional)) if started is not None else rfail
    d, r = metrics(direct), metrics(regional)
    print(f"viewers measured: direct {len(direct)} (failed {dfail}), regional {len(regional)} (failed {rfail}); "
          f"video packets expected: direct {sum(v.get('expected', 0) for v in direct)}, "
          f"regional {sum(v.get('expected', 0) for v in regional)}")
    print()
    print("| metric | direct (region A) | regional (region B, relayed) | reduction |")
    print("|---|---:|---:|---:|")
    of = f" of {started}" if started is not None else ""
    print(f"| viewers failed{of} (not measured) | {dfail} | {rfail} | |")
    for key in d:
        dv, rv = d[key], r[key]
        red = (dv - rv) / dv * 100 if dv and dv == dv and rv == rv else float("nan")
        print(f"| {key} | {dv:.3g} | {rv:.3g} | {red:.0f}% |")


if __name__ == "__main__":
    main()
