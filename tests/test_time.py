from datetime import UTC, datetime

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

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
            "2021-03-31T12:59:28.573159188+00:00",
            "2022-04-05 06:04:04",
            "nope",
        ]
    )
    out = pl.select(parse_rfc3339(pl.lit(s))).to_series().to_list()
    assert out[0] == datetime(2022, 4, 5, 6, 4, 4, tzinfo=UTC)
    assert out[1] == datetime(2022, 4, 5, 6, 4, 4, 526000, tzinfo=UTC)
    assert out[2] == datetime(2022, 4, 5, 6, 4, 4, tzinfo=UTC)
    assert out[3].microsecond == 573159
    assert out[4] == datetime(2022, 4, 5, 6, 4, 4, tzinfo=UTC)
    assert out[5] is None


def _day(mmdd: str) -> Span:
    return Span(
        f"2000-{mmdd[:2]}-{mmdd[2:]} 00:00:00.000000", f"2000-{mmdd[:2]}-{mmdd[2:]} 00:00:01"
    )


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


def _ns(values: list[str]) -> list[int | None]:
    return parse_times(pl.Series(values, dtype=pl.String), "epoch").dt.epoch("ns").to_list()


def test_epoch_integers_are_exact_in_every_unit():
    # journald __REALTIME_TIMESTAMP is µs in 16 digits: a Float64 times 1000 ends in ...056.
    assert _ns(["1700434093914701"]) == [1700434093914701000]
    assert _ns(["1700434093914"]) == [1700434093914000000]  # ms
    assert _ns(["1700434093914701123"]) == [1700434093914701123]  # ns
    assert _ns(["1700434093"]) == [1700434093000000000]  # s
    assert _ns(["99999999", "", "12ab", "-"]) == [None, None, None, None]  # too small, not numbers


def test_epoch_fractions_are_exact_to_the_digit():
    assert _ns(["1678901234.123456"]) == [1678901234123456000]
    assert _ns(["1678901234.1234567891"]) == [1678901234123456789]  # beyond ns: cut
    # kubelet JSON `ts` is ms with a fraction (log-formats.md 2.x: 1655581336241.7104).
    assert _ns(["1655581336241.7104"]) == [1655581336241710400]
    assert _ns([" 1700434093914701 "]) == [1700434093914701000]
    assert _ns(["1.6789e9"]) == [1678900000000000000]  # exponent form: through a float


@given(st.integers(min_value=10**14 + 1, max_value=9 * 10**15))
def test_epoch_microseconds_round_trip(us):
    assert _ns([str(us)]) == [us * 1000]


@given(st.integers(min_value=10**8 + 1, max_value=9 * 10**9), st.integers(0, 999_999))
def test_epoch_seconds_with_microseconds_round_trip(seconds, us):
    assert _ns([f"{seconds}.{us:06d}"]) == [seconds * 10**9 + us * 1000]


def test_a_year_ending_after_the_files_mtime_is_not_taken():
    # Dated inputs from May 2024 and May 2025; the file was last written in June 2024.
    evidence = (
        *_dated("a.log", datetime(2024, 5, 7, 0, 0, 0, 500000, tzinfo=UTC)),
        *_dated("b.log", *[datetime(2025, 5, 7, 0, 0, 0, us, tzinfo=UTC) for us in (1, 2)]),
    )
    mtime = datetime(2024, 6, 1, tzinfo=UTC).timestamp()
    year, how = choose_year(_day("0507"), TimeContext(evidence=evidence), mtime=mtime)
    assert year == 2024 and "overlapping its span: a.log" in how
    # Without the mtime, the year with more dated times there wins.
    assert choose_year(_day("0507"), TimeContext(evidence=evidence))[0] == 2025


def test_the_span_in_a_year_with_rollover_and_29_february():
    span = Span("2000-12-31 23:59:59.000000", "2001-01-01 00:00:01.000000")
    assert span.rollovers == 1
    start, end = span.in_year(2023)
    assert datetime.fromtimestamp(start / 1e9, tz=UTC).year == 2023
    assert datetime.fromtimestamp(end / 1e9, tz=UTC).year == 2024
    leap = Span("2000-02-29 10:00:00.000000", "2000-02-29 11:00:00.000000")
    assert leap.in_year(2023) is None and leap.in_year(2024) is not None
    # By mtime: a file written on 2 Jan 2025 that rolls over ends in 2025, starts in 2024.
    mtime = datetime(2025, 1, 2, tzinfo=UTC).timestamp()
    assert choose_year(span, TimeContext(), mtime=mtime)[0] == 2024


def test_the_same_file_wins_without_a_distance_limit():
    # A file's own dated lines are its best clue even when far from its yearless ones.
    own = _dated("containerd lines", datetime(2021, 1, 10, tzinfo=UTC))
    other = _dated("x.log", datetime(2024, 5, 7, tzinfo=UTC))
    year, how = choose_year(_day("0507"), TimeContext(evidence=other), same_file=own)
    assert year == 2021 and how.startswith("year 2021 from dated containerd lines of the same file")


def test_a_journald_record_keeps_its_last_microsecond(tmp_path):
    from pathlib import Path

    from analyzer.api import load_events

    fixture = Path(__file__).parent / "fixtures" / "journald_json" / "journal.json"
    record = fixture.read_text(encoding="utf-8").splitlines()[0]
    assert '"1700434093914700"' in record
    path = tmp_path / "journal.json"
    path.write_text(record.replace('"1700434093914700"', '"1700434093914701"') + "\n")
    events, _ = load_events([path])
    assert events["ts"].dt.epoch("ns").to_list() == [1700434093914701000]


def test_a_node_matches_its_short_host_name():
    from analyzer.normalize.time import same_node

    fqdn = "ip-10-0-1-2.eu-west-1.compute.internal"
    assert same_node("ip-10-0-1-2", fqdn) and same_node("IP-10-0-1-2", "ip-10-0-1-2")
    assert not same_node("ip-10-0-1-3", fqdn)
    assert not same_node("node-1.cluster-a", "node-1.cluster-b")
    # The syslog host of a yearless file finds the dated file Kubernetes named by FQDN.
    mine = _dated("events.json", datetime(2023, 5, 7, tzinfo=UTC), node=fqdn)
    crowd = _dated("other.log", *[datetime(2024, 5, 7, 0, 0, 0, us, tzinfo=UTC) for us in (1, 2)])
    ctx = TimeContext(evidence=(*mine, *crowd))
    year, how = choose_year(_day("0507"), ctx, nodes=("ip-10-0-1-2",))
    assert year == 2023 and f"from dated files of node {fqdn}: events.json" in how
