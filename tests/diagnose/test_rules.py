"""Each rule fires on its case and stays silent where the case is absent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from analyzer.api import Analysis, Incident
from analyzer.correlate import correlate
from analyzer.correlate.incidents import timeline
from analyzer.diagnose.run import diagnose
from analyzer.normalize.identity import fill_identity
from tests.correlate.helpers import T0, ev, frame

POD = {"namespace": "shop", "pod": "api-7d9f-abcde"}
IP = "10.44.0.12:3000"


def _run(rows) -> list[Incident]:
    events = fill_identity(frame(rows)).sort("ts")
    corr = correlate(events)
    return [
        Incident(f.id, f, diagnose(f, corr.episodes).findings, timeline(f)) for f in corr.incidents
    ]


def _base(grace=30.0):
    rows = [
        ev(
            0, "probe_failed", probe="readiness", container="api", upstream=IP, **POD
        ),  # learn the IP
        ev(1, "ready", probe="readiness", **POD),
        ev(100, "pod_deleted", **POD),
        ev(100.2, "kill", container="api", grace_period_s=grace, container_id="a" * 64, **POD),
    ]
    # Traffic through an ingress to the pod IP, fine until the kill and a bit after.
    rows += [
        ev(90 + i, "http", source="proxy", format="ingress", status=200, upstream=IP)
        for i in range(15)
    ]
    return rows


def test_classic_pid1_case_failures_right_after_sigkill():
    rows = _base()
    rows.append(ev(130.3, "container_died", container_id="a" * 64, exit_code=137))
    rows += [
        ev(
            130.4 + i * 0.2,
            "http",
            source="proxy",
            format="ingress",
            status=502,
            upstream=IP,
            client="10.0.0.1",
        )
        for i in range(10)
    ]
    (inc,) = _run(rows)
    assert inc.findings[0].code == "sigterm-ignored"
    assert inc.findings[0].container == "api"
    assert inc.findings[0].explains == 1.0
    assert inc.severity == "critical"


def test_a_prompt_clean_exit_with_failures_after_it_is_no_prestop_drain():
    rows = _base()
    rows.append(ev(100.5, "shutdown_started", source="app", container="api", **POD))
    rows.append(ev(101.0, "container_died", container_id="a" * 64, exit_code=0))
    rows += [
        ev(100.6 + i * 0.5, "http", source="proxy", format="ingress", status=502, upstream=IP)
        for i in range(8)
    ]
    (inc,) = _run(rows)
    codes = [f.code for f in inc.findings]
    assert "sigterm-ignored" not in codes
    assert codes[0] == "no-prestop-drain" and inc.findings[0].explains == 1.0
    # propagation 100.6 + 3.5 - 100.2 = 3.9 s, rounded up, plus a 5 s margin
    assert "at least 9 s" in inc.findings[0].fix


def test_failures_long_after_a_clean_exit_are_not_the_exits_propagation():
    rows = _base()
    rows.append(ev(100.5, "shutdown_started", source="app", container="api", **POD))
    rows.append(ev(101.0, "container_died", container_id="a" * 64, exit_code=0))
    rows += [
        ev(140 + i * 0.1, "http", source="proxy", format="ingress", status=502, upstream=IP)
        for i in range(3)
    ]
    (inc,) = _run(rows)
    assert "no-prestop-drain" not in [f.code for f in inc.findings]
    assert inc.severity == "warning"  # failures that no rule explains are not hidden


def test_no_finding_when_death_is_not_at_the_grace_period():
    rows = _base(grace=30.0)
    rows.append(ev(112.0, "container_died", container_id="a" * 64, exit_code=137))  # OOM-ish
    rows += [
        ev(112.1 + i * 0.2, "http", source="proxy", format="ingress", status=502, upstream=IP)
        for i in range(5)
    ]
    (inc,) = _run(rows)
    assert "sigterm-ignored" not in [f.code for f in inc.findings]


def _failures_at_the_grace_end(rows, death_s: float, exit_code: int | None):
    rows.append(ev(death_s, "container_died", container_id="a" * 64, exit_code=exit_code))
    rows += [
        ev(
            death_s + 0.1 + i * 0.2,
            "http",
            source="proxy",
            format="ingress",
            status=502,
            upstream=IP,
        )
        for i in range(6)
    ]
    return rows


@pytest.mark.parametrize("exit_code", [0, 143, 1])
def test_a_death_at_the_grace_end_with_an_exit_code_other_than_sigkill_is_not_sigkill(exit_code):
    # A server that drains for almost the whole grace period and then exits by itself.
    rows = _failures_at_the_grace_end(_base(grace=30.0), 129.5, exit_code)
    (inc,) = _run(rows)
    assert not {"sigterm-ignored", "grace-period-exceeded"} & {f.code for f in inc.findings}


def test_short_grace_clean_exit_is_not_sigterm_ignored():
    # grace 3 s, exit 0 after 1.5 s: within the timing tolerance, ruled out by the exit code
    rows = _failures_at_the_grace_end(_base(grace=3.0), 101.7, 0)
    (inc,) = _run(rows)
    assert "sigterm-ignored" not in [f.code for f in inc.findings]


def test_sigkill_without_exit_code_logged_still_counts():
    rows = _failures_at_the_grace_end(_base(grace=30.0), 130.3, None)
    (inc,) = _run(rows)
    assert inc.findings[0].code == "sigterm-ignored"
    assert "exit code not logged" in inc.findings[0].summary


def test_shutdown_logged_but_killed_at_grace_end_is_grace_period_exceeded():
    rows = _base(grace=30.0)
    rows.append(ev(100.4, "shutdown_started", source="app", container="api", **POD))
    rows = _failures_at_the_grace_end(rows, 130.3, 137)
    (inc,) = _run(rows)
    top = inc.findings[0]
    assert (top.code, top.severity, top.container) == ("grace-period-exceeded", "critical", "api")
    assert "sigterm-ignored" not in [f.code for f in inc.findings]
    assert "began shutting down" in top.summary and "terminationGracePeriodSeconds" in top.fix
    assert [e.ts for e in top.evidence[:2]] == [
        T0 + timedelta(seconds=100.2),
        T0 + timedelta(seconds=100.4),
    ]


def test_readiness_lag_without_deletion():
    rows = [
        ev(0, "container_started", container="api", **POD),
        ev(5, "ready", probe="readiness", **POD),
    ]
    rows += [
        ev(50 + 5 * k, "probe_failed", probe="readiness", container="api", upstream=IP, **POD)
        for k in range(3)
    ]
    rows.append(ev(60.01, "not_ready", probe="readiness", **POD))
    rows += [
        ev(49 + i, "http", source="proxy", format="ingress", status=503, upstream=IP)
        for i in range(14)
    ]
    (inc,) = _run(rows)
    (lag,) = [f for f in inc.findings if f.code == "readiness-lag"]
    assert "every 5 s" in lag.summary and "after 3 failures" in lag.summary
    assert "deleted" not in lag.summary


def test_startup_failures_are_info():
    rows = [
        ev(0, "pod_added", **POD),
        ev(1, "container_started", container="api", **POD),
        ev(1.5, "container_started", container="proxy", **POD),
    ]
    rows += [
        ev(
            2 + i,
            "upstream_error",
            source="proxy",
            format="workhorse_json",
            upstream="127.0.0.1:3000",
            container="proxy",
            **POD,
        )
        for i in range(3)
    ]
    rows.append(ev(30, "ready", probe="readiness", **POD))
    (inc,) = _run(rows)
    assert [f.code for f in inc.findings] == ["startup-not-ready"]
    assert inc.severity == "info"


def test_api_types_are_exported():
    assert Analysis.__name__ == "Analysis"


def test_a_shutdown_line_after_the_death_does_not_count():
    rows = _base(grace=30.0)
    rows.append(ev(145.0, "shutdown_started", source="app", container="api", **POD))
    rows = _failures_at_the_grace_end(rows, 130.3, 137)
    (inc,) = _run(rows)
    assert inc.findings[0].code == "sigterm-ignored"


def test_exit_143_is_never_a_sigkill_even_with_a_runtime_kill_line():
    rows = _base(grace=30.0)
    rows.append(ev(130.2, "sigkill", source="runtime", container_id="a" * 64))
    rows = _failures_at_the_grace_end(rows, 130.3, 143)
    (inc,) = _run(rows)
    assert not {"sigterm-ignored", "grace-period-exceeded"} & {f.code for f in inc.findings}


def test_a_shutdown_in_a_file_that_names_no_container_rules_out_sigterm_ignored():
    # `kubectl logs POD > dump.log`: the app said it shut down, the file names no container
    rows = _base(grace=30.0)
    rows.append(ev(100.4, "shutdown_started", source="app", file="dump.log", **POD))
    rows = _failures_at_the_grace_end(rows, 130.3, 137)
    (inc,) = _run(rows)
    assert "sigterm-ignored" not in [f.code for f in inc.findings]


def _probes_fail_while_503s() -> list[dict[str, object]]:
    """The api container's readiness fails 4 times, 5 s apart, while 14 requests get 503."""
    probes = [
        ev(5 + 5 * k, "probe_failed", probe="readiness", container="api", upstream=IP, **POD)
        for k in range(4)
    ]
    return probes + [
        ev(4 + i, "http", source="proxy", format="ingress", status=503, upstream=IP)
        for i in range(14)
    ]


