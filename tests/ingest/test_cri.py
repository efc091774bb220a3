from datetime import UTC, datetime

import polars as pl

from analyzer.api import load_events
from tests.conftest import FIXTURES

CRI = FIXTURES / "cri"


def test_pods_path_gives_identity_and_partials_are_joined():
    path = next((CRI / "var/log/pods").rglob("0.log"))
    events, (t,) = load_events([path])
    assert t.reconciles and t.rejected == 0
    assert t.format.startswith("cri+")
    assert dict(t.skip_reasons) == {
        "partial line joined into line 2": 1,
        "partial line joined into line 6": 2,
    }
    assert set(events["namespace"]) == {"kube-system"} and set(events["container"]) == {
        "calico-node"
    }
    joined = events.filter(pl.col("line") == 2)["message"].item()
    assert joined.endswith("Invalidating dataplane cache error")
    untagged = events.filter(pl.col("line") == 5)["message"].item()
    assert untagged.startswith("2017-09-12 22:32:21.212 [INFO]")
    # CRI-O: `+00:00` offset, two P fragments then F, joined without a separator.
    crio = events.filter(pl.col("line") == 6).row(0, named=True)
    assert crio["message"] == (
        "First line of log entrySecond line of the log entryLast line of the log entry"
    )
    assert crio["ts"] == datetime(2021, 3, 31, 12, 59, 28, 573159, tzinfo=UTC)


def test_containers_symlink_path_and_workhorse_payload():
    path = next((CRI / "var/log/containers").glob("*.log"))
    events, (t,) = load_events([path])
    assert t.format == "cri+workhorse_json" and t.events == 3
    assert set(events["pod"]) == {"gitlab-webservice-default-5d85b6854c-sbx2z"}
    assert set(events["container_id"]) == {
        "3de4e2c52bca0f6f3c1c0ab1b8ad7e7b3d0ac1e1c2b1f1a8e7d6c5b4a3928172"
    }
    assert events["kind"].to_list() == ["http", "upstream_error", "shutdown_started"]
    # Workhorse logs whole seconds: the runtime's nanosecond time is used instead.
    assert events["ts"][0].microsecond == 123456


def test_kubectl_logs_timestamps_prefix(write):
    # GitLab chart docs (log-formats.md 6.2): `kubectl logs --timestamps` of the webservice pod.
    path = write(
        "webservice.log",
        '2024-01-19T14:12:24.214148186Z {"component": "gitlab","subcomponent":"puma.stdout",'
        '"timestamp":"2024-01-19T14:12:24.213Z","pid":1,"message":"- Worker 2 (PID: 7414) booted in 0.84s, phase: 0"}\n'
        '2024-01-19T14:20:01.100200300Z {"component": "gitlab","subcomponent":"puma.stdout",'
        '"timestamp":"2024-01-19T14:20:01.100Z","pid":1,"message":"- Gracefully shutting down workers..."}\n',
    )
    events, (t,) = load_events([path])
    assert t.format == "cri+puma_json" and t.events == 2
    assert events["kind"].to_list() == ["log", "shutdown_started"]
