"""oom-killed, liveness-restart, crash-loop: a container of a pod that stays dies and restarts."""

from __future__ import annotations

from tests.correlate.helpers import ev
from tests.diagnose.helpers import POD, failing, run, serving

CID = "c" * 64


def _codes(inc):
    return [f.code for f in inc.findings]


def test_an_oom_kill_with_failures_until_ready_again_is_oom_killed():
    rows = serving(until=140)
    rows += [
        ev(100.0, "oom_killed", source="runtime", container="api", container_id=CID, **POD),
        ev(100.1, "container_died", source="runtime", container="api", exit_code=137, **POD),
        ev(104.0, "container_started", container="api", **POD),
        ev(110.0, "ready", probe="readiness", **POD),
    ]
    rows += failing(100.05, 20, step=0.4)
    (inc,) = run(rows)
    top = inc.findings[0]
    assert (top.code, top.severity, top.container) == ("oom-killed", "critical", "api")
    assert top.explains == 1.0 and "ready again at" in top.summary
    assert inc.severity == "critical"


def test_a_137_with_no_sigterm_and_no_oom_line_is_still_the_oom_killer():
    rows = serving(until=140)
    rows.append(
        ev(100.1, "container_died", source="runtime", container="api", exit_code=137, **POD)
    )
    rows += failing(100.2, 10)
    (inc,) = run(rows)
    assert _codes(inc)[0] == "oom-killed"
    assert "no SIGTERM before it" in inc.findings[0].summary


def test_a_137_at_the_grace_end_is_not_an_oom_kill():
    rows = serving(until=140)
    rows += [
        ev(99.0, "pod_deleted", **POD),
        ev(99.1, "kill", container="api", grace_period_s=30.0, container_id=CID, **POD),
        ev(129.2, "container_died", container_id=CID, exit_code=137),
    ]
    rows += failing(129.3, 10)
    (inc,) = run(rows)
    assert "oom-killed" not in _codes(inc)
    assert _codes(inc)[0] == "sigterm-ignored"


def test_liveness_failures_then_a_restart_is_a_liveness_restart_not_readiness_lag():
    rows = serving(until=160)
    rows += [
        ev(100 + 10 * k, "probe_failed", probe="liveness", container="api", **POD) for k in range(3)
    ]
    rows += [
        ev(
            120.5,
            "kill",
            probe="liveness",
            container="api",
            grace_period_s=30.0,
            container_id=CID,
            **POD,
        ),
        ev(121.0, "container_died", container_id=CID, exit_code=143),
        ev(123.0, "container_started", container="api", **POD),
        ev(130.0, "ready", probe="readiness", **POD),
    ]
    rows += failing(95, 40, step=0.8, status=504)  # a wedged app times requests out
    (inc,) = run(rows)
    top = inc.findings[0]
    assert top.code == "liveness-restart" and top.severity == "critical"
    assert "failed its liveness probe 3 times" in top.summary and "every 10 s" in top.summary
    assert top.explains == 1.0


def test_repeated_crashes_with_back_off_are_a_crash_loop():
    rows = serving(until=200)
    for k, t in enumerate((100.0, 112.0, 135.0)):
        rows += [
            ev(t, "container_died", source="runtime", container="api", exit_code=1, **POD),
            ev(t + 1, "back_off", container="api", **POD),
            ev(t + 8 + k, "container_started", container="api", **POD),
        ]
    rows += failing(100.2, 60, step=0.6, status=503)
    (inc,) = run(rows)
    top = inc.findings[0]
    assert top.code == "crash-loop"
    assert "died 3 times by itself" in top.summary and "exit code 1" in top.summary
    assert "back-off" in top.summary


def test_one_clean_exit_is_no_crash_loop():
    rows = serving(until=160)
    rows.append(ev(100.0, "container_died", source="runtime", container="api", exit_code=0, **POD))
    rows += failing(100.2, 10)
    (inc,) = run(rows)
    assert "crash-loop" not in _codes(inc)


def test_liveness_restart_on_the_real_aks_chain():
    """The kubelet's own lines of a liveness restart (VijayRod/demo, MIT: three failed exec
    probes, "failed liveness probe, will be restarted", the kill, a death 30 s later as the
    busybox PID 1 ignored SIGTERM, the restart), with an ingress failing to reach the pod."""
    import polars as pl

    from analyzer.api import load_events
    from analyzer.schema import conform
    from tests.correlate.helpers import frame

    real, _ = load_events(["tests/corpus/vijayrod-aks/kubelet-liveness.log"], year=2025)
    t0 = real["ts"].min()
    pod = {"namespace": "default", "pod": "liveness-exec"}
    ip = "10.244.1.7:8080"

    def at(ts):  # seconds after the pod's SyncLoop ADD
        return (ts - t0).total_seconds()

    rows = [ev(at(real["ts"][1]) + 0.1, "log", source="event", upstream=ip, **pod)]  # podIP
    rows += [
        ev(5 + i, "http", source="proxy", format="ingress", status=200, upstream=ip)
        for i in range(25)
    ]
    rows += failing(31.0, 40, ip=ip, step=1.0, status=504)  # wedged, then gone, until back
    shifted = frame(rows).with_columns(pl.col("ts") + (t0 - ev(0, "log")["ts"]))
    events = pl.concat([real, conform(shifted).collect()])
    from analyzer.correlate import correlate
    from analyzer.diagnose.run import diagnose
    from analyzer.normalize.identity import fill_identity

    corr = correlate(fill_identity(events).sort("ts"))
    (inc,) = corr.incidents
    d = diagnose(inc, corr.episodes)
    codes = {f.code: f for f in d.findings}
    assert d.findings[0].code == "liveness-restart"
    assert "failed its liveness probe 3 times" in d.findings[0].summary
    # the busybox PID 1 ignored SIGTERM too: kept as contributing, its failures explained above
    assert codes["sigterm-ignored"].explains == 0 and codes["sigterm-ignored"].covers > 0
