"""From a scenario's plan to a ``World`` and its ``Truth``.

A scenario says what happens to a deployment's pods (``PodPlan``: born, ready, terminated,
OOM-killed, ...), as times in seconds from the window's start, and where requests to a pod
fail (``Failing``). The engine draws the cast from the seed, routes the traffic (vectorized:
one numpy draw per column, a ``[requests x pods]`` matrix for who may take each request), marks
the failures and counts the truth from the frames it built, never from the plan's intentions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from analyzer.simulate.model import Params, Truth, TruthIncident
from analyzer.simulate.world import (
    APP_LINES,
    LIFECYCLE,
    REQUESTS,
    TS,
    Container,
    Node,
    Pod,
    Proxy,
    World,
)

#: About this many bytes of log per request line of each proxy (access and error lines with
#: their runtime wrapper), measured on written bundles, so ``--size`` gives about that size.
BYTES_PER_REQUEST = {
    "ingress-nginx": 290,
    "envoy": 265,
    "istio": 380,
    "workhorse": 560,
    "alb": 550,
    "gclb": 1150,
}
#: The small default: about this many requests in the window.
DEFAULT_REQUESTS = 6_000
PROXIES = ("ingress-nginx", "envoy", "istio", "workhorse", "alb")
ERRORS = ("refused", "reset", "eof", "timeout", "no_upstream")
#: HTTP status a proxy answers when its upstream failed this way.
PROXY_STATUS = {
    "refused": {"envoy": 503, "istio": 503},
    "reset": {"envoy": 503, "istio": 503},
    "eof": {"envoy": 503, "istio": 503},
    "timeout": {
        "ingress-nginx": 504,
        "envoy": 504,
        "istio": 504,
        "workhorse": 502,
        "alb": 504,
        "gclb": 502,
    },
    "no_upstream": {"ingress-nginx": 503, "envoy": 503, "istio": 503, "alb": 503, "gclb": 503},
}

_APPS = ("checkout", "catalog", "payments", "search", "orders", "billing", "profile", "cart")
_NAMESPACES = ("shop", "prod", "web", "apps", "platform", "store")
_FRONTS = ("nginx", "gateway", "web", "frontend")
_BACKENDS = ("php-fpm", "api", "backend", "worker")
_ALPHA = "bcdfghjklmnpqrstvwxz2456789"
#: Non-mesh sidecars the app reaches on 127.0.0.1: name -> (container, image, port).
SIDECARS = {
    "cloud-sql-proxy": (
        "cloud-sql-proxy",
        "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.11.4",
        5432,
    ),
}
_PATHS = ("/", "/api/v1/items", "/api/v1/cart", "/healthz/deep", "/search", "/api/v2/orders")


@dataclass
class PodPlan:
    """One pod's life, in seconds from the window's start (``None``: not in the window)."""

    born: float | None = None  # pod_added; None: running since before the window
    listening: float | None = None  # the app answers from then (default: born + 3 s)
    ready: float | None = None  # kubelet ready (default: listening + 1 s; None with no probe)
    readiness_probe: bool = True
    deleted: float | None = None  # SyncLoop DELETE + kill of every container
    grace_s: float = 30.0
    prestop_s: float = 0.0
    removed_from_endpoints: float | None = None  # when proxies stop sending new requests
    sticky_until: float | None = None  # pooled connections keep sending until then
    sticky_share: float = 0.0  # share of the pod's would-be traffic they carry
    # ALB (IP targets): when the AWS Load Balancer Controller starts deregistering the target
    # (default for a deleted pod: a second or so after the delete); the ALB keeps sending
    # until ``removed_from_endpoints`` (the deregistration delay)
    deregistered: float | None = None
    exits: dict[str, tuple[float, int]] = field(default_factory=dict)  # container -> (t, code)
    sigkill_at: float | None = None
    node: int = 0  # index into the world's nodes

    def listening_at(self) -> float:
        assert self.born is not None
        return self.listening if self.listening is not None else self.born + 3

    def ready_at(self) -> float:
        return self.ready if self.ready is not None else self.listening_at() + 1

    def routed_from(self) -> float:
        """When proxies begin to send to it: running before the window; once its containers
        run when it has no readiness probe; else once the kubelet marks it ready."""
        if self.born is None:
            return -1.0
        return self.ready_at() if self.readiness_probe else self.born + 1.0


@dataclass(frozen=True)
class Failing:
    """Requests routed to ``pod`` from ``start`` to ``end`` fail (``share`` of them)."""

    pod: int
    start: float
    end: float
    error: str | None  # REQUESTS.error; None: the pod itself answered ``status``
    status: int = 502
    share: float = 1.0
    incident: int = 0  # which planted incident (index into the scenario's incidents)
    cut_at: float | None = None  # the hit requests were still running then, and were cut
    # In a mesh the pod's own sidecar is the client of the app: it logs the failure (503 UF,
    # UC, ...) and the gateway logs the sidecar's 503. False: the sidecar itself is gone.
    at_sidecar: bool = True


@dataclass(frozen=True)
class Planted:
    cause: str
    severity: str
    note: str = ""


class Cast:
    """Names, ids, addresses and times drawn from the seed."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.app = str(rng.choice(_APPS))
        self.namespace = str(rng.choice(_NAMESPACES))
        self.front = str(rng.choice(_FRONTS))
        self.backend = str(rng.choice(_BACKENDS))
        day = datetime(2023, 1, 2, tzinfo=UTC) + timedelta(days=int(rng.integers(0, 900)))
        self.t0 = day + timedelta(seconds=int(rng.integers(0, 20 * 3600)))
        self.subnet = int(rng.integers(16, 250))
        self._ip = 10
        self.rs = [self.word(10), self.word(10)]  # old and new ReplicaSet hashes
        pool = f"pool-{self.word(4)}"
        self.nodes = tuple(
            Node(
                f"gke-prod-{pool}-{self.hex(8)}-{self.word(4)}",
                kubelet_pid=int(rng.integers(900, 4000)),
                runtime_pid=int(rng.integers(300, 900)),
            )
            for _ in range(3)
        )

    def word(self, n: int) -> str:
        return "".join(self.rng.choice(list(_ALPHA), n))

    def hex(self, n: int) -> str:
        return "".join(self.rng.choice(list("0123456789abcdef"), n))

    def uid(self) -> str:
        h = self.hex(32)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def ip(self, third: int | None = None) -> str:
        self._ip += int(self.rng.integers(1, 9))
        return f"10.{self.subnet}.{third if third is not None else 4}.{self._ip}"

    def at(self, seconds: float) -> datetime:
        return self.t0 + timedelta(seconds=seconds)


