"""Incidents: overlapping bursts with the lifecycle events around them, as one timeline."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import NamedTuple

import polars as pl

from analyzer.correlate.bursts import TRICKLE_MODES
from analyzer.correlate.lifecycle import LIFECYCLE_KINDS
from analyzer.schema import Kind

LOOKBACK_S = 90.0  # lifecycle context before a burst, at least
LOOKAHEAD_S = 30.0
SAME_LIFE_GAP_S = 60.0  # bursts of one pod life closer than this are one chain
EPISODE_S = 10.0  # pods whose termination began this close together went down together
ROLLOUT_GAP_S = 120.0  # terminations of one owner's pods this close follow each other
TAIL_MIN_FAILURES = 3  # a chain of termination tails with fewer failures is no incident
DOWNSTREAM_SLACK_S = 2.0  # an unattributed burst within this of an incident is its echo
TERMINATION_KINDS = (Kind.POD_DELETED.value, Kind.KILL.value)


def owner_of(pod: pl.Expr) -> pl.Expr:
    """The controller a pod name comes from: the name without its last ``-suffix`` (the
    ReplicaSet of a Deployment's pod, the StatefulSet of ``name-0``, a DaemonSet's)."""
    return pod.str.replace(r"-[^-]+$", "")


def _burst_lives(
    bursts: pl.DataFrame, failures: pl.DataFrame, lifecycle: pl.DataFrame
) -> pl.DataFrame:
    """Per burst (in ``bursts`` order): ``_life`` (the pod life most of its failures hit) and
    ``_terminated`` (when that life's termination began, if it had begun by the burst's end)."""
    life = pl.col("pod_incarnation") if "pod_incarnation" in failures.columns else pl.lit(None)
    lives = (
        failures.join(
            bursts.select("burst_key", "burst", "start", "end"),
            left_on="_burst_key",
            right_on="burst_key",
        )
        .filter(pl.col("ts").is_between("start", "end"))
        .group_by(pl.col("_burst_key").alias("burst_key"), "burst")
        .agg(life.cast(pl.UInt32).drop_nulls().mode().first().alias("_life"))
    )
    out = bursts.join(lives, on=["burst_key", "burst"], how="left", maintain_order="left")
    ends = lifecycle.filter(pl.col("kind").is_in(TERMINATION_KINDS))
    if "pod_incarnation" not in ends.columns or ends.height == 0:
        return out.with_columns(pl.lit(None, dtype=pl.Datetime("ns", "UTC")).alias("_terminated"))
    ends = ends.group_by(
        pl.col("namespace").alias("target_namespace"),
        pl.col("pod").alias("target_pod"),
        pl.col("pod_incarnation").cast(pl.UInt32).alias("_life"),
    ).agg(pl.col("ts").min().alias("_terminated"))
    out = out.join(
        ends,
        on=["target_namespace", "target_pod", "_life"],
        how="left",
        nulls_equal=True,
        maintain_order="left",
    )
    return out.with_columns(
        pl.when(pl.col("_terminated") <= pl.col("end"))
        .then(pl.col("_terminated"))
        .alias("_terminated")
    )


class _Chains:
    """Union-find over burst rows: which bursts share one cause chain."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def group_bursts(
    bursts: pl.DataFrame,
    failures: pl.DataFrame | None = None,
    lifecycle: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Add ``incident`` (1-based, in time order): bursts of one cause chain share one.

    Bursts join through identity, never through mere proximity: the same pod life within
    ``SAME_LIFE_GAP_S`` or both after its termination began; pods whose terminations began
    within ``EPISODE_S`` (a drain, a scale-down); pods of one owner terminated one after the
    other (a rollout). A burst no pod is named for (a proxy's view of the failures) joins the
    incident it overlaps most; alone, it is its own incident. Without ``failures`` and
    ``lifecycle`` (keyed by ``_burst_key``; lifecycle with ``pod_incarnation``) only the
    pod's own bursts and the unattributed ones are joined.
    """
    if bursts.height == 0:
        return bursts.with_columns(pl.lit(None, dtype=pl.UInt32).alias("incident"))
    bursts = bursts.sort("start", "burst_key")
    if failures is not None and lifecycle is not None:
        lives = _burst_lives(bursts, failures, lifecycle)
    else:
        lives = bursts.with_columns(
            pl.lit(None, dtype=pl.UInt32).alias("_life"),
            pl.lit(None, dtype=pl.Datetime("ns", "UTC")).alias("_terminated"),
        )
    rows = lives.with_columns(owner_of(pl.col("target_pod")).alias("_owner")).to_dicts()
    chains = _Chains(len(rows))
    attributed = [i for i, r in enumerate(rows) if r["attributed"]]
    for x, i in enumerate(attributed):
        a = rows[i]
        for j in attributed[x + 1 :]:
            b = rows[j]
            if _same_chain(a, b):
                chains.join(i, j)
    for i, r in enumerate(rows):
        if r["attributed"]:
            continue
        best, overlap = None, -1.0
        for j in attributed:
            if bool(r.get("trickle")) != bool(rows[j].get("trickle")):
                continue
            o = _overlap_s(r, rows[j])
            if o >= -DOWNSTREAM_SLACK_S and o > overlap:
                best, overlap = j, o
        if best is not None:
            chains.join(i, best)
    # Trickles no pod is named for are one stream all the same (one mechanism, all along).
    lone = [i for i, r in enumerate(rows) if r.get("trickle") and not r["attributed"]]
    for i in lone[1:]:
        if chains.find(i) == i:
            chains.join(i, lone[0])
    roots = [chains.find(i) for i in range(len(rows))]
    # A chain of tails alone (no burst) is an incident when its rollout lost enough
    # requests over two pods or more; a lone pod's one or two failures stay background.
    members: dict[int, list[int]] = {}
    for i, root in enumerate(roots):
        members.setdefault(root, []).append(i)
    dropped = {
        root
        for root, idx in members.items()
        if all(rows[i].get("tail") for i in idx)
        and (
            len({(rows[i]["target_namespace"], rows[i]["target_pod"]) for i in idx}) < 2
            or sum(int(rows[i]["count"]) for i in idx) < TAIL_MIN_FAILURES
        )
    }
    first_seen: dict[int, int] = {}
    for root in roots:
        if root not in dropped:
            first_seen.setdefault(root, len(first_seen) + 1)
    keep = pl.Series([r not in dropped for r in roots])
    return bursts.with_columns(
        pl.Series("incident", [first_seen.get(r) for r in roots], dtype=pl.UInt32)
    ).filter(keep)


def _overlap_s(a: dict[str, object], b: dict[str, object]) -> float:
    """Seconds the two spans share (negative: how far apart they are)."""
    lo = max(a["start"], b["start"])  # type: ignore[type-var]
    hi = min(a["end"], b["end"])  # type: ignore[type-var]
    return (hi - lo).total_seconds()  # type: ignore[operator]


def _same_chain(a: dict[str, object], b: dict[str, object]) -> bool:
    if a.get("trickle") or b.get("trickle"):
        # A steady trickle is one incident per owner, never part of a termination's.
        return bool(a.get("trickle") and b.get("trickle") and a["_owner"] == b["_owner"])
    same_pod = (a["target_namespace"], a["target_pod"]) == (b["target_namespace"], b["target_pod"])
    if same_pod and a["_life"] == b["_life"]:
        if a["_terminated"] is not None and b["_terminated"] is not None:
            return True  # one termination, however long it took
        return -_overlap_s(a, b) <= SAME_LIFE_GAP_S
    ta, tb = a["_terminated"], b["_terminated"]
    if ta is None or tb is None or same_pod:
        return False
    apart = abs((ta - tb).total_seconds())  # type: ignore[operator]
    if apart <= EPISODE_S:
        return True
    return a["_owner"] == b["_owner"] and apart <= ROLLOUT_GAP_S


@dataclass(frozen=True)
class IncidentFrames:
    """What the rules and reports need about one incident, as frames."""

    id: str
    number: int
    start: object
    end: object
    pods: list[tuple[str, str]]  # (namespace, pod) that failed to answer
    bursts: pl.DataFrame
    failures: pl.DataFrame  # the incident's failing requests (attributed ones if any)
    downstream: pl.DataFrame  # failures reported by other layers, not attributed to a pod
    requests: pl.DataFrame  # every request (any status) to the incident's pods
    lifecycle: pl.DataFrame  # lifecycle events of the incident's pods in the window
    window_start: object
    window_end: object
    concurrent: tuple[str, ...] = ()  # ids of other incidents overlapping this one in time


def _pods_filter(pods: list[tuple[str, str]], ns: str = "namespace", pod: str = "pod") -> pl.Expr:
    if not pods:
        return pl.lit(False)
    cond = pl.lit(False)
    for namespace, name in pods:
        cond = cond | ((pl.col(ns) == namespace) & (pl.col(pod) == name))
    return cond


_ROW = "_row"


class _Part(NamedTuple):
    rows: pl.Series  # the pod's row numbers in the whole frame, in time order
    # their times in ns since the epoch: binary search on Int64 takes 0.04 ms, on a zoned
    # Datetime 3 ms (it is converted first)
    ns: pl.Series


def _by_pod(frame: pl.DataFrame, ns: str, pod: str) -> dict[tuple[str, str], _Part]:
    """Where each ``(ns, pod)``'s rows are in ``frame`` (only row numbers are split up;
    the rows themselves are gathered once per incident)."""
    index = frame.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias(_ROW), ns, pod, pl.col("ts").dt.epoch("ns")
    ).drop_nulls([ns, pod])
    parts = index.sort("ts").partition_by(ns, pod, as_dict=True, maintain_order=True)
    return {k: _Part(v[_ROW], v["ts"]) for k, v in parts.items()}  # type: ignore[misc]


def _of_pods(
    parts: dict[tuple[str, str], _Part],
    pods: list[tuple[str, str]],
    frame: pl.DataFrame,
    window: tuple[datetime, datetime],
) -> pl.DataFrame:
    """The rows of ``pods`` within ``window`` (both ends included) in their original order,
    as ``frame.filter(...)`` gives them; the window is cut by binary search."""
    lo_ns, hi_ns = (int(t.timestamp()) * 10**9 + t.microsecond * 1000 for t in window)
    found = []
    for p in pods:
        part = parts.get(p)
        if part is None:
            continue
        lo = int(part.ns.search_sorted(lo_ns, side="left"))
        hi = int(part.ns.search_sorted(hi_ns, side="right"))
        found.append(part.rows.slice(lo, hi - lo))
    if not found:
        return frame.clear()
    return frame[pl.concat(found).sort()]


def incident_frames(
    lifecycle_events: pl.DataFrame,
    requests: pl.DataFrame,
    failures: pl.DataFrame,
    bursts: pl.DataFrame,
) -> list[IncidentFrames]:
    """Split the analysis frames per incident (incidents are few; frames stay vectorized)."""
    out: list[IncidentFrames] = []
    trickle = pl.col("trickle") if "trickle" in bursts.columns else pl.lit(False)
    spans = bursts.select("burst_key", "burst", "incident", "start", "end", trickle.alias("_tr"))
    keyed = failures.join(
        spans, left_on=pl.col("_burst_key"), right_on=pl.col("burst_key"), how="inner"
    ).filter((pl.col("ts") >= pl.col("start")) & (pl.col("ts") <= pl.col("end")))
    # A trickle holds the failures of its mode that no burst holds.
    in_burst = keyed.filter(~pl.col("_tr"))
    mode = pl.col("mode") if "mode" in keyed.columns else pl.lit(None, pl.String)
    keyed = pl.concat(
        [
            in_burst,
            keyed.filter(pl.col("_tr") & mode.is_in(TRICKLE_MODES).fill_null(False)).join(
                in_burst.select("file", "line"), on=["file", "line"], how="anti"
            ),
        ]
    ).drop("_tr")
    # Incidents can be hundreds: each takes its rows from per-pod and per-incident parts
    # made in one pass, instead of filtering the whole frames again.
    requests_of = _by_pod(requests, "target_namespace", "target_pod")
    lifecycle_of = _by_pod(lifecycle_events, "namespace", "pod")
    grace_of = {
        (ns, pod): g
        for ns, pod, g in lifecycle_events.filter(pl.col("kind") == Kind.KILL.value)
        .group_by("namespace", "pod")
        .agg(pl.col("grace_period_s").max())
        .iter_rows()
    }
    keyed_of = keyed.partition_by("incident", as_dict=True, maintain_order=True)
    bursts_of = bursts.partition_by("incident", as_dict=True, maintain_order=True)
    for number in bursts["incident"].unique().sort().to_list():
        own = bursts_of[(number,)]
        attributed = own.filter(pl.col("attributed"))
        pods = sorted(
            {
                (ns, pod)
                for ns, pod in attributed.select("target_namespace", "target_pod").iter_rows()
            }
        )
        mine = keyed_of.get((number,), keyed.clear()).drop(
            "burst_key", "burst", "incident", "start", "end", strict=False
        )
        mine = mine.unique(["file", "line"], maintain_order=True).sort("ts")
        failing = mine.filter(pl.col("target_pod").is_not_null()) if pods else mine
        downstream = mine.filter(pl.col("target_pod").is_null()) if pods else mine.clear()
        # A proxy's echo of the failures (often second resolution, at completion) widens
        # the window read around them, not the incident's own span.
        spans = attributed if attributed.height else own
        start, end = spans["start"].min(), spans["end"].max()
        grace = max((g for p in pods if (g := grace_of.get(p)) is not None), default=0.0)
        lookback = max(LOOKBACK_S, float(grace) + 30.0)
        w_start = own["start"].min() - timedelta(seconds=lookback)  # type: ignore[operator]
        w_end = own["end"].max() + timedelta(seconds=LOOKAHEAD_S)  # type: ignore[operator]
        lifecycle = (
            _of_pods(lifecycle_of, pods, lifecycle_events, (w_start, w_end))
            .filter(pl.col("kind").is_in(LIFECYCLE_KINDS))
            .sort("ts", "file", "line")
        )
        to_pods = _of_pods(requests_of, pods, requests, (w_start, w_end))
        out.append(
            IncidentFrames(
                id=f"inc-{number}",
                number=number,
                start=start,
                end=end,
                pods=pods,
                bursts=own,
                failures=failing,
                downstream=downstream,
                requests=to_pods,
                lifecycle=lifecycle,
                window_start=w_start,
                window_end=w_end,
            )
        )
    return _with_concurrent(out)


def _with_concurrent(incidents: list[IncidentFrames]) -> list[IncidentFrames]:
    """Cross-reference incidents that overlap in time but share no cause chain."""
    out = []
    for inc in incidents:
        others = tuple(
            o.id
            for o in incidents
            if o.id != inc.id and o.start <= inc.end and inc.start <= o.end  # type: ignore[operator]
        )
        out.append(replace(inc, concurrent=others))
    return out


_POD_WORDS = {
    Kind.NOT_READY.value: "pod marked not ready",
    Kind.READY.value: "pod marked ready",
    Kind.POD_ADDED.value: "pod added to the node",
    Kind.POD_DELETED.value: "pod deletion reached the kubelet",
    Kind.POD_REMOVED.value: "pod removed from the API",
    Kind.EVICTED.value: "pod evicted",
    Kind.LB_DEREGISTERED.value: "load balancer began deregistering the pod",
}


def _summary(row: dict[str, object]) -> str:
    kind = row["kind"]
    container = row.get("container") or ""
    detail = row.get("detail") or ""
    msg = row.get("message") or ""
    probe = str(row.get("probe") or "").capitalize()
    if kind == Kind.PROBE_FAILED.value:
        text = f"{probe} probe failed"
        detail = str(detail).removeprefix(f"{text}: ")
        text += f" ({container})" if container else ""
        return f"{text}: {detail}" if detail else text
    if kind in _POD_WORDS:
        return _POD_WORDS[str(kind)] + (f" ({probe.lower()} probe)" if probe else "")
    if kind == Kind.KILL.value:
        grace = row.get("grace_period_s")
        g = f", grace period {grace:g} s" if isinstance(grace, float) else ""
        return f"SIGTERM sent to {container or 'container'}{g}"
    if kind == Kind.CONTAINER_DIED.value:
        code = row.get("exit_code")
        return f"{container or 'container'} died" + (
            f" (exit code {code})" if code is not None else ""
        )
    if kind == Kind.CONTAINER_STARTED.value:
        return f"{container or 'container'} started"
    if kind in (Kind.SHUTDOWN_STARTED.value, Kind.SHUTDOWN_FINISHED.value, Kind.APP_STARTED.value):
        return f"{container}: {msg}" if container else str(msg)
    if kind == "burst_start":
        return str(msg)
    return f"{msg}: {detail}" if detail and detail not in str(msg) else str(msg)


def timeline(inc: IncidentFrames) -> pl.DataFrame:
    """The incident's ordered timeline with offsets from its first signal."""
    cols = [
        "ts",
        "source",
        "kind",
        "namespace",
        "pod",
        "container",
        "probe",
        "message",
        "detail",
        "grace_period_s",
        "exit_code",
        "file",
        "line",
        "raw",
    ]
    parts = [inc.lifecycle.select(cols)]
    markers = []
    for b in inc.bursts.iter_rows(named=True):
        statuses = ", ".join(f"{s['count']}× {s['status']}" for s in b["status_counts"])
        where = b["burst_key"]
        markers.append(
            {
                "ts": b["start"],
                "kind": "burst_start",
                "file": b["first_file"],
                "line": b["first_line"],
                "message": f"5xx burst begins at {where}: {b['count']} failing ({statuses})",
            }
        )
        markers.append(
            {
                "ts": b["end"],
                "kind": "burst_end",
                "file": b["last_file"],
                "line": b["last_line"],
                "message": f"last failing request at {where}",
            }
        )
    if markers:
        marker_df = pl.DataFrame(
            markers,
            schema={
                "ts": inc.lifecycle.schema["ts"],
                "kind": pl.String,
                "file": pl.String,
                "line": pl.UInt32,
                "message": pl.String,
            },
        )
        # Markers cite the failing request lines themselves.
        all_failures = pl.concat([inc.failures, inc.downstream])
        marker_df = (
            marker_df.join(
                all_failures.select(
                    "file",
                    "line",
                    "source",
                    "namespace",
                    "pod",
                    "container",
                    "raw",
                    pl.col("ts").alias("_ts"),
                ),
                on=["file", "line"],
                how="left",
            )
            .with_columns(pl.coalesce("_ts", "ts").alias("ts"))
            .drop("_ts")
        )
        parts.append(marker_df)
    # The first upstream error of each burst says why requests failed.
    first_errors = (
        pl.concat([inc.failures, inc.downstream])
        .filter(pl.col("kind") == Kind.UPSTREAM_ERROR.value)
        .sort("ts")
        .group_by(pl.col("format"), maintain_order=True)
        .first()
    )
    if first_errors.height:
        parts.append(first_errors.select(cols))
    tl = pl.concat(parts, how="diagonal_relaxed").sort("ts", "file", "line")
    tl = tl.unique(["file", "line", "kind"], maintain_order=True)
    first = tl["ts"].min()
    summaries = [_summary(r) for r in tl.iter_rows(named=True)]
    return tl.with_columns(
        ((pl.col("ts") - first).dt.total_microseconds() / 1e6).alias("offset_s"),
        pl.Series("summary", summaries, dtype=pl.String),
    ).select(
        "ts",
        "offset_s",
        "source",
        "kind",
        "namespace",
        "pod",
        "container",
        "summary",
        "file",
        "line",
        "raw",
    )
