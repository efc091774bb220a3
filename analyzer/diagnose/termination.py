"""Terminations: what the container did with its SIGTERM, against what the proxies did.

RC1 ``sigterm-ignored``: no shutdown line, SIGKILL at the grace end, 5xx all along.
RC7 ``grace-period-exceeded``: a shutdown began but the grace period ended it.
RC2 ``no-prestop-drain``: a prompt, clean exit while proxies kept sending.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from analyzer.correlate.incidents import IncidentFrames
from analyzer.diagnose.base import (
    Context,
    Rule,
    episode_evidence,
    ev,
    fmt,
    life,
    lifecycle_of,
    mode_counts,
    pod_cond,
    pod_episodes,
)
from analyzer.diagnose.finding import Evidence, Finding
from analyzer.schema import Kind

AFTERMATH_S = 15.0

SIGTERM_FIX = (
    'Make the server PID 1 or forward signals to it: exec-form CMD ["/path/app", "arg"] '
    "instead of shell-form CMD (which runs /bin/sh -c as PID 1), `exec app` at the end of "
    "wrapper scripts, or an init that forwards signals (tini, dumb-init). Then the process "
    "drains on SIGTERM instead of being SIGKILLed."
)


#: Exit codes of a process that ended by itself (0) or on SIGTERM (128 + 15): not SIGKILLed.
CLEAN_EXIT_CODES = (0, 143)
SIGKILL_EXIT_CODE = 137  # 128 + 9


def _killed_at_grace_end(ep: dict[str, object]) -> tuple[datetime, float] | None:
    """(death, seconds after the kill) when the container was SIGKILLed as its grace ran out.

    The runtime's SIGKILL line, when the journal has it, is the death itself. A clean exit
    code (0, or 143 for SIGTERM) rules it out even then; without a SIGKILL line only 137
    or no code logged at all fit.
    """
    kill, grace = ep["kill_ts"], ep["grace_period_s"]
    death = ep["sigkill_ts"] or ep["death_ts"]
    if death is None or grace is None or not isinstance(kill, datetime):
        return None
    assert isinstance(death, datetime) and isinstance(grace, int | float)
    if ep["exit_code"] in CLEAN_EXIT_CODES:
        return None
    if ep["sigkill_ts"] is None and ep["exit_code"] not in (None, SIGKILL_EXIT_CODE):
        return None
    oom = ep.get("oom_ts")
    if ep["sigkill_ts"] is None and oom is not None and oom <= death:  # type: ignore[operator]
        # The runtime logged an OOM kill (TaskOOM) before the death and no SIGKILL of its
        # own: the 137 is the kernel's OOM killer, not the kubelet's SIGKILL at grace end.
        return None
    finished = ep["finished_ts"]
    if finished is not None and kill <= finished <= death:  # type: ignore[operator]
        return None  # it said it finished: whatever killed it later did not cut a drain
    lived = (death - kill).total_seconds()
    # The kubelet sends SIGKILL when the grace period ends; runtimes log it within ~1-2 s.
    if abs(lived - grace) > max(2.0, 0.05 * grace):
        return None
    return death, lived


def _killed_evidence(ep: dict[str, object]) -> list[Evidence]:
    """The kill line, then the SIGKILL and death lines that exist."""
    return episode_evidence(ep, "kill", "sigkill", "death")


def _how_killed(ep: dict[str, object]) -> str:
    code = ep["exit_code"]
    killed = f"exit code {code}" if code is not None else "exit code not logged"
    if ep["sigkill_ts"] is not None:
        killed += ", SIGKILL logged by the runtime"
    return killed


def _killed_at_grace_findings(ctx: Context, *, said_shutdown: bool) -> list[Finding]:
    """Containers SIGKILLed at the end of their grace period while requests to the pod failed.

    Without a shutdown line from the container in between, the signal never reached the
    server (RC1, sigterm-ignored); with one, the drain outlasted the grace period (RC7).
    """
    inc, findings = ctx.inc, []
    for ns, pod in inc.pods:
        this_life = life(inc, ns, pod)
        eps = pod_episodes(ctx, ns, pod)
        for ep in eps.iter_rows(named=True):
            killed_at = _killed_at_grace_end(ep)
            if killed_at is None:
                continue
            death, lived = killed_at
            # Only a shutdown line between the kill and the death says the signal arrived;
            # one from a file that names no container (a dump) may be this container's.
            said = ep["shutdown_ts"] is not None and ep["kill_ts"] <= ep["shutdown_ts"] <= death
            if not said_shutdown and not said and _unassigned_shutdown(inc, ns, pod, ep, death):
                continue
            if said != said_shutdown:
                continue
            kill, grace = ep["kill_ts"], ep["grace_period_s"]
            # The kill cuts connections that kept being used (keep-alive): their failures
            # come right after the death, so they count as well.
            during = (pl.col("ts") >= kill) & (
                pl.col("ts") <= death + timedelta(seconds=AFTERMATH_S)
            )
            during = during & this_life
            failing = inc.failures.filter(pod_cond(ns, pod) & during).sort("ts")
            if failing.height == 0:
                continue
            first, last = failing.row(0, named=True), failing.row(-1, named=True)
            span = (last["ts"] - first["ts"]).total_seconds()
            sent = (
                f"{ep['container']} in {ns}/{pod} was sent SIGTERM at {fmt(kill)} (grace period "
                f"{grace:g} s)"
            )
            died = (
                f"died {lived:.1f} s later at {fmt(death)} ({_how_killed(ep)}), i.e. it was "
                "SIGKILLed when the grace period ran out. Meanwhile and right after, "
                f"{failing.height} requests to the pod failed over {span:.0f} s."
            )
            evidence = _killed_evidence(ep)
            if said_shutdown:
                code, fix = "grace-period-exceeded", GRACE_FIX
                summary = (
                    f"{sent}, began shutting down at {fmt(ep['shutdown_ts'])} but never finished: "
                    f"it {died} The drain (plus any preStop) takes longer than the grace period."
                )
                evidence.insert(
                    1,
                    Evidence(
                        ep["shutdown_ts"],
                        ep["shutdown_file"],
                        ep["shutdown_line"],
                        ep["shutdown_raw"] or "",
                    ),
                )
            else:
                code, fix = "sigterm-ignored", SIGTERM_FIX
                summary = (
                    f"{sent}, logged no shutdown message and {died} Its PID 1 most likely does "
                    "not forward SIGTERM (shell-form CMD or a wrapper script without exec), so "
                    "the process never began a graceful shutdown."
                )
            summary += _timing_note(failing)
            evidence += [ev(first), ev(last)]
            # Siblings that did shut down cleanly make the contrast plain.
            siblings = eps.filter(
                (pl.col("container") != ep["container"]) & pl.col("shutdown_ts").is_not_null()
            )
            for sib in siblings.iter_rows(named=True):
                evidence.append(
                    Evidence(
                        sib["shutdown_ts"],
                        sib["shutdown_file"],
                        sib["shutdown_line"],
                        sib["shutdown_raw"] or "",
                    )
                )
            findings.append(
                ctx.finding(
                    code,
                    pod_cond(ns, pod) & during,
                    summary=summary,
                    fix=fix,
                    evidence=tuple(evidence),
                    pod=f"{ns}/{pod}",
                    container=ep["container"],
                    window=(kill, death),
                )
            )
    return findings


def _unassigned_shutdown(
    inc: IncidentFrames, ns: str, pod: str, ep: dict[str, object], death: datetime
) -> bool:
    """Whether the pod logged a shutdown between the kill and the death in a line tied to
    no container: then nobody can say this container ignored SIGTERM."""
    lines = lifecycle_of(
        inc, ns, pod, Kind.SHUTDOWN_STARTED.value, Kind.SHUTDOWN_FINISHED.value
    ).filter(pl.col("container").is_null() & pl.col("ts").is_between(ep["kill_ts"], death))
    return lines.height > 0


def _timing_note(failing: pl.DataFrame) -> str:
    """Say so when the pod was matched to its requests by time, not by a logged address."""
    if "target_by" not in failing.columns:
        return ""
    by_time = failing.filter(pl.col("target_by") == "timing")
    if by_time.height == 0:
        return ""
    upstreams = ", ".join(sorted(set(by_time["upstream"].drop_nulls().to_list())))
    return (
        f" No log line names this pod's address: {by_time.height} of these requests (to "
        f"{upstreams}) were tied to it by time, as their failures began when it was killed "
        "or died (nearer than any other pod's end) and that address answered nothing in the "
        "two minutes after."
    )


def sigterm_ignored(ctx: Context) -> list[Finding]:
    """SIGTERM, no shutdown message, SIGKILL at the end of the grace period, 5xx meanwhile."""
    return _killed_at_grace_findings(ctx, said_shutdown=False)


GRACE_FIX = (
    "Give the pod a terminationGracePeriodSeconds longer than preStop + the app's drain "
    "(the grace timer starts with preStop), or shorten the app's own drain/worker shutdown "
    "timeout below it; long requests (uploads, websockets) need the longest budget."
)


def grace_period_exceeded(ctx: Context) -> list[Finding]:
    """SIGTERM, a shutdown message, no completion, SIGKILL at the end of the grace period."""
    return _killed_at_grace_findings(ctx, said_shutdown=True)


#: A container that stopped serving this soon after its SIGTERM exited "promptly" (RC2);
#: failures this long after the kill are not the propagation of that kill any more.
PROMPT_S = 10.0
PROPAGATION_MAX_S = 120.0

PRESTOP_FIX = (
    "Add a preStop hook that sleeps at least {wait} s (the observed propagation time plus a "
    "margin: `lifecycle.preStop.sleep.seconds`, or `exec: [sleep, N]` before Kubernetes 1.30), "
    "so every proxy and load balancer stops sending before the server closes its listener; "
    "make readiness fail as soon as SIGTERM arrives, and keep terminationGracePeriodSeconds "
    "above preStop + drain."
)


def _stopped(ep: dict[str, object]) -> tuple[datetime, str] | None:
    """When the container stopped serving after its SIGTERM, and which line says so."""
    for name in ("shutdown", "finished", "death"):
        ts = ep.get(f"{name}_ts")
        if ts is not None and ts >= ep["kill_ts"]:  # type: ignore[operator]
            return ts, name  # type: ignore[return-value]
    return None


def no_prestop_drain(ctx: Context) -> list[Finding]:
    """The server stopped at once on SIGTERM (clean exit) while proxies kept sending."""
    inc, findings = ctx.inc, []
    for ns, pod in inc.pods:
        eps = pod_episodes(ctx, ns, pod)
        if eps.height == 0:
            continue
        prompt = []
        for ep in eps.iter_rows(named=True):
            if _killed_at_grace_end(ep) is not None:
                continue
            stopped = _stopped(ep)
            clean = ep["exit_code"] in CLEAN_EXIT_CODES or (
                ep["exit_code"] is None and ep["shutdown_ts"] is not None
            )
            if stopped is None or not clean:
                continue
            if (stopped[0] - ep["kill_ts"]).total_seconds() > PROMPT_S:
                continue
            prompt.append((stopped[0], ep, stopped[1]))
        if not prompt:
            continue
        # Every container of the pod stopped promptly: one that served on for long after a
        # sibling stopped is another story (sidecar-shutdown-order), not a missing preStop.
        if len(prompt) < eps["container"].n_unique():
            continue
        t_stop, ep, said = min(prompt, key=lambda p: p[0])
        kill = ep["kill_ts"]
        claims = (
            pod_cond(ns, pod)
            & life(inc, ns, pod)
            & (pl.col("ts") >= kill - timedelta(seconds=1))
            & (pl.col("ts") <= kill + timedelta(seconds=PROPAGATION_MAX_S))
        )
        failing = ctx.failures.filter(claims).sort("ts")
        if failing.height == 0:
            continue
        first, last = failing.row(0, named=True), failing.row(-1, named=True)
        # The failures must start with the stop, not long after (another cause's).
        if (first["ts"] - t_stop).total_seconds() > PROMPT_S:
            continue
        propagation = (last["ts"] - kill).total_seconds()
        wait = int(propagation + 0.999) + 5
        code = ep["exit_code"]
        how = f"exit code {code}" if code is not None else "no exit code logged"
        summary = (
            f"{ep['container']} in {ns}/{pod} was sent SIGTERM at {fmt(kill)} and stopped "
            f"serving {(t_stop - kill).total_seconds():.1f} s later ({said} line, {how}), but "
            f"requests kept arriving: {failing.height} failed from {fmt(first['ts'])} to "
            f"{fmt(last['ts'])} ({mode_counts(failing)}), {propagation:.1f} s after the kill. "
            "Endpoint removal and SIGTERM happen at the same time; without a preStop delay the "
            "server closes before every proxy and load balancer has stopped sending to it."
        )
        evidence = episode_evidence(ep, "kill", "shutdown", "finished", "death")
        evidence += [ev(first), ev(last)]
        findings.append(
            ctx.finding(
                "no-prestop-drain",
                claims,
                severity="critical",
                summary=summary,
                fix=PRESTOP_FIX.format(wait=wait),
                evidence=tuple(evidence),
                pod=f"{ns}/{pod}",
                container=ep["container"],
                window=(kill, last["ts"]),
            )
        )
    return findings


RULES = (
    Rule(
        code="sigterm-ignored",
        cause="RC1",
        severity="critical",
        title="PID 1 does not forward SIGTERM: no shutdown, SIGKILL at the grace end",
        needs=(Kind.KILL.value, Kind.SIGKILL.value, Kind.CONTAINER_DIED.value),
        fix=SIGTERM_FIX,
        find=sigterm_ignored,
        contributing=True,
    ),
    Rule(
        code="grace-period-exceeded",
        cause="RC7",
        severity="critical",
        title="the drain outlasted terminationGracePeriodSeconds and was SIGKILLed",
        needs=(Kind.KILL.value, Kind.SHUTDOWN_STARTED.value, Kind.CONTAINER_DIED.value),
        fix=GRACE_FIX,
        find=grace_period_exceeded,
        contributing=True,
    ),
    Rule(
        code="no-prestop-drain",
        cause="RC2",
        severity="critical",
        title="the server stopped at once on SIGTERM while proxies still sent to it",
        needs=(Kind.KILL.value, Kind.SHUTDOWN_STARTED.value, Kind.CONTAINER_DIED.value),
        fix=PRESTOP_FIX.format(wait="N"),
        find=no_prestop_drain,
    ),
)
