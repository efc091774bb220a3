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


RULE = "_rule"  # which rule a line's kind came from (the first whose conditions it meets)


def apply_rules(df: pl.LazyFrame, spec: FormatSpec) -> pl.LazyFrame:
    """Set ``kind`` (first matching rule wins) and the winning rule's constant columns."""
    have = set(df.collect_schema().names())
    winner: pl.Expr = pl.lit(None, dtype=pl.Int32)
    for i, rule in reversed(list(enumerate(spec.rules))):
        winner = pl.when(rule_condition(rule, have)).then(pl.lit(i, pl.Int32)).otherwise(winner)
    rule_at = pl.col(RULE)
    kind: pl.Expr = pl.lit(spec.default_kind)
    sets: dict[str, pl.Expr] = {}
    for i, rule in reversed(list(enumerate(spec.rules))):
        won = rule_at == i
        kind = pl.when(won).then(pl.lit(rule.kind)).otherwise(kind)
        for column, value in rule.set:
            base = sets.get(column, _col(column, have))
            sets[column] = pl.when(won).then(pl.lit(value)).otherwise(base)
    return (
        df.with_columns(winner.alias(RULE))
        .with_columns(kind.alias("kind"), *(e.alias(c) for c, e in sets.items()))
        .drop(RULE)
    )
