"""The proxies people run, read from real lines: Envoy / Istio (text, JSON, the proxy's own
lines), ingress-nginx (access, error log, JSON), Traefik, HAProxy, AWS ALB."""

from datetime import UTC, datetime

import polars as pl
import pytest

from analyzer import formats
from analyzer.api import load_events, parse_lines
from analyzer.ingest.sniff import choose
from tests.conftest import FIXTURES


def _load(rel: str, **kw):
    events, (tally,) = load_events([FIXTURES / rel], **kw)
    return events.sort("line"), tally


def _row(events: pl.DataFrame, line: int) -> dict:
    return events.filter(pl.col("line") == line).row(0, named=True)


def test_istio_proxy_log_holds_access_and_own_lines():
    events, t = _load("envoy/istio-proxy.log")
    assert (t.format, t.lines, t.events, t.rejected, t.skipped) == (
        "istio_proxy+envoy",
        23,
        23,
        0,
        0,
    )
    assert events.filter(pl.col("format") == "envoy").height == 7
    tcp_fail = _row(events, 4)  # "- - -" 0 UF,URX: the inbound listener could not reach the app
    assert (tcp_fail["kind"], tcp_fail["status"], tcp_fail["upstream"]) == (
        "upstream_error",
        None,
        "127.0.0.1:80",
    )
    assert (tcp_fail["detail"], tcp_fail["duration_ms"]) == ("UF,URX", 1.0)
    tcp_ok = _row(events, 3)  # Istio 1.3-1.8 layout (mixer field), TCP
    assert (tcp_ok["kind"], tcp_ok["status"], tcp_ok["duration_ms"]) == ("http", None, 35.0)
    uf = _row(events, 5)
    assert (uf["kind"], uf["status"], uf["detail"], uf["duration_ms"]) == ("http", 503, "UF", 0.0)
    assert uf["ts"] == datetime(2020, 11, 25, 21, 26, 20, 409000, tzinfo=UTC)
    uc = _row(events, 7)
    assert (uc["status"], uc["detail"], uc["upstream"]) == (503, "UC", "10.44.1.27:80")
    # Istio 1.3-1.8 (mixer field), current Istio and Envoy's default layout: duration read
    # from the end.
    assert [_row(events, n)["duration_ms"] for n in (6, 8, 9)] == [90.0, 4.0, 2.0]
    kinds = dict(zip(events["line"], events["kind"], strict=True))
    assert [kinds[n] for n in (2, 14, 15, 17, 20, 21, 22)] == [
        "app_started",  # Envoy proxy is ready
        "shutdown_started",  # Agent draining Proxy
        "shutdown_started",  # Graceful termination period is 5s, starting...
        "shutdown_finished",  # Graceful termination period complete
        "shutdown_finished",  # Envoy aborted normally
        "shutdown_finished",  # Agent has successfully terminated
        "shutdown_started",  # envoy main: caught SIGTERM
    ]
    assert kinds[16] == "log"  # "Envoy proxy is NOT ready: ... DRAINING" is the probe's view
    native = _row(events, 10)  # [2018-09-28 22:25:31.741][18][warning][config] (no zone: UTC)
    assert native["ts"] == datetime(2018, 9, 28, 22, 25, 31, 741000, tzinfo=UTC)
    assert native["message"] == "gRPC config stream closed: 14, no healthy upstream"
    assert _row(events, 1)["message"] == "Envoy proxy is NOT ready: 3 errors occurred:"
    newest = _row(events, 23)  # scope with file:line, `\tthread=N` tail dropped
    assert newest["message"].endswith("upstream headers complete: end_stream=false")


def test_envoy_access_lines_first_make_an_envoy_file(tmp_path):
    lines = (FIXTURES / "envoy" / "istio-proxy.log").read_text().splitlines()
    path = tmp_path / "istio-proxy.log"
    path.write_text("\n".join([*lines[2:9], *lines[13:16]]) + "\n")
    events, (t,) = load_events([path])
    assert (t.format, t.events, t.rejected) == ("envoy+istio_proxy", 10, 0)
    assert events.filter(pl.col("format") == "istio_proxy")["kind"].to_list() == [
        "shutdown_started",
        "shutdown_started",
        "log",
    ]


