"""Apply a spec's extract and kind rules: raw fields -> closed ``Kind`` vocabulary."""

from __future__ import annotations

import polars as pl

from analyzer.formats import FormatSpec, Rule


def _col(name: str, have: set[str]) -> pl.Expr:
    return pl.col(name) if name in have else pl.lit(None, dtype=pl.String)


def apply_extract(df: pl.LazyFrame, spec: FormatSpec) -> pl.LazyFrame:
    """Add each ``extract`` column (one regex group from the first non-null source field)."""
    for column, sources, regex in spec.extract:
        have = set(df.collect_schema().names())
        source = pl.coalesce([_col(s, have) for s in sources])
        df = df.with_columns(source.str.extract(regex, 1).alias(column))
    return df


def rule_condition(rule: Rule, have: set[str]) -> pl.Expr:
    cond = pl.lit(True)
    for name, value in rule.equals:
        cond = cond & (_col(name, have) == value)
    for name, value in rule.contains:
        cond = cond & _col(name, have).str.contains(value, literal=True)
    for name, pattern in rule.regex:
        cond = cond & _col(name, have).str.contains(pattern)
    for name in rule.present:
        cond = cond & _col(name, have).is_not_null()
    return cond.fill_null(False)


def apply_rules(df: pl.LazyFrame, spec: FormatSpec) -> pl.LazyFrame:
    """Set ``kind`` (first matching rule wins) and the rules' constant columns."""
    have = set(df.collect_schema().names())
    kind: pl.Expr = pl.lit(spec.default_kind)
    sets: dict[str, pl.Expr] = {}
    for rule in reversed(spec.rules):
        cond = rule_condition(rule, have)
        kind = pl.when(cond).then(pl.lit(rule.kind)).otherwise(kind)
        for column, value in rule.set:
            base = sets.get(column, _col(column, have))
            sets[column] = pl.when(cond).then(pl.lit(value)).otherwise(base)
    return df.with_columns(kind.alias("kind"), *(e.alias(c) for c, e in sets.items()))
