import polars as pl

from analyzer.api import load_events
from tests.conftest import FIXTURES


def test_workhorse_fixture():
    events, (t,) = load_events([FIXTURES / "workhorse_json" / "current.log"])
    assert (t.format, t.events, t.rejected) == ("workhorse_json", 7, 0)
    assert events.sort("line")["kind"].to_list() == [
        "http",
        "http",
        "upstream_error",
        "upstream_error",
        "shutdown_started",
        "log",
        "shutdown_finished",
    ]
    e502 = events.filter(pl.col("line") == 1).row(0, named=True)
    assert (e502["status"], e502["client"], e502["path"]) == (502, "173.34.175.144", "/favicon.ico")
    err = events.filter(pl.col("line") == 3).row(0, named=True)
    assert err["upstream"] == "/var/opt/gitlab/gitlab-rails/sockets/gitlab.socket"
    assert err["ts"].hour == 9  # +08:00 converted to UTC


def test_puma_pages_generic_fixtures():
    puma, (t,) = load_events([FIXTURES / "puma_json" / "puma_stdout.log"])
    assert t.format == "puma_json"
    assert puma["kind"].to_list() == [
        "log",
        "shutdown_started",
        "log",
        "shutdown_finished",
        "shutdown_finished",
    ]
    pages, (t,) = load_events([FIXTURES / "pages_json" / "pages.log"])
    assert t.format == "pages_json"
    assert pages["kind"].to_list() == ["http", "upstream_error", "http"]
    generic, (t,) = load_events([FIXTURES / "generic_json" / "app.log"])
    assert t.format == "generic_json" and t.events == 3
    generic = generic.sort("line")
    assert generic["message"].to_list() == ["server started", "upstream went away", "slow request"]
    assert generic["status"].to_list() == [None, None, 503]