def test_istio_json_access_log():
    events, t = _load("envoy_json/istio-proxy.log")
    assert (t.format, t.lines, t.events, t.rejected, t.skipped) == (
        "envoy_json+istio_proxy",
        4,
        4,
        0,
        0,
    )
    uc = _row(events, 1)  # every value a string (Istio 1.x)
    assert (uc["kind"], uc["status"], uc["detail"], uc["duration_ms"]) == (
        "http",
        503,
        "UC",
        1.0,
    )
    assert (uc["upstream"], uc["client"], uc["method"]) == (
        "10.44.1.27:80",
        "10.44.1.23",
        "GET",
    )
    # START_TIME 21:26:21.409 + 1 ms: the failure is when the proxy answered (timestamp.start)
    assert uc["ts"] == datetime(2020, 11, 25, 21, 26, 21, 410000, tzinfo=UTC)
    uo = _row(events, 2)  # TCP, response_code "0", circuit breaker
    assert (uo["kind"], uo["status"], uo["detail"]) == ("upstream_error", None, "UO")
    typed = _row(events, 3)  # typed JSON (numbers, null)
    assert (typed["status"], typed["duration_ms"], typed["detail"]) == (418, 4.0, None)
    assert _row(events, 4)["kind"] == "shutdown_started"  # the agent's own line, same file


def test_ingress_nginx_access_and_error_log():
    events, t = _load("ingress_nginx/controller.log")
    assert (t.format, t.lines, t.events, t.rejected, t.skipped) == (
        "ingress_nginx+nginx_error",
        8,
        7,
        0,
        1,
    )
    assert dict(t.skip_reasons) == {"controller log": 1}
    access, refused = _row(events, 1), _row(events, 2)
    assert (access["status"], access["duration_ms"], access["upstream"]) == (
        502,
        0.0,
        "[2a02:cf40::4e36]:5000",  # two attempts: the client got the last one's answer
    )
    assert _row(events, 6)["duration_ms"] == 33.0  # $request_time 0.033 s
    assert _row(events, 4)["upstream"] is None  # a bad request: no upstream, "- - - -"
    assert (refused["format"], refused["kind"], refused["status"]) == (
        "nginx_error",
        "upstream_error",
        None,
    )
    assert (refused["upstream"], refused["client"], refused["method"], refused["path"]) == (
        "[2a02:cf40::4e36]:5000",
        "2a02:cf40::4e36",
        "GET",
        "/favicon.ico",
    )
    assert refused["message"].startswith("connect() failed (111: Connection refused)")
    assert refused["ts"] == datetime(2022, 8, 24, 18, 5, 41, tzinfo=UTC)
    closed = _row(events, 7)
    assert (closed["kind"], closed["upstream"]) == ("upstream_error", "172.17.0.5:8080")


def test_nginx_error_log_time_is_local_and_follows_tz():
    events, _ = _load("ingress_nginx/controller.log", tz="Europe/Berlin")
    # The error log has no zone (read in --tz); the access log's +0000 stays as written.
    assert _row(events, 2)["ts"] == datetime(2022, 8, 24, 16, 5, 41, tzinfo=UTC)  # CEST
    assert _row(events, 1)["ts"] == datetime(2022, 8, 24, 18, 5, 41, tzinfo=UTC)
    _, t = _load("ingress_nginx/controller.log", tz="Europe/Berlin")
    assert "nginx_error times without a zone are read in Europe/Berlin (--tz)" in t.notes


@pytest.mark.parametrize(
    "message",
    [
        "upstream timed out (110: Connection timed out) while connecting to upstream",
        "upstream timed out (110: Operation timed out) while reading response header from upstream",
        "no live upstreams while connecting to upstream",
        "recv() failed (104: Connection reset by peer) while reading response header from upstream",
    ],
)
def test_nginx_upstream_failures_are_upstream_errors(message):
    line = (
        f"2020/06/18 09:14:35 [error] 42#42: *123 {message}, client: 10.232.41.102, server: _, "
        'request: "GET / HTTP/1.1", upstream: "http://10.46.12.80:80/", host: "my-nginx"'
    )
    events, tally = parse_lines([line], "nginx_error")
    assert tally.rejected == 0
    assert events.select("kind", "upstream", "message").row(0) == (
        "upstream_error",
        "10.46.12.80:80",
        message,
    )


