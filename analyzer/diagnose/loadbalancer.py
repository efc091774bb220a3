"""RC6: a cloud load balancer kept sending to a target after its deregistration began (an
ALB target ``draining``, a NEG endpoint detached), and the pod was gone before it stopped.

What tells it from RC2: the pod did wait after its SIGTERM (a preStop delay or a drain that
the cluster's own proxies needed no more of), and what kept sending was the load balancer:
its controller logged the deregistration, or the failures are in its own logs.
"""

from __future__ import annotations

import re
from datetime import timedelta

import polars as pl

from analyzer import formats
from analyzer.diagnose.base import (
    Context,
    Rule,
    any_lifecycle_of,
    episode_evidence,
    ev,
    fmt,
    mode_counts,
    pod_cond,
    pod_episodes,
)
from analyzer.diagnose.finding import Finding
from analyzer.schema import Kind

WINDOW_S = 600.0  # an ALB's default deregistration delay is 300 s

LB_FIX = (
    "Keep the pod serving until the load balancer has really stopped sending: a preStop sleep "
    "longer than the observed {wait} s (and than the target group's deregistration delay, or "
    "shorten that delay), terminationGracePeriodSeconds above preStop + drain, and pod "
    "readiness gates (AWS Load Balancer Controller) so rollouts wait for target health."
)


#: A pod that waited this long after its SIGTERM before it stopped had a preStop delay (or
#: a drain) that outlasted the cluster's own proxies; one that stopped sooner had none (RC2).
WAITED_S = 2.0


def _lb_formats() -> list[str]:
    return [s.name for s in formats.specs() if s.load_balancer]


def lb_deregistration(ctx: Context) -> list[Finding]:
    """A pod that waited before it stopped, yet a cloud load balancer sent to it after."""
    inc, findings = ctx.inc, []
    lb_formats = _lb_formats()
    for ns, pod in inc.pods:
        eps = pod_episodes(ctx, ns, pod)
        if eps.height == 0:
            continue
        ep = eps.row(0, named=True)
        kill = ep["kill_ts"]
        stop = ep["death_ts"] or ep["finished_ts"] or ep["shutdown_ts"]
        if stop is None or (stop - kill).total_seconds() < WAITED_S:
            continue  # it stopped at once: no delay at all (no-prestop-drain)
        dereg = any_lifecycle_of(inc, ns, pod, Kind.LB_DEREGISTERED.value)
        # a wrapped line's format is ``wrapper+format``
        by_lb = (
            pl.col("format")
            .str.contains("(?:^|\\+)(?:" + "|".join(re.escape(f) for f in lb_formats) + ")$")
            .fill_null(False)
        )
        after_stop = pl.col("ts") >= stop - timedelta(seconds=0.5)
        claims = (
            pod_cond(ns, pod) & after_stop & (pl.col("ts") <= kill + timedelta(seconds=WINDOW_S))
        )
        if dereg.height == 0:
            claims = claims & by_lb  # which component kept sending says it was the LB
        failing = ctx.failures.filter(claims).sort("ts")
        if failing.height == 0 or (dereg.height == 0 and not lb_formats):
            continue
        first, last = failing.row(0, named=True), failing.row(-1, named=True)
        waited = (stop - kill).total_seconds()
        lasted = (last["ts"] - kill).total_seconds()
        if dereg.height:
            start = dereg.row(0, named=True)
            began = (
                f"The load balancer began deregistering {ns}/{pod} "
                f"({start.get('upstream') or 'its IP'}) at {fmt(start['ts'])}"
            )
            evidence = [ev(start)]
        else:
            logs = ", ".join(sorted(set(failing["format"].to_list())))
            began = f"The load balancer in front of {ns}/{pod} ({logs})"
            evidence = []
        summary = (
            f"{began} but kept sending to it after the pod stopped: it was sent SIGTERM at "
            f"{fmt(kill)}, waited {waited:.1f} s (a preStop delay or drain long enough for the "
            f"cluster's proxies) and stopped at {fmt(stop)}; {failing.height} requests then "
            f"failed from {fmt(first['ts'])} to {fmt(last['ts'])} ({mode_counts(failing)}), "
            f"{lasted:.1f} s after the SIGTERM. Target deregistration is asynchronous to the "
            "pod's termination and slower than in-cluster endpoint updates."
        )
        evidence += episode_evidence(ep, "kill", "death") + [ev(first), ev(last)]
        findings.append(
            ctx.finding(
                "lb-deregistration",
                claims,
                severity="critical",
                summary=summary,
                fix=LB_FIX.format(wait=int(lasted + 0.999) + 5),
                evidence=tuple(evidence),
                pod=f"{ns}/{pod}",
                container=ep["container"],
                window=(kill, last["ts"]),
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
