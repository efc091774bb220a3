"""Restarts of a container in a pod that stays: an OOM kill (RC8), a liveness restart, a
crash loop. The pod keeps its endpoint until its readiness probe fails, so requests fail
from the death until the new container is ready."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from analyzer.correlate.incidents import IncidentFrames
from analyzer.diagnose.base import (
    Context,
    Rule,
    any_lifecycle_of,
    ev,
    fmt,
    mode_counts,
    pod_cond,
)
from analyzer.diagnose.finding import Evidence, Finding
from analyzer.schema import Kind

#: With no ready line after it, a restart's failures are looked for this long.
RESTART_WINDOW_S = 120.0
SAME_DEATH_S = 2.0  # the runtime's and the kubelet's lines of one death
SIGKILL_EXIT_CODE = 137

OOM_FIX = (
    "Raise the container's memory limit above its real peak (or fix the leak / bound the "
    "caches and worker count), and keep the pod out of rotation while it restarts: a "
    "readiness probe with a short periodSeconds, several replicas, and a PodDisruptionBudget."
)
LIVENESS_FIX = (
    "Find out why the app stopped answering its liveness probe (deadlock, exhausted worker "
    "pool, long GC) and give the probe a timeout and failureThreshold that a slow but alive "
    "app passes; let the readiness probe fail first so the pod leaves the endpoints before "
    "the kubelet restarts it."
)
CRASH_FIX = (
    "Fix the crash the container's last lines show (its exit code and the app's own error "
    "before each death); until then the pod flaps in and out of the endpoints. Readiness "
    "that fails fast keeps traffic off it between restarts."
)


def _deaths(inc, ns: str, pod: str) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    """One row per container death of the pod (the runtime's line, with its exit code, over
    the kubelet's of the same moment)."""
    died = any_lifecycle_of(inc, ns, pod, Kind.CONTAINER_DIED.value)
    if died.height == 0:
        return died
    died = died.sort("container", "ts", pl.col("exit_code").is_null())
    gap = pl.col("ts").diff().over("container").dt.total_seconds() > SAME_DEATH_S
    return died.filter(gap.fill_null(True)).sort("ts")


def _ready_after(inc, ns: str, pod: str, ts: datetime) -> datetime | None:  # type: ignore[no-untyped-def]
    ready = any_lifecycle_of(inc, ns, pod, Kind.READY.value).filter(pl.col("ts") > ts)
    return ready["ts"][0] if ready.height else None


def _restart_window(
    inc: IncidentFrames, ns: str, pod: str, start: datetime, death: datetime
) -> tuple[datetime, datetime]:
    """From ``start`` until the pod was ready again (or ``RESTART_WINDOW_S`` after the
    death), and never past the pod's deletion: what came after is its termination's."""
    ready = _ready_after(inc, ns, pod, death)
    if ready is not None:
        end = ready + timedelta(seconds=5)
    else:
        end = death + timedelta(seconds=RESTART_WINDOW_S)
    deleted = any_lifecycle_of(inc, ns, pod, Kind.POD_DELETED.value, Kind.EVICTED.value).filter(
        pl.col("ts") > death
    )
    if deleted.height:
        end = min(end, deleted["ts"][0])
    return start, end


def _killed_by_kubelet(
    ctx: Context, ns: str, pod: str, container: str | None, death: datetime
) -> bool:
    """Whether a SIGTERM (a deletion or a liveness restart) came before this death."""
    eps = ctx.episodes.filter(
        (pl.col("namespace") == ns)
        & (pl.col("pod") == pod)
        & (pl.col("kill_ts") <= death)
        & (pl.col("kill_ts") >= death - timedelta(seconds=600))
    )
    if container is not None:
        eps = eps.filter(pl.col("container") == container)
    if eps.height == 0:
        return False
    grace = eps["grace_period_s"].fill_null(30).max()
    return (death - eps["kill_ts"].max()).total_seconds() <= float(grace) + 5  # type: ignore[arg-type]


def _finding(
    ctx: Context,
    code: str,
    fix: str,
    ns: str,
    pod: str,
    container: str | None,
    window: tuple[datetime, datetime],
    what: str,
    evidence: list[Evidence],
) -> Finding | None:
    claims = pod_cond(ns, pod) & (pl.col("ts") >= window[0]) & (pl.col("ts") <= window[1])
    failing = ctx.failures.filter(claims).sort("ts")
    if failing.height == 0:
        return None
    first, last = failing.row(0, named=True), failing.row(-1, named=True)
    summary = (
        f"{what} Requests to the pod failed meanwhile: {failing.height} from "
        f"{fmt(first['ts'])} to {fmt(last['ts'])} ({mode_counts(failing)})."
    )
    return ctx.finding(
        code,
        claims,
        summary=summary,
        fix=fix,
        evidence=(*evidence, ev(first), ev(last)),
        pod=f"{ns}/{pod}",
        container=container,
        window=window,
    )


def oom_killed(ctx: Context) -> list[Finding]:
    """The kernel's OOM killer ended a container: an OOM line, or exit 137 with no SIGTERM."""
    inc, findings = ctx.inc, []
    for ns, pod in inc.pods:
        ooms = any_lifecycle_of(inc, ns, pod, Kind.OOM_KILLED.value)
        deaths = _deaths(inc, ns, pod)
        silent = deaths.filter(pl.col("exit_code") == SIGKILL_EXIT_CODE)
        seen: list[datetime] = []
        for row in [*ooms.iter_rows(named=True), *silent.iter_rows(named=True)]:
            ts, container = row["ts"], row.get("container")
            if any(abs((ts - s).total_seconds()) < 10 for s in seen):
                continue
            said_oom = row["kind"] == Kind.OOM_KILLED.value
            if not said_oom and _killed_by_kubelet(ctx, ns, pod, container, ts):
                continue  # a 137 at the grace end is the kubelet's SIGKILL, not the kernel's
            seen.append(ts)
            # the death the OOM kill caused, right after it (not a later one)
            death = deaths.filter(
                pl.col("ts").is_between(ts - timedelta(seconds=1), ts + timedelta(seconds=5))
            ).head(1)
            died_at = death["ts"][0] if death.height else ts
            window = _restart_window(inc, ns, pod, ts - timedelta(seconds=2), died_at)
            how = (
                "the runtime/kernel logged an OOM kill"
                if said_oom
                else ("exit code 137 (SIGKILL) with no SIGTERM before it")
            )
            ready = _ready_after(inc, ns, pod, died_at)
            back = f"; the pod was ready again at {fmt(ready)}" if ready else ""
            what = (
                f"{container or 'a container'} in {ns}/{pod} was killed for running out of "
                f"memory at {fmt(ts)} ({how}){back}. The endpoint stayed in rotation while the "
                "container died and restarted."
            )
            evidence = [ev(row)] + [ev(r) for r in death.iter_rows(named=True) if r["ts"] != ts]
            found = _finding(ctx, "oom-killed", OOM_FIX, ns, pod, container, window, what, evidence)
            if found is not None:
                findings.append(found)
    return findings


def liveness_restart(ctx: Context) -> list[Finding]:
    """The kubelet restarted a container whose liveness probe kept failing."""
    inc, findings = ctx.inc, []
    for ns, pod in inc.pods:
        probes = any_lifecycle_of(inc, ns, pod, Kind.PROBE_FAILED.value).filter(
            pl.col("probe") == "liveness"
        )
        if (probes["source"] == "kubelet").any():
            probes = probes.filter(pl.col("source") == "kubelet")
        kills = any_lifecycle_of(inc, ns, pod, Kind.KILL.value)
        said = kills.filter(pl.col("probe") == "liveness")
        if said.height == 0 and probes.height:
            # A kill within a probe period or two of the failures, with no deletion before it.
            deleted = any_lifecycle_of(inc, ns, pod, Kind.POD_DELETED.value, Kind.EVICTED.value)
            t_last = probes["ts"].max()
            said = kills.filter(
                (pl.col("ts") >= probes["ts"].min())
                & (pl.col("ts") <= t_last + timedelta(seconds=15))  # type: ignore[operator]
            )
            if deleted.height and said.height and deleted["ts"].min() <= said["ts"].max():
                said = said.clear()
        if said.height == 0:
            continue
        kill = said.row(0, named=True)
        before = probes.filter(pl.col("ts") <= kill["ts"])
        gaps = before["ts"].diff().dt.total_seconds().drop_nulls()
        period = float(gaps.median()) if len(gaps) else 10.0  # type: ignore[arg-type]
        threshold = max(before.height, 1)
        t_first = before["ts"][0] if before.height else kill["ts"]
        # A wedged app fails requests before its first failed probe (up to a period earlier).
        start = t_first - timedelta(seconds=period)
        death = _deaths(inc, ns, pod).filter(pl.col("ts") >= kill["ts"]).head(1)
        died_at = death["ts"][0] if death.height else kill["ts"]
        window = _restart_window(inc, ns, pod, start, died_at)
        what = (
            f"{kill.get('container') or 'a container'} in {ns}/{pod} failed its liveness probe "
            f"{threshold} times from {fmt(t_first)} (every {period:g} s) and the kubelet "
            f"restarted it at {fmt(kill['ts'])}; the pod was not deleted, so it stayed an "
            "endpoint while the app hung and restarted."
        )
        evidence = [ev(r) for r in before.head(3).iter_rows(named=True)] + [ev(kill)]
        evidence += [ev(r) for r in death.iter_rows(named=True)]
        found = _finding(
            ctx,
            "liveness-restart",
            LIVENESS_FIX,
            ns,
            pod,
            kill.get("container"),
            window,
            what,
            evidence,
        )
        if found is not None:
            findings.append(found)
    return findings


def crash_loop(ctx: Context) -> list[Finding]:
    """A container that kept dying by itself and was held back (CrashLoopBackOff)."""
    inc, findings = ctx.inc, []
    for ns, pod in inc.pods:
        deaths = _deaths(inc, ns, pod)
        backoff = any_lifecycle_of(inc, ns, pod, Kind.BACK_OFF.value)
        crashes = deaths.filter(
            pl.col("exit_code").is_null() | ~pl.col("exit_code").is_in([0, 143, SIGKILL_EXIT_CODE])
        )
        crashes = pl.DataFrame(
            [
                r
                for r in crashes.iter_rows(named=True)
                if not _killed_by_kubelet(ctx, ns, pod, r.get("container"), r["ts"])
            ],
            schema=crashes.schema,
        )
        if crashes.height < 2 and not (crashes.height and backoff.height):
            continue
        first, last = crashes.row(0, named=True), crashes.row(-1, named=True)
        end_at = max([last["ts"], *backoff["ts"].to_list()])
        window = _restart_window(inc, ns, pod, first["ts"] - timedelta(seconds=2), end_at)
        codes = sorted({c for c in crashes["exit_code"].to_list() if c is not None})
        code_txt = f"exit code {', '.join(map(str, codes))}" if codes else "exit code not logged"
        what = (
            f"{first.get('container') or 'a container'} in {ns}/{pod} died {crashes.height} "
            f"times by itself between {fmt(first['ts'])} and {fmt(last['ts'])} ({code_txt})"
            + (
                f", and the kubelet backed off restarting it ({backoff.height} back-off lines)"
                if backoff.height
                else ""
            )
            + "."
        )
        evidence = [ev(r) for r in crashes.head(3).iter_rows(named=True)]
        evidence += [ev(r) for r in backoff.head(2).iter_rows(named=True)]
        found = _finding(
            ctx, "crash-loop", CRASH_FIX, ns, pod, first.get("container"), window, what, evidence
        )
        if found is not None:
            findings.append(found)
    return findings


RULES = (
    Rule(
        code="oom-killed",
        cause="RC8",
        severity="critical",
        title="the kernel's OOM killer ended a serving container (exit 137, no SIGTERM)",
        needs=(Kind.OOM_KILLED.value, Kind.CONTAINER_DIED.value, Kind.READY.value),
        fix=OOM_FIX,
        find=oom_killed,
    ),
    Rule(
        code="liveness-restart",
        cause="",
        severity="critical",
        title="the kubelet restarted a container that failed its liveness probe",
        needs=(Kind.PROBE_FAILED.value, Kind.KILL.value, Kind.CONTAINER_DIED.value),
        fix=LIVENESS_FIX,
        find=liveness_restart,
    ),
    Rule(
        code="crash-loop",
        cause="",
        severity="critical",
        title="a container kept crashing and was restarted with back-off",
        needs=(Kind.CONTAINER_DIED.value, Kind.BACK_OFF.value),
        fix=CRASH_FIX,
        find=crash_loop,
    ),
)
