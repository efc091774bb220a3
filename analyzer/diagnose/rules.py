"""Diagnosis rules (root-causes.md). Each takes one incident's frames and returns findings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import polars as pl

from analyzer.correlate.incidents import IncidentFrames
from analyzer.correlate.lifecycle import pod_readiness
from analyzer.diagnose.finding import Evidence, Finding
from analyzer.schema import LAST_LINE, LAST_TS, Kind

Rule = Callable[[IncidentFrames, pl.DataFrame], list[Finding]]


def _ev(row: dict[str, object], text: str | None = None) -> Evidence:
    return Evidence(
        ts=row["ts"],  # type: ignore[arg-type]
        file=str(row["file"]),
        line=int(row["line"]),  # type: ignore[call-overload]
        text=text if text is not None else str(row.get("raw") or row.get("message") or ""),
    )


def _last_request(requests: pl.DataFrame) -> dict[str, object]:
    """The latest of ``requests`` as a row; of a count row, its last line."""
    if LAST_TS not in requests.columns:
        return requests.sort("ts").row(-1, named=True)
    row = requests.sort(LAST_TS, LAST_LINE).row(-1, named=True)
    return {**row, "ts": row[LAST_TS], "line": row[LAST_LINE]}


def _share(inc: IncidentFrames, cond: pl.Expr) -> float:
    total = inc.failures.height
    return round(inc.failures.filter(cond).height / total, 3) if total else 0.0


def _fmt(ts: datetime) -> str:
    return ts.strftime("%H:%M:%S.%f")[:-3]


def _pod_cond(ns: str, pod: str) -> pl.Expr:
    return (pl.col("target_namespace") == ns) & (pl.col("target_pod") == pod)


def _life(inc: IncidentFrames, ns: str, pod: str) -> pl.Expr:
    """Rows of the life of ``ns/pod`` whose requests failed in this incident (a StatefulSet
    pod comes back under the same name; its other lives are other pods). Rows of no known
    life (no lifecycle line before them) belong to every life."""
    lives = inc.failures.filter(_pod_cond(ns, pod))["pod_incarnation"].drop_nulls()
    if lives.len() == 0:
        return pl.lit(True)
    life = lives.value_counts(sort=True).row(0)[0]
    return pl.col("pod_incarnation").is_null() | (pl.col("pod_incarnation") == life)


def _lifecycle_of(inc: IncidentFrames, ns: str, pod: str, *kinds: str) -> pl.DataFrame:
    """The incident's lifecycle lines of ``kinds`` from this life of ``ns/pod``, in order.

    Readiness lines are the pod's transitions only: a pod is ready when all its probed
    containers are (a sidecar's ``ready`` while the app is not is not the pod's)."""
    rows = inc.lifecycle.filter(
        (pl.col("namespace") == ns) & (pl.col("pod") == pod) & _life(inc, ns, pod)
    )
    if {Kind.READY.value, Kind.NOT_READY.value} & set(kinds):
        rows = pod_readiness(rows)
    return rows.filter(pl.col("kind").is_in(list(kinds))).sort("ts")


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
    evidence = []
    for name in ("kill", "sigkill", "death"):
        if ep[f"{name}_ts"] is not None:
            evidence.append(
                Evidence(
                    ep[f"{name}_ts"],  # type: ignore[arg-type]
                    str(ep[f"{name}_file"]),
                    int(ep[f"{name}_line"]),  # type: ignore[call-overload]
                    str(ep[f"{name}_raw"] or ""),
                )
            )
    return evidence


def _how_killed(ep: dict[str, object]) -> str:
    code = ep["exit_code"]
    killed = f"exit code {code}" if code is not None else "exit code not logged"
    if ep["sigkill_ts"] is not None:
        killed += ", SIGKILL logged by the runtime"
    return killed


def _killed_at_grace_findings(
    inc: IncidentFrames, episodes: pl.DataFrame, *, said_shutdown: bool
) -> list[Finding]:
    """Containers SIGKILLed at the end of their grace period while requests to the pod failed.

    Without a shutdown line from the container in between, the signal never reached the
    server (RC1, sigterm-ignored); with one, the drain outlasted the grace period (RC7).
    """
    findings: list[Finding] = []
    for ns, pod in inc.pods:
        life = _life(inc, ns, pod)
        eps = episodes.filter((pl.col("namespace") == ns) & (pl.col("pod") == pod) & life)
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
            during = during & life
            failing = inc.failures.filter(_pod_cond(ns, pod) & during).sort("ts")
            if failing.height == 0:
                continue
            first, last = failing.row(0, named=True), failing.row(-1, named=True)
            span = (last["ts"] - first["ts"]).total_seconds()
            sent = (
                f"{ep['container']} in {ns}/{pod} was sent SIGTERM at {_fmt(kill)} (grace period "
                f"{grace:g} s)"
            )
            died = (
                f"died {lived:.1f} s later at {_fmt(death)} ({_how_killed(ep)}), i.e. it was "
                "SIGKILLed when the grace period ran out. Meanwhile and right after, "
                f"{failing.height} requests to the pod failed over {span:.0f} s."
            )
            evidence = _killed_evidence(ep)
            if said_shutdown:
                code, fix = "grace-period-exceeded", GRACE_FIX
                summary = (
                    f"{sent}, began shutting down at {_fmt(ep['shutdown_ts'])} but never finished: "
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
            evidence += [_ev(first), _ev(last)]
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
                Finding(
                    code=code,
                    severity="critical",
                    summary=summary,
                    explains=_share(inc, _pod_cond(ns, pod) & during),
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
    lines = _lifecycle_of(
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


def sigterm_ignored(inc: IncidentFrames, episodes: pl.DataFrame) -> list[Finding]:
    """SIGTERM, no shutdown message, SIGKILL at the end of the grace period, 5xx meanwhile."""
    return _killed_at_grace_findings(inc, episodes, said_shutdown=False)


GRACE_FIX = (
    "Give the pod a terminationGracePeriodSeconds longer than preStop + the app's drain "
    "(the grace timer starts with preStop), or shorten the app's own drain/worker shutdown "
    "timeout below it; long requests (uploads, websockets) need the longest budget."
)


def grace_period_exceeded(inc: IncidentFrames, episodes: pl.DataFrame) -> list[Finding]:
    """SIGTERM, a shutdown message, no completion, SIGKILL at the end of the grace period."""
    return _killed_at_grace_findings(inc, episodes, said_shutdown=True)


READINESS_FIX = (
    "Shorten the readiness removal lag (lower periodSeconds / failureThreshold on the readiness "
    "probe), add a preStop sleep so the pod leaves every load balancer before the app stops, and "
    "make servers close keep-alive connections on shutdown so clients stop reusing them."
)


def readiness_lag(inc: IncidentFrames, episodes: pl.DataFrame) -> list[Finding]:
    """Traffic kept reaching a pod after its readiness probe began failing."""
    findings: list[Finding] = []
    for ns, pod in inc.pods:
        life = _life(inc, ns, pod)
        probes = _lifecycle_of(inc, ns, pod, Kind.PROBE_FAILED.value).filter(
            pl.col("probe") == "readiness"
        )
        if (probes["source"] == "kubelet").any():  # else (--v=0) Events are all there is
            probes = probes.filter(pl.col("source") == "kubelet")
        if probes.height == 0:
            continue
        first = probes.row(0, named=True)
        t_first = first["ts"]
        if not _had_been_ready(inc, ns, pod, t_first):
            continue  # a pod that never was ready was never in any endpoint list to leave
        # A count row arrived until its ``last_ts``.
        until = pl.col(LAST_TS) if LAST_TS in inc.requests.columns else pl.col("ts")
        traffic = inc.requests.filter(_pod_cond(ns, pod) & life & (until > t_first))
        failing_after = inc.failures.filter(_pod_cond(ns, pod) & life & (pl.col("ts") > t_first))
        if traffic.height == 0 or failing_after.height == 0:
            continue
        gaps = probes["ts"].diff().dt.total_microseconds().drop_nulls() / 1e6
        period = float(round(gaps.median())) if len(gaps) else None  # type: ignore[arg-type]
        not_ready = _lifecycle_of(inc, ns, pod, Kind.NOT_READY.value).filter(
            pl.col("ts") >= t_first
        )
        if not_ready.height:
            t_nr = not_ready["ts"][0]
            threshold = probes.filter(pl.col("ts") <= t_nr + timedelta(seconds=1)).height
            how = f"marked not ready after {threshold} failures at {_fmt(t_nr)}"
        else:
            threshold, how = (
                3,
                "no not-ready transition logged; failureThreshold assumed 3 (default)",
            )
        last = _last_request(traffic)
        lasted = (last["ts"] - t_first).total_seconds()
        if period is None or lasted < period:
            continue
        lag = threshold * period
        window_end = t_first + timedelta(seconds=lag)
        deleted = _lifecycle_of(inc, ns, pod, Kind.POD_DELETED.value)
        note = ""
        if deleted.height and deleted["ts"][0] <= last["ts"]:
            note = (
                " The pod was already deleted, which removes it from Service endpoints at once: "
                "traffic that still arrived came over reused keep-alive connections."
            )
        summary = (
            f"Traffic kept reaching {ns}/{pod} for {lasted:.1f} s after its first readiness probe "
            f"failure at {_fmt(t_first)} (probe every {period:g} s, {how}; removal lag "
            f"failureThreshold × periodSeconds ≈ {lag:g} s).{note}"
        )
        explains = _share(
            inc, _pod_cond(ns, pod) & life & pl.col("ts").is_between(t_first, window_end)
        )
        if explains == 0:
            continue  # the lag was there, but no failure fell in it
        evidence = [_ev(r) for r in probes.head(threshold).iter_rows(named=True)]
        if not_ready.height:
            evidence.append(_ev(not_ready.row(0, named=True)))
        evidence.append(_ev(last))
        findings.append(
            Finding(
                code="readiness-lag",
                severity="warning",
                summary=summary,
                explains=explains,
                fix=READINESS_FIX,
                evidence=tuple(evidence),
                pod=f"{ns}/{pod}",
                container=first.get("container"),
                window=(t_first, window_end),
            )
        )
    return findings


def _had_been_ready(inc: IncidentFrames, ns: str, pod: str, before: datetime) -> bool:
    """Whether this life of the pod was ready before ``before``: the kubelet said so, or the
    pod answered requests (only a ready pod is sent traffic) and was not still starting."""
    said_ready = _lifecycle_of(inc, ns, pod, Kind.READY.value).filter(pl.col("ts") < before)
    if said_ready.height:
        return True
    mine = inc.requests.filter(_pod_cond(ns, pod) & _life(inc, ns, pod) & (pl.col("ts") < before))
    if "pod_phase" in mine.columns:
        mine = mine.filter(~pl.col("pod_phase").is_in(["pending", "starting"]).fill_null(False))
    answered = (pl.col("kind") == Kind.HTTP.value) & (pl.col("status") < 500).fill_null(False)
    return mine.filter(answered).height > 0


STARTUP_FIX = (
    "Not a cause of termination 5xx. If the noise matters, start background pollers only after "
    "the backend is ready (or disable them, as GitLab did with the Geo poller), and keep the pod "
    "out of load balancers until its readiness probe passes."
)


def startup_not_ready(inc: IncidentFrames, episodes: pl.DataFrame) -> list[Finding]:
    """Failures from a pod that was not ready yet: startup noise, not the incident's cause."""
    findings: list[Finding] = []
    for ns, pod in inc.pods:
        mine = inc.failures.filter(_pod_cond(ns, pod))
        early = mine.filter(pl.col("pod_phase").is_in(["pending", "starting"]))
        if early.height == 0:
            continue
        if _had_been_ready(inc, ns, pod, early["ts"].min()):
            continue  # a container restarting in a pod that served: not the pod's startup
        ready = _lifecycle_of(inc, ns, pod, Kind.READY.value)
        started = _lifecycle_of(inc, ns, pod, Kind.CONTAINER_STARTED.value, Kind.POD_ADDED.value)
        first, last = early.row(0, named=True), early.row(-1, named=True)
        ready_txt = (
            f"became ready at {_fmt(ready['ts'][0])}" if ready.height else "was not yet ready"
        )
        targets = (
            ", ".join(sorted(set(early["target_container"].drop_nulls().to_list())))
            or "its backend"
        )
        summary = (
            f"{early.height} failing requests from {ns}/{pod} between {_fmt(first['ts'])} and "
            f"{_fmt(last['ts'])}, while the pod was starting ({targets} not listening yet); it "
            f"{ready_txt}. Startup-time noise (e.g. a background poller), not a termination cause."
        )
        evidence = [_ev(r) for r in started.head(1).iter_rows(named=True)]
        evidence += [_ev(first), _ev(last)]
        evidence += [_ev(r) for r in ready.head(1).iter_rows(named=True)]
        findings.append(
            Finding(
                code="startup-not-ready",
                severity="info",
                summary=summary,
                explains=_share(
                    inc, _pod_cond(ns, pod) & pl.col("pod_phase").is_in(["pending", "starting"])
                ),
                fix=STARTUP_FIX,
                evidence=tuple(evidence),
                pod=f"{ns}/{pod}",
                window=(first["ts"], last["ts"]),
            )
        )
    return findings


#: code -> rule, in the order they run.
RULES: dict[str, Rule] = {
    "sigterm-ignored": sigterm_ignored,
    "grace-period-exceeded": grace_period_exceeded,
    "readiness-lag": readiness_lag,
    "startup-not-ready": startup_not_ready,
}


def diagnose(inc: IncidentFrames, episodes: pl.DataFrame) -> list[Finding]:
    """Every rule's findings for one incident, most severe and most explaining first."""
    findings = [f for rule in RULES.values() for f in rule(inc, episodes)]
    return sorted(findings, key=lambda f: f.rank)
