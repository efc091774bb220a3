import polars as pl

from analyzer.correlate.lifecycle import (
    container_episodes,
    container_phases,
    phase_at,
    pod_phases,
    pod_readiness,
)
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


def _restarted(start_container: str | None = "app"):
    """A liveness restart: the container is killed and started again (new container ID)."""
    return frame(
        [
            ev(0, "container_started", container="app", container_id="a" * 64, **POD),
            ev(10, "ready", probe="readiness", **POD),
            ev(30, "probe_failed", probe="liveness", container="app", **POD),
            ev(30.1, "kill", container="app", grace_period_s=30.0, container_id="a" * 64, **POD),
            ev(31, "container_died", container="app", container_id="a" * 64, exit_code=137, **POD),
            ev(32, "container_started", container=start_container, container_id="b" * 64, **POD),
            ev(40, "ready", probe="readiness", **POD),
        ]
    )


def test_a_container_restart_does_not_split_the_pod_life():
    for named in ("app", None):
        phases = pod_phases(_restarted(named))
        # no "terminating" for the restart's kill, no new life for the start after it
        assert phases["incarnation"].to_list() == [0, 0, 0], named
        assert phases["phase"].to_list() == ["starting", "ready", "ready"], named


def test_a_container_restart_is_a_new_container_life():
    phases = container_phases(_restarted())
    assert phases["phase"].to_list() == ["starting", "terminating", "dead", "starting"]


def test_a_kill_before_the_pod_is_deleted_and_back_is_still_its_end():
    """A StatefulSet pod's kill, then the name added again: a new life, as before."""
    events = frame(
        [
            *_events().to_dicts(),
            ev(40, "pod_removed", **POD),
            ev(45, "pod_added", **POD),
            ev(46, "container_started", container="app", **POD),
        ]
    )
    assert pod_phases(events)["incarnation"].to_list() == [0, 0, 0, 0, 0, 1, 1]


def _sidecar_pod():
    # app and istio-proxy both have readiness probes (their probe lines name them); the
    # kubelet's SyncLoop (probe) lines name only the pod.
    return frame(
        [
            ev(0, "container_started", container="app", **POD),
            ev(0.5, "container_started", container="istio-proxy", **POD),
            ev(1, "probe_failed", probe="readiness", container="istio-proxy", **POD),
            ev(2, "probe_failed", probe="readiness", container="app", **POD),
            ev(3, "ready", probe="readiness", **POD),  # the sidecar: the pod is not ready yet
            ev(8, "ready", probe="readiness", **POD),  # the app: now the pod is
            ev(50, "probe_failed", probe="readiness", container="app", **POD),
            ev(60, "not_ready", probe="readiness", **POD),  # the app: the pod is not ready
            ev(61, "not_ready", probe="readiness", **POD),  # the sidecar flaps ...
            ev(62, "ready", probe="readiness", **POD),  # ... and is back: the pod is not
        ]
    )


def test_pod_ready_only_when_all_probed_containers_are():
    phases = pod_phases(_sidecar_pod())
    assert phases["phase"].to_list() == ["starting", "starting", "ready", "not_ready"]
    offsets = [(t - T0).total_seconds() for t in phases["ts"]]
    assert offsets == [0, 0.5, 8, 60]  # not the sidecar's ready at 3, nor its flap at 61-62


def test_pod_readiness_keeps_every_line_of_a_one_probe_pod():
    one = _sidecar_pod().filter(pl.col("container").ne_missing("istio-proxy"))
    assert pod_readiness(one).height == one.height
