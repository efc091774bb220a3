"""Regex engine: one named-group pattern per format, run by polars over the whole column."""

from __future__ import annotations

import re
from typing import TypeVar

import polars as pl

from analyzer.formats import FormatSpec
from analyzer.ingest.tally import OUTCOME

MATCH_GROUP = "_m"  # an empty group at the start of every pattern: non-null iff it matched
Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def parse_text(df: Frame, spec: FormatSpec, *, column: str = "text") -> Frame:
    """Add the pattern's groups as columns and an outcome for lines it does not match.

    ``df`` must have ``column`` (the text to parse) and ``_outcome`` (rows already decided
    keep theirs). Works lazily: nothing is collected here.
    """
    assert spec.pattern is not None
    text = pl.col(column)
    df = df.with_columns(text.str.extract_groups(spec.pattern).alias("_groups")).unnest("_groups")
    if spec.rest:
        # The pattern is anchored on a short prefix; slicing avoids a regex over the payload.
        matched_len = text.str.extract(spec.pattern, 0).str.len_chars()
        df = df.with_columns(text.str.slice(matched_len).alias(spec.rest))
    matched = pl.col(MATCH_GROUP).is_not_null()
    outcome: pl.Expr = pl.lit(f"reject: line does not match the {spec.name} pattern")
    for reason, pattern in reversed(spec.skip):
        label = f"skip: {reason.replace('_', ' ')}"
        if re.compile(pattern).groups:
            # The group names what was skipped (the program of a journal line): one count each.
            named = text.str.extract(pattern, 1)
            reason_expr = pl.concat_str(pl.lit(label + " ("), named, pl.lit(")"))
            outcome = pl.when(named.is_not_null()).then(reason_expr).otherwise(outcome)
        else:
            outcome = pl.when(text.str.contains(pattern)).then(pl.lit(label)).otherwise(outcome)
    return df.with_columns(
        pl.when(pl.col(OUTCOME).is_not_null())
        .then(pl.col(OUTCOME))
        .when(matched)
        .then(None)
        .otherwise(outcome)
        .alias(OUTCOME)
    ).drop(MATCH_GROUP)
