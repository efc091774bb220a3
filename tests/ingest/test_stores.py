"""Logs read back from log stores (Cloud Logging, Loki) and kubelet's JSON format."""

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from analyzer.api import load_events, parse_lines
from analyzer.errors import FormatSpecError
from analyzer.formats import parse_spec
from tests.conftest import assert_same_critical_incident

FIXTURES = Path(__file__).parent.parent / "fixtures"
GKE = FIXTURES / "gcp_logentry" / "gke.ndjson"
GCLOUD = FIXTURES / "gcp_logentry" / "gcloud.json"
LOKI = FIXTURES / "loki_jsonl" / "logcli.jsonl"
KUBELET = FIXTURES / "kubelet_json" / "kubelet.log"
NODE = "gke-sample-cluster-default-abcdefgh-abcd"


def _load(path: Path):
    events, (tally,) = load_events([path])
    assert tally.events + tally.rejected + tally.skipped == tally.lines
    return events, tally


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _row(events: pl.DataFrame, line: int) -> dict:
    (row,) = events.filter(pl.col("line") == line).to_dicts()
    return row


# --- Google Cloud Logging ---------------------------------------------------------------


def test_gke_export_accounts_for_every_line():
    events, tally = _load(GKE)
    assert tally.format == "gcp_logentry+kubelet_klog+containerd+ingress_nginx+workhorse_json"
    assert (tally.lines, tally.events, tally.rejected, tally.skipped) == (11, 7, 2, 2)
    assert dict(tally.reject_examples) == {
        10: "malformed JSON",
        11: "missing key(s) required by gcp_logentry: timestamp, resource.type",
    }
    assert dict(tally.skip_reasons) == {
        "blank line": 1,
        "record carries no line (none of textPayload, jsonPayload.MESSAGE, jsonPayload)": 1,
    }
    assert sorted(events["line"].to_list()) == [1, 2, 3, 4, 5, 7, 8]


def test_gke_node_journal_record_is_a_kubelet_kill():
    events, _ = _load(GKE)
    kill = _row(events, 1)
    assert (kill["kind"], kill["source"], kill["format"]) == ("kill", "kubelet", "kubelet_klog")
    assert kill["ts"] == _at("2024-01-01T01:00:00Z")  # the entry's time: klog has no year
    assert (kill["namespace"], kill["pod"], kill["container"]) == (
        "kube-system",
        "kube-dns-58f547fd74-swzzt",
        "sidecar",
    )
    assert kill["node"] == NODE  # resource.labels.node_name
    assert kill["container_id"].startswith("5e0d5f0eab7a")
    assert kill["grace_period_s"] == 30
    containerd = _row(events, 2)
    assert (containerd["format"], containerd["node"]) == ("containerd", NODE)


def test_gke_text_payload_klog_line_is_parsed_as_kubelet():
    events, _ = _load(GKE)
    probe = _row(events, 4)
    assert (probe["kind"], probe["format"], probe["probe"]) == (
        "not_ready",
        "kubelet_klog",
        "liveness",
    )
    assert (probe["namespace"], probe["pod"], probe["node"]) == ("default", "liveness-exec", NODE)
    assert probe["ts"] == _at("2024-05-16T18:34:49.885264Z")


def test_gke_container_identity_comes_from_resource_labels():
    events, _ = _load(GKE)
    access = _row(events, 3)  # textPayload with its trailing newline
    assert (access["format"], access["kind"], access["status"]) == ("ingress_nginx", "http", 200)
    assert (access["namespace"], access["pod"], access["container"]) == (
        "ingress-nginx",
        "ingress-nginx-controller-7b6d7cbbd6-x2x9k",
        "controller",
    )
    assert access["node"] == NODE  # labels."compute.googleapis.com/resource_name"


def test_gke_json_payload_object_is_parsed_by_its_format_without_its_lifted_time():
    events, _ = _load(GKE)
    access = _row(events, 5)
    assert (access["format"], access["kind"], access["status"]) == ("workhorse_json", "http", 502)
    assert access["path"] == "/explore/projects"
    assert access["ts"] == _at("2024-10-25T14:50:49Z")
    assert (access["pod"], access["container"]) == (
        "gitlab-webservice-default-5d8f9c7b6-abcde",
        "gitlab-workhorse",
    )


