"""What a diagnosis rule is, and the helpers rules share over one incident's frames.

A rule is data about a cause (its code, root cause, severity, what it reads, its fix) plus a
function from an incident to findings; ``registry`` lists them in one place. Each finding
says which of the incident's failing requests its mechanism covers (``Finding.claims``);
``assign`` then explains each failure once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

import polars as pl

from analyzer.correlate.incidents import IncidentFrames
from analyzer.correlate.lifecycle import pod_readiness
from analyzer.correlate.modes import with_failure_modes
from analyzer.diagnose.finding import Evidence, Finding
from analyzer.schema import LAST_LINE, LAST_TS, Kind


@dataclass(frozen=True)
class Context:
    """One incident and the container episodes (one row per SIGTERM) of the analysis."""

    inc: IncidentFrames
    episodes: pl.DataFrame

    @cached_property
    def failures(self) -> pl.DataFrame:
        """The incident's failing requests, each with its ``mode`` (``modes.MODES``)."""
        if "mode" in self.inc.failures.columns:
            return self.inc.failures
        return with_failure_modes(self.inc.failures, self.inc.requests)

    def share(self, cond: pl.Expr) -> float:
        total = self.inc.failures.height
        return round(self.failures.filter(cond).height / total, 3) if total else 0.0

    def finding(self, code: str, claims: pl.Expr, **fields: object) -> Finding:
        """A finding that claims the failures ``claims`` selects (``explains`` their share
        until ``assign`` explains each failure once); severity critical unless given."""
        fields.setdefault("severity", "critical")
        return Finding(
            code=code,
            explains=self.share(claims),
            claims=claims,
            **fields,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class Rule:
    """A cause the analyzer can name (``../shared/docs/root-causes.md``)."""

    code: str
    cause: str  # RC number in root-causes.md, or "" for causes it does not number
    severity: str  # of its findings, unless a finding says otherwise
    title: str  # one line: what it means
    needs: tuple[str, ...]  # the event kinds (schema.Kind) it reads
    fix: str
    find: Callable[[Context], list[Finding]]
    #: kept (with its share covered) when stronger causes explain all its failures: a lag
    #: that made things worse is worth fixing even when it did not start the failures
    contributing: bool = False


def ev(row: dict[str, object], text: str | None = None) -> Evidence:
    return Evidence(
        ts=row["ts"],  # type: ignore[arg-type]
        file=str(row["file"]),
        line=int(row["line"]),  # type: ignore[call-overload]
        text=text if text is not None else str(row.get("raw") or row.get("message") or ""),
    )


def last_request(requests: pl.DataFrame) -> dict[str, object]:
    """The latest of ``requests`` as a row; of a count row, its last line."""
    if LAST_TS not in requests.columns:
        return requests.sort("ts").row(-1, named=True)
    row = requests.sort(LAST_TS, LAST_LINE).row(-1, named=True)
    return {**row, "ts": row[LAST_TS], "line": row[LAST_LINE]}


def fmt(ts: datetime) -> str:
    return ts.strftime("%H:%M:%S.%f")[:-3]


def secs(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds()


def pod_cond(ns: str, pod: str) -> pl.Expr:
    return (pl.col("target_namespace") == ns) & (pl.col("target_pod") == pod)


def between(start: datetime, end: datetime) -> pl.Expr:
    return (pl.col("ts") >= start) & (pl.col("ts") <= end)


def life(inc: IncidentFrames, ns: str, pod: str) -> pl.Expr:
    """Rows of the life of ``ns/pod`` whose requests failed in this incident (a StatefulSet
    pod comes back under the same name; its other lives are other pods). Rows of no known
    life (no lifecycle line before them) belong to every life."""
    lives = inc.failures.filter(pod_cond(ns, pod))["pod_incarnation"].drop_nulls()
    if lives.len() == 0:
        return pl.lit(True)
    this = lives.value_counts(sort=True).row(0)[0]
    return pl.col("pod_incarnation").is_null() | (pl.col("pod_incarnation") == this)


def lifecycle_of(inc: IncidentFrames, ns: str, pod: str, *kinds: str) -> pl.DataFrame:
    """The incident's lifecycle lines of ``kinds`` from this life of ``ns/pod``, in order.

    Readiness lines are the pod's transitions only: a pod is ready when all its probed
    containers are (a sidecar's ``ready`` while the app is not is not the pod's)."""
    rows = inc.lifecycle.filter(
        (pl.col("namespace") == ns) & (pl.col("pod") == pod) & life(inc, ns, pod)
    )
    if {Kind.READY.value, Kind.NOT_READY.value} & set(kinds):
        rows = pod_readiness(rows)
    return rows.filter(pl.col("kind").is_in(list(kinds))).sort("ts")


def any_lifecycle_of(inc: IncidentFrames, ns: str, pod: str, *kinds: str) -> pl.DataFrame:
    """Like ``lifecycle_of``, over every life of the pod (restarts keep the pod's life, but
    a crash loop's lines may fall before the first failure's life is known)."""
    rows = inc.lifecycle.filter((pl.col("namespace") == ns) & (pl.col("pod") == pod))
    return rows.filter(pl.col("kind").is_in(list(kinds))).sort("ts")


def pod_episodes(ctx: Context, ns: str, pod: str) -> pl.DataFrame:
    eps = ctx.episodes.filter((pl.col("namespace") == ns) & (pl.col("pod") == pod))
    return eps.filter(life(ctx.inc, ns, pod)).sort("kill_ts")


def had_been_ready(inc: IncidentFrames, ns: str, pod: str, before: datetime) -> bool:
    """Whether this life of the pod was ready before ``before``: the kubelet said so, or the
    pod answered requests (only a ready pod is sent traffic) and was not still starting."""
    said_ready = lifecycle_of(inc, ns, pod, Kind.READY.value).filter(pl.col("ts") < before)
    if said_ready.height:
        return True
    mine = inc.requests.filter(pod_cond(ns, pod) & life(inc, ns, pod) & (pl.col("ts") < before))
    if "pod_phase" in mine.columns:
        mine = mine.filter(~pl.col("pod_phase").is_in(["pending", "starting"]).fill_null(False))
    answered = (pl.col("kind") == Kind.HTTP.value) & (pl.col("status") < 500).fill_null(False)
    return mine.filter(answered).height > 0


def first_last(failing: pl.DataFrame) -> tuple[dict[str, object], dict[str, object]]:
    ordered = failing.sort("ts")
    return ordered.row(0, named=True), ordered.row(-1, named=True)


def span_s(failing: pl.DataFrame) -> float:
    return secs(failing["ts"].min(), failing["ts"].max())  # type: ignore[arg-type]


def after(ts: datetime, seconds: float) -> datetime:
    return ts + timedelta(seconds=seconds)


def episode_evidence(ep: dict[str, object], *names: str) -> list[Evidence]:
    """The lines of an episode (``kill``, ``shutdown``, ``sigkill``, ``death``...) it has."""
    out = []
    for name in names:
        if ep.get(f"{name}_ts") is not None and ep.get(f"{name}_file") is not None:
            out.append(
                Evidence(
                    ep[f"{name}_ts"],  # type: ignore[arg-type]
                    str(ep[f"{name}_file"]),
                    int(ep[f"{name}_line"]),  # type: ignore[call-overload]
                    str(ep[f"{name}_raw"] or ""),
                )
            )
    return out


def mode_counts(failing: pl.DataFrame) -> str:
    """``12 refused, 3 reset`` of a frame with ``mode``."""
    counts = failing.group_by("mode").len().sort("len", "mode", descending=[True, False])
    return ", ".join(f"{n} {m}" for m, n in counts.iter_rows())
