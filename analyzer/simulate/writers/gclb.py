"""Google Cloud external Application Load Balancer request logs (GKE Ingress, container-native
load balancing through NEGs), as a Cloud Logging export: one LogEntry per line
(``gcloud logging read 'resource.type="http_load_balancer"' --format=json | jq -c '.[]'``).

``httpRequest.serverIp`` is the backend (the pod IP with NEGs); ``jsonPayload.statusDetails``
says who answered: ``response_sent_by_backend``, ``failed_to_connect_to_backend``,
``backend_connection_closed_before_data_sent_to_client``, ``backend_timeout``,
``failed_to_pick_backend`` (Cloud Load Balancing logging docs)."""

from __future__ import annotations

import hashlib

import polars as pl

from analyzer.simulate.world import World
from analyzer.simulate.writers.common import fixed, hexfmt, proxy_requests

PROJECT = "prod-web-4821"
PROJECT_NUMBER = "318541200917"
DETAILS = {
    "refused": "failed_to_connect_to_backend",
    "reset": "backend_connection_closed_before_data_sent_to_client",
    "eof": "backend_connection_closed_before_data_sent_to_client",
    "timeout": "backend_timeout",
    "no_upstream": "failed_to_pick_backend",
}


def _h(text: str, n: int) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()[:n]


def gclb_frame(world: World, proxy: str) -> pl.DataFrame:
    """(ts, order, line): the LB logs a request when its response is done."""
    req = proxy_requests(world, proxy)
    ns = world.pods[0].namespace if world.pods else "default"
    uid = _h(proxy, 16)
    svc = pl.col("service").fill_null("web")
    backend = pl.format(f"k8s1-{uid[:8]}-{ns}-{{}}-80-{uid[8:16]}", svc)
    rfc = "%Y-%m-%dT%H:%M:%S%.9fZ"
    detail = pl.col("error").replace_strict(
        DETAILS, default="response_sent_by_backend", return_dtype=pl.String
    )
    severity = (
        pl.when(pl.col("status") >= 500)
        .then(pl.lit("ERROR"))
        .when(pl.col("status") >= 400)
        .then(pl.lit("WARNING"))
        .otherwise(pl.lit("INFO"))
    )
    trace_id = pl.concat_str(
        hexfmt(pl.struct("request_id").hash(seed=5) // 16, 15),
        hexfmt(pl.struct("request_id").hash(seed=7) // 16, 15),
        pl.lit("a1"),
    )
    entry = pl.struct(
        httpRequest=pl.struct(
            latency=pl.concat_str(fixed(pl.col("duration_ms") / 1000, 6), pl.lit("s")),
            remoteIp=pl.col("client"),
            requestMethod=pl.col("method"),
            requestSize=(pl.col("path").str.len_bytes() + 96).cast(pl.String),
            requestUrl=pl.format("http://{}{}", "host", "path"),
            responseSize=pl.col("bytes").cast(pl.String),
            serverIp=pl.col("upstream").str.extract(r"^([^:]+)"),
            status=pl.col("status"),
            userAgent=pl.col("user_agent"),
        ),
        insertId=pl.concat_str(trace_id.str.slice(0, 6), trace_id.str.slice(20, 8)),
        jsonPayload=pl.struct(
            **{
                "@type": pl.lit(
                    "type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry"
                ),
                "backendTargetProjectNumber": pl.lit(f"projects/{PROJECT_NUMBER}"),
                "remoteIp": pl.col("client"),
                "statusDetails": detail,
            }
        ),
        logName=pl.lit(f"projects/{PROJECT}/logs/requests"),
        receiveTimestamp=(pl.col("end") + pl.duration(milliseconds=2300)).dt.strftime(rfc),
        resource=pl.struct(
            labels=pl.struct(
                backend_service_name=backend,
                forwarding_rule_name=pl.lit(f"k8s2-fr-{uid[:8]}-{ns}-web-{_h(proxy + 'fr', 8)}"),
                project_id=pl.lit(PROJECT),
                target_proxy_name=pl.lit(f"k8s2-tp-{uid[:8]}-{ns}-web-{_h(proxy + 'tp', 8)}"),
                url_map_name=pl.lit(f"k8s2-um-{uid[:8]}-{ns}-web-{_h(proxy + 'um', 8)}"),
                zone=pl.lit("global"),
            ),
            type=pl.lit("http_load_balancer"),
        ),
        severity=severity,
        spanId=hexfmt(pl.struct("request_id").hash(seed=6) // 16, 15).str.zfill(16),
        timestamp=pl.col("end").dt.strftime(rfc),
        trace=pl.concat_str(pl.lit(f"projects/{PROJECT}/traces/"), trace_id),
    )
    return req.select(ts=pl.col("end"), order=pl.lit(1, pl.Int64), line=entry.struct.json_encode())


def gclb_path(proxy: str) -> str:
    return f"gcp/{PROJECT}_requests_{_h(proxy, 6)}.jsonl"
