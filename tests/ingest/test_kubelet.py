from datetime import UTC, datetime

import polars as pl
import pytest

from analyzer.api import load_events, parse_lines
from tests.conftest import FIXTURES

KLOG = FIXTURES / "kubelet_klog"

# Lines are the klog part of real lines (journal prefix dropped) unless a comment says otherwise:
# AKS (VijayRod/demo, MIT), OpenShift CI (openshift/origin, Apache-2.0), GKE (GoogleCloudPlatform/khi,
# Apache-2.0), kind (istio/istio, Apache-2.0). See tests/fixtures/README.md.
CASES = [  # raw line -> (kind, namespace, pod, container, probe, upstream, grace, exit code)
    (
        'I1129 18:20:18.242812    2775 kubelet.go:2449] "SyncLoop DELETE" source="api" pods=["default/nginx"]',
        ("pod_deleted", "default", "nginx", None, None, None, None, None),
    ),
    (
        'I0606 17:47:52.807876    1599 prober.go:121] "Probe failed" probeType="Readiness" pod="openshift-authentication/oauth-openshift-77f7b95df5-r4xf7" podUID=1af660b3-ac3a-4182-86eb-2f74725d8415 containerName="oauth-openshift" probeResult=failure output="Get \\"https://10.129.0.12:6443/healthz\\": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)"',
        (
            "probe_failed",
            "openshift-authentication",
            "oauth-openshift-77f7b95df5-r4xf7",
            "oauth-openshift",
            "readiness",
            "10.129.0.12:6443",
            None,
            None,
        ),
    ),
    (
        'I1119 22:48:13.914655 1675 kuberuntime_container.go:808] "Killing container with a grace period" pod="kube-system/kube-dns-58f547fd74-swzzt" podUID="34a3f9e5-4363-47a9-8bd9-3b37c60d107b" containerName="sidecar" containerID="containerd://5e0d5f0eab7a1ee243894fe769d690840243de4d53f5cb139094c395d8186881" gracePeriod=30',
        ("kill", "kube-system", "kube-dns-58f547fd74-swzzt", "sidecar", None, None, 30.0, None),
    ),
    (
        # exitCode edited from 0: 137 is what the same notes' liveness-exec container ended with.
        'I1129 18:20:18.668292    2775 generic.go:334] "Generic (PLEG): container finished" podID="5da5612b-9738-493c-af51-a213072997f6" containerID="c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab" exitCode=137',
        ("container_died", None, None, None, None, None, None, 137),
    ),
    (
        # Body as openshift/origin's kubelet log parser quotes it; the klog header is made up.
        'I0606 17:48:25.519203    1599 kubelet.go:2542] "SyncLoop (probe)" probe="readiness" status="not ready" pod="openshift-etcd/etcd-ci-op-bzbjn2bk-206af-gfdsw-master-2"',
        (
            "not_ready",
            "openshift-etcd",
            "etcd-ci-op-bzbjn2bk-206af-gfdsw-master-2",
            None,
            "readiness",
            None,
            None,
            None,
        ),
    ),
    (
        'Oct 24 06:38:11 master2.ocp4.example.com hyperkube[110225]: I1024 06:38:11.983026  110225 kubelet.go:2141] "SyncLoop DELETE" source="api" pods=[openshift-marketplace/redhat-marketplace-t2g47]',
        (
            "pod_deleted",
            "openshift-marketplace",
            "redhat-marketplace-t2g47",
            None,
            None,
            None,
            None,
            None,
        ),
    ),
    (
        'I0817 17:50:31.142618     286 reconciler.go:224] "operationExecutor.VerifyControllerAttachedVolume started for volume \\"etcd-data\\" (UniqueName: \\"kubernetes.io/host-path/72c47c236abf4280d9f8b6af5ec1850d-etcd-data\\") pod \\"etcd-config-control-plane\\" (UID: \\"72c47c236abf4280d9f8b6af5ec1850d\\") "',
        ("log", None, None, None, None, None, None, None),
    ),
]
COLS = ["kind", "namespace", "pod", "container", "probe", "upstream", "grace_period_s", "exit_code"]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_klog_line(raw, expected):
    events, tally = parse_lines([raw], "kubelet_klog")
    assert tally.events == 1
    assert events.select(COLS).row(0) == expected


