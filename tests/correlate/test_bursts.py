"""Bursts depart from their key's baseline; one request is one failure; incidents are
cause chains, not time windows."""

from __future__ import annotations

import polars as pl

from analyzer.correlate import correlate
from analyzer.correlate.bursts import BurstRule, background, find_bursts
from analyzer.correlate.upstreams import attribute, failing
from analyzer.normalize.identity import fill_identity
from tests.correlate.helpers import ev, frame


def _pod(name: str, ip: str) -> list[dict[str, object]]:
    """A probe line that teaches the pod's address."""
    return [
        ev(
            0,
            "probe_failed",
            probe="readiness",
            container="app",
            upstream=ip,
            namespace="ns",
            pod=name,
        )
    ]


def _calls(offsets, ip, status=502, **cols):
    return [
        ev(
            t,
            "http",
            **{
                "source": "proxy",
                "format": "ingress",
                "status": status,
                "upstream": ip,
                "client": "1.2.3.4",
                **cols,
            },
        )
        for t in offsets
    ]


def _requests(rows):
    return attribute(fill_identity(frame(rows)).sort("ts"))


def _bursts(rows, **rule):
    requests = _requests(rows)
    return find_bursts(failing(requests), requests, rule=BurstRule(**rule))


def test_gaps_split_bursts_and_counts_add_up():
    rows = _pod("web-1", "10.0.0.1:80") + _calls([10, 10.5, 11, 12, 100, 101, 101.5], "10.0.0.1:80")
    bursts = _bursts(rows)
    assert bursts["count"].to_list() == [4, 3]
    assert bursts["status_counts"].to_list()[0] == [{"status": "502", "count": 4}]
    assert bursts["peak_per_s"].to_list()[0] == 2
    assert bursts["target_pod"].to_list() == ["web-1", "web-1"]


def test_two_failures_are_not_a_burst_but_background():
    rows = _pod("web-1", "10.0.0.1:80") + _calls([10, 100, 101], "10.0.0.1:80")
    requests = _requests(rows)
    failures = failing(requests).with_columns(pl.lit("k").alias("_burst_key"))
    bursts = find_bursts(failures, requests)
    assert bursts.height == 0
    bg = background(failures, bursts)
    assert bg["count"].to_list() == [3]


def test_isolated_errors_among_healthy_traffic_are_background():
    # a pod answering 2 requests a second, three 500s spread over 53 s: 3 % failed
    ok = _calls([10 + i / 2 for i in range(120)], "10.0.0.1:80", status=200)
    bad = _calls([12.2, 40.1, 65.3], "10.0.0.1:80", status=500)
    assert _bursts(_pod("web-1", "10.0.0.1:80") + ok + bad).height == 0
    # the same three failures when every request in that span failed are a burst
    assert _bursts(_pod("web-1", "10.0.0.1:80") + bad).height == 1


def test_a_burst_must_stand_out_from_the_pods_own_failure_share():
    # 5 % of requests fail all along, in clusters too small to count
    ok = _calls([i * 1.0 for i in range(600)], "10.0.0.1:80", status=200)
    bad = _calls([i * 40.0 + 0.5 for i in range(15)] * 1, "10.0.0.1:80", status=503)
    bad += _calls([i * 40.0 + 0.7 for i in range(15)], "10.0.0.1:80", status=503)
    rows = _pod("web-1", "10.0.0.1:80") + ok + bad
    # ten seconds where half the requests fail: ten times the usual share
    rows += _calls([700 + i for i in range(10)], "10.0.0.1:80", status=200)
    rows += _calls([700.5 + i for i in range(10)], "10.0.0.1:80", status=503)
    bursts = _bursts(rows, min_lift=30.0)
    assert bursts.height == 0
    # with the default lift (5x) the same cluster stands out
    bursts = _bursts(rows)
    assert bursts["count"].to_list() == [10]
    assert 0.04 < bursts["background_share"][0] < 0.06


def test_a_few_failures_that_chance_explains_are_background():
    # 2 requests a second for 20 minutes, 0.5 % of them 500s spread out (12)...
    ok = _calls([i / 2 for i in range(2400)], "10.0.0.1:80", status=200)
    spread = _calls([100.25 + 100 * i for i in range(12)], "10.0.0.1:80", status=500)
    # ...and three more that happen to fall within 4 s: 3 of ~10 requests failed
    close = _calls([1050.25, 1051.75, 1053.25], "10.0.0.1:80", status=500)
    rows = _pod("web-1", "10.0.0.1:80") + ok + spread + close
    assert _bursts(rows, max_chance=1.0).height == 1  # dense, and 60x the usual share
    assert _bursts(rows).height == 0  # but one chance in ~50,000 at 0.5 %
    # eight failures in those 4 s are no chance any more
    more = _calls([1050.5, 1050.75, 1051.25, 1052.25, 1052.75], "10.0.0.1:80", status=500)
    bursts = _bursts(rows + more)
    assert bursts["count"].to_list() == [8]


def test_a_lone_failure_of_another_kind_at_the_edge_is_not_the_bursts_start():
    ip = "10.0.0.1:80"
    ok = _calls([i * 0.5 for i in range(200)], ip, status=200)
    burst = _calls([20 + i for i in range(30)], ip, status=502)
    early = _calls([12.0], ip, status=500)  # an app's isolated 500, 8 s before
    bursts = _bursts(_pod("web-1", ip) + ok + early + burst)
    assert bursts["count"].to_list() == [30]
    assert bursts["start"][0] == burst[0]["ts"]
    # a sparse tail of the same kind, on a pod that fails nothing else, stays the burst's
    tail = _calls([55.0], ip, status=502)
    bursts = _bursts(_pod("web-1", ip) + ok + burst + tail)
    assert bursts["count"].to_list() == [31]
    assert bursts["end"][0] == tail[0]["ts"]


