"""Ingest throughput against the line-scan floor, measured in one session.

    python benchmarks/gen_large.py --lines 2000000
    python benchmarks/bench_ingest.py benchmarks/data/{cri,ndjson,kubelet}

For each input it runs, each in a fresh subprocess (so peak RSS is per case), best of N:
the floor, polars ``scan_lines(...).select(pl.len())`` over the same bytes, and the analyzer's
``load_events`` (sniff, parse, normalize, tallies). It prints lines/s, MB/s, peak RSS and the
ratio analyzer/floor. No thresholds: ratios are compared between runs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

CASE = r"""
import json, resource, sys, time
from pathlib import Path
import polars as pl
path, case = sys.argv[1], sys.argv[2]
root = Path(path)
files = [p for p in sorted(root.rglob("*")) if p.is_file()] if root.is_dir() else [root]
t0 = time.perf_counter()
if case == "floor":
    n = sum(pl.scan_lines(f).select(pl.len()).collect().item() for f in files)
    events = None
else:
    from analyzer.api import load_events
    ev, tallies = load_events([path])
    n = sum(t.lines for t in tallies)
    events = ev.height
t = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"t": t, "lines": n, "events": events, "rss_mib": rss}))
"""


def run(path: str, case: str, repeat: int) -> dict[str, float]:
    best: dict[str, float] | None = None
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", CASE, path, case], capture_output=True, text=True, check=True
        )
        res = json.loads(out.stdout.strip().splitlines()[-1])
        if best is None or res["t"] < best["t"]:
            best = res
    assert best is not None
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(
        f"{'input':<28} {'case':<9} {'s':>7} {'Mlines/s':>9} {'MB/s':>7} "
        f"{'peak MiB':>9} {'x floor':>8}"
    )
    for path in args.paths:
        p = Path(path)
        size = (
            sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
            if p.is_dir()
            else p.stat().st_size
        )
        floor = run(path, "floor", args.repeat)
        ours = run(path, "analyzer", args.repeat)
        for name, r in (("floor", floor), ("analyzer", ours)):
            ratio = r["t"] / floor["t"]
            print(
                f"{p.name:<28} {name:<9} {r['t']:7.2f} {r['lines'] / r['t'] / 1e6:9.2f} "
                f"{size / r['t'] / 1e6:7.0f} {r['rss_mib']:9.0f} {ratio:8.1f}"
            )


if __name__ == "__main__":
    main()