def test_readiness_lag_never_for_a_pod_that_was_never_ready():
    # readiness fails while the pod starts: it was in no endpoint list to be removed from
    rows = [
        ev(0, "pod_added", **POD),
        ev(1, "container_started", container="api", **POD),
    ]
    rows += _probes_fail_while_503s()
    (inc,) = _run(rows)
    assert "readiness-lag" not in [f.code for f in inc.findings]


def test_an_info_finding_never_lowers_an_incident_it_barely_explains():
    from analyzer.diagnose.finding import Finding, incident_severity

    def finding(severity, explains):
        return Finding(code="x", severity=severity, summary="", explains=explains, fix="")

    assert incident_severity([]) == "warning"
    assert incident_severity([finding("info", 1.0)]) == "info"
    assert incident_severity([finding("info", 0.1)]) == "warning"
    assert incident_severity([finding("info", 0.1), finding("critical", 0.2)]) == "critical"
    assert incident_severity([finding("warning", 0.9), finding("info", 0.1)]) == "warning"


def _failing(start: float, n: int = 10) -> list[dict]:
    return [
        ev(start + i * 0.2, "http", source="proxy", format="ingress", status=502, upstream=IP)
        for i in range(n)
    ]


def test_an_oom_kill_at_the_grace_end_is_not_a_sigkill():
    """containerd's TaskOOM before the exit 137: the kernel killed it, not the kubelet."""
    rows = _base()
    rows.append(ev(130.1, "oom_killed", source="runtime", container_id="a" * 64))
    rows.append(ev(130.3, "container_died", container_id="a" * 64, exit_code=137))
    rows += _failing(130.4)
    (inc,) = _run(rows)
    codes = [f.code for f in inc.findings]
    assert "sigterm-ignored" not in codes
    assert "grace-period-exceeded" not in codes


