"""Container log files: what a container printed (its app lines, or a proxy's lines) wrapped as
the runtime stores it, laid out as the kubelet does.

* containerd / CRI-O: CRI format ``<RFC3339Nano> <stream> F <line>`` (CRI-O: nine digits and
  ``+00:00``) in ``var/log/pods/<ns>_<pod>_<uid>/<container>/<restart>.log``;
* docker: json-file records ``{"log":"<line>\\n","stream":…,"time":…}`` at the same path (the
  kubelet's symlink layout under dockershim);
* ``World.extras["dumps"]``: ``kubectl logs`` dumps without a wrapper,
  ``dumps/<ns>/<pod>/<container>.log`` (``dumps/<ns>/<pod>.log`` for a one-container pod);
* ``World.extras["rotate"]``: each file's older half rotated to
  ``<restart>.log.<YYYYMMDD-HHMMSS>.gz`` (written gzipped) beside the current file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from analyzer.simulate.world import World
from analyzer.simulate.writers.common import iso_ms, rfc3339nano, rfc3339nano_crio, skew

#: containerd's ``max_container_log_line_size`` / Docker's json-file split size.
LIMIT = 16 * 1024

#: containerd's read lag between the app's write and the CRI timestamp.
CRI_LAG_NS = 41_300

#: A container's lines: (ts, order, stream, line), ts the true write time.
LineSource = Callable[[], pl.DataFrame]


@dataclass(frozen=True)
class Attempt:
    """One run of a container: lines written in [start, end) go to its file."""

    namespace: str
    pod: str
    uid: str
    node: str
    container: str
    attempt: int
    start: datetime | None  # None: from the beginning
    end: datetime | None  # None: to the end


def attempts(world: World) -> list[Attempt]:
    """Every container run: a second ``container_started`` of a container is restart 1."""
    starts = (
        world.lifecycle.filter(pl.col("kind") == "container_started")
        .sort("ts")
        .group_by(["namespace", "pod", "container"], maintain_order=True)
        .agg(pl.col("ts"))
    )
    by_key = {
        (r["namespace"], r["pod"], r["container"]): r["ts"] for r in starts.iter_rows(named=True)
    }
    out = []
    for p in world.pods:
        for c in p.containers:
            times = by_key.get((p.namespace, p.name, c.name), [])
            n = max(len(times), 1)
            for i in range(n):
                start = times[i] if i > 0 else None
                end = times[i + 1] if i + 1 < len(times) else None
                out.append(Attempt(p.namespace, p.name, p.uid, p.node, c.name, i, start, end))
    return out


def app_lines(world: World, namespace: str, pod: str, container: str) -> pl.DataFrame:
    """The container's own lines, with their time in the line (JSON: a leading ``time``)."""
    rows = world.app_lines.filter(
        (pl.col("namespace") == namespace)
        & (pl.col("pod") == pod)
        & (pl.col("container") == container)
    )
    node = world.pod(namespace, pod).node
    at = skew(pl.col("ts"), pl.lit(node), world)
    shown = iso_ms(at)
    fields = pl.col("fields").str.strip_chars()
    json_line = pl.concat_str(
        pl.lit('{"time":"'),
        shown,
        pl.lit('"'),
        pl.when(fields == "{}")
        .then(pl.lit("}"))
        .otherwise(pl.concat_str(pl.lit(","), fields.str.slice(1))),
    )
    line = (
        pl.when(pl.col("fields").is_not_null())
        .then(json_line)
        # a line the app printed whole, its own time in it (zap JSON, Go log, ...)
        .when(pl.col("level").is_null() & pl.col("text").is_not_null())
        .then(pl.col("text"))
        .otherwise(
            pl.concat_str(
                at.dt.strftime("%Y-%m-%d %H:%M:%S%.3f"),
                pl.lit(" "),
                pl.col("level").fill_null("info").str.to_uppercase(),
                pl.lit(" "),
                pl.col("text").fill_null(""),
            )
        )
    )
    stream = (
        pl.when(pl.col("level").is_in(["error", "fatal", "ERROR", "FATAL"]))
        .then(pl.lit("stderr"))
        .otherwise(pl.lit("stdout"))
    )
    return rows.select(ts=pl.col("ts"), order=pl.lit(2, pl.Int64), stream=stream, line=line)


