"""CRI wrapper: split the envelope, join partial lines, parse each payload by its format."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from analyzer.formats import FormatSpec
from analyzer.ingest.tally import OUTCOME
from analyzer.ingest.text import parse_text


def path_identity(path: str, spec: FormatSpec) -> dict[str, str]:
    """namespace / pod / pod_uid / container / container_id named by a kubelet log path."""
    posix = Path(path).as_posix()
    for pattern in spec.paths:
        m = re.search(pattern, posix)
        if m:
            return {k: v for k, v in m.groupdict().items() if v}
    return {}


def unwrap(df: pl.DataFrame, spec: FormatSpec) -> pl.DataFrame:
    """Envelope fields, with P fragments joined into the line that starts them.

    Returns one row per input line; ``text`` is the (joined) payload and ``_envelope_ts`` the
    runtime's time. Continuation fragments are skipped with a pointer to their first line.
    """
    df = parse_text(df.lazy(), spec, column="text").collect(engine="streaming")
    if not (df["tag"] == "P").any():
        return df.with_columns(
            pl.col("payload").alias("text"), pl.col("ts").alias("_envelope_ts")
        ).drop("payload", "ts", "tag")
    ok = pl.col(OUTCOME).is_null()
    env = df.filter(ok).select("line", "stream", "tag", "payload", "ts")
    # A record starts at a line whose previous line in the same stream was not partial.
    prev_tag = pl.col("tag").shift(1).over("stream")
    env = env.with_columns((prev_tag.is_null() | (prev_tag != "P")).alias("_start"))
    env = env.with_columns(pl.col("_start").cast(pl.UInt32).cum_sum().over("stream").alias("_rec"))
    records = env.group_by("stream", "_rec", maintain_order=True).agg(
        pl.col("line").first().alias("_first"),
        pl.col("line"),
        pl.col("payload").str.join(""),
        pl.col("ts").first(),
    )
    members = records.select(pl.col("_first").alias("_record"), "line").explode("line")
    joined = records.select(
        pl.col("_first").alias("line"),
        pl.col("payload").alias("_joined"),
        pl.col("ts").alias("_envelope_ts"),
    )
    df = df.drop("payload", "ts", "tag")
    df = df.join(members, on="line", how="left", maintain_order="left")
    df = df.join(joined, on="line", how="left", maintain_order="left")
    continuation = pl.col("_record").is_not_null() & (pl.col("_record") != pl.col("line"))
    return df.with_columns(
        pl.when(continuation)
        .then(pl.format("skip: partial line joined into line {}", pl.col("_record")))
        .otherwise(pl.col(OUTCOME))
        .alias(OUTCOME),
        pl.col("_joined").alias("text"),
    ).drop("_joined", "_record")
