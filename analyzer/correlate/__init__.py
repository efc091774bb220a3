"""Correlate: requests -> pods, lifecycle phases, bursts, incidents."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from analyzer.correlate.bursts import (
    DEFAULT_RULE,
    BurstRule,
    background,
    burst_key,
    find_bursts,
    find_tails,
    find_trickles,
    reporter_key,
)
from analyzer.correlate.incidents import IncidentFrames, group_bursts, incident_frames
from analyzer.correlate.lifecycle import (
    LIFECYCLE_KINDS,
    at_pod_incarnation,
    container_episodes,
    container_phases,
    phase_at,
    pod_phases,
)
from analyzer.correlate.modes import with_failure_modes
from analyzer.correlate.upstreams import (
    address_book,
    attribute,
    failing,
    with_pods_by_address,
)
from analyzer.normalize.reduce import as_reduced
from analyzer.schema import COUNT, Kind

__all__ = ["BurstRule", "Correlation", "CorrelationFrames", "assemble", "correlate"]


@dataclass(frozen=True)
class Correlation:
    # every request, with target pod/container and their phases (successful ones as
    # per-second count rows when correlating a ``REDUCED`` frame: ``count``, ``last_ts``)
    requests: pl.DataFrame
    failures: pl.DataFrame  # failing requests
    bursts: pl.DataFrame  # per pod that failed to answer (else per reporting component)
    proxy_bursts: pl.DataFrame  # the same failures per component that reported them
    pod_phases: pl.DataFrame  # change points
    container_phases: pl.DataFrame  # change points
    episodes: pl.DataFrame  # one row per container sent SIGTERM
    incidents: list[IncidentFrames]
    background: pl.DataFrame  # per burst key, failures in no burst (``bursts.background``)


def with_phases(
    requests: pl.DataFrame, pods: pl.DataFrame, containers: pl.DataFrame
) -> pl.DataFrame:
    """Each request with the phase of its target pod and of the container behind its port."""
    out = phase_at(
        requests.rename(
            {
                "target_namespace": "namespace",
                "target_pod": "pod",
                "namespace": "_namespace",
                "pod": "_pod",
            }
        ),
        pods,
        keys=["namespace", "pod"],
        prefix="pod_",
        carry=("incarnation",),
    )
    out = out.rename({"container": "_container", "target_container": "container"})
    out = phase_at(out, containers, keys=["namespace", "pod", "container"], prefix="container_")
    return out.rename(
        {
            "namespace": "target_namespace",
            "pod": "target_pod",
            "container": "target_container",
            "_namespace": "namespace",
            "_pod": "pod",
            "_container": "container",
        }
    )


def request_container_phases(requests: pl.DataFrame, containers: pl.DataFrame) -> pl.DataFrame:
    """Long frame: each failing request x each container of its target pod, with that phase."""
    names = containers.select("namespace", "pod", "container").unique()
    pairs = requests.select(
        "file",
        "line",
        "ts",
        pl.col("target_namespace").alias("namespace"),
        pl.col("target_pod").alias("pod"),
    ).join(names, on=["namespace", "pod"])
    return phase_at(pairs, containers, keys=["namespace", "pod", "container"], prefix="")


def all_requests(events: pl.DataFrame, corr: Correlation) -> pl.DataFrame:
    """Every request of ``events`` (one row per line) attributed and phased as ``corr`` did
    its reduced rows (the same address book and phases)."""
    return with_phases(attribute(events), corr.pod_phases, corr.container_phases)


def correlate(events: pl.DataFrame, *, rule: BurstRule = DEFAULT_RULE) -> Correlation:
    """Requests to pods, phases, bursts and incidents of ``events`` (``schema.EVENTS`` or
    ``schema.REDUCED``; the bulk counted per second is as good as one row per line)."""
    events = events if COUNT in events.columns else as_reduced(events)
    requests = attribute(events)
    pods = pod_phases(events)
    containers = container_phases(events)
    requests = with_phases(requests, pods, containers)
    failures = with_failure_modes(failing(requests), requests)
    keyed = failures.with_columns(burst_key().alias("_burst_key"))
    bursts = find_bursts(keyed, requests, rule=rule)
    bursts = pl.concat([bursts, find_trickles(keyed, requests, bursts)]).sort("start")
    lifecycle = lifecycle_of(events, pods, requests)
    tails = find_tails(keyed, requests, bursts, terminations(lifecycle))
    bursts = pl.concat([bursts, tails]).sort("start")
    return assemble(
        events,
        CorrelationFrames(
            requests=requests,
            failures=failures,
            bursts=group_bursts(bursts, keyed, lifecycle),
            proxy_bursts=find_bursts(keyed, requests, rule=rule, key=reporter_key()),
            pod_phases=pods,
            container_phases=containers,
            episodes=at_pod_incarnation(container_episodes(events), pods, "kill_ts"),
        ),
    )


@dataclass(frozen=True)
class CorrelationFrames:
    """What ``correlate`` works out over all events (an export stores these)."""

    requests: pl.DataFrame
    failures: pl.DataFrame
    bursts: pl.DataFrame
    proxy_bursts: pl.DataFrame
    pod_phases: pl.DataFrame
    container_phases: pl.DataFrame
    episodes: pl.DataFrame


def assemble(events: pl.DataFrame, frames: CorrelationFrames) -> Correlation:
    """The correlation of ``events`` from its frames: the incidents split out of them (a
    report over an export starts here, skipping attribution, phases and bursts)."""
    keyed = frames.failures.with_columns(burst_key().alias("_burst_key"))
    lifecycle = lifecycle_of(events, frames.pod_phases, frames.requests)
    return Correlation(
        requests=frames.requests,
        failures=frames.failures,
        bursts=frames.bursts,
        proxy_bursts=frames.proxy_bursts,
        pod_phases=frames.pod_phases,
        container_phases=frames.container_phases,
        episodes=frames.episodes,
        incidents=incident_frames(lifecycle, frames.requests, keyed, frames.bursts),
        background=background(keyed, frames.bursts),
    )


def terminations(lifecycle: pl.DataFrame) -> pl.DataFrame:
    """When each pod life's termination began (its first deletion, eviction or kill that
    was not a liveness restart), with its longest grace period."""
    return (
        lifecycle.filter(
            pl.col("kind").is_in([Kind.POD_DELETED.value, Kind.EVICTED.value, Kind.KILL.value])
            & pl.col("pod").is_not_null()
            & (pl.col("probe").is_null() | (pl.col("probe") != "liveness"))
        )
        .group_by("namespace", "pod", "pod_incarnation")
        .agg(pl.col("ts").min(), pl.col("grace_period_s").max())
    )


def lifecycle_of(
    events: pl.DataFrame, pods: pl.DataFrame, requests: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The lifecycle lines of ``events``, each with the pod life it belongs to."""
    lines = events.filter(pl.col("kind").is_in(LIFECYCLE_KINDS))
    about = pl.col("kind").is_in(ABOUT_TARGET) & pl.col("upstream").is_not_null()
    if lines.select(about.any()).item():
        # Not the logger's own pod (a controller's): the pod that held the address then,
        # from the address book, else from the requests attributed to that address.
        lines = lines.with_columns(
            pl.when(about).then(None).otherwise(pl.col(c)).alias(c) for c in ("namespace", "pod")
        )
        lines = with_pods_by_address(lines, address_book(events))
        if requests is not None:
            lines = about_targets(lines, requests)
    return at_pod_incarnation(lines, pods, "ts")


