"""Each rule fires on its case and stays silent where the case is absent."""

from __future__ import annotations

from analyzer.api import Analysis, Incident
from analyzer.correlate import correlate
from analyzer.correlate.incidents import timeline
from analyzer.diagnose.rules import diagnose
from analyzer.normalize.identity import fill_identity
from tests.correlate.helpers import ev, frame

POD = {"namespace": "shop", "pod": "api-7d9f-abcde"}
IP = "10.44.0.12:3000"


def _run(rows) -> list[Incident]:
    events = fill_identity(frame(rows)).sort("ts")
    corr = correlate(events)
    return [
        Incident(f.id, f, tuple(diagnose(f, corr.episodes)), timeline(f)) for f in corr.incidents
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


def test_no_finding_when_the_container_shut_down_cleanly():
    rows = _base()
    rows.append(ev(100.5, "shutdown_started", source="app", container="api", **POD))
    rows.append(ev(101.0, "container_died", container_id="a" * 64, exit_code=0))
    rows += [
        ev(100.6 + i * 0.1, "http", source="proxy", format="ingress", status=502, upstream=IP)
        for i in range(3)
    ]
    (inc,) = _run(rows)
    assert "sigterm-ignored" not in [f.code for f in inc.findings]
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