def test_gke_http_request_entries_are_request_events():
    events, _ = _load(GKE)
    lb = _row(events, 7)
    assert (lb["kind"], lb["format"], lb["status"], lb["method"]) == (
        "http",
        "gcp_logentry",
        502,
        "GET",
    )
    assert lb["ts"] == _at("2024-10-25T14:50:49.5Z")
    assert lb["path"] == "/explore/projects"  # scheme, host and query dropped
    assert lb["duration_ms"] == pytest.approx(2.345)  # "0.002345s"
    assert (lb["upstream"], lb["client"]) == ("10.8.2.14", "203.0.113.45")
    assert lb["detail"] == "failed_to_connect_to_backend"
    app = _row(events, 8)
    assert (app["status"], app["duration_ms"], app["path"]) == (
        503,
        1500.0,
        "/api/v4/internal/pages",
    )
    assert (app["namespace"], app["container"], app["node"]) == ("gitlab", "webservice", NODE)


def test_gcloud_json_array_gives_the_same_events_numbered_by_their_first_line():
    lines_events, _ = _load(GKE)
    events, tally = _load(GCLOUD)
    assert (tally.format, tally.lines, tally.events, tally.rejected) == (
        "gcp_logentry+kubelet_klog+containerd+ingress_nginx+workhorse_json",
        8,
        7,
        0,
    )
    cols = ["ts", "kind", "format", "namespace", "pod", "container", "node", "status"]
    assert events.select(cols).sort(cols).equals(lines_events.select(cols).sort(cols))
    text = GCLOUD.read_text().splitlines()
    starts = [i + 1 for i, ln in enumerate(text) if ln == "  {"]
    assert set(events["line"].to_list()) <= set(starts)


def test_gcloud_json_array_cut_short_keeps_its_whole_entries(tmp_path):
    entries = json.loads(GCLOUD.read_text())
    text = json.dumps(entries[:2], indent=2)
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) - 40])  # the second entry loses its end
    events, tally = _load(cut)
    assert (tally.events, tally.rejected) == (1, 1)
    assert tally.reject_examples[0][1].startswith("malformed JSON in the array")
    assert events["kind"].to_list() == ["kill"]


def test_array_of_plain_json_is_not_taken_for_a_wrapper(tmp_path):
    path = tmp_path / "app.json"
    path.write_text(json.dumps([{"time": "2024-01-01T00:00:00Z", "msg": "hi"}], indent=2))
    _, (tally,) = load_events([path])
    assert tally.format == "unknown"


# --- Loki logcli --------------------------------------------------------------------------


def test_loki_export_accounts_for_every_line():
    events, tally = _load(LOKI)
    assert (
        tally.format
        == "loki_jsonl+kubelet_klog+containerd+ingress_nginx+workhorse_json+generic_text"
    )
    assert (tally.lines, tally.events, tally.rejected, tally.skipped) == (9, 6, 2, 1)
    # A record without its line is the store's reject, not a plain log line.
    assert dict(tally.reject_examples) == {
        8: "missing key(s) required by loki_jsonl: line, timestamp",
        9: "malformed JSON",
    }


def test_loki_labels_give_identity_and_lines_their_own_formats():
    events, _ = _load(LOKI)
    access = _row(events, 1)  # JSON line, timestamp in logcli's local zone
    assert (access["format"], access["kind"], access["status"]) == ("workhorse_json", "http", 502)
    assert access["ts"] == _at("2024-10-25T14:50:49Z")
    assert (access["namespace"], access["pod"], access["container"], access["node"]) == (
        "gitlab",
        "gitlab-webservice-default-5d8f9c7b6-abcde",
        "gitlab-workhorse",
        NODE,
    )
    cri = _row(events, 2)  # a whole CRI line: the header is dropped, the payload parsed
    assert (cri["format"], cri["status"], cri["container"]) == ("ingress_nginx", 200, "controller")
    assert cri["ts"] == _at("2022-03-09T20:27:06.575220598Z")
    kill = _row(events, 3)
    assert (kill["kind"], kill["pod"], kill["node"]) == ("kill", "kube-dns-58f547fd74-swzzt", NODE)
    unlabeled = _row(events, 5)  # --no-labels
    assert (unlabeled["kind"], unlabeled["pod"], unlabeled["node"]) == (
        "not_ready",
        "liveness-exec",
        None,
    )
    plain = _row(events, 6)  # no known format: its container's plain line
    assert (plain["format"], plain["kind"], plain["source"]) == ("generic_text", "log", "app")
    assert plain["message"] == "Listening on http://0.0.0.0:8181"
    assert plain["container"] == "gitlab-workhorse"


