"""GitLab Workhorse (JSON logging, the chart's default): the labkit access line and, for an
upstream that failed, the ``badgateway`` error line (log-formats.md 5.2-5.3). Keys sorted as
logrus' JSONFormatter writes them; ``time`` is RFC 3339 seconds of when the response finished."""

from __future__ import annotations

import polars as pl

from analyzer.simulate.world import World
from analyzer.simulate.writers.common import proxy_requests, rfc3339, skew, upstream_failed


def _go_json(expr: pl.Expr) -> pl.Expr:
    """Go's encoding/json HTML-escapes ``<``, ``>`` and ``&``."""
    return (
        expr.str.replace_all("&", "\\u0026", literal=True)
        .str.replace_all("<", "\\u003c", literal=True)
        .str.replace_all(">", "\\u003e", literal=True)
    )


def workhorse_lines(world: World, proxy: str) -> pl.DataFrame:
    req = proxy_requests(world, proxy)
    time = rfc3339(skew(pl.col("end"), pl.col("node"), world))
    dur = pl.col("duration_ms").floor().cast(pl.Int64)
    access = pl.struct(
        backend_id=pl.lit("rails"),
        content_type=pl.lit("text/html; charset=utf-8"),
        correlation_id=pl.col("request_id"),
        duration_ms=dur,
        host=pl.col("host"),
        level=pl.lit("info"),
        method=pl.col("method"),
        msg=pl.lit("access"),
        proto=pl.lit("HTTP/1.1"),
        referrer=pl.lit(""),
        remote_addr=pl.concat_str(pl.col("client"), pl.lit(":0")),
        remote_ip=pl.col("client"),
        route=pl.lit(""),
        route_id=pl.lit("default"),
        status=pl.col("status"),
        system=pl.lit("http"),
        time=time,
        ttfb_ms=dur,
        uri=pl.col("path"),
        user_agent=pl.col("user_agent"),
        written_bytes=pl.col("bytes"),
    ).struct.json_encode()
    lines = req.select(
        ts=pl.col("end"), order=pl.lit(1, pl.Int64), stream=pl.lit("stdout"), line=_go_json(access)
    )
    port = pl.col("up_port").fill_null("8080")
    reason = (
        pl.when(pl.col("error") == "reset")
        .then(
            pl.format(
                "read tcp 127.0.0.1:{}->127.0.0.1:{}: read: connection reset by peer",
                (pl.struct("request_id").hash(seed=5) % 28000 + 32768),
                port,
            )
        )
        .when(pl.col("error") == "eof")
        .then(pl.lit("EOF"))
        .when(pl.col("error") == "timeout")
        .then(pl.lit("timeout awaiting response headers"))
        .otherwise(pl.format("dial tcp 127.0.0.1:{}: connect: connection refused", port))
    )
    failed = req.filter(upstream_failed() | (pl.col("error") == "no_upstream"))
    error = pl.struct(
        correlation_id=pl.col("request_id"),
        duration_ms=dur,
        error=pl.concat_str(pl.lit("badgateway: failed to receive response: "), reason),
        level=pl.lit("error"),
        method=pl.col("method"),
        msg=pl.lit(""),
        time=time,
        uri=pl.col("path"),
    ).struct.json_encode()
    errors = failed.select(
        ts=pl.col("end"), order=pl.lit(0, pl.Int64), stream=pl.lit("stdout"), line=_go_json(error)
    )
    return pl.concat([errors, lines])
