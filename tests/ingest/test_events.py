import polars as pl

from analyzer.api import load_events
from tests.conftest import FIXTURES

EV = FIXTURES / "k8s_events"


def test_list_document_one_row_per_item_with_its_line():
    events, (t,) = load_events([EV / "list.json"])
    assert t.format == "k8s_events" and t.reconciles
    assert (t.events, t.rejected) == (3, 0)
    assert events["line"].to_list() == [4, 5, 13]
    assert events["kind"].to_list() == ["probe_failed", "kill", "probe_failed"]
    first = events.row(0, named=True)
    assert (first["namespace"], first["pod"], first["container"], first["probe"]) == (
        "bobs-books",
        "bobbys-helidon-stock-application-586dcbf7c-qdqx5",
        "istio-proxy",
        "readiness",
    )
    assert "(x5, last 2021-03-15T19:03:17Z)" in first["message"]
    assert first["node"] == "at-tests-control-plane"


def test_ndjson_stream_with_watch_wrapper_and_events_k8s_io_shape():
    events, (t,) = load_events([EV / "stream.ndjson"])
    assert (t.events, t.rejected, t.skipped) == (3, 0, 0)
    kube_proxy = events.filter(pl.col("line") == 2).row(0, named=True)
    assert kube_proxy["ts"].microsecond == 733131  # eventTime when firstTimestamp is null
    assert kube_proxy["pod"] is None  # a Node event names no pod
    wrapped = events.filter(pl.col("line") == 3).row(0, named=True)
    assert (wrapped["kind"], wrapped["container"]) == ("kill", "bobbys-helidon-stock-application")


def test_truncated_list_keeps_complete_items_and_rejects_the_rest(write):
    text = (EV / "list.json").read_text()
    cut = text[: text.index('"reason": "Killing"')]
    path = write("events.json", cut)
    events, (t,) = load_events([path], as_format="k8s_events")
    assert t.reconciles and t.events == 1 and t.rejected >= 1
    assert "truncated" in t.reject_examples[0][1]


def test_a_broken_event_costs_only_itself(tmp_path):
    import json

    from tests.conftest import SAMPLE

    src = (SAMPLE / "events.json").read_text().splitlines()
    items = json.loads("\n".join(src))["items"]
    pretty = tmp_path / "list.json"  # garbage inside the first item of a pretty List
    pretty.write_text("\n".join([*src[:20], '   GARBAGE {{{ "oops', *src[20:]]) + "\n")
    stream = tmp_path / "stream.ndjson"  # a garbage line among NDJSON events
    lines = [json.dumps(item) for item in items[:10]]
    stream.write_text("\n".join([*lines[:4], "garbage line", *lines[4:]]) + "\n")
    compact = tmp_path / "compact.json"  # `jq -c`: the whole List on one line
    compact.write_text(json.dumps({"apiVersion": "v1", "items": items}) + "\n")
    _, tallies = load_events([pretty, stream, compact])
    t = {x.path.rsplit("/", 1)[1]: x for x in tallies}
    # the first item (lines 4-36) and the garbage line; the List's own keys after its
    # items (`"kind": "List"`, metadata) are structure, not rejects
    assert (t["list.json"].events, t["list.json"].rejected) == (len(items) - 1, 34)
    assert t["list.json"].reject_examples[0][0] == 4
    assert (t["stream.ndjson"].events, t["stream.ndjson"].rejected) == (10, 1)
    assert t["stream.ndjson"].reject_examples == ((5, "malformed or truncated JSON"),)
    assert t["compact.json"].events == 1
    assert f"{len(items) - 1} more JSON value(s) shared a line" in t["compact.json"].notes[-1]
    assert all(x.reconciles for x in tallies)