@dataclass
class Scenario:
    """What a scenario module returns: the plan the engine turns into a World."""

    name: str
    cast: Cast
    params: Params
    proxy: str
    pods: list[PodPlan]
    generation: list[int]  # per pod: 0 old ReplicaSet, 1 new
    failing: list[Failing]
    planted: list[Planted]
    duration_s: float = 600.0
    background_rate: float = 0.0  # share of ordinary requests answered 500 by the app
    backend: bool = False  # pods run a front container and a backend behind it
    extras: dict[str, object] = field(default_factory=dict)
    lifecycle: list[dict] = field(default_factory=list)  # extra rows (probe failures, ...)
    app_lines: list[dict] = field(default_factory=list)  # extra app lines
    skew: dict[int, float] = field(default_factory=dict)  # node index -> clock offset (s)
    # a non-mesh sidecar the app calls out through on 127.0.0.1 (cloud-sql-proxy, ...)
    sidecar: str | None = None


def _containers(sc: Scenario, k: int) -> tuple[Container, ...]:
    c = sc.cast
    img = f"registry.example.com/{c.app}"
    out: list[Container] = []
    if sc.proxy == "workhorse":
        out.append(
            Container("gitlab-workhorse", c.hex(64), "registry.gitlab.com/workhorse:v16.11", 8181)
        )
        out.append(Container(c.backend if sc.backend else "app", c.hex(64), f"{img}:1.{k}", 8080))
    elif sc.backend:
        out.append(Container(c.front, c.hex(64), f"{img}-{c.front}:2.4", 8080))
        out.append(Container(c.backend, c.hex(64), f"{img}:1.{k}", 9000))
    else:
        out.append(Container("app", c.hex(64), f"{img}:1.{k}", 8080))
    if sc.proxy == "istio":
        out.append(
            Container("istio-proxy", c.hex(64), "docker.io/istio/proxyv2:1.22.3", 15090, True)
        )
    if sc.sidecar is not None:
        name, image, port = SIDECARS[sc.sidecar]
        out.append(Container(name, c.hex(64), image, port, True))
    return tuple(out)