def test_ingress_nginx_json_access_log():
    events, t = _load("ingress_nginx_json/controller.log")
    assert (t.format, t.lines, t.events, t.rejected) == ("ingress_nginx_json+nginx_error", 4, 4, 0)
    only_request = _row(events, 1)  # only "$request": method and path from the request line
    assert (
        only_request["method"],
        only_request["path"],
        only_request["status"],
        only_request["duration_ms"],
    ) == ("POST", "/products", 200, 1.0)
    assert only_request["request_id"] == "529a007902362a5f51385a5fa7049884"
    retried = _row(events, 2)  # the client got the last attempt's answer (IPv6 pods)
    assert (retried["status"], retried["upstream"], retried["detail"]) == (
        502,
        "[2a02:cf40::4e36]:5000",
        "502, 502",
    )
    refused = _row(events, 3)  # the error log, same stream
    assert (refused["format"], refused["kind"], refused["upstream"]) == (
        "nginx_error",
        "upstream_error",
        "[2a02:cf40::4e36]:5000",
    )
    assert _row(events, 4)["upstream"] is None  # no endpoints: "-"


def test_traefik_json_access_log():
    events, t = _load("traefik_json/access.log")
    assert (t.format, t.lines, t.events, t.rejected) == ("traefik_json", 3, 3, 0)
    ok = _row(events, 1)
    assert (ok["status"], ok["upstream"], ok["duration_ms"], ok["method"]) == (
        304,
        "172.19.0.3:5601",
        2.0,
        "GET",
    )
    # StartUTC 20:22:07.512380 + Duration 2 ms (timestamp.start)
    assert ok["ts"] == datetime(2017, 10, 2, 20, 22, 7, 514380, tzinfo=UTC)
    own = _row(events, 2)  # OriginStatus 0: Traefik answered, no server saw the request
    assert (own["status"], own["upstream"]) == (404, None)
    assert own["detail"].startswith("answered by Traefik")
    failed = _row(events, 3)
    assert (failed["status"], failed["upstream"], failed["duration_ms"]) == (
        502,
        "172.19.0.3:5601",
        1.204311,
    )


def test_traefik_clf_access_log():
    events, t = _load("traefik_clf/access.log")
    assert (t.format, t.lines, t.events, t.rejected) == ("traefik_clf", 4, 4, 0)
    assert events.select("status", "upstream", "duration_ms").row(3) == (502, "10.42.0.4:5601", 3.0)
    assert events["duration_ms"].to_list()[:3] == [2.0, 41.0, 1.0]
    # Traefik 1.x names the frontend (`Host-host-1`), later ones the router (`name@provider`).
    assert events["upstream"].to_list()[0] == "172.19.0.3:5601"


def test_haproxy_http_log():
    events, t = _load("haproxy/haproxy.log")
    assert (t.format, t.lines, t.events, t.rejected, t.skipped) == ("haproxy", 7, 6, 0, 1)
    assert dict(t.skip_reasons) == {"haproxy message": 1}  # the SSL handshake failure line
    first = _row(events, 1)
    assert (first["status"], first["upstream"], first["duration_ms"], first["detail"]) == (
        200,
        "bk_admin/nginx_sonst",
        1487.0,
        "----",
    )
    # accept date 16:19:48.143 + total time 1487 ms (timestamp.start)
    assert first["ts"] == datetime(2019, 2, 25, 16, 19, 49, 630000, tzinfo=UTC)
    nosrv = _row(events, 3)
    assert (nosrv["kind"], nosrv["status"], nosrv["upstream"], nosrv["detail"]) == (
        "http",
        503,
        None,
        "SC--",
    )
    timeout = _row(events, 6)  # no syslog prefix (log stdout format raw)
    assert (timeout["kind"], timeout["status"], timeout["detail"]) == ("http", 504, "sH--")
    aborted = _row(events, 7)  # the server aborted mid-body after a 200
    assert (aborted["kind"], aborted["status"], aborted["detail"]) == (
        "upstream_error",
        None,
        "SD--",
    )
    assert aborted["message"] == "GET /big.iso HTTP/1.1"


