from datetime import UTC, datetime

import polars as pl
import pytest

from analyzer.api import load_events, parse_lines
from tests.conftest import FIXTURES

KLOG = FIXTURES / "kubelet_klog"

CASES = [  # raw line -> (kind, namespace, pod, container, probe, upstream, grace, exit code)
    (
        'I0507 11:59:34.518597    3224 kubelet.go:2414] "SyncLoop DELETE" source="api" pods=["hosted-grafana/hg-api-1"]',
        ("pod_deleted", "hosted-grafana", "hg-api-1", None, None, None, None, None),
    ),
    (
        'I0507 11:59:41.619645    6247 prober.go:107] "Probe failed" probeType="Readiness" pod="ga/ga-4" podUID="c36c5200-1cd6-4093-893c-c022f91af996" containerName="grafana-agent" probeResult="failure" output="Get \\"http://10.0.99.125:3090/-/ready\\": dial tcp 10.0.99.125:3090: connect: connection refused"',
        (
            "probe_failed",
            "ga",
            "ga-4",
            "grafana-agent",
            "readiness",
            "10.0.99.125:3090",
            None,
            None,
        ),
    ),
    (
        'I0507 11:59:34.518822    3224 kuberuntime_container.go:745] "Killing container with a grace period" pod="ns/p" podUID="25cb986c-3d6c-4ed0-abf3-ee59ed6175f9" containerName="hgapi" containerID="containerd://c91436db00920ec961b9d5d6b4859d80a912e862e34fb5c45d8a85684fe6a97e" gracePeriod=30',
        ("kill", "ns", "p", "hgapi", None, None, 30.0, None),
    ),
    (
        'I0507 11:59:34.956755    3224 generic.go:334] "Generic (PLEG): container finished" podID="25cb986c-3d6c-4ed0-abf3-ee59ed6175f9" containerID="c91436db00920ec961b9d5d6b4859d80a912e862e34fb5c45d8a85684fe6a97e" exitCode=137',
        ("container_died", None, None, None, None, None, None, 137),
    ),
    (
        'I0507 11:59:43.910438    4624 kubelet.go:2498] "SyncLoop (probe)" probe="readiness" status="not ready" pod="ns/p"',
        ("not_ready", "ns", "p", None, "readiness", None, None, None),
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
        "I0507 11:59:40.000001    2776 reconciler.go:224] operationExecutor.VerifyControllerAttachedVolume started",
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
    assert (t.format, t.lines, t.events, t.rejected, t.skipped) == ("kubelet_klog", 12, 12, 0, 0)
    assert events["kind"].to_list()[:6] == [
        "pod_deleted",
        "kill",
        "container_died",
        "container_died",
        "pod_deleted",
        "pod_removed",
    ]
    # The PLEG line names the pod; the container-finished line only IDs: filled from the kill line.
    died = events.filter(pl.col("kind") == "container_died")
    assert set(died["container"]) == {"hgapi"} and set(died["exit_code"].drop_nulls()) == {1}
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
    assert (t.events, t.rejected, t.skipped) == (1, 0, 3)
    assert events["kind"].to_list() == ["probe_failed"]


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
