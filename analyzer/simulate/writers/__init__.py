"""Writers: a ``World`` printed in real log formats, laid out like a collected bundle.

``render(world, truth)`` returns a ``Bundle`` whose files are produced on demand, in chunks:

* ``nodes/<node>/kubelet.log``: the node journal (kubelet + runtime), ``journal``;
* ``events.json``: ``kubectl get events -A -o json``, ``events``;
* ``var/log/pods/<ns>_<pod>_<uid>/<container>/<restart>.log``: each container's output (app lines
  and in-pod proxies: ``nginx``, ``envoy`` (envoy, istio), ``workhorse``), ``containers``;
* ``alb/…log``: AWS ALB access logs, ``alb``;
* ``gcp/…jsonl``: Google Cloud load balancer request logs (GKE NEG), ``gclb``;
* ``dumps/…`` instead of the container files when ``World.extras["dumps"]``.

Every writer is a polars expression over the world's frames (no Python loop per request).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from functools import cache

import polars as pl

from analyzer.simulate.model import Bundle, Chunks, Truth
from analyzer.simulate.world import TS, World
from analyzer.simulate.writers import common
from analyzer.simulate.writers.alb import alb_frame, alb_path
from analyzer.simulate.writers.common import ms, render_lines
from analyzer.simulate.writers.containers import (
    app_lines,
    attempts,
    dump_path,
    in_window,
    pod_dir,
    rotation_stamp,
    wrap,
)
from analyzer.simulate.writers.envoy import envoy_lines, istio_lines
from analyzer.simulate.writers.events import events_json
from analyzer.simulate.writers.gclb import gclb_frame, gclb_path
from analyzer.simulate.writers.journal import journal_lines, lifecycle_rows
from analyzer.simulate.writers.nginx import nginx_lines
from analyzer.simulate.writers.workhorse import workhorse_lines

#: In-pod proxy kinds and the writer of their lines (ts, order, stream, line).
PROXY_WRITERS: dict[str, Callable[[World, str], pl.DataFrame]] = {
    "ingress-nginx": nginx_lines,
    "envoy": envoy_lines,
    "istio": istio_lines,
    "workhorse": workhorse_lines,
}
KEY = tuple[str, str, str]  # namespace, pod, container


def _rotates(world: World, key: KEY) -> bool:
    rotate = world.extras.get("rotate")
    if not rotate:
        return False
    if isinstance(rotate, (str, bytes)) or not hasattr(rotate, "__iter__"):
        return True
    ns, pod, container = key
    return f"{ns}/{pod}" in rotate or f"{ns}/{pod}/{container}" in rotate  # type: ignore[operator]


def render(world: World, truth: Truth) -> Bundle:
    files: dict[str, Chunks] = {}
    offsets = {n.name: n.clock_offset_s for n in world.nodes}

    @cache
    def life() -> pl.DataFrame:
        return lifecycle_rows(world)

    for node in world.nodes:
        files[f"nodes/{node.name}/kubelet.log"] = _journal(world, node.name, life)
    files["events.json"] = lambda: (events_json(world).encode(),)

    # containers that print something: app lines or an in-pod proxy
    proxies_in: dict[KEY, list[tuple[str, str]]] = {}
    for p in world.proxies:
        if p.pod is not None and p.kind in PROXY_WRITERS:
            key = (p.pod.namespace, p.pod.name, p.container)
            proxies_in.setdefault(key, []).append((p.kind, p.name))
    printing = set(proxies_in)
    for row in world.app_lines.select("namespace", "pod", "container").unique().iter_rows():
        printing.add(row)

    def lines_of(key: KEY, part: World) -> pl.DataFrame:
        """The container's lines from ``part`` (the world cut to one slice of write time)."""
        parts = [PROXY_WRITERS[kind](part, name) for kind, name in proxies_in.get(key, [])]
        parts.append(app_lines(part, *key))
        return pl.concat(
            [p.select(pl.col("ts").cast(TS), "order", "stream", "line") for p in parts],
            how="vertical",
        )

    def proxy_names(key: KEY) -> list[str]:
        return [name for _, name in proxies_in.get(key, [])]

    dumps = bool(world.extras.get("dumps"))
    for a in attempts(world):
        key = (a.namespace, a.pod, a.container)
        if key not in printing:
            continue
        if dumps:
            if a.attempt == 0:
                path = dump_path(world, *key)
                files[path] = _container_file(
                    world, a.node, key, lines_of, proxy_names(key), None, None, True
                )
            continue
        base = f"{pod_dir(a)}/{a.attempt}.log"
        if _rotates(world, key):
            cut, stamp = rotation_stamp(world, a, offsets.get(a.node, 0.0))
            files[f"{base}.{stamp}.gz"] = _container_file(
                world, a.node, key, lines_of, proxy_names(key), a.start, cut, False
            )
            files[base] = _container_file(
                world, a.node, key, lines_of, proxy_names(key), cut, a.end, False
            )
        else:
            files[base] = _container_file(
                world, a.node, key, lines_of, proxy_names(key), a.start, a.end, False
            )

    for p in world.proxies:
        if p.kind == "alb":
            _alb_files(world, p.name, files)
        if p.kind == "gclb":
            files[gclb_path(p.name)] = _gclb_file(world, p.name)
    return Bundle(files=files, truth=truth)