def front(pod: Pod) -> Container:
    """The container the traffic reaches first (Workhorse, the front web server, the app)."""
    return next(c for c in pod.containers if not c.sidecar)


def main(pod: Pod) -> Container:
    """The app container behind the front one (or the only one)."""
    apps = [c for c in pod.containers if not c.sidecar]
    return apps[-1]


def build(sc: Scenario) -> tuple[World, Truth]:
    c = sc.cast
    nodes = tuple(
        Node(n.name, n.kubelet_pid, n.runtime_pid, sc.skew.get(i, 0.0))
        for i, n in enumerate(c.nodes)
    )
    pods: list[Pod] = []
    for k, plan in enumerate(sc.pods):
        rs = c.rs[sc.generation[k]]
        pods.append(
            Pod(
                c.namespace,
                f"{c.app}-{rs}-{c.word(5)}",
                c.uid(),
                nodes[plan.node].name,
                c.ip(plan.node + 1),
                _containers(sc, k),
                owner=f"{c.app}-{rs}",
            )
        )
    proxy_pods, proxies = _proxies(sc, pods, nodes)
    life = _lifecycle(sc, pods)
    requests, truth_incidents, background = _traffic(sc, pods, proxies)
    apps = _app_lines(sc, pods)
    if sc.proxy == "alb":  # drawn last, so the rest of the world is as without it
        controller = _lb_controller(sc, nodes)
        proxy_pods.append(controller)
        apps = pl.concat([apps, _deregistrations(sc, pods, controller, proxies[0].name)])
        apps = apps.sort("ts")
    world = World(
        start=c.t0,
        end=c.at(sc.duration_s),
        nodes=nodes,
        pods=tuple(pods + proxy_pods),
        proxies=tuple(proxies),
        lifecycle=life,
        requests=requests,
        app_lines=apps,
        runtime=sc.params.runtime or "containerd",
        extras=dict(sc.extras),
    )
    truth = Truth(
        scenario=sc.name,
        params=sc.params,
        incidents=truth_incidents,
        background_failures=background,
        notes=f"proxy {sc.proxy}; {len(pods)} app pods",
    )
    return world, truth


def _proxies(
    sc: Scenario, pods: list[Pod], nodes: tuple[Node, ...]
) -> tuple[list[Pod], list[Proxy]]:
    c = sc.cast
    if sc.proxy == "workhorse":
        return [], [Proxy(f"wh:{p.name}", "workhorse", p, "gitlab-workhorse") for p in pods]
    if sc.proxy == "alb":
        return [], [Proxy(f"app/k8s-{c.namespace}-{c.app}/{c.hex(16)}", "alb")]
    if sc.proxy == "gclb":  # GKE Ingress, container-native (NEG): the LB sends to pod IPs
        return [], [Proxy(f"k8s2-um-{c.namespace}-{c.app}-{c.word(8)}", "gclb")]
    spec = {
        "ingress-nginx": (
            "ingress-nginx",
            "ingress-nginx-controller",
            "controller",
            "registry.k8s.io/ingress-nginx/controller:v1.10.1",
        ),
        "envoy": (
            "envoy-gateway-system",
            "envoy-default-gateway",
            "envoy",
            "docker.io/envoyproxy/envoy:v1.31.0",
        ),
        "istio": (
            "istio-system",
            "istio-ingressgateway",
            "istio-proxy",
            "docker.io/istio/proxyv2:1.22.3",
        ),
    }[sc.proxy]
    ns, deploy, container, image = spec
    rs = c.word(10)
    front_pods = [
        Pod(
            ns,
            f"{deploy}-{rs}-{c.word(5)}",
            c.uid(),
            nodes[(i + 1) % len(nodes)].name,  # never node 0, where scenarios skew the clock
            c.ip(i + 2),
            (Container(container, c.hex(64), image),),
            owner=f"{deploy}-{rs}",
        )
        for i in range(2)
    ]
    proxies = [Proxy(p.name, sc.proxy, p, container) for p in front_pods]
    if sc.proxy == "istio":
        proxies += [Proxy(f"sidecar:{p.name}", "istio", p, "istio-proxy") for p in pods]
    return front_pods, proxies


