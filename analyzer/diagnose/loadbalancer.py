"""RC6: a load balancer kept sending to a target after its deregistration began (an ALB
target ``draining``, a NEG endpoint detached), and the pod was gone before it stopped."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from analyzer.diagnose.base import Context, Rule, any_lifecycle_of, ev, fmt, mode_counts, pod_cond
from analyzer.diagnose.finding import Finding
from analyzer.schema import Kind

WINDOW_S = 600.0  # an ALB's default deregistration delay is 300 s

LB_FIX = (
    "Keep the pod serving until the load balancer has really stopped sending: a preStop sleep "
    "longer than the observed {wait} s (and than the target group's deregistration delay, or "
    "shorten that delay), terminationGracePeriodSeconds above preStop + drain, and pod "
    "readiness gates (AWS Load Balancer Controller) so rollouts wait for target health."
)


def lb_deregistration(ctx: Context) -> list[Finding]:
    inc, findings = ctx.inc, []
    for ns, pod in inc.pods:
        dereg = any_lifecycle_of(inc, ns, pod, Kind.LB_DEREGISTERED.value)
        if dereg.height == 0:
            continue
        start = dereg.row(0, named=True)
        t_d = start["ts"]
        claims = pod_cond(ns, pod) & (pl.col("ts") >= t_d) & (
            pl.col("ts") <= t_d + timedelta(seconds=WINDOW_S)
        )
        failing = ctx.failures.filter(claims).sort("ts")
        if failing.height == 0:
            continue
        first, last = failing.row(0, named=True), failing.row(-1, named=True)
        lasted = (last["ts"] - t_d).total_seconds()
        summary = (
            f"The load balancer began deregistering {ns}/{pod} ({start.get('upstream') or 'its IP'}) "
            f"at {fmt(t_d)} but kept sending to it: {failing.height} requests failed from "
            f"{fmt(first['ts'])} to {fmt(last['ts'])} ({mode_counts(failing)}), up to "
            f"{lasted:.1f} s after. Deregistration is asynchronous to the pod's termination."
        )
        findings.append(
            Finding(
                code="lb-deregistration",
                severity="critical",
                summary=summary,
                explains=ctx.share(claims),
                fix=LB_FIX.format(wait=int(lasted + 0.999)),
                evidence=(ev(start), ev(first), ev(last)),
                pod=f"{ns}/{pod}",
                window=(t_d, last["ts"]),
                claims=claims,
            )
        )
    return findings


RULES = (
    Rule(
        code="lb-deregistration",
        cause="RC6",
        severity="critical",
        title="a load balancer kept sending to a target it was deregistering",
        needs=(Kind.LB_DEREGISTERED.value, Kind.HTTP.value),
        fix=LB_FIX.format(wait="N"),
        find=lb_deregistration,
    ),
)
