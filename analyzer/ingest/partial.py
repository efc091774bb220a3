"""Join the fragments a container runtime split one long line into (CRI ``P``, Docker
json-file records without a newline) back into that line."""

from __future__ import annotations

import polars as pl

from analyzer.ingest.tally import OUTCOME

PARTIAL = "_partial"  # this record's line continues in the next record of its stream


def join_fragments(df: pl.DataFrame) -> pl.DataFrame:
    """``text`` of each line that starts a record becomes the whole record's text.

    Needs ``line``, ``text``, ``_envelope_ts``, ``_partial`` and the outcome column, and uses
    ``stream`` when present. Returns one row per input line; continuation fragments are
    skipped with a pointer to the line their record starts at.
    """
    if not df[PARTIAL].fill_null(False).any():
        return df.drop(PARTIAL)
    stream = ["stream"] if "stream" in df.columns else []
    over = stream or None
    env = df.filter(pl.col(OUTCOME).is_null()).select(
        "line", *stream, PARTIAL, "text", "_envelope_ts"
    )
    # A record starts at a line whose previous line in the same stream was not partial.
    prev = pl.col(PARTIAL).shift(1)
    prev = prev.over(over) if over else prev
    start = (prev.is_null() | ~prev).cast(pl.UInt32).cum_sum()
    env = env.with_columns((start.over(over) if over else start).alias("_rec"))
    records = env.group_by(*stream, "_rec", maintain_order=True).agg(
        pl.col("line").first().alias("_first"),
        pl.col("line"),
        pl.col("text").fill_null("").str.join(""),
        pl.col("_envelope_ts").first(),
    )
    members = records.select(pl.col("_first").alias("_record"), "line").explode("line")
    joined = records.select(
        pl.col("_first").alias("line"),
        pl.col("text").alias("_joined"),
        pl.col("_envelope_ts").alias("_joined_ts"),
    )
    df = df.join(members, on="line", how="left", maintain_order="left")
    df = df.join(joined, on="line", how="left", maintain_order="left")
    continuation = pl.col("_record").is_not_null() & (pl.col("_record") != pl.col("line"))
    return df.with_columns(
        pl.when(continuation)
        .then(pl.format("skip: partial line joined into line {}", pl.col("_record")))
        .otherwise(pl.col(OUTCOME))
        .alias(OUTCOME),
        pl.coalesce("_joined", "text").alias("text"),
        pl.coalesce("_joined_ts", "_envelope_ts").alias("_envelope_ts"),
    ).drop("_joined", "_joined_ts", "_record", PARTIAL)
