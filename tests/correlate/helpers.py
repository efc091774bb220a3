"""Build small canonical event frames by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from analyzer import schema

T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)


def ev(offset_s: float, kind: str, **cols: object) -> dict[str, object]:
    row: dict[str, object] = {"ts": T0 + timedelta(seconds=offset_s), "kind": kind}
    row.setdefault("source", "kubelet")
    row.update(cols)
    row.setdefault("file", "f.log")
    row.setdefault("line", 1)
    return row


def frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    for i, row in enumerate(rows, start=1):
        if row.get("line") == 1 and i > 1:
            row["line"] = i
    df = pl.DataFrame(rows, infer_schema_length=None)
    return schema.conform(df).collect().sort("ts")