def test_an_oom_kill_without_any_kill_is_no_termination_finding():
    """A container that got no SIGTERM (no kill line) and died 137 after an OOM kill."""
    rows = [
        ev(0, "probe_failed", probe="readiness", container="api", upstream=IP, **POD),
        ev(1, "ready", probe="readiness", **POD),
        ev(2, "container_started", container="api", container_id="a" * 64, **POD),
    ]
    rows += [
        ev(90 + i, "http", source="proxy", format="ingress", status=200, upstream=IP)
        for i in range(15)
    ]
    rows.append(ev(130.1, "oom_killed", source="runtime", container_id="a" * 64))
    rows.append(ev(130.3, "container_died", container_id="a" * 64, exit_code=137))
    rows += _failing(130.4)
    for inc in _run(rows):
        codes = [f.code for f in inc.findings]
        assert "sigterm-ignored" not in codes
        assert "grace-period-exceeded" not in codes


def test_a_runtime_sigkill_line_still_counts_after_an_earlier_oom_of_another_life():
    """An OOM before the kill (an earlier life of the container) does not excuse the
    SIGKILL at the grace end of this one."""
    rows = _base()
    rows.insert(0, ev(50, "oom_killed", source="runtime", container_id="b" * 64, **POD))
    rows.append(ev(130.3, "container_died", container_id="a" * 64, exit_code=137))
    rows += _failing(130.4)
    (inc,) = _run(rows)
    assert inc.findings[0].code == "sigterm-ignored"


def test_a_sidecars_ready_line_does_not_make_the_pod_ready():
    """app and istio-proxy both have readiness probes; the only ``ready`` line (the kubelet's
    SyncLoop (probe), naming the pod only) is the sidecar's: the pod was never ready."""
    rows = [
        ev(0, "pod_added", **POD),
        ev(1, "container_started", container="api", **POD),
        ev(1.5, "container_started", container="istio-proxy", **POD),
        ev(2, "probe_failed", probe="readiness", container="istio-proxy", **POD),
        ev(3, "ready", probe="readiness", **POD),
    ]
    rows += _probes_fail_while_503s()
    (inc,) = _run(rows)
    assert "readiness-lag" not in [f.code for f in inc.findings]
    # with one probed container, the same ready line is the pod's: it had been ready
    single = [r for r in rows if r.get("container") != "istio-proxy"]
    (inc,) = _run(single)
    assert "readiness-lag" in [f.code for f in inc.findings]
