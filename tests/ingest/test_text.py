"""Text-engine formats read from real lines: Workhorse logrus text, Puma text."""

import polars as pl
import pytest

from analyzer.api import load_events, parse_lines
from analyzer.errors import UnknownFormatError
from tests.conftest import FIXTURES

PUMA_KINDS = [
    "app_started",  # Puma starting in cluster mode...
    "log",  # * Puma version: 6.5.0 ...
    "app_started",  # * Listening on http://127.0.0.1:40001
    "log",
    "log",
    "shutdown_started",
    "shutdown_started",
    "shutdown_finished",  # === puma shutdown: ... ===
    "shutdown_finished",  # - Goodbye!
]


def test_workhorse_text_fixture():
    events, (t,) = load_events([FIXTURES / "workhorse_text" / "current.log"])
    assert (t.format, t.lines, t.events, t.rejected) == ("workhorse_text", 4, 4, 0)
    events = events.sort("line")
    assert events["kind"].to_list() == [
        "upstream_error",
        "http",
        "shutdown_started",
        "shutdown_finished",
    ]
    err, access = events.row(0, named=True), events.row(1, named=True)
    assert err["upstream"] == "/home/git/gitlab/tmp/sockets/gitlab.socket"
    assert err["request_id"] is None and err["path"] is None  # `correlation_id= ... uri=`
    assert (err["ts"].day, err["ts"].hour) == (2, 22)  # 07:15+09:00 is the day before in UTC
    assert (access["status"], access["client"], access["path"]) == (
        502,
        "203.0.113.45",
        "/explore/projects",
    )
    assert events["message"].to_list()[3] == "shutting down"  # not logrus's error="<nil>"


def test_workhorse_text_key_inside_a_quoted_value_is_not_a_field():
    line = (
        'time="2024-10-25T14:50:49Z" level=info msg=access method=GET '
        'referrer="http://a/?status=200 status=200 uri=/evil" remote_addr="10.1.2.3:0" '
        'status=502 uri="/x?y=1" user_agent="x remote_addr=6.6.6.6:1"'
    )
    events, tally = parse_lines([line], "workhorse_text")
    assert tally.rejected == 0
    assert events.select("status", "path", "client").row(0) == (502, "/x?y=1", "10.1.2.3")


def test_puma_text_lines_inside_a_timestamped_wrapper():
    lines = (FIXTURES / "puma_text" / "puma.log").read_text().splitlines()
    events, tally = parse_lines(lines, "puma_text")
    assert (tally.events, tally.rejected) == (9, 0)
    assert events.sort("line")["kind"].to_list() == PUMA_KINDS


def test_puma_text_behind_kubectl_timestamps_is_read(tmp_path):
    lines = (FIXTURES / "puma_text" / "puma.log").read_text().splitlines()
    path = tmp_path / "webservice.log"
    path.write_text(
        "".join(f"2024-01-19T14:12:{i:02d}.000000001Z {ln}\n" for i, ln in enumerate(lines))
    )
    events, (t,) = load_events([path])
    assert (t.format, t.rejected) == ("cri+puma_text", 0)
    assert events.sort("line")["kind"].to_list() == PUMA_KINDS
    assert events["ts"].dt.second().to_list() == list(range(9))


def test_puma_text_alone_is_unknown_and_says_how_to_collect_it():
    path = FIXTURES / "puma_text" / "puma.log"
    _, (t,) = load_events([path])
    assert (t.format, t.rejected) == ("unknown", 9)
    assert "look like puma_text" in t.notes[-1] and "kubectl logs --timestamps" in t.notes[-1]
    with pytest.raises(UnknownFormatError, match=r"puma.log: no known log format \(its lines"):
        load_events([path], strict=True)


def test_containerd_lines_are_not_taken_for_workhorse_text(tmp_path):
    path = tmp_path / "containerd.log"
    path.write_text(
        'time="2025-03-18T10:21:22.521444907Z" level=info msg="StopContainer for '
        '\\"62e04a72b1c5bb855056e55b44513a36a9f338baa5ee997b5ea20858b61fa058\\" with timeout 2 (s)"\n'
    )
    events, (t,) = load_events([path])
    assert t.format == "containerd"
    assert events.filter(pl.col("kind") == "kill")["grace_period_s"].to_list() == [2]
