"""Writers: a ``World`` printed in real log formats, laid out like a collected bundle.

``render(world, truth)`` returns a ``Bundle`` whose files are produced on demand, in chunks:

* ``nodes/<node>/kubelet.log``: the node journal (kubelet + runtime), ``journal``;
* ``events.json``: ``kubectl get events -A -o json``, ``events``;
* ``var/log/pods/<ns>_<pod>_<uid>/<container>/<restart>.log``: each container's output (app lines
  and in-pod proxies: ``nginx``, ``envoy`` (envoy, istio), ``workhorse``), ``containers``;
* ``alb/…log``: AWS ALB access logs, ``alb``;
* ``dumps/…`` instead of the container files when ``World.extras["dumps"]``.

Every writer is a polars expression over the world's frames (no Python loop per request).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

import polars as pl

from analyzer.simulate.model import Bundle, Chunks, Truth
from analyzer.simulate.world import TS, World
from analyzer.simulate.writers.alb import alb_frame, alb_path
from analyzer.simulate.writers.common import render_lines
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

    @lru_cache(maxsize=1)
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

    @lru_cache(maxsize=1)
    def lines_of(key: KEY) -> pl.DataFrame:
        parts = [PROXY_WRITERS[kind](world, name) for kind, name in proxies_in.get(key, [])]
        parts.append(app_lines(world, *key))
        return pl.concat(
            [p.select(pl.col("ts").cast(TS), "order", "stream", "line") for p in parts],
            how="vertical",
        )

    dumps = bool(world.extras.get("dumps"))
    for a in attempts(world):
        key = (a.namespace, a.pod, a.container)
        if key not in printing:
            continue
        if dumps:
            if a.attempt == 0:
                path = dump_path(world, *key)
                files[path] = _container_file(world, a.node, key, lines_of, None, None, True)
            continue
        base = f"{pod_dir(a)}/{a.attempt}.log"
        if _rotates(world, key):
            cut, stamp = rotation_stamp(world, a, offsets.get(a.node, 0.0))
            files[f"{base}.{stamp}.gz"] = _container_file(
                world, a.node, key, lines_of, a.start, cut, False
            )
            files[base] = _container_file(world, a.node, key, lines_of, cut, a.end, False)
        else:
            files[base] = _container_file(world, a.node, key, lines_of, a.start, a.end, False)

    for p in world.proxies:
        if p.kind == "alb":
            _alb_files(world, p.name, files)
    return Bundle(files=files, truth=truth)


def _journal(world: World, node: str, life: Callable[[], pl.DataFrame]) -> Chunks:
    def chunks() -> Iterator[bytes]:
        yield from render_lines(journal_lines(world, node, life()))

    return chunks


def _container_file(world, node, key, lines_of, start, end, dumps) -> Chunks:  # noqa: ANN001
    def chunks() -> Iterator[bytes]:
        lines = in_window(lines_of(key), start, end)
        yield from render_lines(wrap(lines, world, node, dumps=dumps))

    return chunks


def _alb_files(world: World, proxy: str, files: dict[str, Chunks]) -> None:
    @lru_cache(maxsize=1)
    def frame() -> pl.DataFrame:
        return alb_frame(world, proxy)

    req = world.requests.filter(pl.col("proxy") == proxy)
    ends = req.select(
        w=(
            pl.col("ts") + pl.duration(microseconds=(pl.col("duration_ms") * 1000).cast(pl.Int64))
        ).dt.truncate("5m")
        + pl.duration(minutes=5)
    )
    for window in sorted(ends["w"].unique().to_list()):

        def chunks(window=window) -> Iterator[bytes]:  # noqa: ANN001
            yield from render_lines(frame().filter(pl.col("window") == window))

        files[alb_path(proxy, window)] = chunks


__all__ = ["PROXY_WRITERS", "render"]
