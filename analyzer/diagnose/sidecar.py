"""RC5: containers of one pod stopping in the wrong order.

Containers get SIGTERM "at different times and in an arbitrary order": a sidecar proxy or
agent (istio-proxy, cloud-sql-proxy, ...) that drains or exits first leaves its app unable
to serve or call out; an app that exits before its in-pod proxy leaves the proxy answering
5xx for it. Either way one container of the pod stopped, another kept running, and requests
to the pod failed in between.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from analyzer.diagnose.base import (
    Context,
    Rule,
    episode_evidence,
    ev,
    fmt,
    mode_counts,
    pod_cond,
    pod_episodes,
)
from analyzer.diagnose.finding import Finding
from analyzer.schema import Kind

#: A container that outlived its sibling by less than this stopped with it.
ORDER_GAP_S = 2.0
MIN_FAILURES = 3
#: Names of containers that are infrastructure beside the app, not the app.
SIDECAR_NAME = (
    r"(?i)(?:^|[-_])(?:istio-proxy|linkerd-proxy|envoy|proxy|sidecar|agent|cloud-?sql|"
    r"oauth2|vault|fluent|filebeat|promtail|otel|datadog|consul)(?:$|[-_])"
)

SIDECAR_FIX = (
    "Make the sidecar outlive its app: run it as a native sidecar (an initContainer with "
    "restartPolicy: Always, Kubernetes 1.29+), or have it wait for its app "
    "(Istio `EXIT_ON_ZERO_ACTIVE_CONNECTIONS=true` / `terminationDrainDuration`, "
    "cloud-sql-proxy `--quitquitquit` / `--max-sigterm-delay`); for startup, "
    "`holdApplicationUntilProxyStarts`."
)
BACKEND_FIX = (
    "Stop the in-pod proxy from accepting before its backend exits: give the backend a preStop "
    "sleep longer than the proxy's drain (or the proxy a preStop that fails its readiness "
    "first), so the proxy never forwards to a backend that is gone."
)


def _stop_of(ep: dict[str, object]) -> tuple[datetime, str] | None:
    """When the container was gone: its death, else the last word it said. (A shutdown
    line is not the end: an app drains and serves on, an Istio agent drains for seconds.)"""
    for name in ("death", "sigkill", "finished", "shutdown"):
        ts = ep.get(f"{name}_ts")
        if ts is not None and ts >= ep["kill_ts"]:  # type: ignore[operator]
            return ts, name  # type: ignore[return-value]
    return None


def sidecar_shutdown_order(ctx: Context) -> list[Finding]:
    inc, findings = ctx.inc, []
    for ns, pod in inc.pods:
        eps = pod_episodes(ctx, ns, pod)
        if eps["container"].n_unique() < 2:
            continue
        stops = []
        for ep in eps.iter_rows(named=True):
            stop = _stop_of(ep)
            end = ep["death_ts"] or ep["sigkill_ts"]
            if stop is not None:
                stops.append((stop[0], stop[1], end, ep))
        if len(stops) < 2:
            continue
        stops.sort(key=lambda s: s[0])
        first_stop, said, _, gone = stops[0]
        survivors = [s for s in stops[1:] if s[3]["container"] != gone["container"]]
        if not survivors:
            continue
        # The sibling that stayed up longest after the first one stopped.
        last_stop = max(survivors, key=lambda s: s[2] or s[0])
        until = last_stop[2] or last_stop[0]
        if (until - first_stop).total_seconds() < ORDER_GAP_S:
            continue
        is_sidecar = bool(pl.Series([gone["container"]]).str.contains(SIDECAR_NAME)[0])
        failing_local = ctx.failures.filter(
            pod_cond(ns, pod) & (pl.col("target_container") == gone["container"])
        )
        behind_proxy = failing_local.height > 0 and not is_sidecar
        if not (is_sidecar or behind_proxy):
            continue
        claims = (
            pod_cond(ns, pod)
            & (pl.col("ts") >= first_stop - timedelta(seconds=0.5))
            & (pl.col("ts") <= until + timedelta(seconds=1))
        )
        failing = ctx.failures.filter(claims).sort("ts")
        if failing.height < MIN_FAILURES:
            continue
        survivor = last_stop[3]["container"]
        first, last = failing.row(0, named=True), failing.row(-1, named=True)
        if is_sidecar:
            what = (
                f"the sidecar {gone['container']} in {ns}/{pod} stopped at {fmt(first_stop)} "
                f"({said} line) while {survivor} kept running until {fmt(until)}"
            )
            fix = SIDECAR_FIX
        else:
            what = (
                f"the backend {gone['container']} in {ns}/{pod} stopped at {fmt(first_stop)} "
                f"({said} line) while its in-pod proxy {survivor} kept accepting until "
                f"{fmt(until)}"
            )
            fix = BACKEND_FIX
        summary = (
            f"Containers stopped in the wrong order: {what}. {failing.height} requests to the "
            f"pod failed in between, from {fmt(first['ts'])} to {fmt(last['ts'])} "
            f"({mode_counts(failing)})."
        )
        evidence = episode_evidence(gone, "kill", "shutdown", "finished", "death")
        evidence += [ev(first), ev(last)]
        evidence += episode_evidence(last_stop[3], "shutdown", "death")
        findings.append(
            ctx.finding(
                "sidecar-shutdown-order",
                claims,
                severity="critical",
                summary=summary,
                fix=fix,
                evidence=tuple(evidence),
                pod=f"{ns}/{pod}",
                container=gone["container"],
                window=(first_stop, until),
            )
        )
    return findings


RULES = (
    Rule(
        code="sidecar-shutdown-order",
        cause="RC5",
        severity="critical",
        title="a sidecar (or a backend behind an in-pod proxy) stopped before its sibling",
        needs=(Kind.KILL.value, Kind.SHUTDOWN_STARTED.value, Kind.CONTAINER_DIED.value),
        fix=SIDECAR_FIX,
        find=sidecar_shutdown_order,
    ),
)