def test_loki_clean_file_takes_the_streaming_path(tmp_path):
    path = tmp_path / "clean.jsonl"
    path.write_text("".join(ln + "\n" for ln in LOKI.read_text().splitlines()[:6]))
    events, (tally,) = load_events([path])
    assert (tally.events, tally.rejected, tally.notes) == (6, 0, ())
    assert sorted(events["kind"].to_list()) == sorted(
        ["http", "http", "kill", "log", "not_ready", "log"]
    )


# --- kubelet --logging-format=json ---------------------------------------------------------


def test_kubelet_json_accounts_for_every_line():
    events, tally = _load(KUBELET)
    assert tally.format == "kubelet_json"
    assert (tally.lines, tally.events, tally.rejected, tally.skipped) == (9, 7, 1, 1)
    assert dict(tally.reject_examples) == {6: "not a JSON object"}  # a flag warning
    assert tally.notes == ()  # objects, lists and strings under `pod`: still the fast path


def test_kubelet_json_kinds_identity_and_times():
    events, _ = _load(KUBELET)
    kinds = dict(zip(events["line"].to_list(), events["kind"].to_list(), strict=True))
    assert kinds == {
        1: "log",
        2: "log",
        3: "probe_failed",
        4: "not_ready",
        5: "kill",
        7: "container_died",
        8: "pod_deleted",
    }
    probe = _row(events, 3)
    assert probe["ts"] == _at("2024-05-16T18:34:49.885197Z")  # ms since the epoch
    assert (probe["namespace"], probe["pod"], probe["container"], probe["probe"]) == (
        "default",
        "liveness-exec",
        "liveness",
        "liveness",
    )
    assert probe["detail"].startswith("cat: can't open '/tmp/healthy'")
    kill = _row(events, 5)
    assert (kill["grace_period_s"], kill["container_id"]) == (
        30,
        "05657a9c673d612aedd955a65136ccca36b82ba987831de7844cdc0238f1d707",
    )
    died = _row(events, 7)  # the PLEG event object
    assert died["container_id"] == kill["container_id"]
    assert died["pod_uid"] == "93e17ecc-ab55-461a-b526-29248d2554ad"
    deleted = _row(events, 8)  # `pods` list; `ts` in seconds
    assert (deleted["namespace"], deleted["pod"]) == ("default", "liveness-exec")
    assert deleted["ts"] == _at("2024-05-16T18:35:30.5Z")
    talos = _row(events, 2)  # 2021: `pod` as "ns/name"
    assert (talos["namespace"], talos["pod"]) == (
        "kube-system",
        "kube-controller-manager-talos-dev-qemu-master-1",
    )
    assert talos["ts"] == _at("2021-10-26T16:45:51.595943Z")


def test_seconds_and_milliseconds_epochs_agree():
    line = '{{"ts":{ts},"caller":"kubelet/kubelet.go:2449","msg":"SyncLoop DELETE","v":2,"pods":["default/nginx"]}}'
    events, tally = parse_lines(
        [line.format(ts="1678901234.5678"), line.format(ts="1678901234567.8")], "kubelet_json"
    )
    assert tally.rejected == 0
    assert events["ts"].to_list() == [_at("2023-03-15T17:27:14.5678Z")] * 2
    assert events["pod"].to_list() == ["nginx", "nginx"]


def test_other_zap_apps_are_not_taken_for_the_kubelet(tmp_path):
    path = tmp_path / "etcd.log"
    path.write_text(
        '{"level":"info","ts":1634654985.815,"caller":"mvcc/kvstore_compaction.go:57",'
        '"msg":"finished scheduled compaction","compact-revision":34567,"took":"21.041639ms"}\n'
    )
    events, (tally,) = load_events([path])
    assert tally.format == "generic_json"
    assert events["source"].to_list() == ["app"]


