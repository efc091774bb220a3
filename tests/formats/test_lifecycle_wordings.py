"""The lifecycle wordings the diagnosis rules need, on real lines (sources: tests/fixtures/README.md).

One test per spec file: kubelet_klog (back-off, eviction, liveness restart), k8s_events
(BackOff, Evicted, OOMKilling, liveness Killing), kernel_oom (the OOM killer's journal lines),
aws_lb_controller (deRegistering targets).
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from analyzer.api import load_events
from tests.conftest import ROOT

FIX = ROOT / "tests" / "fixtures"
COLS = ["kind", "namespace", "pod", "container", "probe"]


def _rows(path, **kw):
    events, tallies = load_events([path], **kw)
    assert all(t.rejected == 0 for t in tallies), tallies
    return events.sort("line")


def test_kubelet_klog_lifecycle():
    ev = _rows(FIX / "kubelet_klog" / "lifecycle.log", year=2024)
    assert ev.select(COLS).rows() == [
        ("back_off", "default", "restarting-pod", "alpine", None),
        ("back_off", "default", "alpine-368057524-bgt0m", "alpine", None),
        ("evicted", "sre", "infras-logstash-d484d57fc-rkx95", None, None),
        ("kill", "default", "liveness-exec", "liveness", "liveness"),
    ]
    assert ev["pod_uid"][:2].to_list() == [
        "ca0d5836-1435-497e-9a41-547fbcc10484",
        "cc89ef7c-bc47-11e7-85ce-901b0edee6b6",
    ]
    assert ev["ts"][0] == datetime(2024, 3, 1, 1, 6, 1, 286649, tzinfo=UTC)
    assert ev["ts"][2] == datetime(2024, 5, 28, 16, 5, 54, 802914, tzinfo=UTC)


def test_k8s_events_lifecycle():
    ev = _rows(FIX / "k8s_events" / "lifecycle.ndjson")
    assert ev.select(COLS).rows() == [
        ("kill", "default", "liveness-exec", "liveness", "liveness"),
        ("back_off", "default", "restarting-pod", "alpine", None),
        ("evicted", "sre", "infras-logstash-d484d57fc-rkx95", None, None),
        ("oom_killed", "default", None, None, None),
    ]
    assert ev["node"][3] == "worker-1"
    assert ev["ts"][1] == datetime(2024, 3, 1, 1, 6, 1, tzinfo=UTC)


def test_kernel_oom_in_a_node_journal():
    ev = _rows(FIX / "kernel_oom" / "journal.log", year=2024)
    oom = ev.filter(pl.col("format") == "kernel_oom")
    assert oom.select("kind", "pod_uid", "container_id", "detail", "node").rows() == [
        (
            "oom_killed",
            "eded8c65-6e8e-4c6e-a889-3e427565c740",
            "ec9ee26695deb4cc72bc665efff1cf3a03fdfb12f1303e02fe9252985e084a95",
            "pt_main_thread",
            "...",
        ),
        (
            "oom_killed",
            "b56c3a7a-a84d-4f84-b97e-446c4e705259",
            "0e4a814eda030cdc2bb6944078eaefd3278f8f9b3a9725c4ddffb722752a2279",
            "kafka_exporter",
            "dev37-devc",
        ),
        ("oom_killed", None, None, "uwsgi", "worker-1"),
    ]
    assert oom["ts"].to_list() == [
        datetime(2024, 8, 30, 6, 58, 55, 50705, tzinfo=UTC),
        datetime(2024, 7, 17, 18, 31, 40, tzinfo=UTC),
        datetime(2024, 7, 12, 10, 15, 3, tzinfo=UTC),
    ]


def test_aws_lb_controller_deregistering():
    ev = _rows(FIX / "aws_lb_controller" / "controller.log")
    assert ev.select("kind", "source", "upstream").rows() == [
        ("lb_deregistered", "proxy", "172.31.178.98:80"),
        ("log", "proxy", None),
        ("lb_deregistered", "proxy", "i-11111111111111111:30233"),
        ("lb_deregistered", "proxy", "172.31.178.98:80"),
    ]
    assert ev["ts"][0].replace(microsecond=0) == datetime(2023, 2, 19, 13, 46, 46, tzinfo=UTC)
    assert ev["ts"][3] == datetime(2023, 2, 19, 13, 46, 46, tzinfo=UTC)
