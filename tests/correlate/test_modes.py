"""How each failure failed, read from real proxy lines (tests/fixtures/README.md)."""

from __future__ import annotations

import polars as pl
import pytest

from analyzer.api import load_events
from analyzer.correlate.modes import with_failure_modes
from tests.correlate.helpers import ev, frame

FIXTURES = "tests/fixtures"


def _modes(path: str) -> dict[tuple[str, int], str]:
    events, _ = load_events([f"{FIXTURES}/{path}"])
    failed = events.filter(
        ((pl.col("kind") == "http") & (pl.col("status") >= 500))
        | (pl.col("kind") == "upstream_error")
    )
    out = with_failure_modes(failed, events)
    return {(f, n): m for f, n, m in out.select("format", "line", "mode").iter_rows()}


def test_envoy_response_flags():
    modes = _modes("envoy/istio-proxy.log")
    assert modes[("envoy", 5)] == "refused"  # 503 UF {connection_failure,...}
    assert modes[("envoy", 7)] == "reset"  # 503 UC {connection_termination}


def test_an_ingress_access_line_takes_the_mode_of_its_error_line():
    modes = _modes("ingress_nginx")
    assert modes[("nginx_error", 2)] == "refused"  # connect() failed (111: Connection refused)
    assert modes[("nginx_error", 7)] == "reset"  # upstream prematurely closed connection
    assert modes[("ingress_nginx", 1)] == "refused"  # says only 502, beside the refused line


def test_google_lb_status_details_and_workhorse_errors():
    gclb = _modes("gcp_logentry")
    assert gclb[("gcp_logentry", 7)] == "refused"  # failed_to_connect_to_backend
    wh = _modes("workhorse_json/current.log")
    assert wh[("workhorse_json", 3)] == "refused"  # dial unix ...: connect: connection refused


@pytest.mark.parametrize(
    ("status", "detail", "mode"),
    [
        (504, None, "timeout"),
        (500, None, "app"),
        (502, None, "unknown"),
        (503, "UH", "no_upstream"),
    ],
)
def test_status_alone(status, detail, mode):
    rows = frame(
        [ev(0, "http", source="proxy", status=status, detail=detail, upstream="10.0.0.1:80")]
    )
    assert with_failure_modes(rows, rows)["mode"].to_list() == [mode]