def test_thresholds_are_options():
    rows = _pod("web-1", "10.0.0.1:80") + _calls([10, 11], "10.0.0.1:80")
    assert _bursts(rows).height == 0
    assert _bursts(rows, min_failures=2, max_chance=1e-3).height == 1


def test_one_request_logged_by_two_sidecars_is_one_failure():
    # istio: the client-side and the server-side sidecar both log the request, same id
    rows = _pod("web-1", "10.0.0.1:80")
    for i, t in enumerate([10, 11, 12]):
        for side in ("client", "server"):
            rows += _calls(
                [t + (0.001 if side == "server" else 0)],
                "10.0.0.1:80",
                status=503,
                request_id=f"req-{i}",
                format=f"istio_{side}",
            )
    failures = failing(_requests(rows))
    assert failures.height == 3
    assert sorted(failures["request_id"].to_list()) == ["req-0", "req-1", "req-2"]


def test_an_error_line_beside_its_access_line_is_one_failure():
    # nginx writes "connect() failed" to its error log and the 502 to its access log
    rows = _pod("web-1", "10.0.0.1:80")
    for t in (10, 11, 12):
        rows += [
            ev(
                t,
                "upstream_error",
                source="proxy",
                format="nginx_error",
                upstream="10.0.0.1:80",
                file="nginx/error.log",
            ),
            ev(
                t + 0.2,
                "http",
                source="proxy",
                format="nginx",
                status=502,
                upstream="10.0.0.1:80",
                file="nginx/access.log",
            ),
        ]
    rows += [
        ev(
            50,
            "upstream_error",
            source="proxy",
            format="nginx_error",
            upstream="10.0.0.1:80",
            file="nginx/error.log",
        )
    ]
    failures = failing(_requests(rows))
    assert failures["kind"].to_list() == ["http", "http", "http", "upstream_error"]


def _terminated(name, ip, at, *, node="n1"):
    return [
        ev(at, "pod_deleted", namespace="ns", pod=name, node=node),
        ev(at + 0.1, "kill", namespace="ns", pod=name, container="app", grace_period_s=30.0),
    ]


def _incidents(rows):
    return correlate(fill_identity(frame(rows)).sort("ts")).incidents


def test_unrelated_pods_failing_at_once_are_separate_concurrent_incidents():
    rows = _pod("api-5d8-aaaaa", "10.0.0.1:80") + _pod("db-proxy-7c9-bbbbb", "10.0.0.2:80")
    rows += _terminated("api-5d8-aaaaa", "10.0.0.1:80", 9)
    rows += _calls([10 + i * 0.5 for i in range(20)], "10.0.0.1:80")
    rows += _calls([12 + i * 0.5 for i in range(20)], "10.0.0.2:80")  # running, not terminated
    incidents = _incidents(rows)
    assert [i.pods for i in incidents] == [
        [("ns", "api-5d8-aaaaa")],
        [("ns", "db-proxy-7c9-bbbbb")],
    ]
    assert incidents[0].concurrent == (incidents[1].id,)
    assert incidents[1].concurrent == (incidents[0].id,)


def test_pods_terminated_together_are_one_incident_and_a_proxy_echo_joins_it():
    rows = _pod("api-5d8-aaaaa", "10.0.0.1:80") + _pod("web-6f1-ccccc", "10.0.0.3:80")
    rows += _terminated("api-5d8-aaaaa", "10.0.0.1:80", 9) + _terminated(
        "web-6f1-ccccc", "10.0.0.3:80", 12
    )
    rows += _calls([10 + i * 0.5 for i in range(20)], "10.0.0.1:80")
    rows += _calls([40 + i * 0.5 for i in range(20)], "10.0.0.3:80")
    # a front proxy sees the failures too, without knowing which pod
    rows += [
        ev(41 + i, "http", source="proxy", format="edge", status=502, file="edge.log")
        for i in range(5)
    ]
    (incident,) = _incidents(rows)
    assert incident.pods == [("ns", "api-5d8-aaaaa"), ("ns", "web-6f1-ccccc")]
    assert incident.downstream.height == 5
    assert incident.start == rows[5]["ts"] or incident.start.second == 10


def test_a_rollout_joins_one_owners_pods_terminated_one_after_another():
    rows = []
    for k, name in enumerate(["api-5d8-aaaaa", "api-5d8-bbbbb", "api-5d8-ccccc"]):
        ip = f"10.0.0.{k + 1}:80"
        rows += _pod(name, ip) + _terminated(name, ip, 10 + 60 * k)
        rows += _calls([11 + 60 * k + i * 0.5 for i in range(10)], ip)
    assert len(_incidents(rows)) == 1
    # another owner's pod terminated a minute later is another chain
    rows = [
        r for r in rows if r.get("pod") != "api-5d8-ccccc" and r.get("upstream") != "10.0.0.3:80"
    ]
    rows += _pod("cache-9e2-ddddd", "10.0.0.9:80") + _terminated(
        "cache-9e2-ddddd", "10.0.0.9:80", 130
    )
    rows += _calls([131 + i * 0.5 for i in range(10)], "10.0.0.9:80")
    assert len(_incidents(rows)) == 2
