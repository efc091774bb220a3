"""Many small files: the batched read (``ingest.batch``) against each file read alone, in
the same session (a ratio, not a timed assertion).

    python benchmarks/bench_small_files.py --files 10000 --alone 300

Writes N one-line kubelet files (real wording, each its own second) under a temporary
directory, times ``load_reduced`` over all of them batched, and over ``--alone`` of them with
batching off (the per-file cost is linear: the rest is extrapolated from that sample, which
saves minutes). Peak RSS comes from ``/usr/bin/time`` around the whole script.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from analyzer.api import load_reduced
from analyzer.ingest import batch

LINE = (
    'I0405 10:{m:02d}:{s:02d}.000000    1234 prober.go:116] "Probe failed" probeType="Readiness" '
    'pod="default/web-{p}" podUID=abc containerName="app" probeResult="failure" '
    'output="Get \\"http://10.0.0.{p}:8080/ready\\": dial tcp 10.0.0.{p}:8080: connect: '
    'connection refused"\n'
)


def write(root: Path, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        d = root / f"ns-{i % 10}" / f"pod-{i % 500}"
        d.mkdir(parents=True, exist_ok=True)
        path = d / f"kubelet-{i:05d}.log"
        path.write_text(LINE.format(m=i // 60 % 60, s=i % 60, p=i % 7))
        paths.append(path)
    return paths


def timed(paths: list[Path], year: int | None) -> float:
    start = time.perf_counter()
    _, tallies = load_reduced(paths, year=year)
    assert len(tallies) == len(paths) and all(t.events == 1 for t in tallies)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--alone", type=int, default=300, help="files read alone (the baseline)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write(Path(tmp), args.files)
        for year in (2022, None):
            batched = timed(paths, year)
            small, batch.SMALL_FILE = batch.SMALL_FILE, 0
            try:
                alone = timed(paths[: args.alone], year) / args.alone
            finally:
                batch.SMALL_FILE = small
            print(
                f"year={year}: {args.files} files batched {batched:.2f} s "
                f"({1000 * batched / args.files:.2f} ms/file); alone {1000 * alone:.1f} ms/file "
                f"(x{alone * args.files / batched:.0f})"
            )


if __name__ == "__main__":
    main()
