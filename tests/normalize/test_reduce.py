"""Reduce while reading: the reduced frame holds every event, whole or inside a count."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from analyzer.api import load_events, load_reduced
from analyzer.normalize.reduce import GROUP_BY
from analyzer.schema import COUNT, EVENTS, LAST_LINE, LAST_TS, REDUCED

ROOT = Path(__file__).resolve().parents[2]
INPUTS = [
    ROOT / "sample_logs" / "pid1-502",
    ROOT / "sample_logs" / "pid1-502-fixed",
    *sorted(
        p for p in (ROOT / "tests" / "corpus").iterdir() if p.is_dir() and p.name != "LICENSES"
    ),
]


def _counted(frame: pl.DataFrame) -> pl.Expr:
    answered = (pl.col("kind") == "http") & (pl.col("status") < 500).fill_null(False)
    return (pl.col("kind") == "log") | answered


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_reduced_holds_every_event(path):
    full, full_tallies = load_events([path])
    reduced, tallies = load_reduced([path])
    assert reduced.schema == REDUCED
    assert tallies == full_tallies
    assert reduced[COUNT].sum() == full.height == sum(t.events for t in tallies)
    # Lifecycle lines, failures and everything else that is not counted stay whole.
    whole = reduced.filter(pl.col(COUNT) == 1).select(EVENTS.names())
    kept_full = full.filter(~_counted(full))
    key = ["file", "line"]
    assert whole.join(kept_full, on=key, how="anti").filter(~_counted(whole)).height == 0
    assert kept_full.sort(key).equals(whole.filter(~_counted(whole)).sort(key))
    # The rest is counted: the same lines per (file, kind, status, upstream, pod), first
    # and last time and line right.
    keys = list(GROUP_BY)
    counts = (
        reduced.filter(_counted(reduced))
        .group_by("file", *keys)
        .agg(
            pl.col(COUNT).sum().cast(pl.UInt32).alias("n"),
            pl.col("ts").min(),
            pl.col(LAST_TS).max(),
            pl.col("line").min(),
            pl.col(LAST_LINE).max(),
        )
    )
    expected = (
        full.filter(_counted(full))
        .group_by("file", *keys)
        .agg(
            pl.len().cast(pl.UInt32).alias("n"),
            pl.col("ts").min(),
            pl.col("ts").max().alias(LAST_TS),
            pl.col("line").min(),
            pl.col("line").max().alias(LAST_LINE),
        )
    )
    order = ["file", *keys, "ts"]
    assert counts.sort(order, nulls_last=True).equals(
        expected.sort(order, nulls_last=True), null_equal=True
    )


def test_successful_requests_become_per_second_counts(tmp_path):
    lines = [
        f'10.0.0.{i % 3} - - [07/May/2024:11:59:{i // 10:02d} +0000] "GET /x HTTP/1.1" 200 5 "-" '
        f'"curl/8" 80 0.00{i % 10} [ns-svc-80] [] 10.1.0.7:8080 5 0.00{i % 10} 200 req{i}'
        for i in range(40)
    ]
    lines.append(
        '10.0.0.9 - - [07/May/2024:11:59:03 +0000] "GET /y HTTP/1.1" 502 5 "-" "curl/8" 80 0.001 '
        "[ns-svc-80] [] 10.1.0.7:8080 0 0.001 502 reqX"
    )
    path = tmp_path / "access.log"
    path.write_text("\n".join(lines) + "\n")
    reduced, (tally,) = load_reduced([path])
    assert (tally.lines, tally.events) == (41, 41)
    counts = reduced.filter(pl.col(COUNT) > 1)
    assert counts[COUNT].to_list() == [10, 10, 10, 10]  # one row per second
    assert counts["line"].to_list() == [1, 11, 21, 31]
    assert counts[LAST_LINE].to_list() == [10, 20, 30, 40]
    assert counts["duration_ms"].to_list() == pytest.approx([4.5] * 4)
    failure = reduced.filter(pl.col("status") == 502)
    assert failure.height == 1 and failure["raw"].item().startswith("10.0.0.9 ")


def test_reports_never_read_every_line_again(tmp_path):
    """``Analysis.events``/``requests`` (one row per line) are read only when asked for."""
    import analyzer
    from analyzer.report.html import write_timeline
    from analyzer.report.markdown import render_markdown
    from analyzer.report.text import render_json, render_text

    result = analyzer.analyze([INPUTS[0]])
    render_json(result)
    render_text(result)
    render_markdown(result)
    write_timeline(result, tmp_path / "t.html")
    analyzer.export(result, tmp_path / "export")
    assert "events" not in result.__dict__ and "requests" not in result.__dict__
    assert result.requests.height == result.correlation.requests[COUNT].sum()
