"""An export is verified on read: counts that are not counts, or do not add up, are exit 2."""

from __future__ import annotations

import json

import pytest

from analyzer.api import analyze, export
from analyzer.errors import InputError
from analyzer.store import MANIFEST, export_tallies, read_export
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    export(analyze([str(SAMPLE)]), out, replace=True)
    return out


def _damaged(exported, tmp_path, change):
    import shutil

    copy = tmp_path / "export"
    shutil.copytree(exported, copy)
    manifest = json.loads((copy / MANIFEST).read_text())
    change(manifest)
    # json.dumps writes NaN and Infinity as JSON does not allow, as a careless tool would
    (copy / MANIFEST).write_text(json.dumps(manifest))
    return copy


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda m: m["inputs"][0].update(events=float("nan")), "events is nan, not a count"),
        (lambda m: m["inputs"][0].update(rejected=-1), "rejected is -1, not a count"),
        (lambda m: m["inputs"][0].update(skipped=2.5), "skipped is 2.5, not a count"),
        (lambda m: m["inputs"][0].update(lines="7"), "lines is '7', not a count"),
        (lambda m: m["inputs"][0].update(lines=m["inputs"][0]["lines"] + 1), "lines but"),
    ],
)
def test_counts_that_are_not_counts_or_do_not_add_up_are_an_input_error(
    exported, tmp_path, change, says
):
    copy = _damaged(exported, tmp_path, change)
    with pytest.raises(InputError) as err:
        export_tallies(copy)
    assert str(copy / MANIFEST) in str(err.value) and says in str(err.value)


def test_a_row_count_that_differs_from_the_parquet_file_is_an_input_error(exported, tmp_path):
    copy = _damaged(exported, tmp_path, lambda m: m["frames"].update(events=1))
    with pytest.raises(InputError) as err:
        read_export(copy)
    assert "events.parquet" in str(err.value) and "the manifest says 1" in str(err.value)


def test_a_sound_export_reads(exported):
    events, tallies = read_export(exported)
    assert events.height > 0 and all(t.reconciles for t in tallies)


def test_events_whose_times_are_all_missing_are_an_input_error_not_zero_incidents(
    exported, tmp_path
):
    """The issue's case: an events file with every time nulled read as "0 incidents"."""
    import polars as pl

    copy = _damaged(exported, tmp_path, lambda m: None)
    events = pl.read_parquet(copy / "events.parquet")
    events.with_columns(pl.lit(None, dtype=events.schema["ts"]).alias("ts")).write_parquet(
        copy / "events.parquet"
    )
    with pytest.raises(InputError) as err:
        read_export(copy)
    says = f"{events.height} of {events.height} events have no time"
    assert "events.parquet" in str(err.value) and says in str(err.value)
