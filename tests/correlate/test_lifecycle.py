import polars as pl

from analyzer.correlate.lifecycle import container_episodes, container_phases, phase_at, pod_phases
from tests.correlate.helpers import T0, ev, frame

POD = {"namespace": "ns", "pod": "p"}


def _events():
    return frame(
        [
            ev(0, "container_started", container="app", **POD),
            ev(10, "ready", **POD),
            ev(20, "pod_deleted", **POD),
            ev(20.1, "kill", container="app", grace_period_s=30.0, **POD),
            ev(22, "probe_failed", probe="readiness", container="app", **POD),
            ev(25, "shutdown_started", source="app", container="app", **POD),
            ev(26, "probe_failed", probe="readiness", container="app", **POD),
            ev(27, "container_died", container="app", exit_code=0, **POD),
        ]
    )


def test_container_phases_never_step_back_after_sigterm():
    phases = container_phases(_events())
    assert phases["phase"].to_list() == ["starting", "terminating", "shutting_down", "dead"]


def test_pod_phases():
    assert pod_phases(_events())["phase"].to_list() == [
        "starting",
        "ready",
        "deleted",
        "terminating",
    ]


def test_phase_at_each_request():
    changes = container_phases(_events())
    from datetime import timedelta

    req = pl.DataFrame(
        {
            "ts": [T0 + timedelta(seconds=s) for s in (5, 21, 25.5, 40)],
            "namespace": ["ns"] * 4,
            "pod": ["p"] * 4,
            "container": ["app"] * 4,
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))
    out = phase_at(req, changes, keys=["namespace", "pod", "container"], prefix="c_")
    assert out["c_phase"].to_list() == ["starting", "terminating", "shutting_down", "dead"]


def test_episode_collects_kill_shutdown_and_death():
    ep = container_episodes(_events()).row(0, named=True)
    assert ep["grace_period_s"] == 30.0
    assert ep["shutdown_ts"] is not None and ep["exit_code"] == 0
    assert (ep["death_ts"] - ep["kill_ts"]).total_seconds() == 6.9


def test_a_pod_back_under_its_name_starts_a_new_life():
    # A StatefulSet pod: deleted, killed and removed, then added again under the same name.
    events = frame(
        [
            *_events().to_dicts(),
            ev(40, "pod_removed", **POD),
            ev(45, "pod_added", **POD),
            ev(46, "container_started", container="app", **POD),
            ev(60, "ready", **POD),
        ]
    )
    phases = pod_phases(events)
    assert phases["phase"].to_list() == [
        "starting",
        "ready",
        "deleted",
        "terminating",
        "removed",
        "pending",
        "starting",
        "ready",
    ]
    assert phases["incarnation"].to_list() == [0, 0, 0, 0, 0, 1, 1, 1]


def test_a_kubelet_restart_re_adding_a_ready_pod_is_the_same_life():
    events = frame([*_events().head(2).to_dicts(), ev(15, "pod_added", **POD)])
    assert pod_phases(events)["incarnation"].to_list() == [0, 0]