def _pick(table: list[str], index: np.ndarray) -> pl.Series:
    """``table[index]`` per row, null where the index is -1 (vectorized)."""
    idx = pl.Series(index, dtype=pl.Int64)
    return pl.Series(table, dtype=pl.String).gather(
        pl.select(pl.when(idx >= 0).then(idx)).to_series()
    )


def _seconds(ts: pl.Expr, t0: datetime) -> pl.Expr:
    return (ts - pl.lit(t0, TS)).dt.total_microseconds() / 1e6


def _traffic(
    sc: Scenario, pods: list[Pod], proxies: list[Proxy]
) -> tuple[pl.DataFrame, tuple[TruthIncident, ...], int]:
    c, rng = sc.cast, sc.cast.rng
    per_line = BYTES_PER_REQUEST[sc.proxy] * (2 if sc.proxy == "istio" else 1)
    n = (
        DEFAULT_REQUESTS
        if sc.params.size_bytes is None
        else max(1000, sc.params.size_bytes // per_line)
    )
    t = np.sort(rng.uniform(0, sc.duration_s, n))
    k = len(pods)
    # who may take each request: in endpoints, or reached over a pooled connection
    routable = np.zeros((n, k), dtype=bool)
    for j, plan in enumerate(sc.pods):
        begin = plan.routed_from()
        end = plan.removed_from_endpoints if plan.removed_from_endpoints is not None else np.inf
        routable[:, j] = (t >= begin) & (t < end)
        if plan.sticky_until is not None and plan.removed_from_endpoints is not None:
            sticky = (t >= end) & (t < plan.sticky_until) & (rng.random(n) < plan.sticky_share)
            routable[:, j] |= sticky
    weights = rng.random((n, k)) * routable
    pod_idx = np.where(routable.any(axis=1), weights.argmax(axis=1), -1)
    duration = np.round(rng.lognormal(np.log(35), 0.6, n), 3)
    status = np.full(n, 200, dtype=np.int32)
    upstream_status = status.copy().astype(np.float64)
    error = np.full(n, -1, dtype=np.int64)  # index into ERRORS
    incident = np.full(n, -1, dtype=np.int64)
    at_sidecar = np.zeros(n, dtype=bool)
    bg = (rng.random(n) < sc.background_rate) & (pod_idx >= 0)
    status[bg] = 500
    upstream_status[bg] = 500
    for f in sc.failing:
        hit = (pod_idx == f.pod) & (t >= f.start) & (t < f.end) & (rng.random(n) < f.share)
        incident[hit] = f.incident
        at_sidecar[hit] = f.at_sidecar and f.error is not None and sc.proxy == "istio"
        if f.cut_at is not None:
            # long requests (uploads, reports) that started around t and ran until the cut
            started = t[hit] - duration[hit] / 1000
            t[hit] = f.cut_at + rng.uniform(0.0005, 0.05, int(hit.sum()))
            duration[hit] = np.round((t[hit] - started) * 1000, 3)
        bg[hit] = False
        error[hit] = ERRORS.index(f.error) if f.error is not None else -1
        if f.error is None:
            status[hit] = f.status
            upstream_status[hit] = f.status
        else:
            status[hit] = PROXY_STATUS.get(f.error, {}).get(sc.proxy, 502)
            upstream_status[hit] = np.nan
            if f.cut_at is None:
                duration[hit] = np.round(rng.uniform(0.2, 3.0, int(hit.sum())), 3)
    nobody = pod_idx < 0
    error[nobody] = ERRORS.index("no_upstream")
    status[nobody] = PROXY_STATUS["no_upstream"].get(sc.proxy, 503)
    upstream_status[nobody] = np.nan

    pod_of = _pick([p.name for p in pods], pod_idx)
    base_ns = (t * 1e9).astype(np.int64)
    ts = np.datetime64(c.t0.replace(tzinfo=None), "ns") + base_ns.astype("timedelta64[ns]")
    paths = _pick(list(_PATHS), rng.integers(0, len(_PATHS), n))
    methods = np.where(rng.random(n) < 0.8, "GET", "POST")
    rid = rng.integers(0, 2**63, n, dtype=np.int64)
    front_proxies = [p for p in proxies if not p.name.startswith(("sidecar:", "wh:"))]
    if sc.proxy == "workhorse":
        proxy_of = _pick([f"wh:{p.name}" for p in pods], pod_idx)
        upstream = _pick(["127.0.0.1:8080"], np.where(pod_idx >= 0, 0, -1))
    else:
        proxy_of = _pick([p.name for p in front_proxies], rng.integers(0, len(front_proxies), n))
        upstream = _pick([f"{p.ip}:{front(p).port}" for p in pods], pod_idx)
    df = pl.DataFrame(
        {
            "ts": pl.Series(ts).dt.replace_time_zone("UTC").cast(TS),
            "duration_ms": duration,
            "proxy": proxy_of,
            "request_id": pl.Series(rid).cast(pl.String).str.zfill(20),
            "client": pl.Series(rng.integers(1, 255, n)).cast(pl.String),
            "method": methods,
            "path": paths,
            "host": f"{c.app}.example.com",
            "status": status,
            "bytes": np.where(status < 400, rng.integers(200, 40_000, n), 0),
            "namespace": _pick([c.namespace], np.where(pod_idx >= 0, 0, -1)),
            "pod": pod_of,
            "upstream": upstream,
            "upstream_status": pl.Series(upstream_status, nan_to_null=True),
            "error": _pick(list(ERRORS), error),
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "_incident": incident,
            "_bg": bg,
            "_sidecar": at_sidecar,
        },
        strict=False,
    )
    df = df.with_columns(
        client=pl.concat_str(pl.lit("198.51.100."), pl.col("client")),
        # the draw is when the request ended (failed): it started duration earlier
        ts=pl.col("ts") - pl.duration(microseconds=(pl.col("duration_ms") * 1000).cast(pl.Int64)),
    )
    if sc.proxy == "workhorse":
        df = df.filter(pl.col("proxy").is_not_null())
    if sc.proxy == "istio":
        server = df.filter(
            pl.col("pod").is_not_null() & (pl.col("error").is_null() | pl.col("_sidecar"))
        ).with_columns(
            proxy=pl.concat_str(pl.lit("sidecar:"), pl.col("pod")),
            upstream=pl.lit("127.0.0.1:8080"),
            ts=pl.col("ts") + pl.duration(microseconds=400),
            duration_ms=(pl.col("duration_ms") - 0.8).clip(0.1),
        )
        gateway = df.with_columns(
            error=pl.when(pl.col("_sidecar")).then(None).otherwise(pl.col("error")),
            upstream_status=pl.when(pl.col("_sidecar"))
            .then(pl.col("status"))
            .otherwise(pl.col("upstream_status")),
        )
        df = pl.concat([gateway, server])
    df = df.sort("ts")
    truth = _truth(sc, df)
    background = df.filter(pl.col("_bg") & (pl.col("status") >= 500))["request_id"].n_unique()
    return df.select(REQUESTS.names()).cast(dict(REQUESTS)), truth, background


def _truth(sc: Scenario, df: pl.DataFrame) -> tuple[TruthIncident, ...]:
    failed_at = pl.col("ts") + pl.duration(
        microseconds=(pl.col("duration_ms") * 1000).cast(pl.Int64)
    )
    rows = (
        df.filter(pl.col("_incident") >= 0)
        .with_columns(failed=failed_at)
        .group_by("_incident")
        .agg(
            pl.col("failed").min().alias("start"),
            pl.col("failed").max().alias("end"),
            (pl.col("namespace") + "/" + pl.col("pod")).unique().sort().alias("pods"),
            pl.col("request_id").n_unique().alias("failures"),
        )
        .sort("start")
    )
    out = []
    for r in rows.iter_rows(named=True):
        p = sc.planted[r["_incident"]]
        out.append(
            TruthIncident(
                start=r["start"],
                end=r["end"],
                pods=tuple(r["pods"]),
                cause=p.cause,
                severity=p.severity,
                failures=r["failures"],
                note=p.note,
            )
        )
    return tuple(out)


def _lifecycle(sc: Scenario, pods: list[Pod]) -> pl.DataFrame:
    c = sc.cast
    rows: list[dict] = []

    def add(t: float, pod: Pod, kind: str, container: str | None = None, **kw: object) -> None:
        rows.append(
            {
                "ts": c.at(t),
                "node": pod.node,
                "namespace": pod.namespace,
                "pod": pod.name,
                "container": container,
                "kind": kind,
                **kw,
            }
        )

    for pod, plan in zip(pods, sc.pods, strict=True):
        app = main(pod)
        if plan.born is not None:
            add(plan.born, pod, "pod_added")
            for i, ctr in enumerate(pod.containers):
                add(plan.born + 1.2 + 0.15 * i, pod, "container_started", ctr.name)
            listening = plan.listening_at()
            if plan.readiness_probe:
                probe_t = plan.born + 2.0
                while probe_t < listening:
                    add(
                        probe_t,
                        pod,
                        "probe_failed",
                        app.name,
                        probe="readiness",
                        detail=(
                            f'Get "http://{pod.ip}:{app.port}/ready": '
                            f"dial tcp {pod.ip}:{app.port}: connect: connection refused"
                        ),
                    )
                    probe_t += 10
                ready = plan.ready_at()
                for ctr in pod.containers:
                    add(
                        ready if not ctr.sidecar else plan.born + 2.5,
                        pod,
                        "ready",
                        ctr.name,
                        probe="readiness",
                    )
        if plan.deleted is not None:
            add(plan.deleted, pod, "pod_deleted")
            grace = plan.grace_s
            for ctr in pod.containers:
                add(plan.deleted + 0.004, pod, "kill", ctr.name, grace_s=grace)
            add(plan.deleted + 0.9, pod, "not_ready", app.name, probe="readiness")
        for name, (t_exit, code) in plan.exits.items():
            if plan.sigkill_at is not None and code == 137 and plan.deleted is not None:
                add(plan.sigkill_at, pod, "sigkill", name)
            add(t_exit, pod, "container_died", name, exit_code=code)
        if plan.deleted is not None:
            last = max([t for t, _ in plan.exits.values()], default=plan.deleted + plan.grace_s)
            add(last + 1.5, pod, "pod_removed")
    for extra in sc.lifecycle:
        pod = pods[extra.pop("pod")]
        t = extra.pop("t")
        kind = extra.pop("kind")
        container = extra.pop("container", None) or main(pod).name
        if kind in ("pod_added", "pod_deleted", "pod_removed", "evicted"):
            container = None
        if isinstance(extra.get("detail"), str):
            port = next(c.port for c in pod.containers if c.name == container)
            extra["detail"] = extra["detail"].format(ip=pod.ip, port=port)
        add(t, pod, kind, container, **extra)
    return pl.DataFrame(rows, schema=LIFECYCLE).sort("ts")


def _app_lines(sc: Scenario, pods: list[Pod]) -> pl.DataFrame:
    c = sc.cast
    rows: list[dict] = []

    def line(t: float, pod: Pod, container: str, level: str, msg: str, **kv: object) -> None:
        fields = json.dumps({"level": level, "msg": msg, **kv}, separators=(",", ":"))
        rows.append(
            {
                "ts": c.at(t),
                "namespace": pod.namespace,
                "pod": pod.name,
                "container": container,
                "level": level,
                "text": None,
                "fields": fields,
            }
        )

    for pod, plan in zip(pods, sc.pods, strict=True):
        if plan.born is not None:
            listening = plan.listening_at()
            line(plan.born + 1.5, pod, main(pod).name, "info", "starting server", version="1.4.2")
            line(listening, pod, main(pod).name, "info", f"listening on :{main(pod).port}")
    for extra in sc.app_lines:
        pod = pods[extra["pod"]]
        if extra.get("go_log"):  # Go's log package, LstdFlags: "2006/01/02 15:04:05 msg"
            at = c.at(extra["t"])
            rows.append(
                {
                    "ts": at,
                    "namespace": pod.namespace,
                    "pod": pod.name,
                    "container": extra.get("container") or main(pod).name,
                    "level": None,
                    "text": f"{at:%Y/%m/%d %H:%M:%S} {extra['msg']}",
                    "fields": None,
                }
            )
            continue
        line(
            extra["t"],
            pod,
            extra.get("container") or main(pod).name,
            extra.get("level", "info"),
            extra["msg"],
        )
    if not rows:
        return pl.DataFrame(schema=APP_LINES)
    return pl.DataFrame(rows, schema=APP_LINES).sort("ts")


def _lb_controller(sc: Scenario, nodes: tuple[Node, ...]) -> Pod:
    """kube-system/aws-load-balancer-controller-…: the controller that (de)registers the pod
    IPs as ALB targets (IP target type)."""
    c = sc.cast
    rs = c.word(10)
    return Pod(
        "kube-system",
        f"aws-load-balancer-controller-{rs}-{c.word(5)}",
        c.uid(),
        nodes[1].name,  # never node 0, where scenarios skew the clock
        c.ip(2),
        (
            Container(
                "aws-load-balancer-controller",
                c.hex(64),
                "public.ecr.aws/eks/aws-load-balancer-controller:v2.7.2",
            ),
        ),
        owner=f"aws-load-balancer-controller-{rs}",
    )


def _deregistrations(sc: Scenario, pods: list[Pod], controller: Pod, alb: str) -> pl.DataFrame:
    """The controller's own lines (zap JSON, printed as they are) for each target it
    deregisters: ``deRegistering targets`` with the target, ``deRegistered targets`` when the
    API call returns (kubernetes-sigs/aws-load-balancer-controller#3069, #2044)."""
    from analyzer.simulate.writers.alb import REGION, target_group_arn

    c = sc.cast
    arn = target_group_arn(alb)
    rows: list[dict] = []

    def raw(t: float, obj: dict) -> None:
        ts = c.at(round(t + float(c.rng.uniform(0, 0.001)), 6))
        line = json.dumps(
            {"level": "info", "ts": round(ts.timestamp(), 7), **obj}, separators=(",", ":")
        )
        rows.append(
            {
                "ts": ts,
                "namespace": controller.namespace,
                "pod": controller.name,
                "container": controller.containers[0].name,
                "level": None,
                "text": line,
                "fields": None,
            }
        )

    for pod, plan in zip(pods, sc.pods, strict=True):
        t = plan.deregistered
        if t is None and plan.deleted is not None:
            t = plan.deleted + round(float(c.rng.uniform(0.4, 1.6)), 3)
        if t is None:
            continue
        az = f"{REGION}{'abc'[plan.node % 3]}"
        target = {"AvailabilityZone": az, "Id": pod.ip, "Port": front(pod).port}
        raw(t, {"msg": "deRegistering targets", "arn": arn, "targets": [target]})
        raw(
            t + round(float(c.rng.uniform(0.03, 0.12)), 4),
            {"msg": "deRegistered targets", "arn": arn},
        )
    return pl.DataFrame(rows, schema=APP_LINES)
