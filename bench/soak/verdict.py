#!/usr/bin/env python3
"""The soak's verdict (bench/soak/run.sh): reads OUT/rss.csv, OUT/bench.json and
OUT/server.log, prints the criteria table and the run's figures, and exits 1 when a
criterion failed."""
import argparse
import csv
import json
import re
import statistics
import sys

# Reports of the sanitizers the soak build carries (ASan, LSan, UBSan); a plain warning
# such as "AddressSanitizer failed to allocate" counts too.
SANITIZER = re.compile(r"(ERROR|WARNING): (Address|Leak)Sanitizer|runtime error:|SUMMARY: \w+Sanitizer")


def read_rss(path):
    rows = []
    with open(path) as f:
        for r in csv.DictReader(f):
            if r["server_rss_kb"]:
                rows.append((int(r["t_s"]), int(r["server_rss_kb"]), int(r["bench_rss_kb"] or 0)))
    return rows


def window_median(rows, start, end):
    values = [kb for t, kb, _ in rows if start <= t < end]
    return (statistics.median(values), len(values)) if values else (None, 0)


def sanitizer_lines(path):
    try:
        with open(path, errors="replace") as f:
            return [line.rstrip() for line in f if SANITIZER.search(line)]
    except OSError:
        return []


def criteria(a, rows, bench, reports):
    out = []
    out.append(("server alive at the end", "yes" if a.server_alive == "1" else "no (crashed?)", "yes",
                a.server_alive == "1"))
    status = a.server_status
    shown = {"hung": "still running 60 s after SIGTERM", "dead": "-"}.get(status, f"{status} after {a.shutdown_s} s")
    out.append(("server exit after SIGTERM", shown, "0 within 60 s", status == "0"))
    out.append(("sanitizer reports (ASan/LSan/UBSan)", str(len(reports)), "0", not reports))
    w0, w1 = a.warmup, a.warmup + a.window
    base, nb = window_median(rows, w0, w1)
    last, nl = window_median(rows, a.duration - a.window, a.duration + 1)  # not the teardown
    if base and last:
        growth = (last - base) / base * 100
        value = f"{growth:+.2f} % ({base / 1024:.1f} -> {last / 1024:.1f} MB; {nb} and {nl} samples)"
        out.append(("server RSS growth", value, f"< {a.rss_max_growth:g} %", growth < a.rss_max_growth))
    else:
        out.append(("server RSS growth", "not enough samples", f"< {a.rss_max_growth:g} %", False))
    why = "" if a.bench_status == "0" else " (3: a join without media or a host that never came back)"
    out.append(("bench exit status", a.bench_status + why, "0", a.bench_status == "0"))
    return out, (w0, w1)


def print_table(rows):
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    print(f"{'criterion':<{width}}  {'value':<{vwidth}}  {'limit':<14}  result")
    for name, value, limit, ok in rows:
        print(f"{name:<{width}}  {value:<{vwidth}}  {limit:<14}  {'PASS' if ok else 'FAIL'}")


def print_figures(rows, bench, windows):
    if rows:
        kb = [r[1] for r in rows]
        bench_kb = [r[2] for r in rows if r[2]] or [0]  # the last sample may catch the bench exiting
        print(f"\nserver RSS: {len(rows)} samples, min {min(kb) / 1024:.1f} MB, max {max(kb) / 1024:.1f} MB; "
              f"baseline window {windows[0]}-{windows[1]} s; bench RSS {bench_kb[0] / 1024:.0f} -> {bench_kb[-1] / 1024:.0f} MB")
    if not bench:
        print("no bench.json: the bench did not finish")
        return
    c = bench.get("churn", {})
    v = bench["viewers"]
    print(f"churn: {c.get('initial_joins')} initial joins, {c.get('joins')} joins, {c.get('leaves')} leaves, "
          f"{c.get('rejoins')} re-joins; {c.get('sessions')} sessions, {c.get('with_media')} with media, "
          f"{c.get('cut_by_restart')} cut by a restart, {c.get('join_failures')} join failures; "
          f"{c.get('population_end')} viewers at the end, {c.get('ended_outside_restarts')} ended outside restarts")
    for i, r in enumerate(c.get("host_restarts", []), 1):
        f = r["first_frame_ms"]
        print(f"restart {i} at {r['at_s']:.0f} s: host down {r['host_down_ms']:.0f} ms, {r['viewers']} viewers "
              f"({r['ended_with_bye']} BYE, {r['ended_otherwise']} other end, {r['silent']} silent, "
              f"{r['survived']} survived, {r['in_flight']} in flight), {r['rejoined_with_media']}/{r['rejoined']} "
              f"re-joined with media ({r.get('rejoins_retried', 0)} after a 409), first frame after the DELETE "
              f"p50 {f['p50']:.0f} / p95 {f['p95']:.0f} / max {f['max']:.0f} ms")
    t = bench["totals"]
    print(f"media received: {t['bytes'] / 1e9:.2f} GB, {t['packets']} packets by {v['with_media']} sessions; "
          f"per viewer {bench['kbps_per_viewer']['p50']:.0f} kbit/s median, loss "
          f"{bench['loss_percent']['p50']:.3f} % median / {bench['loss_percent']['p99']:.3f} % p99; "
          f"server CPU {bench['server']['cpu_avg_percent']:.0f} % avg")
    for e in bench.get("errors", []):
        print(f"bench error: {e}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--server-alive", required=True)
    p.add_argument("--server-status", required=True)
    p.add_argument("--shutdown-s", default="")
    p.add_argument("--bench-status", required=True)
    p.add_argument("--duration", type=int, required=True)
    p.add_argument("--warmup", type=int, required=True)
    p.add_argument("--window", type=int, required=True)
    p.add_argument("--rss-max-growth", type=float, required=True)
    a = p.parse_args()
    rows = read_rss(f"{a.out}/rss.csv")
    try:
        bench = json.load(open(f"{a.out}/bench.json"))
    except (OSError, ValueError):
        bench = None
    reports = sanitizer_lines(f"{a.out}/server.log")
    table, windows = criteria(a, rows, bench, reports)
    print_table(table)
    print_figures(rows, bench, windows)
    for line in reports[:10]:
        print(f"sanitizer: {line}")
    return 0 if all(ok for *_, ok in table) else 1


if __name__ == "__main__":
    sys.exit(main())
