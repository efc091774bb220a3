"""Envoy's default access-log text and Istio's default text (``meshConfig.accessLogFile``),
log-formats.md 9.1-9.4. The logged time is START_TIME (ts); the duration is logged; the line
is written when the request ends (ts + duration)."""

from __future__ import annotations

import polars as pl

from analyzer.simulate.world import World
from analyzer.simulate.writers.common import proxy_requests, skew

FLAGS = {"refused": "UF", "reset": "UC", "eof": "UC", "timeout": "UT", "no_upstream": "UH"}
DETAILS = {
    "refused": "upstream_reset_before_response_started"
    "{connection_failure,delayed_connect_error:_111}",
    "reset": "upstream_reset_before_response_started{connection_termination}",
    "eof": "upstream_reset_before_response_started{connection_termination}",
    "timeout": "response_timeout",
    "no_upstream": "no_healthy_upstream",
}


def _common(req: pl.DataFrame, world: World) -> dict[str, pl.Expr]:
    shown = skew(pl.col("ts"), pl.col("node"), world)
    start = pl.concat_str(pl.lit("["), shown.dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"), pl.lit("]"))
    flags = pl.col("error").replace_strict(FLAGS, default="-", return_dtype=pl.String)
    ust = (
        pl.when(pl.col("upstream_status").is_not_null())
        .then((pl.col("duration_ms") * 0.93).floor().cast(pl.Int64).cast(pl.String))
        .otherwise(pl.lit("-"))
    )
    recv = pl.when(pl.col("method").is_in(["POST", "PUT", "PATCH"])).then(512).otherwise(0)
    return {
        "start": start,
        "request": pl.format('"{} {} HTTP/1.1"', "method", "path"),
        "flags": flags,
        "recv": recv.cast(pl.String),
        "sent": pl.col("bytes").cast(pl.String),
        "duration": pl.col("duration_ms").floor().cast(pl.Int64).cast(pl.String),
        "ust": ust,
        "tail": pl.format(
            '"{}" "{}" "{}" "{}" "{}"',
            "client",
            "user_agent",
            "request_id",
            "host",
            pl.col("upstream").fill_null("-"),
        ),
    }


def envoy_lines(world: World, proxy: str) -> pl.DataFrame:
    req = proxy_requests(world, proxy)
    c = _common(req, world)
    line = pl.concat_str(
        c["start"],
        pl.lit(" "),
        c["request"],
        pl.lit(" "),
        pl.col("status").cast(pl.String),
        pl.lit(" "),
        c["flags"],
        pl.lit(" "),
        c["recv"],
        pl.lit(" "),
        c["sent"],
        pl.lit(" "),
        c["duration"],
        pl.lit(" "),
        c["ust"],
        pl.lit(" "),
        c["tail"],
    )
    return req.select(
        ts=pl.col("end"), order=pl.lit(1, pl.Int64), stream=pl.lit("stdout"), line=line
    )


def istio_lines(world: World, proxy: str) -> pl.DataFrame:
    spec = next(p for p in world.proxies if p.name == proxy)
    own_ns = spec.pod.namespace if spec.pod else ""
    own_pod = spec.pod.name if spec.pod else ""
    own_ip = spec.pod.ip if spec.pod else "10.0.0.1"
    req = proxy_requests(world, proxy)
    c = _common(req, world)
    inbound = (pl.col("namespace") == own_ns) & (pl.col("pod") == own_pod)
    eph = (pl.struct("request_id", "ts").hash(seed=11) % 28000 + 32768).cast(pl.String)
    cluster = (
        pl.when(inbound.fill_null(False))
        .then(pl.format("inbound|{}||", "up_port"))
        .otherwise(
            pl.format(
                "outbound|{}||{}.{}.svc.cluster.local",
                "up_port",
                "service",
                pl.col("namespace").fill_null(own_ns),
            )
        )
    )
    up_local = (
        pl.when(pl.col("upstream_status").is_null())
        .then(pl.lit("-"))
        .when(inbound.fill_null(False))
        .then(pl.concat_str(pl.lit("127.0.0.6:"), eph))
        .otherwise(pl.concat_str(pl.lit(f"{own_ip}:"), eph))
    )
    down_local = (
        pl.when(inbound.fill_null(False))
        .then(pl.col("upstream"))
        .otherwise(pl.lit(f"{own_ip}:15001"))
    )
    details = pl.col("error").replace_strict(
        DETAILS, default="via_upstream", return_dtype=pl.String
    )
    tfr = pl.when(pl.col("error") == "refused").then(pl.lit('"delayed_connect_error:_111"'))
    line = pl.concat_str(
        c["start"],
        pl.lit(" "),
        c["request"],
        pl.lit(" "),
        pl.col("status").cast(pl.String),
        pl.lit(" "),
        c["flags"],
        pl.lit(" "),
        details,
        pl.lit(" - "),
        tfr.otherwise(pl.lit('"-"')),
        pl.lit(" "),
        c["recv"],
        pl.lit(" "),
        c["sent"],
        pl.lit(" "),
        c["duration"],
        pl.lit(" "),
        c["ust"],
        pl.lit(" "),
        c["tail"],
        pl.lit(" "),
        cluster,
        pl.lit(" "),
        up_local,
        pl.lit(" "),
        down_local.fill_null("-"),
        pl.lit(" "),
        pl.concat_str(pl.col("client"), pl.lit(":"), eph),
        pl.lit(" - default"),
    )
    return req.select(
        ts=pl.col("end"), order=pl.lit(1, pl.Int64), stream=pl.lit("stdout"), line=line
    )
