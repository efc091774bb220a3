"""The one canonical event schema.

Every ingested line that becomes an event is one row of ``EVENTS``. Later stages never
spell a column name that is not declared here, and ``conform`` is the only way a frame
enters the pipeline.
"""

from __future__ import annotations

from enum import StrEnum

import polars as pl


class Source(StrEnum):
    """Which layer of the cluster wrote the line."""

    KUBELET = "kubelet"
    EVENT = "event"
    RUNTIME = "runtime"
    APP = "app"
    PROXY = "proxy"


class Kind(StrEnum):
    """Closed vocabulary of what a line means for the termination story."""

    PROBE_FAILED = "probe_failed"  # one failed probe attempt
    PROBE_ERRORED = "probe_errored"  # probe could not run
    NOT_READY = "not_ready"  # kubelet readiness transition to not ready / unhealthy
    READY = "ready"  # kubelet readiness transition to ready
    POD_ADDED = "pod_added"
    POD_DELETED = "pod_deleted"  # graceful deletion reached the node
    POD_REMOVED = "pod_removed"  # object gone from the API
    KILL = "kill"  # SIGTERM about to be sent, with grace period
    SIGKILL = "sigkill"  # grace expired, runtime kills
    SHUTDOWN_STARTED = "shutdown_started"
    SHUTDOWN_FINISHED = "shutdown_finished"
    CONTAINER_STARTED = "container_started"
    CONTAINER_DIED = "container_died"
    OOM_KILLED = "oom_killed"  # the kernel's OOM killer killed the container (runtime TaskOOM)
    BACK_OFF = "back_off"  # the kubelet holds a crashed container back (CrashLoopBackOff)
    EVICTED = "evicted"  # the kubelet's eviction manager or the eviction API took the pod
    LB_DEREGISTERED = "lb_deregistered"  # a load balancer began removing a target (``upstream``)
    APP_STARTED = "app_started"  # process boot / listening
    HTTP = "http"  # one served request (access line)
    UPSTREAM_ERROR = "upstream_error"  # proxy could not reach its upstream
    LOG = "log"  # any other parsed line


KINDS: tuple[str, ...] = tuple(k.value for k in Kind)
SOURCES: tuple[str, ...] = tuple(s.value for s in Source)

#: Column -> dtype, in output order.
EVENTS = pl.Schema(
    {
        "ts": pl.Datetime("ns", "UTC"),
        "source": pl.String,
        "format": pl.String,
        "node": pl.String,
        "namespace": pl.String,
        "pod": pl.String,
        "pod_uid": pl.String,
        "container": pl.String,
        "container_id": pl.String,  # bare runtime id (no containerd:// prefix)
        "kind": pl.String,
        "probe": pl.String,  # readiness / liveness / startup
        "status": pl.Int32,  # HTTP status of the response
        "method": pl.String,
        "path": pl.String,
        "upstream": pl.String,  # host:port the line's component talked to (or probed)
        "client": pl.String,  # host of the requesting peer
        "request_id": pl.String,  # correlation id, links access and error lines
        "duration_ms": pl.Float64,
        "grace_period_s": pl.Float64,
        "exit_code": pl.Int32,
        "message": pl.String,  # short human text: the log message, or the request line
        "detail": pl.String,  # what the message refers to: probe output, error text
        "raw": pl.String,  # the raw line, kept for everything except successful requests
        "file": pl.String,
        "line": pl.UInt32,  # 1-based line in file where the event starts
    }
)

COLUMNS: tuple[str, ...] = tuple(EVENTS.names())

#: The frame ``analyze`` works on: events kept in full, and counts of the lines that are only
#: counted (successful requests per second, plain log lines per minute), as rows of ``EVENTS`` with
#: ``count`` lines from ``ts``/``line`` (the first) to ``last_ts``/``last_line`` (the last);
#: ``message`` is the last one's, ``duration_ms`` their mean. A row kept in full has
#: ``count`` 1, ``last_ts == ts`` and ``last_line == line``.
COUNT, LAST_TS, LAST_LINE = "count", "last_ts", "last_line"
REDUCED = pl.Schema(
    {**EVENTS, COUNT: pl.UInt32, LAST_TS: pl.Datetime("ns", "UTC"), LAST_LINE: pl.UInt32}
)


def empty_events() -> pl.DataFrame:
    """A zero-row frame with the canonical schema."""
    return pl.DataFrame(schema=EVENTS)


def conform(lf: pl.LazyFrame | pl.DataFrame) -> pl.LazyFrame:
    """Select and cast to ``EVENTS`` in order; missing columns become typed nulls."""
    lf = lf.lazy()
    have = set(lf.collect_schema().names())
    exprs = [
        (pl.col(name) if name in have else pl.lit(None)).cast(dtype, strict=False).alias(name)
        for name, dtype in EVENTS.items()
    ]
    return lf.select(exprs)


def validate(df: pl.DataFrame) -> None:
    """Raise ``ValueError`` if ``df`` breaks the schema or the closed vocabularies."""
    if df.schema != EVENTS:
        msg = f"event frame schema differs from schema.EVENTS: {df.schema} != {EVENTS}"
        raise ValueError(msg)
    bad_kinds = set(df["kind"].drop_nulls().unique()) - set(KINDS)
    if bad_kinds:
        msg = f"kinds outside the vocabulary: {sorted(bad_kinds)}"
        raise ValueError(msg)
    bad_sources = set(df["source"].drop_nulls().unique()) - set(SOURCES)
    if bad_sources:
        msg = f"sources outside the vocabulary: {sorted(bad_sources)}"
        raise ValueError(msg)
    if df["ts"].null_count() or df["file"].null_count() or df["line"].null_count():
        msg = "every event needs ts, file and line"
        raise ValueError(msg)