def test_kubelet_json_inside_a_cri_file(tmp_path):
    lines = [ln for ln in KUBELET.read_text().splitlines() if ln.startswith("{")]
    path = tmp_path / "kubelet.log"
    path.write_text(
        "".join(
            f"2024-05-16T18:34:{i:02d}.000000000Z stderr F {ln}\n" for i, ln in enumerate(lines)
        )
    )
    events, (tally,) = load_events([path])
    assert (tally.format, tally.rejected) == ("cri+kubelet_json", 0)
    assert "kill" in events["kind"].to_list()


def test_spec_keys_of_stores_are_checked():
    base = {"name": "x", "source": "runtime", "engine": "jsonl"}
    with pytest.raises(FormatSpecError, match="json_text"):
        parse_spec({**base, "fields": {"node": "$.labels['a.b']"}}, "x.toml")
    with pytest.raises(FormatSpecError, match="scale.nope"):
        parse_spec({**base, "scale": {"nope": 1000}}, "x.toml")
    spec = parse_spec({**base, "payload_field": ["a", "b.c"], "json_text": ["b.c"]}, "x.toml")
    assert (spec.payload_fields, spec.payload_field) == (("a", "b.c"), "a")


@pytest.mark.parametrize("as_array", [False, True], ids=["ndjson", "array"])
def test_gke_events_log_entries_are_kubernetes_events(tmp_path, as_array):
    source = FIXTURES / "gcp_logentry" / "events.ndjson"
    path = source
    if as_array:
        path = tmp_path / "events.json"
        entries = [json.loads(ln) for ln in source.read_text().splitlines()]
        path.write_text(json.dumps(entries, indent=2))
    events, tally = _load(path)
    assert (tally.events, tally.rejected) == (2, 0)
    killing = events.filter(pl.col("format") == "k8s_events").to_dicts()[0]
    assert (killing["kind"], killing["source"]) == ("kill", "event")
    assert killing["ts"] == _at("2021-03-15T19:03:11Z")
    assert (killing["namespace"], killing["pod"], killing["container"]) == (
        "bobs-books",
        "bobbys-helidon-stock-application-586dcbf7c-qdqx5",
        "bobbys-helidon-stock-application",
    )
    assert sorted(events["format"].to_list()) == ["ingress_nginx", "k8s_events"]


def test_clean_gke_export_reads_every_format_without_the_robust_parser(tmp_path):
    path = tmp_path / "clean.ndjson"
    path.write_text("".join(ln + "\n" for ln in GKE.read_text().splitlines()[:8] if ln))
    events, (tally,) = load_events([path])
    assert (tally.events, tally.rejected, tally.skipped, tally.notes) == (7, 0, 0, ())
    assert set(events["format"].to_list()) == {
        "kubelet_klog",
        "containerd",
        "ingress_nginx",
        "workhorse_json",
        "gcp_logentry",
    }


def test_loki_export_without_identity_labels_says_how_to_get_them(tmp_path):
    # One pod's query: logcli moved the common labels to stderr.
    path = tmp_path / "one-pod.jsonl"
    path.write_text(
        '{"labels":{"stream":"stdout"},"line":"Listening on http://0.0.0.0:8181",'
        '"timestamp":"2024-10-25T16:50:40+02:00"}\n'
    )
    events, (tally,) = load_events([path])
    assert tally.events == 1
    assert any("--include-common-labels" in n for n in tally.notes)
    _, (labelled,) = load_events([LOKI])
    assert not any("--include-common-labels" in n for n in labelled.notes)


# --- the bundled story, read back from a store ----------------------------------------------


def _story_records(sample: Path):
    """(time, identity, line) of every line of the story's node and pod logs, as a store
    keeps them: CRI fragments joined, each kubelet journal line on its own."""
    import re

    for journal in sorted(sample.glob("nodes/*/kubelet.log")):
        node = journal.parent.name
        # The store keeps the journal's time; the analyzer already knows each line's.
        events, _ = load_events([journal])
        times = dict(zip(events["line"].to_list(), events["ts"].to_list(), strict=True))
        for n, line in enumerate(journal.read_text().splitlines(), 1):
            if n in times:
                message = re.sub(r"^\w{3} [ \d]\d [\d:]{8} \S+ [\w.-]+\[\d+\]: ", "", line)
                yield times[n].isoformat().replace("+00:00", "Z"), {"node": node}, message
    for log in sorted(sample.glob("var/log/pods/*/*/0.log")):
        namespace, pod, _ = log.parent.parent.name.split("_")
        labels = {"namespace": namespace, "pod": pod, "container": log.parent.name}
        pending = ""
        for line in log.read_text().splitlines():
            ts, _stream, tag, payload = line.split(" ", 3)
            pending += payload
            if tag == "F":
                yield ts, labels, pending
                pending = ""


