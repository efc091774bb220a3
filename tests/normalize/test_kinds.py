"""Kind rules: the first rule a line meets gives its kind and only that rule's constants."""

import polars as pl

from analyzer.formats import FormatSpec, Rule
from analyzer.normalize.kinds import apply_rules


def test_only_the_winning_rule_sets_its_columns():
    spec = FormatSpec(
        name="t",
        description="",
        source="proxy",
        engine="text",
        rules=(
            Rule(kind="upstream_error", regex=(("flags", "^U"),), set=(("note", "upstream"),)),
            Rule(kind="http", present=("status",), set=(("answer", "yes"),)),
        ),
    )
    df = pl.LazyFrame(
        {"flags": ["UF", "-", None], "status": ["0", "200", None]},
        schema={"flags": pl.String, "status": pl.String},
    )
    out = apply_rules(df, spec).collect()
    assert out["kind"].to_list() == ["upstream_error", "http", "log"]
    # the second rule also matches line 1 (it has a status) but does not win there
    assert out["note"].to_list() == ["upstream", None, None]
    assert out["answer"].to_list() == [None, "yes", None]
    assert "_rule" not in out.columns
