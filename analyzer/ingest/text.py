"""Regex engine: one named-group pattern per format, run by polars over the whole column."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

import polars as pl

from analyzer.formats import FormatSpec
from analyzer.ingest.tally import OUTCOME

MATCH_GROUP = "_m"  # an empty group at the start of every pattern: non-null iff it matched
_WHOLE = "_whole"  # the whole match of a pattern that parses only a prefix (``rest``)
Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


_COUNTING: ContextVar[bool] = ContextVar("counting", default=False)


@contextmanager
def counting(on: bool = True) -> Iterator[None]:
    """Plans built inside read successful requests by a spec's ``quick`` patterns: the run
    counts them (``normalize.reduce``) and needs no other field of theirs."""
    token = _COUNTING.set(on)
    try:
        yield
    finally:
        _COUNTING.reset(token)


def _status_field(spec: FormatSpec) -> str | None:
    named = {g for rx in spec.quick for g in re.compile(rx).groupindex}
    alternatives = dict(spec.fields).get("status", ())
    return next((f for f in alternatives if f in named), None)


def _quick(df: Frame, spec: FormatSpec, text: pl.Expr) -> Frame:
    """``pattern``'s groups, from the ``quick`` patterns alone where the line is a request
    answered below 500 (the full pattern then only checks the line, without captures)."""
    status = _status_field(spec)
    assert status is not None  # the loader checked
    parts = [text.str.extract_groups(rx).alias(f"_quick{i}") for i, rx in enumerate(spec.quick)]
    df = df.with_columns(parts)
    quick_fields = {
        g: pl.col(f"_quick{i}").struct.field(g)
        for i, rx in enumerate(spec.quick)
        for g in re.compile(rx).groupindex
    }
    answered = quick_fields[status].cast(pl.Int32, strict=False) < 500
    every = pl.all_horizontal(
        pl.col(f"_quick{i}").struct.field(next(iter(re.compile(rx).groupindex))).is_not_null()
        for i, rx in enumerate(spec.quick)
    )
    ordinary = (answered & every & text.str.contains(spec.pattern or "")).fill_null(False)
    df = df.with_columns(ordinary.alias(_ORDINARY))
    # A null is not searched: the costly captures run only on the lines kept whole.
    full = pl.when(~pl.col(_ORDINARY)).then(text).str.extract_groups(spec.pattern or "")
    df = df.with_columns(full.alias("_groups")).unnest("_groups")
    fill = [
        pl.when(pl.col(_ORDINARY)).then(value).otherwise(pl.col(g)).alias(g)
        for g, value in quick_fields.items()
    ]
    marker = pl.when(pl.col(_ORDINARY)).then(pl.lit("")).otherwise(pl.col(MATCH_GROUP))
    return df.with_columns(*fill, marker.alias(MATCH_GROUP)).drop(
        _ORDINARY, *[f"_quick{i}" for i in range(len(spec.quick))]
    )


_ORDINARY = "_ordinary"


def parse_text(df: Frame, spec: FormatSpec, *, column: str = "text") -> Frame:
    """Add the pattern's groups as columns and an outcome for lines it does not match.

    ``df`` must have ``column`` (the text to parse) and ``_outcome`` (rows already decided
    keep theirs). Works lazily: nothing is collected here.
    """
    assert spec.pattern is not None
    text = pl.col(column)
    if spec.rest:
        # The pattern is anchored on a short prefix; the rest of the line is sliced off by
        # the length of the whole match (one regex pass, not two).
        whole = f"(?P<{_WHOLE}>{spec.pattern})"
        df = df.with_columns(text.str.extract_groups(whole).alias("_groups")).unnest("_groups")
        matched_len = pl.col(_WHOLE).str.len_chars()
        df = df.with_columns(text.str.slice(matched_len).alias(spec.rest)).drop(_WHOLE)
    elif spec.quick and _COUNTING.get():
        df = _quick(df, spec, text)
    else:
        df = df.with_columns(text.str.extract_groups(spec.pattern).alias("_groups")).unnest(
            "_groups"
        )
    matched = pl.col(MATCH_GROUP).is_not_null()
    # Skip patterns run only on the lines the pattern missed (a null is not searched).
    missed = pl.when(~matched).then(text)
    outcome: pl.Expr = pl.lit(f"reject: line does not match the {spec.name} pattern")
    for reason, pattern in reversed(spec.skip):
        label = f"skip: {reason.replace('_', ' ')}"
        if re.compile(pattern).groups:
            # The group names what was skipped (the program of a journal line): one count each.
            named = missed.str.extract(pattern, 1)
            reason_expr = pl.concat_str(pl.lit(label + " ("), named, pl.lit(")"))
            outcome = pl.when(named.is_not_null()).then(reason_expr).otherwise(outcome)
        else:
            outcome = pl.when(missed.str.contains(pattern)).then(pl.lit(label)).otherwise(outcome)
    return df.with_columns(
        pl.when(pl.col(OUTCOME).is_not_null())
        .then(pl.col(OUTCOME))
        .when(matched)
        .then(None)
        .otherwise(outcome)
        .alias(OUTCOME)
    ).drop(MATCH_GROUP)
