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
