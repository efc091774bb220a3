"""ingress-nginx controller pod: the default ``log-format-upstream`` access line (stdout) and,
for an upstream that failed, nginx's error line (stderr), log-formats.md 8.1-8.3.

The access line's time is when the response finished (``$time_local``, ts + duration)."""

from __future__ import annotations

import polars as pl

from analyzer.simulate.world import World
from analyzer.simulate.writers.common import (
    fixed,
    nginx_escape,
    proxy_requests,
    skew,
    upstream_failed,
)

ERRORS = {
    "refused": "connect() failed (111: Connection refused) while connecting to upstream",
    "reset": "recv() failed (104: Connection reset by peer) while reading response header "
    "from upstream",
    "eof": "upstream prematurely closed connection while reading response header from upstream",
    "timeout": "upstream timed out (110: Operation timed out) while reading response header "
    "from upstream",
}
WORKER_PID = 32


def nginx_lines(world: World, proxy: str) -> pl.DataFrame:
    """(ts, order, stream, line) for the proxy's container."""
    req = proxy_requests(world, proxy)
    shown = skew(pl.col("end"), pl.col("node"), world)
    up_status = pl.coalesce(
        pl.col("upstream_status"),
        pl.when(pl.col("error") == "timeout").then(pl.lit(504)).when(upstream_failed()).then(502),
    )
    up_len = pl.when(pl.col("upstream_status").is_not_null()).then(pl.col("bytes")).otherwise(0)
    up_fields = (
        pl.when(pl.col("upstream").is_null())
        .then(pl.lit("- - - -"))
        .otherwise(
            pl.concat_str(
                pl.col("upstream"),
                pl.lit(" "),
                up_len.cast(pl.String),
                pl.lit(" "),
                fixed(pl.col("duration_ms") / 1000, 3),
                pl.lit(" "),
                up_status.cast(pl.String).fill_null("-"),
            )
        )
    )
    request = pl.format("{} {} HTTP/1.1", "method", "path")
    req_len = pl.col("path").str.len_bytes() + pl.col("user_agent").str.len_bytes() + 63
    access = pl.concat_str(
        pl.col("client"),
        pl.lit(" - - ["),
        shown.dt.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        pl.lit('] "'),
        nginx_escape(request),
        pl.lit('" '),
        pl.col("status").cast(pl.String),
        pl.lit(" "),
        pl.col("bytes").cast(pl.String),
        pl.lit(' "-" "'),
        nginx_escape(pl.col("user_agent")),
        pl.lit('" '),
        req_len.cast(pl.String),
        pl.lit(" "),
        fixed(pl.col("duration_ms") / 1000, 3),
        pl.lit(" ["),
        pl.format("{}-{}-{}", "namespace", "service", "up_port").fill_null(
            pl.format("{}-80", "service")
        ),
        pl.lit("] [] "),
        up_fields,
        pl.lit(" "),
        pl.col("request_id"),
    )
    lines = req.select(
        ts=pl.col("end"), order=pl.lit(1, pl.Int64), stream=pl.lit("stdout"), line=access
    )
    failed = req.with_row_index("conn").filter(upstream_failed() & pl.col("upstream").is_not_null())
    message = pl.col("error").replace_strict(ERRORS, default="", return_dtype=pl.String)
    err_shown = skew(pl.col("end"), pl.col("node"), world)
    error = pl.concat_str(
        err_shown.dt.strftime("%Y/%m/%d %H:%M:%S"),
        pl.lit(f" [error] {WORKER_PID}#{WORKER_PID}: *"),
        (pl.col("conn") + 1000).cast(pl.String),
        pl.lit(" "),
        message,
        pl.lit(", client: "),
        pl.col("client"),
        pl.lit(", server: "),
        pl.col("host"),
        pl.lit(', request: "'),
        request,
        pl.lit('", upstream: "http://'),
        pl.col("upstream"),
        pl.col("path"),
        pl.lit('", host: "'),
        pl.col("host"),
        pl.lit('"'),
    )
    errors = failed.select(
        ts=pl.col("end"), order=pl.lit(0, pl.Int64), stream=pl.lit("stderr"), line=error
    )
    return pl.concat([errors, lines])
