"""Per-format ingest throughput: each registry format's own sample lines, repeated to a size.

    python benchmarks/bench_formats.py                       # every format, 200 MB each
    python benchmarks/bench_formats.py --size-mb 50 --formats envoy,cri+kubelet_klog

For every standalone format with ``[[samples]]`` and for CRI wrapping every payload format, it
writes a file of at least ``--size-mb`` MB in a temporary directory by cycling the spec's sample
lines, all moved to one day with the clock advancing line by line (each line's first
``HH:MM:SS[.fff]``, or its first 13+ digit epoch, is rewritten; CRI lines get their own RFC 3339
stamp), so time parsing is not served from a cache of a few distinct strings. Then, each in a
fresh subprocess (peak RSS per case, via ``bench_ingest.run``), it times the floor, polars
``scan_lines(f).select(pl.len())`` over the same bytes, and ``load_events``, and prints a
markdown table. Formats without samples (``k8s_events``) are listed as skipped. Files are
deleted after each case unless ``--keep``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_ingest import run  # noqa: E402

from analyzer.formats import builtin  # noqa: E402

CLOCK = re.compile(r"(?<!\d)(\d\d):(\d\d):(\d\d)(\.\d{3})?")
# One calendar day for every sample: samples come from different dates, and yearless formats
# (klog, syslog) read a month going backwards as a new year.
DATES = (
    (re.compile(r"\b([IWEF])\d{4}( \d\d:\d\d:\d\d)"), r"\g<1>0318\2"),
    (re.compile(r"\b[A-Z][a-z]{2} [ \d]\d( \d\d:\d\d:\d\d)"), r"Mar 18\1"),
    (re.compile(r"\b\d{4}-\d\d-\d\d([T ]\d\d:)"), r"2025-03-18\1"),
    (re.compile(r"\b\d\d/[A-Z][a-z]{2}/\d{4}:"), "18/Mar/2025:"),
    (re.compile(r"\b\d{4}/\d\d/\d\d( \d\d:)"), r"2025/03/18\1"),
)
EPOCH = re.compile(r"\d{13,19}")
START_S = 6 * 3600  # the generated clock starts at 06:00:00
POD_DIR = "var/log/pods/bench_web-7d4b9c8f6d-x2x9q_3f1c7a52-8e1d-4c3b-9a6e-2b7d5f0c1a94/app/0.log"


@dataclass(frozen=True)
class Case:
    name: str
    samples: tuple[str, ...]
    cri: bool = False


def cases() -> tuple[list[Case], list[str]]:
    out, skipped = [], []
    for spec in builtin():
        lines = tuple(s.line for s in spec.samples if "\n" not in s.line)
        if spec.standalone and spec.engine != "cri":
            if lines:
                out.append(Case(spec.name, lines))
            else:
                skipped.append(spec.name)
        if spec.payload and lines:
            out.append(Case(f"cri+{spec.name}", lines, cri=True))
    return out, skipped


def _split(line: str) -> tuple[str, str, str]:
    """(prefix, kind, suffix) around the part of a sample line that carries its clock."""
    for pattern, repl in DATES:
        line = pattern.sub(repl, line)
    m = CLOCK.search(line)
    if m:
        return line[: m.start()], "clock_ms" if m.group(4) else "clock", line[m.end() :]
    m = EPOCH.search(line)
    if m:
        return line[: m.start()], f"epoch{len(m.group())}", line[m.end() :]
    return line, "none", ""


def _clock(row: pl.Expr, kind: str) -> pl.Expr:
    """The generated time for each row, written the way the sample wrote it."""
    ms = row * 7 % 1000  # ~143 lines per second of log time
    secs = START_S + row // 143
    hms = pl.concat_str(
        [
            (secs // 3600 % 24).cast(pl.String).str.zfill(2),
            (secs // 60 % 60).cast(pl.String).str.zfill(2),
            (secs % 60).cast(pl.String).str.zfill(2),
        ],
        separator=":",
    )
    if kind == "clock":
        return hms
    if kind == "clock_ms":
        return pl.concat_str([hms, pl.lit("."), ms.cast(pl.String).str.zfill(3)])
    if kind.startswith("epoch"):
        digits = int(kind.removeprefix("epoch"))
        base = 1_700_000_000 * 10 ** (digits - 10)
        return (pl.lit(base) + secs * 10 ** (digits - 10) + ms * 10 ** (digits - 13)).cast(
            pl.String
        )
    return pl.lit("")


def _cri_stamp(row: pl.Expr) -> pl.Expr:
    ns = pl.lit(1_700_000_000_000_000_000) + row * 7_000_001
    return ns.cast(pl.Datetime("ns", "UTC")).dt.strftime("%Y-%m-%dT%H:%M:%S%.9fZ")


def generate(case: Case, size_mb: int, root: Path) -> Path:
    parts = [_split(s) for s in case.samples]
    avg = sum(len(s) + 1 for s in case.samples) / len(case.samples) + (40 if case.cri else 0)
    n = int(size_mb * 1e6 / avg) + len(parts)
    frame = pl.DataFrame({"row": pl.int_range(0, n, eager=True, dtype=pl.Int64)})
    idx = pl.col("row") % len(parts)
    line = pl.lit(None, dtype=pl.String)
    for i, (pre, kind, post) in reversed(list(enumerate(parts))):
        built = pl.concat_str([pl.lit(pre), _clock(pl.col("row"), kind), pl.lit(post)])
        line = pl.when(idx == i).then(built).otherwise(line)
    if case.cri:
        line = pl.concat_str([_cri_stamp(pl.col("row")), pl.lit(" stdout F "), line])
    path = root / (POD_DIR if case.cri else f"{case.name}.log")
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.select(line.alias("l")).write_csv(
        path, include_header=False, quote_style="never", separator="\x1f"
    )
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=200)
    ap.add_argument("--formats", help="comma-separated case names (e.g. envoy,cri+kubelet_klog)")
    ap.add_argument("--repeat", type=int, default=1, help="best of N per case")
    ap.add_argument("--keep", type=Path, help="write the files here and keep them")
    args = ap.parse_args()
    todo, skipped = cases()
    if args.formats:
        wanted = set(args.formats.split(","))
        unknown = wanted - {c.name for c in todo}
        if unknown:
            sys.exit(
                f"unknown or sample-less cases: {sorted(unknown)}; have {[c.name for c in todo]}"
            )
        todo = [c for c in todo if c.name in wanted]
        skipped = []
    print(
        "| format | MB | lines | events | analyzer s | M lines/s | MB/s | peak RSS MiB "
        "| floor s | floor RSS MiB | × floor |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for case in todo:
        root = args.keep or Path(tempfile.mkdtemp(prefix=f"bench-{case.name}-"))
        try:
            path = generate(case, args.size_mb, root / case.name if args.keep else root)
            mb = path.stat().st_size / 1e6
            floor = run(str(path), "floor", args.repeat)
            ours = run(str(path), "analyzer", args.repeat)
        finally:
            if not args.keep:
                shutil.rmtree(root, ignore_errors=True)
        print(
            f"| {case.name} | {mb:.0f} | {ours['lines']:,} | {ours['events']:,} | {ours['t']:.2f} "
            f"| {ours['lines'] / ours['t'] / 1e6:.2f} | {mb / ours['t']:.0f} "
            f"| {ours['rss_mib']:.0f} | {floor['t']:.3f} | {floor['rss_mib']:.0f} "
            f"| {ours['t'] / floor['t']:.1f} |",
            flush=True,
        )
    for name in skipped:
        print(f"| {name} | skipped: no [[samples]] in its spec | | | | | | | | | |")


if __name__ == "__main__":
    main()
