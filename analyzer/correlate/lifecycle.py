"""Per pod and container: the lifecycle phase at every instant.

Phases come from change points. A change of a lower stage than one already reached does
not apply (a probe failure after SIGTERM does not make a terminating container merely
"not ready"); a container start opens a new incarnation where stages start over.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from analyzer.schema import Kind

# kind -> (stage, phase) for containers. Readiness flaps within stage 1.
CONTAINER_STAGES = {
    Kind.CONTAINER_STARTED.value: (0, "starting"),
    Kind.APP_STARTED.value: (0, "starting"),
    Kind.PROBE_FAILED.value: (1, "not_ready"),
    Kind.KILL.value: (2, "terminating"),
    Kind.SHUTDOWN_STARTED.value: (3, "shutting_down"),
    Kind.SHUTDOWN_FINISHED.value: (4, "shut_down"),
    Kind.SIGKILL.value: (5, "killed"),
    Kind.OOM_KILLED.value: (5, "killed"),  # the kernel's SIGKILL (memory limit), not the kubelet's
    Kind.CONTAINER_DIED.value: (6, "dead"),
}
POD_STAGES = {
    Kind.POD_ADDED.value: (0, "pending"),
    Kind.CONTAINER_STARTED.value: (0, "starting"),
    Kind.READY.value: (1, "ready"),
    Kind.NOT_READY.value: (1, "not_ready"),
    Kind.POD_DELETED.value: (2, "deleted"),
    Kind.KILL.value: (3, "terminating"),
    Kind.POD_REMOVED.value: (5, "removed"),
}
SAME_KILL_S = 2.0
LIFECYCLE_KINDS = tuple(
    k.value for k in Kind if k not in (Kind.HTTP, Kind.UPSTREAM_ERROR, Kind.LOG)
)


def _stage_table(stages: dict[str, tuple[int, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "kind": list(stages),
            "stage": [s for s, _ in stages.values()],
            "phase": [p for _, p in stages.values()],
        },
        schema={"kind": pl.String, "stage": pl.Int32, "phase": pl.String},
    )


def _monotone(changes: pl.DataFrame, keys: list[str], restart: pl.Expr) -> pl.DataFrame:
    """Keep the change points that do not go back a stage; ``restart`` (over the rows in
    time order) opens a new ``incarnation`` where stages start over."""
    changes = changes.sort([*keys, "ts", "line"])
    incarnation = restart.fill_null(False).cast(pl.UInt32).cum_sum().over(keys)
    changes = changes.with_columns(incarnation.alias("incarnation"))
    reached = pl.col("stage").cum_max().over([*keys, "incarnation"])
    return changes.filter(pl.col("stage") >= reached)


def container_phases(events: pl.DataFrame) -> pl.DataFrame:
    """Change points ``(namespace, pod, container, ts, phase, detail, kind, file, line)``."""
    rows = events.filter(
        pl.col("container").is_not_null()
        & pl.col("pod").is_not_null()
        & pl.col("kind").is_in(list(CONTAINER_STAGES))
        # Only readiness failures change readiness; liveness failures lead to a kill line.
        & ((pl.col("kind") != Kind.PROBE_FAILED.value) | (pl.col("probe") == "readiness"))
    ).join(_stage_table(CONTAINER_STAGES), on="kind")
    detail = (
        pl.when(pl.col("kind") == Kind.KILL.value)
        .then(pl.format("SIGTERM, grace {} s", pl.col("grace_period_s").cast(pl.Int64)))
        .when(pl.col("kind") == Kind.CONTAINER_DIED.value)
        .then(pl.format("exit code {}", pl.col("exit_code")))
        .when(pl.col("kind") == Kind.OOM_KILLED.value)
        .then(pl.lit("OOM killed (memory limit)"))
        .otherwise(pl.col("message"))
    )
    rows = rows.with_columns(detail.alias("detail"))
    keys = ["namespace", "pod", "container"]
    restart = pl.col("kind") == Kind.CONTAINER_STARTED.value
    return _monotone(rows, keys, restart).select(
        *keys, "ts", "phase", "stage", "detail", "kind", "file", "line"
    )


_READINESS = (Kind.READY.value, Kind.NOT_READY.value)
_LIFE_ENDS = (Kind.POD_DELETED.value, Kind.POD_REMOVED.value)


def pod_readiness(rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` without the readiness transitions that are one container's, not the pod's.

    A pod is ready when ALL its containers with a readiness probe are. The kubelet's
    ``SyncLoop (probe)`` line names the pod only, one line per container whose readiness
    changed: with an app and a sidecar both probed, the sidecar's ``ready`` while the app
    is not ready does not make the pod ready. The probed containers are those whose
    readiness probe lines name them (at least one). Per pod, ``ready`` lines count up to
    that number and ``not_ready`` lines down (from 0 again after a deletion); only the line
    reaching all ready, and the first ``not_ready`` from there, are the pod's transitions.
    A pod with one probed container keeps every line, as before."""
    if rows.height == 0 or not rows["kind"].is_in(list(_READINESS)).any():
        return rows
    probed = (
        rows.filter(
            pl.col("kind").is_in([Kind.PROBE_FAILED.value, Kind.PROBE_ERRORED.value])
            & (pl.col("probe") == "readiness")
            & pl.col("container").is_not_null()
        )
        .group_by("namespace", "pod")
        .agg(pl.col("container").n_unique().alias("_probed"))
        .filter(pl.col("_probed") > 1)
    )
    if probed.height == 0:
        return rows
    indexed = rows.with_row_index("_row")
    watched = (
        indexed.join(probed, on=["namespace", "pod"], nulls_equal=True)
        .filter(
            pl.col("kind").is_in([*_READINESS, *_LIFE_ENDS])
            # liveness "unhealthy" is no readiness change (see pod_phases)
            & ((pl.col("kind") == Kind.POD_DELETED.value) | pl.col("probe").ne_missing("liveness"))
        )
        .sort("namespace", "pod", "ts", "line")
    )
    drop: list[int] = []
    count: dict[tuple[str | None, str | None], int] = {}
    for r in watched.iter_rows(named=True):
        key, n = (r["namespace"], r["pod"]), r["_probed"]
        ready = count.get(key, 0)
        if r["kind"] in _LIFE_ENDS:
            count[key] = 0  # a pod back under this name starts not ready
        elif r["kind"] == Kind.READY.value:
            count[key] = min(n, ready + 1)
            if count[key] < n or ready == n:
                drop.append(r["_row"])  # one container ready, the pod not (or already) so
        else:
            count[key] = max(0, ready - 1)
            if ready < n:
                drop.append(r["_row"])  # the pod was not ready already
    return indexed.filter(~pl.col("_row").is_in(drop)).drop("_row")


