"""A hand-made World for the writers' tests: 2 nodes (node-b's clock 2.5 s ahead), 3 pods, a
termination that ends in SIGKILL, a crash and restart, and requests through one proxy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from analyzer.simulate.model import Params, Truth
from analyzer.simulate.world import (
    APP_LINES,
    LIFECYCLE,
    REQUESTS,
    Container,
    Node,
    Pod,
    Proxy,
    World,
)

T0 = datetime(2024, 5, 7, 11, 59, 0, tzinfo=UTC)
SKEW_S = 2.5


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def cid(n: int) -> str:
    return f"{n:x}" * 64 if n < 16 else f"{n:064x}"


NODE_A = Node("node-a", kubelet_pid=2775, runtime_pid=2506)
NODE_B = Node("node-b", kubelet_pid=3224, runtime_pid=3101, clock_offset_s=SKEW_S)

WEB_A = Pod(
    "shop",
    "web-7d9f8c6b4-abcde",
    "25cb986c-3d6c-4ed0-abf3-ee59ed6175f9",
    "node-a",
    "10.4.0.11",
    (
        Container("app", cid(1), "registry.example/web:1.2", port=8080),
        Container("istio-proxy", cid(2), "docker.io/istio/proxyv2:1.22.0", sidecar=True),
        Container("gitlab-workhorse", cid(3), "registry.example/workhorse:17.1", port=8181),
    ),
    owner="web-7d9f8c6b4",
)
WEB_B = Pod(
    "shop",
    "web-7d9f8c6b4-fghij",
    "5da5612b-9738-493c-af51-a213072997f6",
    "node-b",
    "10.4.1.12",
    (Container("app", cid(4), "registry.example/web:1.2", port=8080),),
    owner="web-7d9f8c6b4",
)
INGRESS = Pod(
    "ingress-nginx",
    "ingress-nginx-controller-5c8d66c76d-x2kqp",
    "93e17ecc-ab55-461a-b526-29248d2554ad",
    "node-b",
    "10.4.1.5",
    (Container("controller", cid(5), "registry.k8s.io/ingress-nginx/controller:v1.10.1"),),
    owner="ingress-nginx-controller-5c8d66c76d",
)

PROXIES = {
    "ingress-nginx": Proxy("ingress", "ingress-nginx", INGRESS, "controller"),
    "envoy": Proxy("edge", "envoy", INGRESS, "controller"),
    "istio": Proxy("sidecar", "istio", WEB_A, "istio-proxy"),
    "workhorse": Proxy("wh", "workhorse", WEB_A, "gitlab-workhorse"),
    "alb": Proxy("shop-alb", "alb"),
    "gclb": Proxy("k8s2-um-shop-web-x7k2p9qd", "gclb"),
}


def _life(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=LIFECYCLE)


def lifecycle() -> pl.DataFrame:
    rows: list[dict] = []

    def add(t: float, pod: Pod, kind: str, container: str | None = None, **kw: object) -> None:
        rows.append(
            {
                "ts": at(t),
                "node": pod.node,
                "namespace": pod.namespace,
                "pod": pod.name,
                "container": container,
                "kind": kind,
                **kw,
            }
        )

    for pod in (WEB_A, WEB_B, INGRESS):
        add(0.0, pod, "pod_added")
        for i, c in enumerate(pod.containers):
            add(1.0 + i * 0.1, pod, "container_started", c.name)
        add(5.0, pod, "ready", probe="readiness")
    # web-a is deleted: SIGTERM, readiness fails, not ready, SIGKILL after the grace period
    add(20.0, WEB_A, "pod_deleted")
    for c in WEB_A.containers:
        add(20.001, WEB_A, "kill", c.name, grace_s=30.0)
    add(
        23.0,
        WEB_A,
        "probe_failed",
        "app",
        probe="readiness",
        detail="HTTP probe failed with statuscode: 503",
    )
    add(33.0, WEB_A, "not_ready", "app", probe="readiness")
    add(50.001, WEB_A, "sigkill", "app")
    add(50.010, WEB_A, "container_died", "app", exit_code=137)
    add(21.5, WEB_A, "container_died", "istio-proxy", exit_code=0)
    add(22.0, WEB_A, "container_died", "gitlab-workhorse", exit_code=0)
    add(51.0, WEB_A, "pod_removed")
    # web-b's app crashes, backs off and restarts
    add(
        30.0,
        WEB_B,
        "probe_failed",
        "app",
        probe="liveness",
        detail='Get "http://10.4.1.12:8080/healthz": context deadline exceeded',
    )
    add(30.2, WEB_B, "container_died", "app", exit_code=1)
    add(30.5, WEB_B, "backoff", "app", detail="10s")
    add(41.0, WEB_B, "container_started", "app")
    return _life(rows)


def requests(proxy: str) -> pl.DataFrame:
    """Every 0.5 s a request; web-a refuses after its app died, the rest go to web-b."""
    rows = []
    for i in range(100):
        t = 2.0 + i * 0.5
        to_a = i % 2 == 0
        pod = WEB_A if to_a else WEB_B
        error = None
        status = upstream_status = 200
        if to_a and t >= 25.0:
            error, status, upstream_status = "refused", 502, None
        if not to_a and 30.2 <= t < 41.0:
            error, status, upstream_status = "reset", 502, None
        if i == 99:
            error, status, upstream_status, pod = "no_upstream", 503, None, None
        rows.append(
            {
                "ts": at(t) + timedelta(microseconds=137 * i),
                "duration_ms": 12.5 + i % 7,
                "proxy": proxy,
                "request_id": f"{i:032x}",
                "client": "203.0.113.7",
                "method": "GET" if i % 3 else "POST",
                "path": f"/api/items/{i}?a=1&b=2",
                "host": "shop.example.com",
                "status": status,
                "bytes": 0 if error else 1234 + i,
                "namespace": pod.namespace if pod else None,
                "pod": pod.name if pod else None,
                "upstream": f"{pod.ip}:8080" if pod else None,
                "upstream_status": upstream_status,
                "error": error,
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64) curl/8.5.0",
            }
        )
    return pl.DataFrame(rows, schema=REQUESTS)


def app_lines() -> pl.DataFrame:
    rows = [
        {
            "ts": at(1.5),
            "namespace": "shop",
            "pod": WEB_A.name,
            "container": "app",
            "level": "info",
            "text": None,
            "fields": '{"level":"info","msg":"listening","port":8080}',
        },
        {
            "ts": at(20.01),
            "namespace": "shop",
            "pod": WEB_A.name,
            "container": "app",
            "level": "info",
            "text": None,
            "fields": '{"level":"info","msg":"received SIGTERM, ignoring"}',
        },
        {
            "ts": at(1.6),
            "namespace": "shop",
            "pod": WEB_B.name,
            "container": "app",
            "level": "info",
            "text": None,
            "fields": '{"level":"info","msg":"listening"}',
        },
        {
            "ts": at(42.0),
            "namespace": "shop",
            "pod": WEB_B.name,
            "container": "app",
            "level": "info",
            "text": None,
            "fields": '{"level":"info","msg":"listening again"}',
        },
    ]
    return pl.DataFrame(rows, schema=APP_LINES)


def tiny_world(proxy: str = "ingress-nginx", runtime: str = "containerd", **extras: object):
    p = PROXIES[proxy]
    world = World(
        start=T0,
        end=at(60),
        nodes=(NODE_A, NODE_B),
        pods=(WEB_A, WEB_B, INGRESS),
        proxies=(p,),
        lifecycle=lifecycle(),
        requests=requests(p.name),
        app_lines=app_lines(),
        runtime=runtime,
        extras=dict(extras),
    )
    return world, Truth(scenario=f"tiny-{proxy}", params=Params(proxy=proxy, runtime=runtime))