def split_long(lines: pl.DataFrame) -> pl.DataFrame:
    """Lines over ``LIMIT`` bytes as the runtime stores them: pieces of ``LIMIT`` characters
    (bytes for ASCII), ``last`` false on all but the final one; short lines pass as they are."""
    lines = lines.with_columns(last=pl.lit(True))
    long = pl.col("line").str.len_bytes() > LIMIT
    if not lines.select(long.any()).item():
        return lines
    n = (pl.col("line").str.len_chars() + LIMIT - 1) // LIMIT
    pieces = (
        lines.filter(long)
        .with_columns(_k=pl.int_ranges(0, n), _n=n)
        .explode("_k")
        .with_columns(
            line=pl.col("line").str.slice(pl.col("_k") * LIMIT, LIMIT),
            last=pl.col("_k") == pl.col("_n") - 1,
        )
        .drop("_k", "_n")
    )
    return pl.concat([lines.filter(~long), pieces])


def wrap(lines: pl.DataFrame, world: World, node: str, *, dumps: bool) -> pl.DataFrame:
    """``lines`` as the file holds them: (ts, order, line). The runtimes split lines over
    16 KiB: CRI ``P`` fragments then ``F``; json-file records without the newline."""
    if dumps:
        return lines.select("ts", "order", "line")
    lines = split_long(lines)
    at = skew(pl.col("ts") + pl.duration(nanoseconds=CRI_LAG_NS), pl.lit(node), world)
    if world.runtime == "docker":
        newline = pl.when(pl.col("last")).then(pl.lit("\n")).otherwise(pl.lit(""))
        record = pl.struct(
            log=pl.concat_str(pl.col("line"), newline),
            stream=pl.col("stream"),
            time=rfc3339nano(at),
        ).struct.json_encode()
        return lines.select("ts", "order", line=record)
    stamp = rfc3339nano_crio(at) if world.runtime == "cri-o" else rfc3339nano(at)
    tag = pl.when(pl.col("last")).then(pl.lit(" F ")).otherwise(pl.lit(" P "))
    return lines.select(
        "ts",
        "order",
        line=pl.concat_str(stamp, pl.lit(" "), pl.col("stream"), tag, pl.col("line")),
    )


def pod_dir(a: Attempt) -> str:
    return f"var/log/pods/{a.namespace}_{a.pod}_{a.uid}/{a.container}"


def dump_path(world: World, namespace: str, pod: str, container: str) -> str:
    if len(world.pod(namespace, pod).containers) == 1:
        return f"dumps/{namespace}/{pod}.log"
    return f"dumps/{namespace}/{pod}/{container}.log"


def rotation_stamp(world: World, a: Attempt, node_offset_s: float) -> tuple[datetime, str]:
    """Where the rotation cut falls (the middle of the run) and the suffix it gives the file
    (the node's local time, ``YYYYMMDD-HHMMSS``, as the kubelet names it)."""
    start = a.start or world.start
    end = a.end or world.end
    cut = start + (end - start) / 2
    from datetime import timedelta

    shown = cut + timedelta(seconds=node_offset_s)
    return cut, shown.strftime("%Y%m%d-%H%M%S")


def in_window(
    lines: pl.DataFrame, start: datetime | None, end: datetime | None, column: str = "ts"
) -> pl.DataFrame:
    cond = pl.lit(True)
    if start is not None:
        cond = cond & (pl.col(column) >= start)
    if end is not None:
        cond = cond & (pl.col(column) < end)
    return lines.filter(cond)