#: Lines that a component logs about another pod, named by its address (a load balancer
#: deregistering a target): they belong to that pod's lifecycle, not the logger's.
ABOUT_TARGET = (Kind.LB_DEREGISTERED.value,)


def about_targets(lines: pl.DataFrame, requests: pl.DataFrame) -> pl.DataFrame:
    """``lines`` with each ``ABOUT_TARGET`` line that names no pod yet given the pod its
    ``upstream`` was attributed to (the requests to that address nearest in time)."""
    about = pl.col("kind").is_in(ABOUT_TARGET) & pl.col("upstream").is_not_null()
    about = about & pl.col("pod").is_null()
    if not lines.select(about.any()).item():
        return lines
    book = (
        requests.filter(pl.col("target_pod").is_not_null() & pl.col("upstream").is_not_null())
        .select("upstream", "ts", "target_namespace", "target_pod")
        .unique(["upstream", "target_namespace", "target_pod"], keep="first")
        .sort("ts")
    )
    mine = lines.with_row_index("_li")
    named = (
        mine.filter(about)
        .select("_li", "upstream", "ts")
        .sort("ts")
        .join_asof(book, on="ts", by="upstream", strategy="nearest", check_sortedness=False)
        .filter(pl.col("target_pod").is_not_null())
        .select("_li", "target_namespace", "target_pod")
    )
    return (
        mine.join(named, on="_li", how="left")
        .with_columns(
            pl.coalesce("namespace", "target_namespace").alias("namespace"),
            pl.coalesce("pod", "target_pod").alias("pod"),
        )
        .drop("_li", "target_namespace", "target_pod")
    )
