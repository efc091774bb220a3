"""AWS Application Load Balancer access log files (log-formats.md 10.3): one file per
5-minute interval, named as the S3 keys are; the logged time is when the response was sent."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import polars as pl

from analyzer.simulate.world import World
from analyzer.simulate.writers.common import fixed, hexfmt, proxy_requests, upstream_failed

ACCOUNT = "123456789012"
REGION = "us-east-1"


def _lb_id(name: str) -> str:
    return hashlib.blake2b(name.encode(), digest_size=8).hexdigest()


def target_group_arn(proxy: str) -> str:
    """The IP target group the AWS Load Balancer Controller made for the ALB's service:
    ``targetgroup/k8s-<ns>-<svc>-<hash>/<id>`` (names cut to 8 characters each)."""
    name = proxy.split("/")[1] if proxy.count("/") >= 2 else proxy
    parts = name.split("-")
    ns, svc = (parts[1], "-".join(parts[2:])) if len(parts) >= 3 else ("default", name)
    tg = f"k8s-{ns[:8]}-{svc[:8]}-{_lb_id(proxy + '/name')[:10]}"
    return (
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{tg}/{_lb_id(proxy + '/tg')}"
    )


def alb_frame(world: World, proxy: str) -> pl.DataFrame:
    """(ts, order, window, line): ``window`` is the end of the file's 5-minute interval."""
    req = proxy_requests(world, proxy)
    lb = _lb_id(proxy)
    us = "%Y-%m-%dT%H:%M:%S%.6fZ"
    no_target = pl.col("upstream").is_null()
    failed = upstream_failed() | no_target
    dur_s = pl.col("duration_ms") / 1000
    req_pt = pl.when(no_target).then(pl.lit("-1")).otherwise(pl.lit("0.000"))
    tgt_pt = pl.when(failed).then(pl.lit("-1")).otherwise(fixed(dur_s, 3))
    resp_pt = pl.when(failed).then(pl.lit("-1")).otherwise(pl.lit("0.000"))
    t_status = pl.col("upstream_status").cast(pl.String).fill_null("-")
    c_port = (pl.struct("request_id").hash(seed=13) % 28000 + 32768).cast(pl.String)
    trace = pl.concat_str(
        pl.lit('"Root=1-'),
        hexfmt(pl.col("ts").dt.epoch("s"), 8),
        pl.lit("-"),
        hexfmt(pl.struct("request_id").hash(seed=1) // 65536, 12),
        hexfmt(pl.struct("request_id").hash(seed=2) // 65536, 12),
        pl.lit('"'),
    )
    target = pl.col("upstream").fill_null("-")
    line = pl.concat_str(
        pl.lit("http "),
        pl.col("end").dt.strftime(us),
        pl.lit(f" app/{proxy}/{lb} "),
        pl.col("client"),
        pl.lit(":"),
        c_port,
        pl.lit(" "),
        target,
        pl.lit(" "),
        req_pt,
        pl.lit(" "),
        tgt_pt,
        pl.lit(" "),
        resp_pt,
        pl.lit(" "),
        pl.col("status").cast(pl.String),
        pl.lit(" "),
        t_status,
        pl.lit(" "),
        (pl.col("path").str.len_bytes() + 120).cast(pl.String),
        pl.lit(" "),
        pl.col("bytes").cast(pl.String),
        pl.format(
            ' "{} http://{}:80{} HTTP/1.1" "{}" - - ',
            "method",
            "host",
            "path",
            pl.col("user_agent").str.replace_all('"', '\\"', literal=True),
        ),
        pl.lit(f"{target_group_arn(proxy)} "),
        trace,
        pl.format(' "{}" "-" 0 ', "host"),
        pl.col("ts").dt.strftime(us),
        pl.lit(' "forward" "-" "-" "'),
        target,
        pl.lit('" "'),
        t_status,
        pl.lit('" "-" "-"'),
    )
    return req.select(
        ts=pl.col("end"),
        order=pl.lit(1, pl.Int64),
        window=pl.col("end").dt.truncate("5m") + pl.duration(minutes=5),
        line=line,
    )


def alb_path(proxy: str, window: datetime) -> str:
    """``alb/<acct>_elasticloadbalancing_<region>_app.<name>.<id>_<end>_<ip>_<rand>.log``."""
    stamp = window.strftime("%Y%m%dT%H%MZ")
    rand = hashlib.blake2b(f"{proxy}{stamp}".encode(), digest_size=4).hexdigest()
    return (
        f"alb/{ACCOUNT}_elasticloadbalancing_{REGION}_app.{proxy}.{_lb_id(proxy)}_{stamp}_"
        f"10.0.1.17_{rand}.log"
    )


def alb_windows(world: World) -> list[datetime]:
    """Every 5-minute interval end the world's span touches (a file each when it has lines)."""
    start = world.start.replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % 5)
    out = []
    t = start
    while t <= world.end + timedelta(minutes=5):
        out.append(t + timedelta(minutes=5))
        t += timedelta(minutes=5)
    return out
