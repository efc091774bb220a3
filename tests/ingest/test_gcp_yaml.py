"""`gcloud logging read` without --format prints YAML: one document per LogEntry, `---`
between them. It reads like the NDJSON and JSON-array exports, with every line counted."""

import json
from pathlib import Path

import polars as pl
import pytest
import yaml

from analyzer.api import load_events
from analyzer.formats import specs
from analyzer.ingest.sniff import choose

FIXTURES = Path(__file__).parent.parent / "fixtures" / "gcp_logentry"
CORPUS = Path(__file__).parent.parent / "corpus" / "khi-gke"
GKE = FIXTURES / "gke.ndjson"
YAML = FIXTURES / "gcloud.yaml"  # gke.ndjson's 8 entries, as gcloud prints them
COLS = ["ts", "kind", "format", "namespace", "pod", "container", "node", "status"]
MULTILINE = "part of a multi-line YAML document"


def _load(path: Path):
    events, (tally,) = load_events([path])
    assert tally.reconciles
    return events, tally


def _doc_starts(text: str) -> list[int]:
    lines = text.splitlines()
    return [1] + [i + 2 for i, ln in enumerate(lines) if ln == "---"]


def test_gcloud_yaml_gives_the_ndjson_events_numbered_by_their_first_line():
    ndjson_events, _ = _load(GKE)
    events, tally = _load(YAML)
    assert tally.format == "gcp_logentry+kubelet_klog+containerd+ingress_nginx+workhorse_json"
    n = len(YAML.read_text().splitlines())
    assert (tally.lines, tally.events, tally.rejected) == (n, 7, 0)
    # The audit entry (protoPayload) carries no line; the rest of each entry is its document.
    reasons = dict(tally.skip_reasons)
    assert (
        reasons.pop(
            "record carries no line (none of textPayload, jsonPayload.MESSAGE, jsonPayload)"
        )
        == 1
    )
    # textPayload's trailing newline makes a blank line inside a quoted scalar.
    assert reasons == {MULTILINE: n - 9, "blank line": 1}
    assert events.select(COLS).sort(COLS).equals(ndjson_events.select(COLS).sort(COLS))
    starts = _doc_starts(YAML.read_text())
    assert len(starts) == 8
    assert set(events["line"].to_list()) <= set(starts)
    kill = events.filter(pl.col("line") == 1).to_dicts()[0]
    assert (kill["kind"], kill["pod"], kill["node"]) == (
        "kill",
        "kube-dns-58f547fd74-swzzt",
        "gke-sample-cluster-default-abcdefgh-abcd",
    )


def test_a_broken_yaml_document_costs_only_itself(tmp_path):
    docs = YAML.read_text().split("---\n")
    docs[1] = docs[1].replace("logName:", "logName: [unclosed\nlogName:", 1)
    path = tmp_path / "broken.yaml"
    path.write_text("---\n".join(docs))
    events, tally = _load(path)
    assert (tally.events, tally.rejected) == (6, 1)
    ((line, reason),) = tally.reject_examples
    assert line == _doc_starts(path.read_text())[1]  # the broken entry's first line
    assert reason.startswith("malformed YAML (")
    assert "containerd" not in events["format"].to_list()  # that entry was the containerd one


def test_licence_header_is_comments_and_the_entry_one_event():
    # The khi fixture as its repository has it (corpus/SOURCES.md): 13 `#` lines, a blank.
    events, tally = _load(CORPUS / "kubelet_pod_and_container_name.yaml")
    assert (tally.format, tally.lines, tally.events) == ("gcp_logentry+kubelet_klog", 46, 1)
    assert dict(tally.skip_reasons) == {"comment line": 13, "blank line": 1, MULTILINE: 31}
    (row,) = events.to_dicts()
    assert (row["line"], row["kind"], row["container"]) == (15, "kill", "sidecar")


def test_yaml_log_entries_carrying_events_are_read_as_events_not_as_objects(tmp_path):
    # GKE's `events` log: the LogEntry's jsonPayload is a Kubernetes Event (apiVersion, kind).
    entries = [json.loads(ln) for ln in (FIXTURES / "events.ndjson").read_text().splitlines()]
    path = tmp_path / "events.yaml"
    path.write_text("---\n".join(yaml.safe_dump(e, sort_keys=True) for e in entries))
    head = path.read_text()
    assert choose(list(specs()), head).spec.name == "gcp_logentry"
    events, tally = _load(path)
    assert (tally.events, tally.rejected) == (2, 0)
    assert sorted(events["format"].to_list()) == ["ingress_nginx", "k8s_events"]
    killing = events.filter(pl.col("format") == "k8s_events").to_dicts()[0]
    assert (killing["kind"], killing["pod"]) == (
        "kill",
        "bobbys-helidon-stock-application-586dcbf7c-qdqx5",
    )


def test_kubernetes_yaml_objects_stay_kubernetes_objects():
    _, tally = _load(Path(__file__).parent.parent / "fixtures" / "k8s_events" / "list.yaml")
    assert tally.format == "k8s_events"


@pytest.mark.parametrize(
    "text",
    [
        "WARNING: no swap limit support\nWARNING: bridge-nf-call-iptables is disabled\n",
        "status: ok\nstatus: ok\n",
    ],
    ids=["text", "yaml-not-records"],
)
def test_key_value_lines_that_are_no_records_are_not_read_as_yaml(tmp_path, text):
    path = tmp_path / "plain.log"
    path.write_text(text)
    _, tally = _load(path)
    assert not tally.format.startswith("gcp_logentry")
    assert MULTILINE not in dict(tally.skip_reasons)