def _as_gke(ts: str, who: dict, line: str) -> dict:
    entry: dict = {"timestamp": ts, "logName": "projects/p/logs/stdout", "insertId": ts}
    if "node" in who:
        entry["resource"] = {"type": "k8s_node", "labels": {"node_name": who["node"]}}
        entry["jsonPayload"] = {"MESSAGE": line, "SYSLOG_IDENTIFIER": "kubelet"}
        return entry
    entry["resource"] = {
        "type": "k8s_container",
        "labels": {
            "namespace_name": who["namespace"],
            "pod_name": who["pod"],
            "container_name": who["container"],
        },
    }
    try:
        entry["jsonPayload"] = json.loads(line)
    except ValueError:
        entry["textPayload"] = line + "\n"
    return entry


def test_the_story_from_a_gke_export_finds_theassert_same_critical_incident(tmp_path, story):
    """The nodes are gone; Cloud Logging kept their lines. Same incident, same findings."""
    import shutil

    import analyzer
    from tests.conftest import SAMPLE

    entries = [_as_gke(*record) for record in _story_records(SAMPLE)]
    for event in json.loads((SAMPLE / "events.json").read_text())["items"]:
        entries.append(
            {
                "timestamp": event.get("lastTimestamp") or event.get("eventTime"),
                "logName": "projects/p/logs/events",
                "resource": {"type": "k8s_pod", "labels": {}},
                "jsonPayload": event,
            }
        )
    (tmp_path / "gke.ndjson").write_text("".join(json.dumps(e) + "\n" for e in entries))
    shutil.copy(SAMPLE / "gitlab-pages.log", tmp_path)
    result = analyzer.analyze([tmp_path])
    (gke,) = [t for t in result.inputs if t.path.endswith("gke.ndjson")]
    assert (gke.lines, gke.events) == (len(entries), len(entries))
    assert_same_critical_incident(result, story)


def test_the_story_from_a_loki_export_finds_theassert_same_critical_incident(tmp_path, story):
    """The same story from Loki: whole CRI lines (no `cri` stage), newest first."""
    import shutil

    import analyzer
    from tests.conftest import SAMPLE

    records = []
    for ts, who, line in _story_records(SAMPLE):
        labels = {"node_name": who["node"], "unit": "kubelet.service"} if "node" in who else who
        if "node" not in who:
            line = f"{ts} stdout F {line}"
        records.append({"labels": labels, "line": line, "timestamp": ts})
    records.sort(key=lambda r: r["timestamp"], reverse=True)
    (tmp_path / "logcli.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    for name in ("events.json", "gitlab-pages.log"):
        shutil.copy(SAMPLE / name, tmp_path)
    result = analyzer.analyze([tmp_path])
    (loki,) = [t for t in result.inputs if t.path.endswith("logcli.jsonl")]
    assert (loki.lines, loki.events) == (len(records), len(records))
    assert_same_critical_incident(result, story)


def test_json_keys_named_like_reader_columns_keep_both():
    from analyzer.ingest.jsonl import parse_jsonl

    spec = parse_spec(
        {
            "name": "x",
            "source": "app",
            "engine": "jsonl",
            "require": ["line"],
            "fields": {"message": "json:text"},
        },
        "x.toml",
    )
    frame = pl.DataFrame(
        {"line": [7], "raw": ['{"text":"hi","line":3}'], "text": ['{"text":"hi","line":3}']},
        schema={"line": pl.UInt32, "raw": pl.String, "text": pl.String},
    ).with_columns(pl.lit(None, pl.String).alias("_outcome"))
    out = parse_jsonl(frame.lazy(), spec).collect()
    assert (out["line"][0], out["json:line"][0]) == (7, "3")
    assert (out["json:text"][0], out["text"][0], out["_outcome"][0]) == (
        "hi",
        frame["text"][0],
        None,
    )
