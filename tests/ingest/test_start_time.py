"""``timestamp.start``: proxies that log the request START are moved to start + duration.

Real lines: the Istio default access line is istio/istio.io (Apache-2.0)
``content/en/docs/tasks/observability/logs/access-log/index.md`` (sleep's log, as in the
``envoy`` spec samples); the Envoy default line is envoyproxy/envoy (Apache-2.0)
``docs/root/configuration/observability/access_log/usage.rst``. ingress-nginx logs at
response time (``$time_local`` is when the log line was written): unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from analyzer.api import load_events, load_reduced, parse_lines
from analyzer.errors import FormatSpecErrors
from analyzer.formats import parse_spec

ISTIO_418 = (
    '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 '
    '"-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" '
    '"10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 '
    "10.0.45.184:8000 10.44.1.23:46520 - default"
)
ENVOY_204 = (
    '[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 '
    '"10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" '
    '"tcp://10.0.2.1:80"'
)
# elastic/beats (Apache-2.0) filebeat/module/nginx/ingress_controller/test/test.log, line 1
# (tests/fixtures/ingress_nginx/controller.log line 5)
NGINX = (
    '192.168.64.1 - - [07/Feb/2020:11:48:51 +0000] "POST /products HTTP/1.1" 200 59 "-" '
    '"curl/7.54.0" 89 0.001 [default-web-8080] [] 172.17.0.5:8080 59 0.000 200 '
    "529a007902362a5f51385a5fa7049884"
)


def test_envoy_start_time_plus_duration():
    events, _ = parse_lines([ISTIO_418, ENVOY_204], "envoy")
    ts = events.sort("line")["ts"].to_list()
    # 18.409 + %DURATION% 4 ms; 00.310 + 226 ms
    assert ts == [
        datetime(2020, 11, 25, 21, 26, 18, 413000, tzinfo=UTC),
        datetime(2016, 4, 15, 20, 17, 0, 536000, tzinfo=UTC),
    ]


def test_response_time_formats_are_not_moved():
    events, _ = parse_lines([NGINX], "ingress_nginx")
    row = events.row(0, named=True)
    assert row["duration_ms"] == 1.0
    assert row["ts"] == datetime(2020, 2, 7, 11, 48, 51, tzinfo=UTC)


def test_start_time_in_a_cri_wrapper_and_in_the_counted_path(tmp_path):
    """Inside a runtime wrapper Envoy's own (ms) time is used, so it is moved too; the
    per-second counts of successful requests (``load_reduced``) use the moved time."""
    d = tmp_path / "var/log/pods/foo_sleep-1_0a0a0a0a-0000-0000-0000-000000000000/istio-proxy"
    d.mkdir(parents=True)
    ok = ENVOY_204.replace(" 226 100 ", " 1226 100 ")  # 1.226 s: crosses a second
    (d / "0.log").write_text(
        f"2020-11-25T21:26:18.500000000Z stdout F {ISTIO_418}\n"
        f"2016-04-15T20:17:01.600000000Z stdout F {ok}\n"
    )
    events, _ = load_events([d / "0.log"])
    assert events.sort("line")["ts"].to_list() == [
        datetime(2020, 11, 25, 21, 26, 18, 413000, tzinfo=UTC),
        datetime(2016, 4, 15, 20, 17, 1, 536000, tzinfo=UTC),
    ]
    reduced, _ = load_reduced([d / "0.log"])
    counted = reduced.filter(pl.col("status") == 204)
    assert counted["ts"].to_list() == [datetime(2016, 4, 15, 20, 17, 1, 536000, tzinfo=UTC)]


def _spec(**timestamp):
    return {
        "name": "mine",
        "source": "proxy",
        "engine": "text",
        "pattern": r"^(?P<_m>)(?P<t>\S+) (?P<d>\d+)$",
        "timestamp": {"field": "t", **timestamp},
        "fields": {"duration_ms": "d"},
    }


def test_start_key_is_checked():
    assert parse_spec(_spec(start=True), "x.toml").ts_start == ("t",)
    assert parse_spec(_spec(), "x.toml").ts_start == ()
    with pytest.raises(FormatSpecErrors, match="timestamp.start"):
        parse_spec(_spec(start=["nope"]), "x.toml")
    no_duration = _spec(start=True)
    del no_duration["fields"]
    with pytest.raises(FormatSpecErrors, match="needs a duration_ms"):
        parse_spec(no_duration, "x.toml")
    with pytest.raises(FormatSpecErrors, match="timestamp.start"):
        parse_spec(_spec(start="yes"), "x.toml")


def test_a_time_from_a_field_that_is_no_start_is_not_moved():
    """traefik_json: ``StartUTC`` / ``StartLocal`` are starts, the logger's ``time`` is not.
    The line is ``tests/fixtures/traefik_json/access.log`` line 1 (derived, see its README)."""
    from tests.conftest import FIXTURES

    line = (FIXTURES / "traefik_json/access.log").read_text().splitlines()[0]
    events, _ = parse_lines([line], "traefik_json")
    assert events["ts"].to_list() == [datetime(2017, 10, 2, 20, 22, 7, 514380, tzinfo=UTC)]
    import json

    record = json.loads(line)
    del record["StartUTC"]
    events, _ = parse_lines([json.dumps(record)], "traefik_json")  # StartLocal: moved
    assert events["ts"].to_list() == [datetime(2017, 10, 2, 20, 22, 7, 514380, tzinfo=UTC)]
    del record["StartLocal"]
    events, _ = parse_lines([json.dumps(record)], "traefik_json")  # `time`: as written
    assert events["ts"].to_list() == [datetime(2017, 10, 2, 20, 22, 7, tzinfo=UTC)]
