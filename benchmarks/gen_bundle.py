"""Write a realistic mixed support bundle with one planted termination incident (vectorized).

    python benchmarks/gen_bundle.py --size-gb 0.25 --out /tmp/bundle [--seed 7]

By bytes: ~60 % ingress-nginx access lines in CRI wrappers (two controller pods), ~30 % Workhorse
JSON access lines in CRI wrappers (six webservice pods), ~10 % one node's kubelet journal
(journalctl short format, with the node's containerd lines), plus `events.json` (`kubectl get events
-A -o json`). Six hours of healthy traffic to many upstream pods, and one incident shaped like
sample_logs/pid1-502 (other names, IPs and date): a webservice pod is deleted, its Puma stops at
once, its Workhorse ignores SIGTERM and answers 502 (`dial tcp 127.0.0.1:8080: connect: connection
refused`) until SIGKILL at the end of the 30 s grace period; ingress-nginx keeps sending requests to
the pod IP for ~40 s (502), and the kubelet logs readiness failures naming that IP.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import polars as pl

START = np.datetime64("2025-09-17T08:00:00", "ns")
HOURS = 6
#: The planted pod is deleted (SIGTERM) at this instant.
KILL = np.datetime64("2025-09-17T11:47:12.250000000", "ns")
GRACE_S = 30
#: Ingress sends to the dead pod's IP until its endpoints are gone from the controllers.
INGRESS_502_S = (1.0, 41.0)
#: Workhorse answers 502 from Puma's exit until its own SIGKILL.
WORKHORSE_502_S = (1.0, GRACE_S - 0.3)
NODE = "pool-b-worker-7"
KUBELET_PID = 1873
CONTAINERD_PID = 912
NS = "scm"
WEB_RS = "7c9f4d6b58"
WEB_IDS = ["q2vzk", "h8m4t", "r6xwd", "b9lcp", "n3fjs", "t5gyh"]
PLANTED = 2
#: (namespace, service, port, replicas) behind the ingress besides the webservice pods.
OTHER_SERVICES = [
    ("shop", "storefront", 8080, 6),
    ("shop", "cart", 8080, 4),
    ("shop", "checkout", 9000, 3),
    ("api", "gateway", 8443, 5),
    ("api", "search", 7700, 4),
    ("media", "thumbnailer", 8000, 3),
    ("docs", "wiki", 3000, 2),
]
PATHS = [
    "/",
    "/explore/projects",
    "/api/v4/projects?per_page=100",
    "/api/v4/jobs/request",
    "/users/sign_in",
    "/-/health",
    "/assets/application-4f1c9b2e.css",
    "/assets/webpack/main.8a7d2c.chunk.js",
    "/groups/platform/-/issues?state=opened",
    "/cart/items",
    "/checkout/confirm",
    "/search?q=logs",
    "/img/banner-720.webp",
    "/wiki/Runbooks",
]
UAS = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "gitlab-runner 17.3.1 (17-3-stable; go1.22.5; linux/amd64)",
    "curl/8.9.1",
    "Go-http-client/1.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/128.0.0.0 Safari/537.36",
]
METHODS = ["GET", "GET", "GET", "GET", "POST", "PUT", "HEAD"]


@dataclass(frozen=True)
class Pod:
    namespace: str
    name: str
    uid: str
    ip: str
    port: int
    upstream_name: str
    container: str


def _uid(rng: np.random.Generator) -> str:
    h = rng.bytes(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _hexid(rng: np.random.Generator, n: int = 64) -> str:
    return rng.bytes(n // 2).hex()


def make_pods(rng: np.random.Generator) -> list[Pod]:
    """The webservice pods first (index = position in WEB_IDS), then every other upstream."""
    pods = []
    hosts = rng.choice(np.arange(2, 250), size=80, replace=False)
    subnets = rng.integers(1, 40, size=80)
    k = 0
    for pid in WEB_IDS:
        name = f"gitlab-webservice-default-{WEB_RS}-{pid}"
        ip = f"10.96.{subnets[k]}.{hosts[k]}"
        pods.append(
            Pod(NS, name, _uid(rng), ip, 8181, f"{NS}-gitlab-webservice-default-8181", "webservice")
        )
        k += 1
    for ns, svc, port, replicas in OTHER_SERVICES:
        rs = _hexid(rng, 10)
        for _ in range(replicas):
            suffix = "".join(rng.choice(list("bcdfghjklmnpqrstvwxz2456789"), 5))
            ip = f"10.96.{subnets[k]}.{hosts[k]}"
            pods.append(
                Pod(ns, f"{svc}-{rs}-{suffix}", _uid(rng), ip, port, f"{ns}-{svc}-{port}", svc)
            )
            k += 1
    return pods


FULL = (0.0, HOURS * 3600.0)
#: Requests are generated and written in chunks of this many seconds (bounded memory).
CHUNK_S = 1800


def _times(n: int, rng: np.random.Generator, span: tuple[float, float] = FULL) -> np.ndarray:
    offsets = np.sort(rng.uniform(span[0], span[1], n))
    return START + (offsets * 1e9).astype("timedelta64[ns]")


def _at(offset_s: float) -> np.datetime64:
    return KILL + np.timedelta64(int(offset_s * 1e9), "ns")


def _window(ts: np.ndarray, span: tuple[float, float]) -> np.ndarray:
    return (ts >= _at(span[0])) & (ts < _at(span[1]))


def _burst_times(
    per_s: float, burst: tuple[float, float], rng: np.random.Generator, span: tuple[float, float]
) -> np.ndarray:
    """Extra failing requests (so a small bundle still shows the burst), those inside ``span``."""
    n = int(per_s * (burst[1] - burst[0]))
    off = np.sort(rng.uniform(burst[0], burst[1], n))
    ts = KILL + (off * 1e9).astype("timedelta64[ns]")
    lo, hi = (START + np.timedelta64(int(x * 1e9), "ns") for x in span)
    return ts[(ts >= lo) & (ts < hi)]


def _statuses(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.choice(
        [200, 201, 204, 301, 302, 304, 404, 500],
        size=n,
        p=[0.83, 0.02, 0.03, 0.01, 0.02, 0.04, 0.0496, 0.0004],
    )


def _pick(values: list, idx: np.ndarray) -> pl.Series:
    return pl.Series(values).gather(idx)


def _cri(ts: pl.Expr, body: pl.Expr) -> pl.Expr:
    return pl.concat_str([ts.dt.strftime("%Y-%m-%dT%H:%M:%S%.9fZ"), pl.lit(" stdout F "), body])


# --- ingress-nginx ---------------------------------------------------------------------------


def ingress_frame(
    n: int, pods: list[Pod], rng: np.random.Generator, span: tuple[float, float] = FULL
) -> pl.DataFrame:
    """Access rows: ts, controller (0/1), upstream pod index, status, and the varying fields."""
    ts = _times(n, rng, span)
    # Half the traffic to the webservice pods, the rest spread over the other services.
    n_web = len(WEB_IDS)
    weights = np.r_[
        np.full(n_web, 0.5 / n_web), np.full(len(pods) - n_web, 0.5 / (len(pods) - n_web))
    ]
    up = rng.choice(len(pods), size=n, p=weights)
    # After its endpoints are gone the planted pod gets nothing; its share goes to a sibling.
    gone = (up == PLANTED) & (ts >= _at(INGRESS_502_S[1]))
    up = np.where(gone, (PLANTED + 1) % n_web, up)
    status = _statuses(n, rng)
    status = np.where((up == PLANTED) & _window(ts, INGRESS_502_S), 502, status)
    burst_ts = _burst_times(6.0, INGRESS_502_S, rng, span)
    nb = len(burst_ts)
    ts = np.r_[ts, burst_ts]
    up = np.r_[up, np.full(nb, PLANTED)]
    status = np.r_[status, np.full(nb, 502)]
    order = np.argsort(ts, kind="stable")
    ts, up, status = ts[order], up[order], status[order]
    n = len(ts)
    return pl.DataFrame(
        {
            "ts": ts,
            "ctrl": rng.integers(0, 2, n),
            "up": up,
            "status": status,
            "client": rng.integers(0, 4000, n),
            "method": rng.integers(0, len(METHODS), n),
            "path": rng.integers(0, len(PATHS), n),
            "ua": rng.integers(0, len(UAS), n),
            "bytes": rng.integers(60, 90_000, n),
            "reqlen": rng.integers(180, 2_400, n),
            "rt_ms": rng.gamma(2.0, 25.0, n).astype(np.int64),
            "rid1": rng.integers(0, 2**62, n),
            "rid2": rng.integers(0, 2**62, n),
        }
    ).with_columns(pl.col("ts").dt.replace_time_zone("UTC"))


def ingress_lines(df: pl.DataFrame, pods: list[Pod]) -> pl.DataFrame:
    up = pl.col("up")
    ip_port = pl.Series([f"{p.ip}:{p.port}" for p in pods])
    names = pl.Series([p.upstream_name for p in pods])
    failed = pl.col("status") == 502
    rt = (pl.when(failed).then(pl.col("rt_ms") // 20).otherwise(pl.col("rt_ms")) / 1000).round(3)
    ms = (rt * 1000).cast(pl.Int64)
    # nginx prints $request_time with three decimals.
    rt_s = pl.format("{}.{}", ms // 1000, (ms % 1000).cast(pl.String).str.zfill(3))
    body_bytes = pl.when(failed).then(pl.lit(150)).otherwise(pl.col("bytes"))
    client = pl.format(
        "{}.{}.{}",
        pl.when(pl.col("client") % 2 == 0).then(pl.lit("198.51")).otherwise(pl.lit("203.0")),
        (
            pl.col("client") // 256 % 16
            + pl.when(pl.col("client") % 2 == 0).then(100).otherwise(113)
        ),
        pl.col("client") % 250 + 2,
    )
    line = pl.concat_str(
        [
            client,
            pl.lit(" - - ["),
            pl.col("ts").dt.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            pl.lit('] "'),
            pl.lit(pl.Series(METHODS)).gather(pl.col("method")),
            pl.lit(" "),
            pl.lit(pl.Series(PATHS)).gather(pl.col("path")),
            pl.lit(' HTTP/1.1" '),
            pl.col("status").cast(pl.String),
            pl.lit(" "),
            body_bytes.cast(pl.String),
            pl.lit(' "-" "'),
            pl.lit(pl.Series(UAS)).gather(pl.col("ua")),
            pl.lit('" '),
            pl.col("reqlen").cast(pl.String),
            pl.lit(" "),
            rt_s,
            pl.lit(" ["),
            pl.lit(names).gather(up),
            pl.lit("] [] "),
            pl.lit(ip_port).gather(up),
            pl.lit(" "),
            body_bytes.cast(pl.String),
            pl.lit(" "),
            rt_s,
            pl.lit(" "),
            pl.col("status").cast(pl.String),
            pl.lit(" "),
            pl.col("rid1").cast(pl.String),
            pl.col("rid2").cast(pl.String),
        ]
    )
    return df.select("ts", "ctrl", _cri(pl.col("ts"), line).alias("l"))


# --- Workhorse -------------------------------------------------------------------------------


def workhorse_frame(
    n: int, rng: np.random.Generator, span: tuple[float, float] = FULL
) -> pl.DataFrame:
    ts = _times(n, rng, span)
    pod = rng.integers(0, len(WEB_IDS), n)
    status = _statuses(n, rng)
    # SIGKILL ends the planted pod's Workhorse: nothing after it.
    keep = ~((pod == PLANTED) & (ts >= _at(GRACE_S)))
    ts, pod, status = ts[keep], pod[keep], status[keep]
    status = np.where((pod == PLANTED) & _window(ts, WORKHORSE_502_S), 502, status)
    burst_ts = _burst_times(4.0, WORKHORSE_502_S, rng, span)
    nb = len(burst_ts)
    ts = np.r_[ts, burst_ts]
    pod = np.r_[pod, np.full(nb, PLANTED)]
    status = np.r_[status, np.full(nb, 502)]
    order = np.argsort(ts, kind="stable")
    ts, pod, status = ts[order], pod[order], status[order]
    n = len(ts)
    return pl.DataFrame(
        {
            "ts": ts,
            "pod": pod,
            "status": status,
            "duration": rng.gamma(2.0, 20.0, n).astype(np.int64),
            "cid": rng.integers(0, 2**62, n),
            "client": rng.integers(2, 250, n),
            "path": rng.integers(0, len(PATHS), n),
            "method": rng.integers(0, len(METHODS), n),
            "ua": rng.integers(0, len(UAS), n),
            "bytes": rng.integers(30, 60_000, n),
        }
    ).with_columns(pl.col("ts").dt.replace_time_zone("UTC"))


def workhorse_lines(df: pl.DataFrame) -> pl.DataFrame:
    failed = pl.col("status") == 502
    time = pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    cid = pl.concat_str([pl.lit("01K5"), pl.col("cid").cast(pl.String)])
    path = pl.lit(pl.Series(PATHS)).gather(pl.col("path"))
    method = pl.lit(pl.Series(METHODS)).gather(pl.col("method"))
    duration = pl.when(failed).then(0).otherwise(pl.col("duration")).cast(pl.String)
    access = pl.concat_str(
        [
            pl.lit('{"backend_id":"rails","content_type":"'),
            pl.when(failed).then(pl.lit("text/plain")).otherwise(pl.lit("application/json")),
            pl.lit('","correlation_id":"'),
            cid,
            pl.lit('","duration_ms":'),
            duration,
            pl.lit(',"host":"code.example.net","level":"info","method":"'),
            method,
            pl.lit('","msg":"access","proto":"HTTP/1.1","referrer":"","remote_addr":"10.96.250.'),
            pl.col("client").cast(pl.String),
            pl.lit(':0","remote_ip":"10.96.250.'),
            pl.col("client").cast(pl.String),
            pl.lit('","route":"","route_id":"default","status":'),
            pl.col("status").cast(pl.String),
            pl.lit(',"system":"http","time":"'),
            time,
            pl.lit('","ttfb_ms":'),
            duration,
            pl.lit(',"uri":"'),
            path,
            pl.lit('","user_agent":"'),
            pl.lit(pl.Series(UAS)).gather(pl.col("ua")),
            pl.lit('","written_bytes":'),
            pl.when(failed).then(24).otherwise(pl.col("bytes")).cast(pl.String),
            pl.lit("}"),
        ]
    )
    error = pl.concat_str(
        [
            pl.lit('{"correlation_id":"'),
            cid,
            pl.lit(
                '","duration_ms":0,"error":"badgateway: failed to receive response: dial tcp '
                '127.0.0.1:8080: connect: connection refused","level":"error","method":"'
            ),
            method,
            pl.lit('","msg":"","time":"'),
            time,
            pl.lit('","uri":"'),
            path,
            pl.lit('"}'),
        ]
    )
    lines = df.select("ts", "pod", _cri(pl.col("ts"), access).alias("l"), failed.alias("f"))
    # Each failed request logs the badgateway error just before its access line.
    errors = df.filter(failed).select(
        "ts", "pod", _cri(pl.col("ts"), error).alias("l"), pl.lit(True).alias("f")
    )
    return (
        pl.concat(
            [errors.with_columns(pl.lit(0).alias("o")), lines.with_columns(pl.lit(1).alias("o"))]
        )
        .sort("ts", "o")
        .select("ts", "pod", "l")
    )


# --- kubelet journal -------------------------------------------------------------------------


def _journal_prefix(ts: np.datetime64, program: str, pid: int) -> str:
    t = str(ts.astype("datetime64[s]"))
    month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][
        int(t[5:7]) - 1
    ]
    return f"{month} {t[8:10]} {t[11:19]} {NODE} {program}[{pid}]: "


def _klog(ts: np.datetime64, sev: str, src: str, msg: str) -> str:
    t = str(ts.astype("datetime64[us]"))
    head = f"{sev}{t[5:7]}{t[8:10]} {t[11:26]}    {KUBELET_PID} {src}] {msg}"
    return _journal_prefix(ts, "kubelet", KUBELET_PID) + head


def _containerd(ts: np.datetime64, msg: str) -> str:
    t = str(ts.astype("datetime64[ns]"))
    return _journal_prefix(ts, "containerd", CONTAINERD_PID) + f'time="{t}Z" level=info msg="{msg}"'


def kubelet_background(n: int, pods: list[Pod], rng: np.random.Generator) -> pl.DataFrame:
    """Ordinary kubelet chatter: volume reconciler, probes flapping on unrelated pods, PLEG."""
    ts = pl.Series(_times(n, rng)).dt.replace_time_zone("UTC")
    kind = rng.choice(5, size=n, p=[0.45, 0.25, 0.2, 0.06, 0.04])
    p = rng.choice(np.arange(len(pods)), size=n)
    # Probes fail now and then on every pod but the planted one (whose failures are the incident).
    p = np.where((kind == 3) & (p == PLANTED), (PLANTED + 1) % len(pods), p)
    ns = pl.Series([x.namespace for x in pods]).gather(p)
    name = pl.Series([x.name for x in pods]).gather(p)
    uid = pl.Series([x.uid for x in pods]).gather(p)
    ip = pl.Series([x.ip for x in pods]).gather(p)
    cont = pl.Series([x.container for x in pods]).gather(p)
    probe_port = pl.Series([8080 if x.namespace == NS else x.port for x in pods]).gather(p)
    df = pl.DataFrame(
        {
            "ts": ts,
            "kind": kind,
            "ns": ns,
            "name": name,
            "uid": uid,
            "ip": ip,
            "cont": cont,
            "pport": probe_port,
            "vol": rng.integers(0, 9, n),
        }
    )
    pod_ref = pl.concat_str([pl.col("ns"), pl.lit("/"), pl.col("name")])
    head = pl.concat_str(
        [
            pl.col("ts").dt.strftime("%b %d %H:%M:%S"),
            pl.lit(f" {NODE} kubelet[{KUBELET_PID}]: I"),
            pl.col("ts").dt.strftime("%m%d %H:%M:%S%.6f"),
            pl.lit(f"    {KUBELET_PID} "),
        ]
    )
    msg = (
        pl.when(pl.col("kind") == 0)
        .then(
            pl.concat_str(
                [
                    pl.lit(
                        'reconciler_common.go:258] "operationExecutor.'
                        "VerifyControllerAttachedVolume "
                        'started for volume \\"kube-api-access-'
                    ),
                    pl.col("vol").cast(pl.String),
                    pl.lit('x7q\\" (UniqueName: \\"kubernetes.io/projected/'),
                    pl.col("uid"),
                    pl.lit('-kube-api-access\\") pod=\\"'),
                    pl.col("name"),
                    pl.lit('\\" (UID: \\"'),
                    pl.col("uid"),
                    pl.lit('\\") " pod="'),
                    pod_ref,
                    pl.lit('"'),
                ]
            )
        )
        .when(pl.col("kind") == 1)
        .then(
            pl.concat_str(
                [
                    pl.lit(
                        'kubelet.go:2542] "SyncLoop (probe)" probe="readiness" status="ready" pod="'
                    ),
                    pod_ref,
                    pl.lit('"'),
                ]
            )
        )
        .when(pl.col("kind") == 2)
        .then(
            pl.concat_str(
                [
                    pl.lit('kubelet.go:2456] "SyncLoop UPDATE" source="api" pods=["'),
                    pod_ref,
                    pl.lit('"]'),
                ]
            )
        )
        .when(pl.col("kind") == 3)
        .then(
            pl.concat_str(
                [
                    pl.lit('prober.go:107] "Probe failed" probeType="Readiness" pod="'),
                    pod_ref,
                    pl.lit('" podUID="'),
                    pl.col("uid"),
                    pl.lit('" containerName="'),
                    pl.col("cont"),
                    pl.lit('" probeResult="failure" output="Get \\"http://'),
                    pl.col("ip"),
                    pl.lit(":"),
                    pl.col("pport").cast(pl.String),
                    pl.lit(
                        '/healthz\\": context deadline exceeded '
                        '(Client.Timeout exceeded while awaiting headers)"'
                    ),
                ]
            )
        )
        .otherwise(
            pl.concat_str(
                [
                    pl.lit(
                        'kubelet_pods.go:1073] "Clean up pod workers for terminated pods" pod="'
                    ),
                    pod_ref,
                    pl.lit('"'),
                ]
            )
        )
    )
    return df.select("ts", pl.concat_str([head, msg]).alias("l"))


def containerd_background(n: int, rng: np.random.Generator) -> pl.DataFrame:
    """Dated containerd lines (they also give the klog lines their year)."""
    ts = pl.Series(_times(n, rng)).dt.replace_time_zone("UTC")
    df = pl.DataFrame({"ts": ts, "c": rng.integers(0, 2**62, n)})
    line = pl.concat_str(
        [
            pl.col("ts").dt.strftime("%b %d %H:%M:%S"),
            pl.lit(f' {NODE} containerd[{CONTAINERD_PID}]: time="'),
            pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.9fZ"),
            pl.lit('" level=info msg="ExecSync for \\"'),
            pl.col("c").cast(pl.String),
            pl.lit('\\" with command [/bin/grpc_health_probe -addr=:9000] and timeout 1 (s)"'),
        ]
    )
    return df.select("ts", line.alias("l"))


@dataclass(frozen=True)
class Incident:
    pod: Pod
    webservice_cid: str
    workhorse_cid: str


def incident_kubelet(inc: Incident) -> list[tuple[np.datetime64, str]]:
    p = inc.pod
    ref = f"{p.namespace}/{p.name}"
    out: list[tuple[np.datetime64, str]] = []

    def k(off: float, src: str, msg: str) -> None:
        out.append((_at(off), _klog(_at(off), "I", src, msg)))

    def c(off: float, msg: str) -> None:
        out.append((_at(off), _containerd(_at(off), msg)))

    k(-0.15, "kubelet.go:2463", f'"SyncLoop DELETE" source="api" pods=["{ref}"]')
    for cid, name, off in (
        (inc.webservice_cid, "webservice", 0.0),
        (inc.workhorse_cid, "gitlab-workhorse", 0.001),
    ):
        k(
            off,
            "kuberuntime_container.go:779",
            f'"Killing container with a grace period" pod="{ref}" podUID="{p.uid}" '
            f'containerName="{name}" '
            f'containerID="containerd://{cid}" gracePeriod={GRACE_S}',
        )
        c(off + 0.002, f'StopContainer for \\"{cid}\\" with timeout {GRACE_S} (s)')
        c(off + 0.003, f'Stop container \\"{cid}\\" with signal terminated')
    # Puma exits at once: the port closes and the readiness probe is refused.
    c(
        0.9,
        f'TaskExit event in podsandbox handler container_id:\\"{inc.webservice_cid}\\" '
        f'id:\\"{inc.webservice_cid}\\" '
        f"pid:41871 exit_status:0 exited_at:{{seconds:1758109633}}",
    )
    k(
        0.95,
        "generic.go:358",
        f'"Generic (PLEG): container finished" podID="{p.uid}" containerID="{inc.webservice_cid}" '
        f"exitCode=0",
    )
    k(
        0.96,
        "kubelet.go:2476",
        f'"SyncLoop (PLEG): event for pod" pod="{ref}" '
        f'event={{"ID":"{p.uid}","Type":"ContainerDied","Data":"{inc.webservice_cid}"}}',
    )
    for i, off in enumerate((3.1, 13.1, 23.1)):
        k(
            off,
            "prober.go:107",
            f'"Probe failed" probeType="Readiness" pod="{ref}" podUID="{p.uid}" '
            f'containerName="webservice" '
            f'probeResult="failure" output="Get \\"http://{p.ip}:8080/-/readiness\\": '
            f'dial tcp {p.ip}:8080: connect: connection refused"',
        )
        if i == 2:
            k(
                off + 0.001,
                "kubelet.go:2542",
                f'"SyncLoop (probe)" probe="readiness" status="not ready" pod="{ref}"',
            )
    # Workhorse never logs a shutdown: SIGKILL when the grace period runs out.
    c(GRACE_S + 0.002, f'Kill container \\"{inc.workhorse_cid}\\"')
    c(
        GRACE_S + 0.05,
        f'TaskExit event in podsandbox handler container_id:\\"{inc.workhorse_cid}\\" '
        f'id:\\"{inc.workhorse_cid}\\" '
        f"pid:41802 exit_status:137 exited_at:{{seconds:1758109662}}",
    )
    k(
        GRACE_S + 0.06,
        "generic.go:358",
        f'"Generic (PLEG): container finished" podID="{p.uid}" containerID="{inc.workhorse_cid}" '
        f"exitCode=137",
    )
    k(
        GRACE_S + 0.07,
        "kubelet.go:2476",
        f'"SyncLoop (PLEG): event for pod" pod="{ref}" '
        f'event={{"ID":"{p.uid}","Type":"ContainerDied","Data":"{inc.workhorse_cid}"}}',
    )
    k(GRACE_S + 0.9, "kubelet.go:2463", f'"SyncLoop DELETE" source="api" pods=["{ref}"]')
    k(GRACE_S + 1.2, "kubelet.go:2457", f'"SyncLoop REMOVE" source="api" pods=["{ref}"]')
    return out


# --- events.json -----------------------------------------------------------------------------


def _iso(ts: np.datetime64) -> str:
    return str(ts.astype("datetime64[s]")) + "Z"


def _event(
    i: int,
    pod: Pod,
    reason: str,
    typ: str,
    msg: str,
    first: np.datetime64,
    last: np.datetime64 | None = None,
    count: int = 1,
    field: str | None = None,
    kind: str = "Pod",
    name: str | None = None,
) -> dict:
    name = name or pod.name
    return {
        "apiVersion": "v1",
        "count": count,
        "eventTime": None,
        "firstTimestamp": _iso(first),
        "involvedObject": {
            "apiVersion": "v1" if kind == "Pod" else "apps/v1",
            **({"fieldPath": f"spec.containers{{{field}}}"} if field else {}),
            "kind": kind,
            "name": name,
            "namespace": pod.namespace,
            "resourceVersion": str(51200000 + i * 7),
            "uid": pod.uid,
        },
        "kind": "Event",
        "lastTimestamp": _iso(last if last is not None else first),
        "message": msg,
        "metadata": {
            "creationTimestamp": _iso(first),
            "name": f"{name}.{(0x1860A3F2C0000000 + i * 7919):x}",
            "namespace": pod.namespace,
            "resourceVersion": str(51300000 + i),
            "uid": f"e{i:07d}-5c1d-4e0f-9a2b-3c4d5e6f7a8b",
        },
        "reason": reason,
        "reportingComponent": "kubelet" if kind == "Pod" else "",
        "reportingInstance": NODE if kind == "Pod" else "",
        "source": {"component": "kubelet", "host": NODE}
        if kind == "Pod"
        else {"component": "replicaset-controller"},
        "type": typ,
    }


def events_json(pods: list[Pod], inc: Incident, rng: np.random.Generator, n_bg: int = 300) -> dict:
    items = []
    others = [p for i, p in enumerate(pods) if i != PLANTED]
    offs = np.sort(rng.uniform(0, HOURS * 3600, n_bg))
    for i, off in enumerate(offs):
        p = others[int(rng.integers(0, len(others)))]
        t = START + np.timedelta64(int(off * 1e9), "ns")
        r = rng.random()
        if r < 0.25:
            items.append(
                _event(
                    i,
                    p,
                    "Unhealthy",
                    "Warning",
                    f'Readiness probe failed: Get "http://{p.ip}:{p.port}/healthz": '
                    f"context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
                    t,
                    t + np.timedelta64(20, "s"),
                    3,
                    p.container,
                )
            )
        elif r < 0.5:
            items.append(
                _event(
                    i,
                    p,
                    "Pulled",
                    "Normal",
                    f'Container image "registry.example.net/{p.container}:1.{i % 9}.2" '
                    f"already present on machine",
                    t,
                    field=p.container,
                )
            )
        elif r < 0.75:
            items.append(
                _event(
                    i,
                    p,
                    "Created",
                    "Normal",
                    f"Created container {p.container}",
                    t,
                    field=p.container,
                )
            )
        else:
            items.append(
                _event(
                    i,
                    p,
                    "Started",
                    "Normal",
                    f"Started container {p.container}",
                    t,
                    field=p.container,
                )
            )
    p = inc.pod
    j = n_bg
    items.append(
        _event(
            j, p, "Killing", "Normal", "Stopping container webservice", _at(0), field="webservice"
        )
    )
    items.append(
        _event(
            j + 1,
            p,
            "Killing",
            "Normal",
            "Stopping container gitlab-workhorse",
            _at(0),
            field="gitlab-workhorse",
        )
    )
    items.append(
        _event(
            j + 2,
            p,
            "Unhealthy",
            "Warning",
            f'Readiness probe failed: Get "http://{p.ip}:8080/-/readiness": '
            f"dial tcp {p.ip}:8080: connect: connection refused",
            _at(3.1),
            _at(23.1),
            3,
            "webservice",
        )
    )
    items.append(
        _event(
            j + 3,
            p,
            "SuccessfulDelete",
            "Normal",
            f"Deleted pod: {p.name}",
            _at(-0.2),
            kind="ReplicaSet",
            name=f"gitlab-webservice-default-{WEB_RS}",
        )
    )
    items.sort(key=lambda e: e["lastTimestamp"])
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


# --- writing ---------------------------------------------------------------------------------


def _open(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("wb")


def write(fh: BinaryIO, lines: pl.Series) -> None:
    pl.DataFrame({"l": lines}).write_csv(
        fh, include_header=False, quote_style="never", separator="\x1f"
    )


def _bytes_per_line(frame: pl.DataFrame) -> float:
    return float(frame["l"].str.len_bytes().mean()) + 1  # type: ignore[arg-type]


def _lines_for(target_bytes: float, sample: pl.DataFrame) -> int:
    return max(1000, int(target_bytes / _bytes_per_line(sample)))


def generate(size_gb: float, out: Path, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    pods = make_pods(rng)
    total = size_gb * 1e9
    ingress_pods = [
        ("ingress-nginx-controller-5b7f9d8c64-wq4tz", _uid(rng)),
        ("ingress-nginx-controller-5b7f9d8c64-k9dbm", _uid(rng)),
    ]
    web = [(p, _uid(rng)) for p in pods[: len(WEB_IDS)]]
    inc = Incident(pods[PLANTED], _hexid(rng), _hexid(rng))

    chunks = [(float(a), float(min(a + CHUNK_S, FULL[1]))) for a in range(0, int(FULL[1]), CHUNK_S)]
    per_chunk = 1 / len(chunks)

    cal = ingress_lines(ingress_frame(2000, pods, rng), pods)
    n_ing = _lines_for(0.6 * total * per_chunk, cal)
    ing_files = [
        _open(out / f"var/log/pods/ingress-nginx_{name}_{uid}/controller/0.log")
        for name, uid in ingress_pods
    ]
    for span in chunks:
        ing = ingress_lines(ingress_frame(n_ing, pods, rng, span), pods)
        for c, fh in enumerate(ing_files):
            write(fh, ing.filter(pl.col("ctrl") == c)["l"])
    for fh in ing_files:
        fh.close()

    cal = workhorse_lines(workhorse_frame(2000, rng))
    n_wh = _lines_for(0.3 * total * per_chunk, cal)
    wh_files = [
        _open(out / f"var/log/pods/{p.namespace}_{p.name}_{p.uid}/gitlab-workhorse/0.log")
        for p, _ in web
    ]
    for span in chunks:
        wh = workhorse_lines(workhorse_frame(n_wh, rng, span))
        for i, fh in enumerate(wh_files):
            write(fh, wh.filter(pl.col("pod") == i)["l"])
    for fh in wh_files:
        fh.close()

    planted = incident_kubelet(inc)
    plant = pl.DataFrame(
        {
            "ts": np.array([t for t, _ in planted], dtype="datetime64[ns]"),
            "l": [line for _, line in planted],
        }
    ).with_columns(pl.col("ts").dt.replace_time_zone("UTC"))
    cal = kubelet_background(2000, pods, rng)
    n_k = _lines_for(0.1 * total * 0.95, cal)
    journal = pl.concat(
        [kubelet_background(n_k, pods, rng), containerd_background(max(50, n_k // 20), rng), plant]
    ).sort("ts", maintain_order=True)
    with _open(out / f"nodes/{NODE}/kubelet.log") as fh:
        write(fh, journal["l"])
    del journal

    (out / "events.json").write_text(json.dumps(events_json(pods, inc, rng), indent=4) + "\n")
    p = inc.pod
    return {
        "pod": f"{p.namespace}/{p.name}",
        "ip": p.ip,
        "ingress_upstream": f"{p.ip}:{p.port}",
        "kill": str(KILL) + "Z",
        "ingress_502": [str(_at(INGRESS_502_S[0])) + "Z", str(_at(INGRESS_502_S[1])) + "Z"],
        "workhorse_502": [str(_at(WORKHORSE_502_S[0])) + "Z", str(_at(WORKHORSE_502_S[1])) + "Z"],
        "sigkill": str(_at(GRACE_S)) + "Z",
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--size-gb", type=float, default=0.25)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    planted = generate(args.size_gb, args.out, args.seed)
    total = 0
    for f in sorted(x for x in args.out.rglob("*") if x.is_file()):
        total += f.stat().st_size
        print(f"{f.stat().st_size / 1e6:9.1f} MB  {f.relative_to(args.out)}")
    print(f"{total / 1e6:9.1f} MB  total")
    print("planted:", json.dumps(planted))


if __name__ == "__main__":
    main()
