"""Lifecycle wordings of the container runtimes and the kubelet, read as events.

Sources (every line's origin; see also tests/fixtures/README.md):
- TASK_OOM_17: containerd/containerd (Apache-2.0) issue #8893, a GKE node-e2e journal, verbatim.
- EXIT_2X: containerd/containerd (Apache-2.0) PR #10603: the message verbatim, the paste being
  logrus's terminal layout (``INFO[<time>] <msg>``), written here in its ``time=`` layout.
- EXIT_16 / TASK_OOM_16: derived. containerd 1.6's CRI plugin logs ``TaskExit event %+v`` /
  ``TaskOOM event %+v`` of the gogo-protobuf structs (``&TaskExit{ContainerID:…,ID:…,Pid:…,
  ExitStatus:…,ExitedAt:…,XXX_unrecognized:[],}``); the ids are those of the
  ovn-kubernetes/ovn-kubernetes (Apache-2.0) PR #1306 journal (``Received exit event
  &TaskExit{ContainerID:eed4f6ef…``), pid / time made up. No permissively licensed verbatim
  1.6 line with an exit status was found.
- DOCKERD_OLD: moby/moby (Apache-2.0) issue #32938, dockerd journal, verbatim.
- DOCKERD_30S: deckhouse/deckhouse (Apache-2.0) issue #336, dockerd journal, verbatim.
- DOCKERD_NEW: derived: moby (Apache-2.0) ``daemon/stop.go``'s newer wording
  (``Container failed to exit within %s of signal %d - using the force`` with a ``container``
  field) around DOCKERD_30S's id and time.
- READY_EMPTY: tests/fixtures/kubelet_klog/raw.log line 4 (derived, see the fixtures README).
"""

from __future__ import annotations

import pytest

from analyzer.api import parse_lines

ID = "eed4f6efaa9e9683fd004a4eae4c8e307dd8bf55e268a0d80c72e554e981f9e5"
TASK_OOM_17 = (
    "Sep 01 19:12:33 tmp-node-e2e-b9a730eb-ubuntu-gke-2204-1-24-v20220623 containerd[1472]: "
    'time="2023-09-01T19:12:33.012922721Z" level=info msg="TaskOOM event container_id:'
    '\\"4bcba7fc4369fee4d7d2e6263b58fce52cfc928c6a31cfac4d43c838708991ce\\""'
)
TASK_OOM_16 = (
    'time="2020-05-06T17:42:19.901000000Z" level=info msg="TaskOOM event '
    f'&TaskOOM{{ContainerID:{ID},XXX_unrecognized:[],}}"'
)
EXIT_16 = (
    'time="2020-05-06T17:42:19.958000000Z" level=info msg="TaskExit event '
    f"&TaskExit{{ContainerID:{ID},ID:{ID},Pid:31408,ExitStatus:137,"
    'ExitedAt:2020-05-06 17:42:19.950338639 +0000 UTC,XXX_unrecognized:[],}"'
)
EXIT_2X = (
    'time="2024-08-23T18:05:29.890685708+08:00" level=info msg="received exit event '
    'container_id:\\"fce217561d9543b1f6b19f4c5415bbcd68e0dea49e72d7f174910ce3deba7eb0\\"  '
    'id:\\"fce217561d9543b1f6b19f4c5415bbcd68e0dea49e72d7f174910ce3deba7eb0\\"  pid:627351  '
    'exit_status:137  exited_at:{seconds:1724407529  nanos:889854119}"'
)
DOCKERD_OLD = (
    'Mar 16 07:14:12 evaluator3 dockerd[27857]: time="2018-03-16T07:14:12.899731592Z" '
    'level=info msg="Container 679813472f3d5dc082a55b7e3d62a16109115df69609cae50701fa9bcd4133f2 '
    'failed to exit within 10 seconds of signal 15 - using the force"'
)
DOCKERD_30S = (
    "Nov 30 14:50:42 kube-master-3 dockerd[1359]: "
    'time="2021-11-30T14:50:42.792790747+03:00" level=info msg="Container '
    "4dc52d08f25a7940f3e47283871df3eabf6534f59c1561d547002b8c907346f9 failed to exit within "
    '30 seconds of signal 15 - using the force"'
)
DOCKERD_NEW = (
    "Nov 30 14:50:42 kube-master-3 dockerd[1359]: "
    'time="2021-11-30T14:50:42.792790747+03:00" level=info msg="Container failed to exit '
    'within 30s of signal 15 - using the force" '
    "container=4dc52d08f25a7940f3e47283871df3eabf6534f59c1561d547002b8c907346f9"
)
READY_EMPTY = (
    'I0606 17:48:05.512346    1599 kubelet.go:2542] "SyncLoop (probe)" probe="readiness" '
    'status="" pod="openshift-etcd/etcd-ci-op-bzbjn2bk-206af-gfdsw-master-2"'
)


@pytest.mark.parametrize(
    ("line", "kind", "container_id", "exit_code"),
    [
        (
            TASK_OOM_17,
            "oom_killed",
            "4bcba7fc4369fee4d7d2e6263b58fce52cfc928c6a31cfac4d43c838708991ce",
            None,
        ),
        (TASK_OOM_16, "oom_killed", ID, None),
        (EXIT_16, "container_died", ID, 137),
        (
            EXIT_2X,
            "container_died",
            "fce217561d9543b1f6b19f4c5415bbcd68e0dea49e72d7f174910ce3deba7eb0",
            137,
        ),
        (
            DOCKERD_OLD,
            "sigkill",
            "679813472f3d5dc082a55b7e3d62a16109115df69609cae50701fa9bcd4133f2",
            None,
        ),
        (
            DOCKERD_30S,
            "sigkill",
            "4dc52d08f25a7940f3e47283871df3eabf6534f59c1561d547002b8c907346f9",
            None,
        ),
        (
            DOCKERD_NEW,
            "sigkill",
            "4dc52d08f25a7940f3e47283871df3eabf6534f59c1561d547002b8c907346f9",
            None,
        ),
    ],
)
def test_runtime_lifecycle_wordings(line, kind, container_id, exit_code):
    events, tally = parse_lines([line], "containerd")
    assert tally.events == 1
    row = events.row(0, named=True)
    assert (row["source"], row["kind"], row["container_id"], row["exit_code"]) == (
        "runtime",
        kind,
        container_id,
        exit_code,
    )


def test_sandbox_handler_exit_is_not_a_container_death():
    """containerd 2.x's ``TaskExit event in podsandbox handler`` names the sandbox as
    ``container_id`` (containerd/containerd#11836): not read as the container's death."""
    line = EXIT_2X.replace("received exit event", "TaskExit event in podsandbox handler")
    events, _ = parse_lines([line], "containerd")
    assert events["kind"].to_list() == ["log"]


def test_kubelet_readiness_empty_status_is_not_ready():
    events, _ = parse_lines([READY_EMPTY], "kubelet_klog", year=2023)
    row = events.row(0, named=True)
    assert (row["kind"], row["probe"], row["pod"]) == (
        "not_ready",
        "readiness",
        "etcd-ci-op-bzbjn2bk-206af-gfdsw-master-2",
    )
    liveness = READY_EMPTY.replace('probe="readiness"', 'probe="liveness"')
    events, _ = parse_lines([liveness], "kubelet_klog", year=2023)
    assert events["kind"].to_list() == ["log"]
