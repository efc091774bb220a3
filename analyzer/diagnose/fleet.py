"""RC10: a drain, an eviction or a scale-down took several pods at once.

The mechanics are each pod's own (RC1, RC2, RC4...), so this finding groups the per-pod
findings: it says which pods lost requests together and why each did, and explains what
they explain (plus its pods' failures in the episode that no per-pod cause covers).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from analyzer.diagnose.base import Context, Rule, any_lifecycle_of, ev, fmt, pod_cond
from analyzer.diagnose.finding import Finding
from analyzer.schema import Kind

TOGETHER_S = 15.0  # terminations this close went down together
SAME_MOMENT_S = 2.0  # deletions this close were one decision
MIN_FAILURES = 3
#: Without an eviction line, this many pods at once is a fleet event all the same.
MIN_PODS_UNEXPLAINED = 3

FLEET_FIX = (
    "Limit how many pods go at once and make each termination lossless: a "
    "PodDisruptionBudget (drains and evictions respect it), `maxUnavailable` on rollouts and "
    "slower autoscaler scale-downs; and fix each pod's own cause below."
)


def mass_termination(ctx: Context, found: list[Finding]) -> list[Finding]:
    inc = ctx.inc
    ends: list[tuple[datetime, str, str, dict[str, object], bool]] = []
    for ns, pod in inc.pods:
        lines = any_lifecycle_of(
            inc, ns, pod, Kind.EVICTED.value, Kind.POD_DELETED.value, Kind.KILL.value
        )
        # A liveness restart's kill is not the pod going away.
        lines = lines.filter(pl.col("probe").is_null() | (pl.col("probe") != "liveness"))
        if lines.height == 0:
            continue
        if ctx.failures.filter(pod_cond(ns, pod)).height < MIN_FAILURES:
            continue
        evicted = lines.filter(pl.col("kind") == Kind.EVICTED.value)
        row = (evicted if evicted.height else lines).row(0, named=True)
        ends.append((lines["ts"][0], ns, pod, row, evicted.height > 0))
    if len(ends) < 2:
        return []
    ends.sort(key=lambda e: e[0])
    group = [e for e in ends if (e[0] - ends[0][0]).total_seconds() <= TOGETHER_S]
    evictions = any(e[4] for e in group)
    # One controller decision (a scale-down, a drain) deletes its pods in the same moment;
    # a rollout replaces them one by one as the new ones get ready.
    at_once = (group[-1][0] - group[0][0]).total_seconds() <= SAME_MOMENT_S
    if len(group) < 2 or not (evictions or at_once or len(group) >= MIN_PODS_UNEXPLAINED):
        return []
    names = [f"{ns}/{pod}" for _, ns, pod, _, _ in group]
    t0, t1 = group[0][0], group[-1][0]
    claims = pl.lit(False)
    parts = []
    for t, ns, pod, _, _ in group:
        claims = claims | (pod_cond(ns, pod) & (pl.col("ts") >= t - timedelta(seconds=1)))
        n = ctx.failures.filter(pod_cond(ns, pod)).height
        # in cause order (the order the rules ran in): the primary cause first
        own = list(dict.fromkeys(f.code for f in found if f.pod == f"{ns}/{pod}"))
        parts.append(f"{ns}/{pod} lost {n} ({', '.join(own) or 'no per-pod cause found'})")
    how = "were evicted" if evictions else "were terminated"
    summary = (
        f"{len(group)} pods {how} within {(t1 - t0).total_seconds():.1f} s of each other from "
        f"{fmt(t0)} (a drain, eviction or scale-down) and lost requests together: "
        + "; ".join(parts)
        + "."
    )
    evidence = tuple(ev(row) for _, _, _, row, _ in group)
    return [
        ctx.finding(
            "mass-termination",
            claims,
            severity="critical",
            summary=summary,
            fix=FLEET_FIX,
            evidence=evidence,
            pod=", ".join(names),
            window=(t0, t1),
        )
    ]


RULES = (
    Rule(
        code="mass-termination",
        cause="RC10",
        severity="critical",
        title="several pods taken at once (drain, eviction, scale-down), each by its own cause",
        needs=(Kind.EVICTED.value, Kind.POD_DELETED.value, Kind.KILL.value),
        fix=FLEET_FIX,
        find=mass_termination,  # type: ignore[arg-type]
    ),
)
