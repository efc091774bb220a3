"""Calico CNI lines in a node journal name a pod's address (calico_cni.toml)."""

import polars as pl

from analyzer.api import load_events
from tests.conftest import FIXTURES


def test_calico_lines_in_a_containerd_journal_name_the_pod_and_its_ip():
    events, (t,) = load_events([FIXTURES / "calico_cni" / "containerd.journal.log"], year=2022)
    assert "calico_cni" in t.format.split("+")
    named = events.filter(pl.col("format") == "calico_cni")
    assert (
        named.select("source", "kind", "node", "namespace", "pod", "upstream").rows()
        == [
            ("runtime", "log", "fedora", "default", "nginx-kata", "192.168.124.235"),
        ]
        * 2
    )
    # the plugin's other lines stay the daemon's, naming no pod
    assert events.filter(pl.col("format") != "calico_cni")["upstream"].null_count() == (
        events.height - 2
    )