def test_aws_alb_access_log():
    events, t = _load("aws_alb/app.my-loadbalancer.log")
    assert (t.format, t.lines, t.events, t.rejected) == ("aws_alb", 5, 5, 0)
    ok = _row(events, 1)
    assert (ok["status"], ok["upstream"], ok["duration_ms"], ok["path"]) == (
        200,
        "10.0.0.1:80",
        1.0,
        "/",
    )
    assert ok["request_id"] == "Root=1-58337262-36d228ad5d99923122bbe354"
    assert _row(events, 3)["duration_ms"] == 1.103  # Classic ELB: 0.001065 + 0.000015 + 0.000023 s
    reset = _row(events, 4)  # target chosen, no answer: -1 times, target_status_code -
    assert (reset["status"], reset["upstream"], reset["duration_ms"]) == (502, "10.0.0.1:80", None)
    assert reset["detail"].startswith("no response from the target")
    none = _row(events, 5)
    assert (none["status"], none["upstream"], none["detail"]) == (503, None, None)


FIXTURE_FORMATS = {
    "envoy/istio-proxy.log": "istio_proxy",
    "envoy_json/istio-proxy.log": "envoy_json",
    "ingress_nginx/controller.log": "ingress_nginx",
    "ingress_nginx_json/controller.log": "ingress_nginx_json",
    "traefik_json/access.log": "traefik_json",
    "traefik_clf/access.log": "traefik_clf",
    "haproxy/haproxy.log": "haproxy",
    "aws_alb/app.my-loadbalancer.log": "aws_alb",
}


@pytest.mark.parametrize("rel", FIXTURE_FORMATS, ids=lambda r: r.split("/")[0])
def test_sniffing_picks_the_fixture_format(rel):
    head = (FIXTURES / rel).read_text()
    choice = choose([s for s in formats.builtin() if s.standalone], head)
    assert choice.spec is not None and choice.spec.name == FIXTURE_FORMATS[rel]


NEW = [
    "envoy_json",
    "istio_proxy",
    "nginx_error",
    "ingress_nginx_json",
    "traefik_json",
    "traefik_clf",
    "haproxy",
    "aws_alb",
]


@pytest.mark.parametrize("name", NEW)
def test_each_new_spec_is_sniffed_for_its_own_samples(name):
    spec = formats.get(name)
    head = "\n".join(s.line for s in spec.samples)
    choice = choose([s for s in formats.builtin() if s.standalone], head)
    assert choice.spec is not None
    assert choice.spec.name == name or name in choice.spec.also


def test_scale_and_layout_are_checked_when_a_spec_loads():
    base = {"name": "x", "source": "proxy", "engine": "jsonl"}
    with pytest.raises(formats.FormatSpecError, match=r"scale\.method"):
        formats.parse_spec({**base, "scale": {"method": 1000}}, "x.toml")
    with pytest.raises(formats.FormatSpecError, match=r"sum\.duration_ms"):
        formats.parse_spec({**base, "sum": {"duration_ms": "a"}}, "x.toml")
    with pytest.raises(formats.FormatSpecError, match=r"timestamp\.layout"):
        formats.parse_spec({**base, "timestamp": {"field": "t", "layout": "%Y"}}, "x.toml")


def test_istio_proxy_lines_in_docker_json_records_go_to_their_own_formats(tmp_path):
    """A json-file wrapper routes each carried line: access text, access JSON, own lines."""
    import json

    lines = (FIXTURES / "envoy" / "istio-proxy.log").read_text().splitlines()
    lines += (FIXTURES / "envoy_json" / "istio-proxy.log").read_text().splitlines()[:3]
    path = tmp_path / "istio-proxy-json.log"
    records = (
        {"log": line + "\n", "stream": "stdout", "time": f"2024-01-01T00:00:{i:02d}Z"}
        for i, line in enumerate(lines)
    )
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    events, (t,) = load_events([path])
    assert (t.format, t.events, t.rejected) == ("docker_json+istio_proxy+envoy+envoy_json", 26, 0)
    counts = dict(events.group_by("format").len().iter_rows())
    assert counts == {"envoy": 7, "envoy_json": 3, "istio_proxy": 16}
    assert events.filter(pl.col("kind") == "upstream_error")["format"].sort().to_list() == [
        "envoy",
        "envoy_json",
    ]