def _restart_kills(events: pl.DataFrame) -> pl.Expr:
    """Kill lines of a container that started again before its pod was deleted, removed or
    added anew: a container restart (liveness failure, ...), a new container life within
    the same pod life, not the pod's termination. Returns a filter keeping the others."""
    keys = ["namespace", "pod"]
    boundary = pl.col("kind").is_in([*_LIFE_ENDS, Kind.POD_ADDED.value])
    started = pl.col("kind") == Kind.CONTAINER_STARTED.value

    def next_ts(cond: pl.Expr, over: list[str]) -> pl.Expr:
        return pl.when(cond).then(pl.col("ts")).shift(-1).backward_fill().over(over)

    # The start of the same container, or one the line does not name (a PLEG ContainerStarted
    # whose new container ID no other line names yet).
    next_start = pl.min_horizontal(
        next_ts(started, [*keys, "container"]),
        next_ts(started & pl.col("container").is_null(), keys),
    )
    next_boundary = next_ts(boundary, keys)
    restart = (
        (pl.col("kind") == Kind.KILL.value)
        & pl.col("container").is_not_null()
        & next_start.is_not_null()
        & (next_boundary.is_null() | (next_start <= next_boundary))
    )
    return ~restart.fill_null(False)


def pod_phases(events: pl.DataFrame) -> pl.DataFrame:
    """Change points ``(namespace, pod, ts, phase, detail, kind, file, line)`` per pod.

    A container restart (its kill, then its start again, a new container ID) is a new life
    of the container within the same pod life: neither its kill nor its start changes the
    pod's phase or life. Readiness is the pod's: all its probed containers (``pod_readiness``).
    """
    # Only the lines that can change a pod's phase, or tell which containers are probed.
    wanted = [*POD_STAGES, Kind.PROBE_FAILED.value, Kind.PROBE_ERRORED.value]
    events = events.filter(pl.col("pod").is_not_null() & pl.col("kind").is_in(wanted)).sort(
        "namespace", "pod", "ts", "line"
    )
    events = pod_readiness(events.filter(_restart_kills(events)))
    rows = events.filter(
        pl.col("pod").is_not_null()
        & pl.col("kind").is_in(list(POD_STAGES))
        & ((pl.col("kind") != Kind.NOT_READY.value) | pl.col("probe").ne_missing("liveness"))
        & ((pl.col("kind") != Kind.READY.value) | pl.col("probe").ne_missing("liveness"))
    ).join(_stage_table(POD_STAGES), on="kind")
    rows = rows.with_columns(pl.col("message").alias("detail"))
    keys = ["namespace", "pod"]
    # A StatefulSet pod comes back under the same name: a pod added (or a container started)
    # after the name was deleted, killed or removed is a new pod, whose phases start over.
    born = pl.col("kind").is_in([Kind.POD_ADDED.value, Kind.CONTAINER_STARTED.value])
    restart = born & (pl.col("stage").shift(1).over(keys) >= POD_STAGES[Kind.POD_DELETED.value][0])
    return _monotone(rows, keys, restart).select(
        *keys, "ts", "phase", "stage", "detail", "kind", "file", "line", "incarnation"
    )


