import polars as pl
import pytest

from analyzer import schema


def test_conform_orders_and_types_columns():
    lf = pl.LazyFrame({"kind": ["http"], "status": ["502"], "extra": [1]})
    out = schema.conform(lf).collect()
    assert out.columns == list(schema.COLUMNS)
    assert out.schema == schema.EVENTS
    assert out["status"].to_list() == [502]


def test_validate_rejects_unknown_kind():
    df = schema.conform(
        pl.LazyFrame(
            {"ts": [0], "kind": ["banana"], "source": ["app"], "file": ["f"], "line": [1]}
        ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))
    ).collect()
    with pytest.raises(ValueError, match="banana"):
        schema.validate(df)


def test_story_events_conform(story):
    schema.validate(story.events)
