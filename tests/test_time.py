from datetime import UTC, datetime

import polars as pl

from analyzer.normalize.time import (
    Span,
    TimeContext,
    choose_year,
    dated_inputs,
    klog_ts,
    parse_rfc3339,
    parse_times,
)


def test_rfc3339_variants():
    s = pl.Series(
        [
            "2022-04-05T06:04:04Z",
            "2022-04-05T06:04:04.526Z",
            "2022-04-05T14:04:04+08:00",
            "2019-05-07T18:57:50.904275087+00:00",
            "2022-04-05 06:04:04",
            "nope",
        ]
    )
    out = pl.select(parse_rfc3339(pl.lit(s))).to_series().to_list()
    assert out[0] == datetime(2022, 4, 5, 6, 4, 4, tzinfo=UTC)
    assert out[1] == datetime(2022, 4, 5, 6, 4, 4, 526000, tzinfo=UTC)
    assert out[2] == datetime(2022, 4, 5, 6, 4, 4, tzinfo=UTC)
    assert out[3].microsecond == 904275
    assert out[4] == datetime(2022, 4, 5, 6, 4, 4, tzinfo=UTC)
    assert out[5] is None


def _day(mmdd: str) -> Span:
    return Span(f"2000-{mmdd[:2]}-{mmdd[2:]} 00:00:00.000000", f"2000-{mmdd[:2]}-{mmdd[2:]} 00:00:01")


def _dated(label: str, *times: datetime, node: str | None = None) -> tuple:
    events = pl.DataFrame(
        {"ts": list(times), "node": [node] * len(times)},
        schema={"ts": pl.Datetime("ns", "UTC"), "node": pl.String},
    )
    return dated_inputs(events, label)


def test_klog_year_rules():
    assert choose_year(_day("0405"), TimeContext(year=2019))[0] == 2019
    # A December line next to January data belongs to the year before.
    near_new_year = _dated("events.json", datetime(2023, 1, 2, tzinfo=UTC))
    year, how = choose_year(_day("1231"), TimeContext(evidence=near_new_year))
    assert year == 2022 and "from inputs within 31 days of its span: events.json" in how
    mtime = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
    year, how = choose_year(_day("0405"), TimeContext(), mtime=mtime)
    assert year == 2025 and "modification time" in how


def test_klog_rollover_and_zone():
    df = pl.DataFrame(
        {
            "mmdd": ["1231", "1231", "0101"],
            "hms": ["23:59:59.000001", "23:59:59.5", "00:00:01.000000"],
        }
    )
    out = df.select(klog_ts(pl.col("mmdd"), pl.col("hms"), 2022, "Europe/Berlin").alias("ts"))[
        "ts"
    ].to_list()
    assert out[0] == datetime(2022, 12, 31, 22, 59, 59, 1, tzinfo=UTC)
    assert out[2] == datetime(2022, 12, 31, 23, 0, 1, tzinfo=UTC)


def test_the_repeated_hour_at_the_end_of_summer_time_follows_file_order():
    # Berlin, 2024-10-27: 02:00-03:00 happens twice (CEST, then CET).
    local = [
        "2024-10-27 01:59:00.000000",
        "2024-10-27 02:10:00.000000",  # first pass, CEST
        "2024-10-27 02:59:00.000000",
        "2024-10-27 02:01:00.000000",  # the clock went back: second pass, CET
        "2024-10-27 02:10:00.000000",
        "2024-10-27 03:05:00.000000",
    ]
    ts = parse_times(pl.Series(local), "local", "Europe/Berlin")
    assert [t.strftime("%H:%M") for t in ts] == [
        "23:59",
        "00:10",
        "00:59",
        "01:01",
        "01:10",
        "02:05",
    ]
    assert ts.is_sorted()


def test_the_repeated_hour_survives_lines_without_time_and_small_steps_back():
    local = [
        "2024-11-03 01:50:00.000000",  # New York: 01:00-02:00 happens twice
        None,  # a line from another program
        "2024-11-03 01:55:00.000000",
        None,
        "2024-11-03 01:52:00.000000",  # back 3 minutes: the second pass
        "2024-11-03 01:58:00.000000",
    ]
    ts = parse_times(pl.Series(local, dtype=pl.String), "local", "America/New_York")
    assert [t and t.strftime("%H:%M") for t in ts] == [
        "05:50",
        None,
        "05:55",
        None,
        "06:52",
        "06:58",
    ]