def phase_at(
    requests: pl.DataFrame,
    changes: pl.DataFrame,
    *,
    keys: list[str],
    prefix: str,
    carry: tuple[str, ...] = (),
) -> pl.DataFrame:
    """Add ``{prefix}phase`` / ``{prefix}phase_since`` (and ``{prefix}{c}`` for each column
    ``c`` in ``carry``): each request's phase at its time."""
    right = changes.select(
        *keys,
        "ts",
        pl.col("phase").alias(f"{prefix}phase"),
        pl.col("ts").alias(f"{prefix}phase_since"),
        *(pl.col(c).alias(f"{prefix}{c}") for c in carry),
    ).sort([*keys, "ts"])
    # Joined on the keys alone, then put beside the rows: a wide frame is not copied twice.
    left = (
        requests.select(*keys, "ts").with_row_index("_order").sort([*keys, "ts"], nulls_last=True)
    )
    joined = left.join_asof(right, on="ts", by=keys, strategy="backward", check_sortedness=False)
    added = [c for c in right.columns if c not in (*keys, "ts")]
    return requests.hstack(joined.sort("_order").select(added))


def at_pod_incarnation(frame: pl.DataFrame, pods: pl.DataFrame, ts: str) -> pl.DataFrame:
    """Add ``pod_incarnation``: which life of its pod (a name can come back) ``ts`` is in."""
    keys = ["namespace", "pod"]
    right = pods.select(
        *keys, pl.col("ts").alias(ts), pl.col("incarnation").alias("pod_incarnation")
    ).sort([*keys, ts])
    left = frame.with_row_index("_order").sort([*keys, ts], nulls_last=True)
    joined = left.join_asof(right, on=ts, by=keys, strategy="backward", check_sortedness=False)
    return joined.sort("_order").drop("_order")


