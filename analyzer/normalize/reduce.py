"""Reduce while reading: a file's rows become the events kept in full, and counts.

The diagnosis needs every lifecycle, probe, runtime and shutdown line and every failing
request, but of the bulk of a big bundle only how many there were: successful requests per
second, writer, upstream and status; plain log lines per minute and writer. Those rows are
grouped inside the file's lazy plan, so no row per line outlives it and memory follows the
output, not the input.
A count row is a row of ``schema.EVENTS`` plus ``count`` and ``last_ts`` (``schema.REDUCED``).
"""

from __future__ import annotations

import polars as pl

from analyzer.ingest.tally import MAX_EXAMPLES, OUTCOME
from analyzer.schema import COUNT, LAST_LINE, LAST_TS, REDUCED, Kind

#: What a count row is grouped by besides its second: who wrote the line and, for requests,
#: where it went and how it ended (what attribution, phases and the rate panel ask for).
GROUP_BY = (
    "source",
    "format",
    "node",
    "namespace",
    "pod",
    "pod_uid",
    "container",
    "container_id",
    "kind",
    "status",
    "upstream",
)


def owned(column: str) -> pl.Expr:
    """A copy of a String column that holds no view into the scanned lines.

    A filtered or gathered string is a view into the buffer it was read into; one such
    value keeps the whole buffer alive, so a plan that keeps a few lines of each batch would
    hold the whole file (measured: 530 MB against 243 MB for 5 k lines of a 300 MB file).
    A string built anew (``concat_str``) has its own, small buffer."""
    return pl.concat_str([pl.col(column), pl.lit("\x00")]).str.strip_suffix("\x00").alias(column)


def owning(frame: pl.LazyFrame) -> pl.LazyFrame:
    """``frame`` with every String column ``owned``."""
    schema = frame.collect_schema()
    return frame.with_columns(owned(c) for c, t in schema.items() if t == pl.String)


def counted() -> pl.Expr:
    """Rows only counted: plain log lines and requests answered below 500.

    A request without a status, a 5xx and an upstream error stay whole: they are the
    failures the report is about.
    """
    kind = pl.col("kind")
    answered = (kind == Kind.HTTP.value) & (pl.col("status") < 500).fill_null(False)
    return (pl.col(OUTCOME).is_null() & ((kind == Kind.LOG.value) | answered)).fill_null(False)


def as_reduced(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (events, or count rows) in ``REDUCED`` column order and types."""
    have = set(frame.columns)
    if COUNT not in have:
        frame = frame.with_columns(
            pl.lit(1, pl.UInt32).alias(COUNT),
            pl.col("ts").alias(LAST_TS),
            pl.col("line").alias(LAST_LINE),
        )
        have |= {COUNT, LAST_TS, LAST_LINE}
    return frame.select(
        (pl.col(n) if n in have else pl.lit(None)).cast(t, strict=False).alias(n)
        for n, t in REDUCED.items()
    )


def outcome_groups(rows: pl.LazyFrame | pl.DataFrame) -> pl.LazyFrame:
    """Skipped and rejected lines: how many per reason, and the first few line numbers."""
    return (
        rows.lazy()
        .filter(pl.col(OUTCOME).is_not_null())
        .group_by("file", OUTCOME)  # a batch of small files is read as one (ingest.batch)
        .agg(
            pl.len().cast(pl.Int64).alias("n"),
            pl.col("line").cast(pl.Int64).sort().head(MAX_EXAMPLES).alias("first_lines"),
        )
    )


OUTCOME_GROUPS = pl.Schema(
    {"file": pl.String, OUTCOME: pl.String, "n": pl.Int64, "first_lines": pl.List(pl.Int64)}
)


def merge_outcomes(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """``outcome_groups`` of several parts of a file (or of a batch, per file) as one."""
    frames = [p.cast(OUTCOME_GROUPS) for p in parts if p.height]  # type: ignore[arg-type]
    if not frames:
        return pl.DataFrame(schema=OUTCOME_GROUPS)
    return (
        pl.concat(frames)
        .group_by("file", OUTCOME)
        .agg(
            pl.col("n").sum(),
            pl.col("first_lines")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .sort()
            .head(MAX_EXAMPLES),
        )
    )


def shared_constants(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with each String column that holds one value in every row as one shared
    value (a file's path, pod and format repeat on each of its count rows; a broadcast
    value is stored once, a grouped one once per row)."""
    constant = [
        pl.lit(frame[c][0], pl.String).alias(c)
        for c, t in frame.schema.items()
        if t == pl.String
        and frame.height
        and frame[c].null_count() == 0
        and frame[c].n_unique() == 1
    ]
    return frame.with_columns(constant) if constant else frame


def counted_lines(reduced: pl.DataFrame) -> int:
    """How many input lines the rows of a ``REDUCED`` frame stand for."""
    return int(reduced[COUNT].sum() or 0) if reduced.height else 0
