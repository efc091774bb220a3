"""Readiness: traffic to a pod that had stopped being ready (RC3), or was not ready yet (RC9)."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from analyzer.diagnose.base import (
    Context,
    Rule,
    ev,
    fmt,
    had_been_ready,
    last_request,
    life,
    lifecycle_of,
    pod_cond,
)
from analyzer.diagnose.finding import Finding
from analyzer.schema import LAST_TS, Kind

READINESS_FIX = (
    "Shorten the readiness removal lag (lower periodSeconds / failureThreshold on the readiness "
    "probe), add a preStop sleep so the pod leaves every load balancer before the app stops, and "
    "make servers close keep-alive connections on shutdown so clients stop reusing them."
)


def readiness_lag(ctx: Context) -> list[Finding]:
    """Traffic kept reaching a pod after its readiness probe began failing."""
    inc, findings = ctx.inc, []
    for ns, pod in inc.pods:
        this_life = life(inc, ns, pod)
        probes = lifecycle_of(inc, ns, pod, Kind.PROBE_FAILED.value).filter(
            pl.col("probe") == "readiness"
        )
        if (probes["source"] == "kubelet").any():  # else (--v=0) Events are all there is
            probes = probes.filter(pl.col("source") == "kubelet")
        if probes.height == 0:
            continue
        first = probes.row(0, named=True)
        t_first = first["ts"]
        if not had_been_ready(inc, ns, pod, t_first):
            continue  # a pod that never was ready was never in any endpoint list to leave
        # A count row arrived until its ``last_ts``.
        until = pl.col(LAST_TS) if LAST_TS in inc.requests.columns else pl.col("ts")
        traffic = inc.requests.filter(pod_cond(ns, pod) & this_life & (until > t_first))
        failing_after = inc.failures.filter(
            pod_cond(ns, pod) & this_life & (pl.col("ts") > t_first)
        )
        if traffic.height == 0 or failing_after.height == 0:
            continue
        gaps = probes["ts"].diff().dt.total_microseconds().drop_nulls() / 1e6
        period = float(round(gaps.median())) if len(gaps) else None  # type: ignore[arg-type]
        not_ready = lifecycle_of(inc, ns, pod, Kind.NOT_READY.value).filter(pl.col("ts") >= t_first)
        if not_ready.height:
            t_nr = not_ready["ts"][0]
            threshold = probes.filter(pl.col("ts") <= t_nr + timedelta(seconds=1)).height
            how = f"marked not ready after {threshold} failures at {fmt(t_nr)}"
        else:
            threshold, how = (
                3,
                "no not-ready transition logged; failureThreshold assumed 3 (default)",
            )
        last = last_request(traffic)
        lasted = (last["ts"] - t_first).total_seconds()
        if period is None or lasted < period:
            continue
        lag = threshold * period
        window_end = t_first + timedelta(seconds=lag)
        deleted = lifecycle_of(inc, ns, pod, Kind.POD_DELETED.value)
        note = ""
        if deleted.height and deleted["ts"][0] <= last["ts"]:
            note = (
                " The pod was already deleted, which removes it from Service endpoints at once: "
                "traffic that still arrived came over reused keep-alive connections."
            )
        summary = (
            f"Traffic kept reaching {ns}/{pod} for {lasted:.1f} s after its first readiness probe "
            f"failure at {fmt(t_first)} (probe every {period:g} s, {how}; removal lag "
            f"failureThreshold × periodSeconds ≈ {lag:g} s).{note}"
        )
        claims = pod_cond(ns, pod) & this_life & pl.col("ts").is_between(t_first, window_end)
        explains = ctx.share(claims)
        if explains == 0:
            continue  # the lag was there, but no failure fell in it
        evidence = [ev(r) for r in probes.head(threshold).iter_rows(named=True)]
        if not_ready.height:
            evidence.append(ev(not_ready.row(0, named=True)))
        evidence.append(ev(last))
        findings.append(
            ctx.finding(
                "readiness-lag",
                claims,
                severity="warning",
                summary=summary,
                fix=READINESS_FIX,
                evidence=tuple(evidence),
                pod=f"{ns}/{pod}",
                container=first.get("container"),
                window=(t_first, window_end),
            )
        )
    return findings


STARTUP_FIX = (
    "Not a cause of termination 5xx. If the noise matters, start background pollers only after "
    "the backend is ready (or disable them, as GitLab did with the Geo poller), and keep the pod "
    "out of load balancers until its readiness probe passes."
)


def startup_not_ready(ctx: Context) -> list[Finding]:
    """Failures from a pod that was not ready yet: startup noise, not the incident's cause."""
    inc, findings = ctx.inc, []
    for ns, pod in inc.pods:
        mine = inc.failures.filter(pod_cond(ns, pod))
        early = mine.filter(pl.col("pod_phase").is_in(["pending", "starting"]))
        if early.height == 0:
            continue
        if had_been_ready(inc, ns, pod, early["ts"].min()):
            continue  # a container restarting in a pod that served: not the pod's startup
        ready = lifecycle_of(inc, ns, pod, Kind.READY.value)
        started = lifecycle_of(inc, ns, pod, Kind.CONTAINER_STARTED.value, Kind.POD_ADDED.value)
        first, last = early.row(0, named=True), early.row(-1, named=True)
        ready_txt = (
            f"became ready at {fmt(ready['ts'][0])}" if ready.height else "was not yet ready"
        )
        targets = (
            ", ".join(sorted(set(early["target_container"].drop_nulls().to_list())))
            or "its backend"
        )
        starting = pod_cond(ns, pod) & pl.col("pod_phase").is_in(["pending", "starting"])
        summary = (
            f"{early.height} failing requests from {ns}/{pod} between {fmt(first['ts'])} and "
            f"{fmt(last['ts'])}, while the pod was starting ({targets} not listening yet); it "
            f"{ready_txt}. Startup-time noise (e.g. a background poller), not a termination cause."
        )
        evidence = [ev(r) for r in started.head(1).iter_rows(named=True)]
        evidence += [ev(first), ev(last)]
        evidence += [ev(r) for r in ready.head(1).iter_rows(named=True)]
        findings.append(
            ctx.finding(
                "startup-not-ready",
                starting,
                severity="info",
                summary=summary,
                fix=STARTUP_FIX,
                evidence=tuple(evidence),
                pod=f"{ns}/{pod}",
                window=(first["ts"], last["ts"]),
            )
        )
    return findings


RULES = (
    Rule(
        code="readiness-lag",
        cause="RC3",
        severity="warning",
        title="traffic kept coming for failureThreshold x periodSeconds after probes failed",
        needs=(Kind.PROBE_FAILED.value, Kind.NOT_READY.value, Kind.READY.value),
        fix=READINESS_FIX,
        find=readiness_lag,
        contributing=True,
    ),
    Rule(
        code="startup-not-ready",
        cause="RC9",
        severity="info",
        title="failures from a pod still starting: noise, not a termination cause",
        needs=(Kind.POD_ADDED.value, Kind.CONTAINER_STARTED.value, Kind.READY.value),
        fix=STARTUP_FIX,
        find=startup_not_ready,
    ),
)