def container_episodes(events: pl.DataFrame) -> pl.DataFrame:
    """One row per SIGTERM (kill) of a container, with its shutdown lines and death after it.

    A container killed twice (a liveness restart, then the pod's deletion) has two episodes.
    Kubelet kill lines carry the grace period; an Event for the same kill (1 s resolution,
    no grace) is used only when the container has no kubelet kill line at all.
    """
    keys = ["namespace", "pod", "container"]
    kills = events.filter((pl.col("kind") == Kind.KILL.value) & pl.col("container").is_not_null())
    has_grace = pl.col("grace_period_s").is_not_null().any().over(keys)
    # The kubelet's kill line and the runtime's StopContainer for it are one SIGTERM.
    same_kill = (pl.col("ts") - pl.col("ts").shift(1).over(keys)) < timedelta(seconds=SAME_KILL_S)
    kills = (
        kills.filter(pl.col("grace_period_s").is_not_null() | ~has_grace)
        .sort(*keys, "ts")
        .filter(~same_kill.fill_null(False))
        .select(
            *keys,
            pl.col("ts").alias("kill_ts"),
            "grace_period_s",
            pl.col("file").alias("kill_file"),
            pl.col("line").alias("kill_line"),
            pl.col("raw").alias("kill_raw"),
            pl.col("ts").shift(-1).over(keys).alias("_next_kill"),
        )
    )

    def first_after(kind: str, name: str, frame: pl.DataFrame) -> pl.DataFrame:
        right = (
            events.filter((pl.col("kind") == kind) & pl.col("container").is_not_null())
            # The container-finished line carries the exit code; a PLEG line at the same time not.
            .sort(*keys, "ts", pl.col("exit_code").is_null())
            .unique([*keys, "ts"], keep="first", maintain_order=True)
            .select(
                *keys,
                pl.col("ts").alias(f"{name}_ts"),
                pl.col("file").alias(f"{name}_file"),
                pl.col("line").alias(f"{name}_line"),
                pl.col("raw").alias(f"{name}_raw"),
                pl.col("exit_code").alias(f"{name}_exit_code"),
                # Events have 1 s resolution: a line up to a second before the kill still counts.
                (pl.col("ts") + pl.duration(seconds=1)).cast(pl.Datetime("ns", "UTC")).alias("_at"),
            )
            .sort("_at")
        )
        left = frame.with_row_index("_ep").sort("kill_ts")
        joined = left.join_asof(
            right,
            left_on="kill_ts",
            right_on="_at",
            by=keys,
            strategy="forward",
            check_sortedness=False,
        )
        late = pl.col("_next_kill").is_not_null() & (pl.col(f"{name}_ts") >= pl.col("_next_kill"))
        cols = [f"{name}_ts", f"{name}_file", f"{name}_line", f"{name}_raw", f"{name}_exit_code"]
        return (
            joined.with_columns(
                [pl.when(late).then(None).otherwise(pl.col(c)).alias(c) for c in cols]
            )
            .sort("_ep")
            .drop("_ep", "_at")
        )

    out = kills
    for kind, name in (
        (Kind.SHUTDOWN_STARTED.value, "shutdown"),
        (Kind.SHUTDOWN_FINISHED.value, "finished"),
        (Kind.SIGKILL.value, "sigkill"),
        # The kernel's OOM kill after the SIGTERM: an exit 137 then is the OOM killer's.
        (Kind.OOM_KILLED.value, "oom"),
        (Kind.CONTAINER_DIED.value, "death"),
    ):
        out = first_after(kind, name, out)
    return out.drop(
        "shutdown_exit_code",
        "finished_exit_code",
        "sigkill_exit_code",
        "oom_exit_code",
        "oom_file",
        "oom_line",
        "oom_raw",
        "_next_kill",
    ).rename({"death_exit_code": "exit_code"})