def test_raw_fixture_all_lines_are_events():
    events, (t,) = load_events([KLOG / "raw.log"], year=2024)
    assert (t.format, t.lines, t.events, t.rejected, t.skipped) == ("kubelet_klog", 11, 11, 0, 0)
    assert events["kind"].to_list() == [
        "not_ready",
        "probe_errored",
        "probe_failed",
        # readiness status="": the kubelet's not-ready transition (kubelet.go handleProbeSync
        # logs "ready" on success and "" otherwise)
        "not_ready",
        "ready",
        "kill",
        "pod_deleted",
        "kill",
        "container_died",
        "container_died",
        "pod_removed",
    ]
    assert events.filter(pl.col("kind") == "probe_failed")["upstream"].to_list() == [
        "10.129.0.12:6443"
    ]
    # The PLEG line names the pod; the container-finished line only IDs: filled from the kill line.
    died = events.filter(pl.col("kind") == "container_died")
    assert set(died["pod"]) == {"nginx"} and set(died["container"]) == {"nginx"}
    assert set(died["exit_code"].drop_nulls()) == {0}
    assert events["ts"][0].year == 2024 and events["ts"][0].month == 5


def test_journald_fixture_wrapper_node_and_other_programs():
    events, (t,) = load_events([KLOG / "journald.log"], year=2024)
    assert t.reconciles and t.rejected == 0
    assert t.skipped == 0 and t.events == t.lines
    # The containerd record in the same journal is read by the containerd format (`also`),
    # and tied to the nginx container through its container ID.
    ctr = events.filter(pl.col("line") == 3).row(0, named=True)
    assert (ctr["format"], ctr["kind"], ctr["pod"], ctr["container"]) == (
        "containerd",
        "log",
        "nginx",
        "nginx",
    )
    assert ctr["ts"].microsecond == 243705
    assert events.filter(pl.col("line") == 1)["node"].item() == "aks-np2-39852331-vmss000000"
    assert events.filter(pl.col("kind") == "container_died").height == 4
    old_style = events.filter(pl.col("line") == 9).row(0, named=True)
    assert old_style["kind"] == "container_died" and old_style["container"] == "nginx"


def test_multiline_output_continuations_are_skipped_not_rejected():
    events, (t,) = load_events([KLOG / "multiline.log"], year=2024)
    assert (t.events, t.rejected, t.skipped) == (3, 0, 6)
    assert dict(t.skip_reasons) == {"klog continuation": 6}
    assert events["kind"].to_list() == ["probe_failed"] * 3
    assert events["line"].to_list() == [1, 4, 7]
    assert set(events["pod"]) == {"liveness-exec"} and set(events["probe"]) == {"liveness"}


def test_tz_option_shifts_klog_times():
    utc, _ = load_events([KLOG / "raw.log"], year=2024)
    berlin, _ = load_events([KLOG / "raw.log"], year=2024, tz="Europe/Berlin")
    assert (utc["ts"][0] - berlin["ts"][0]).total_seconds() == 7200


def test_short_iso_journal_prefix_dates_the_klog_time(tmp_path):
    # `journalctl -o short-iso`: the prefix carries year and offset; klog keeps the µs.
    path = tmp_path / "journal.log"
    path.write_text(
        "2019-03-14T14:36:15+0100 node-a kubelet[2917]: I0314 14:36:15.827194    2917 "
        'prober.go:107] "Probe failed" probeType="Readiness" pod="shop/api-1" '
        'containerName="api" probeResult="failure" output="Get \\"http://10.1.2.3:8000/\\": EOF"\n'
        "2019-03-14T14:36:16+0100 node-a systemd[1]: Started something.\n"
        "2019-03-14T14:36:17.000001+0100 node-a containerd[99]: "
        'time="2019-03-14T13:36:17.000000001Z" level=info msg="Kill container \\"'
        + "ab" * 32
        + '\\""\n'
    )
    events, (t,) = load_events([path], tz="Asia/Tokyo")  # the prefix's offset wins
    assert (t.format, t.events, t.rejected, t.skipped) == ("kubelet_klog+containerd", 2, 0, 1)
    events = events.sort("line")
    assert events["kind"].to_list() == ["probe_failed", "sigkill"]
    assert events["ts"][0] == datetime(2019, 3, 14, 13, 36, 15, 827194, tzinfo=UTC)
    assert (events["node"][0], events["upstream"][0]) == ("node-a", "10.1.2.3:8000")


def test_short_iso_prefix_wins_when_the_clocks_disagree(tmp_path):
    body = (
        'prober.go:107] "Probe failed" probeType="Readiness" pod="shop/api-1" '
        'containerName="api" probeResult="failure" output="EOF"'
    )
    path = tmp_path / "journal.log"
    path.write_text(
        # written just before midnight, received just after: not a year later
        f"2025-01-01T00:00:00+0000 n kubelet[1]: I1231 23:59:59.990000    1 {body}\n"
        # `journalctl --utc` on a node whose klog clock runs in +02:00
        f"2025-06-01T10:00:00+0000 n kubelet[1]: I0601 12:00:00.250000    1 {body}\n"
    )
    events, _ = load_events([path])
    assert events.sort("line")["ts"].to_list() == [
        datetime(2025, 1, 1, 0, 0, 0, tzinfo=UTC),
        datetime(2025, 6, 1, 10, 0, 0, tzinfo=UTC),
    ]
