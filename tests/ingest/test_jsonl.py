from datetime import UTC, datetime

import polars as pl

from analyzer.api import load_events
from tests.conftest import FIXTURES


def test_workhorse_fixture():
    events, (t,) = load_events([FIXTURES / "workhorse_json" / "current.log"])
    assert (t.format, t.events, t.rejected) == ("workhorse_json", 7, 0)
    assert events.sort("line")["kind"].to_list() == [
        "http",
        "http",
        "upstream_error",
        "upstream_error",
        "shutdown_started",
        "log",
        "shutdown_finished",
    ]
    e502 = events.filter(pl.col("line") == 1).row(0, named=True)
    assert (e502["status"], e502["client"], e502["path"]) == (
        502,
        "203.0.113.45",
        "/explore/projects",
    )
    err = events.filter(pl.col("line") == 3).row(0, named=True)
    assert err["upstream"] == "/var/opt/gitlab/gitlab-rails/sockets/gitlab.socket"
    assert err["ts"].hour == 9  # +08:00 converted to UTC
    gone = events.filter(pl.col("line") == 4).row(0, named=True)  # socket not there (ENOENT)
    assert gone["upstream"] == err["upstream"]


def test_puma_pages_generic_fixtures():
    puma, (t,) = load_events([FIXTURES / "puma_json" / "puma_stdout.log"])
    assert t.format == "puma_json"
    assert puma["kind"].to_list() == [
        "log",
        "shutdown_started",
        "log",
        "shutdown_finished",
        "shutdown_finished",
    ]
    pages, (t,) = load_events([FIXTURES / "pages_json" / "pages.log"])
    assert t.format == "pages_json"
    assert pages["kind"].to_list() == ["http", "upstream_error", "http"]
    generic, (t,) = load_events([FIXTURES / "generic_json" / "app.log"])
    assert t.format == "generic_json" and t.events == 3
    generic = generic.sort("line")
    assert generic["message"].to_list() == ["server started", "upstream went away", "slow request"]
    assert generic["status"].to_list() == [None, None, 503]


def test_journald_json_export_carries_kubelet_and_containerd_lines():
    events, (t,) = load_events([FIXTURES / "journald_json" / "journal.json"])
    assert t.format == "journald_json+kubelet_klog+containerd"
    assert (t.lines, t.events, t.rejected, t.skipped) == (5, 3, 1, 1)
    assert t.reject_examples == ((4, "malformed JSON"),)
    # systemd's line is another program's: counted per program, not a kubelet event
    assert dict(t.skip_reasons) == {"systemd line in no format we read": 1}
    events = events.sort("line")
    assert events["kind"].to_list() == ["kill", "kill", "container_died"]
    assert events["format"].to_list()[:2] == ["kubelet_klog", "containerd"]
    # The journal's time (µs) and host, since the klog line has no year and no host.
    assert events["ts"][0] == datetime(2023, 11, 19, 22, 48, 13, 914700, tzinfo=UTC)
    assert events["node"].unique().to_list() == ["gke-sample-cluster-default-abcdefgh-abcd"]
    assert events.filter(pl.col("kind") == "container_died")["container"].to_list() == ["sidecar"]


def test_a_whole_node_journal_finds_kubelet_lines_after_many_others(tmp_path):
    import json

    fixture = (FIXTURES / "journald_json" / "journal.json").read_text().splitlines()
    kernel = [
        json.dumps(
            {
                "__REALTIME_TIMESTAMP": str(1700434000000000 + i),
                "_HOSTNAME": "node-a",
                "SYSLOG_IDENTIFIER": "kernel",
                "MESSAGE": f"eth0: link state change {i}",
            }
        )
        for i in range(300)  # more than the sniffing sample
    ]
    path = tmp_path / "node.json"
    path.write_text("\n".join(kernel + fixture) + "\n")
    events, (t,) = load_events([path])
    assert (t.lines, t.events, t.rejected) == (305, 304, 1)
    kills = events.filter(pl.col("kind") == "kill")
    assert kills["format"].to_list() == ["kubelet_klog", "containerd"]