def _journal(world: World, node: str, life: Callable[[], pl.DataFrame]) -> Chunks:
    def chunks() -> Iterator[bytes]:
        yield from render_lines(journal_lines(world, node, life()))

    return chunks


def _container_file(world, node, key, lines_of, proxies, start, end, dumps) -> Chunks:  # noqa: ANN001, PLR0913
    """A container file's chunks: the world is cut into slices of write time holding about
    ``CHUNK_ROWS`` requests each, and each slice is formatted, sorted and yielded on its own
    (lines are written when a request ends, so slices by end time keep the file in order)."""

    def chunks() -> Iterator[bytes]:
        end_ts = pl.col("ts") + ms(pl.col("duration_ms"))
        req = in_window(
            world.requests.filter(pl.col("proxy").is_in(proxies)).with_columns(_end=end_ts),
            start,
            end,
            column="_end",
        )
        ns, pod, container = key
        own = world.app_lines.filter(
            (pl.col("namespace") == ns)
            & (pl.col("pod") == pod)
            & (pl.col("container") == container)
        )
        ends = req["_end"].sort()
        step = common.CHUNK_ROWS
        edges = [start, *[ends[i] for i in range(step, ends.len(), step)], end]
        for lo, hi in itertools.pairwise(edges):
            part = replace(
                world,
                requests=in_window(req, lo, hi, column="_end").drop("_end"),
                app_lines=in_window(own, lo, hi),
            )
            yield from render_lines(wrap(lines_of(key, part), world, node, dumps=dumps))

    return chunks


def _gclb_file(world: World, proxy: str) -> Chunks:
    def chunks() -> Iterator[bytes]:
        yield from render_lines(gclb_frame(world, proxy).sort("ts", "order"))

    return chunks


def _alb_files(world: World, proxy: str, files: dict[str, Chunks]) -> None:
    req = world.requests.filter(pl.col("proxy") == proxy)
    req = req.with_columns(_end=pl.col("ts") + ms(pl.col("duration_ms")))
    ends = req.select(w=pl.col("_end").dt.truncate("5m") + pl.duration(minutes=5))
    for window in sorted(ends["w"].unique().to_list()):

        def chunks(window=window) -> Iterator[bytes]:  # noqa: ANN001
            w = window - timedelta(minutes=5)
            cut = req.filter((pl.col("_end") >= w) & (pl.col("_end") < window)).drop("_end")
            yield from render_lines(alb_frame(replace(world, requests=cut), proxy))

        files[alb_path(proxy, window)] = chunks


__all__ = ["PROXY_WRITERS", "render"]
