"""CRI wrapper: split the envelope and join partial lines; kubelet log paths name the pod."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from analyzer.formats import FormatSpec
from analyzer.ingest.partial import PARTIAL, join_fragments
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
    df = df.with_columns(
        pl.col("payload").alias("text"),
        pl.col("ts").alias("_envelope_ts"),
        (pl.col("tag") == "P").alias(PARTIAL),
    ).drop("payload", "ts", "tag")
    return join_fragments(df)
