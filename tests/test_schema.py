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


def test_oom_killed_is_a_kind_with_a_timeline_marker():
    from analyzer.correlate.lifecycle import LIFECYCLE_KINDS
    from analyzer.report.html import MARKERS

    assert schema.Kind.OOM_KILLED.value == "oom_killed" and "oom_killed" in schema.KINDS
    assert "oom_killed" in LIFECYCLE_KINDS
    assert set(LIFECYCLE_KINDS) <= set(MARKERS)  # every lifecycle kind is drawn
