"""5xx bursts: failing requests per target pod (or per reporting proxy), split at long gaps."""

from __future__ import annotations

import polars as pl

GAP_S = 30.0  # failures of one pod further apart than this start a new burst
MIN_COUNT = 2  # one failed request on its own is not a burst


def reporter_key() -> pl.Expr:
    """The component that logged the failure: its format and its pod (or file)."""
    return pl.format(
        "{} {}",
        pl.col("format"),
        pl.coalesce(pl.format("{}/{}", pl.col("namespace"), pl.col("pod")), pl.col("file")),
    )


def burst_key() -> pl.Expr:
    """The pod that failed to answer, else the component that reported the failure."""
    return (
        pl.when(pl.col("target_pod").is_not_null())
        .then(pl.format("pod {}/{}", pl.col("target_namespace"), pl.col("target_pod")))
        .otherwise(reporter_key())
    )


def status_label() -> pl.Expr:
    return pl.col("status").cast(pl.String).fill_null("upstream_error")


def find_bursts(
    failures: pl.DataFrame,
    *,
    gap_s: float = GAP_S,
    min_count: int = MIN_COUNT,
    key: pl.Expr | None = None,
) -> pl.DataFrame:
    """One row per burst: key, start, end, count, status counts, clients, first/last lines.

    ``failures`` are attributed failing requests (``upstreams.failing``). Bucketing to 1 s
    and merging buckets no more than ``gap_s`` apart is the same as splitting the sorted
    failures at gaps wider than ``gap_s`` (up to the bucket rounding), which is what runs.
    """
    if failures.height == 0:
        return pl.DataFrame(
            schema={
                "burst_key": pl.String,
                "burst": pl.UInt32,
                "attributed": pl.Boolean,
                "target_namespace": pl.String,
                "target_pod": pl.String,
                "start": pl.Datetime("ns", "UTC"),
                "end": pl.Datetime("ns", "UTC"),
                "count": pl.UInt32,
                "status_counts": pl.List(pl.Struct({"status": pl.String, "count": pl.UInt32})),
                "clients": pl.List(pl.String),
                "formats": pl.List(pl.String),
                "first_file": pl.String,
                "first_line": pl.UInt32,
                "last_file": pl.String,
                "last_line": pl.UInt32,
                "peak_per_s": pl.UInt32,
            }
        )
    key = burst_key() if key is None else key
    rows = failures.with_columns(key.alias("burst_key"), status_label().alias("_status")).sort(
        "burst_key", "ts"
    )
    gap = pl.col("ts").diff().over("burst_key").dt.total_nanoseconds() > int(gap_s * 1e9)
    if "pod_incarnation" in rows.columns:
        # A pod recreated under the same name (StatefulSet) is another pod: another burst.
        gap = gap | pl.col("pod_incarnation").ne_missing(
            pl.col("pod_incarnation").shift(1).over("burst_key")
        ).fill_null(False)
    rows = rows.with_columns(
        gap.fill_null(True).cast(pl.UInt32).cum_sum().over("burst_key").alias("burst")
    )
    grouped = rows.group_by("burst_key", "burst", maintain_order=True)
    bursts = grouped.agg(
        pl.col("target_pod").is_not_null().any().alias("attributed"),
        pl.col("target_namespace").drop_nulls().first(),
        pl.col("target_pod").drop_nulls().first(),
        pl.col("ts").min().alias("start"),
        pl.col("ts").max().alias("end"),
        pl.len().cast(pl.UInt32).alias("count"),
        pl.col("client").drop_nulls().unique(maintain_order=True).alias("clients"),
        pl.col("format").unique(maintain_order=True).alias("formats"),
        pl.col("file").first().alias("first_file"),
        pl.col("line").first().alias("first_line"),
        pl.col("file").last().alias("last_file"),
        pl.col("line").last().alias("last_line"),
        pl.col("ts")
        .dt.truncate("1s")
        .value_counts()
        .struct.field("count")
        .max()
        .cast(pl.UInt32)
        .alias("peak_per_s"),
    )
    counts = (
        rows.group_by("burst_key", "burst", "_status")
        .agg(pl.len().cast(pl.UInt32).alias("count"))
        .sort("_status")
        .group_by("burst_key", "burst")
        .agg(pl.struct(pl.col("_status").alias("status"), "count").alias("status_counts"))
    )
    bursts = bursts.filter(pl.col("count") >= min_count)
    return bursts.join(counts, on=["burst_key", "burst"], how="left").sort("start")
