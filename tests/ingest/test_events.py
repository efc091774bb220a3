import polars as pl
import pytest

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


# --- Kubernetes objects as written: any key order, empty Lists, YAML, cluster-info dump ---

SNAP = EV / "cluster-snapshot"
APP_POD = "bobbys-helidon-stock-application-586dcbf7c-qdqx5"
NGINX_POD = "ingress-controller-ingress-nginx-controller-585d79996-g48pc"


def _items():
    import json

    return json.loads((SNAP / "bobs-books" / "events.json").read_text())["items"]


def _item_lines(text: str) -> list[int]:
    """Where each item of a 4-space pretty List opens (what kubectl and the API write)."""
    return [i + 1 for i, line in enumerate(text.splitlines()) if line == "        {"]


def test_real_list_with_metadata_before_items_is_one_event_per_item():
    # cluster-info dump / API server order: kind, apiVersion, metadata (an object), items
    path = SNAP / "bobs-books" / "events.json"
    events, (t,) = load_events([path])
    events = events.sort("line")
    assert t.format == "k8s_events" and t.reconciles
    assert (t.events, t.rejected) == (6, 0)
    assert events["line"].to_list() == _item_lines(path.read_text())
    assert events["pod"].to_list() == [
        "bobbys-coherence-0",
        "bobbys-front-end-adminserver",
        APP_POD,
        APP_POD,
        APP_POD,
        APP_POD,
    ]
    assert events["kind"].to_list() == [
        "log",
        "probe_failed",
        "log",
        "probe_failed",
        "kill",
        "kill",
    ]
    assert events["container"].to_list()[-2:] == ["bobbys-helidon-stock-application", "istio-proxy"]
    # the scheduler wrote through events.k8s.io: eventTime (µs) when firstTimestamp is null
    assert events["ts"][0].microsecond == 451948


@pytest.mark.parametrize(
    "order",
    [
        ("kind", "apiVersion", "metadata", "items"),  # API server, client-go typed Lists
        ("apiVersion", "items", "kind", "metadata"),  # kubectl get -o json (sorted keys)
        ("metadata", "items", "kind", "apiVersion"),
        ("items", "metadata", "apiVersion", "kind"),
    ],
)
@pytest.mark.parametrize("indent", [4, None])
def test_list_key_order_does_not_matter(write, order, indent):
    import json

    head = {"kind": "EventList", "apiVersion": "v1", "metadata": {"resourceVersion": "46365"}}
    doc = {k: head.get(k, _items()) for k in order}
    text = json.dumps(doc, indent=indent) + "\n"
    events, (t,) = load_events([write("events.json", text)])
    events = events.sort("line")
    assert t.format == "k8s_events" and t.reconciles and t.rejected == 0
    if indent:
        assert t.events == 6 and events["line"].to_list() == _item_lines(text)
    else:  # the API's own one-line response: one event per line, the rest in a note
        assert t.events == 1 and "5 more JSON value(s) shared a line" in t.notes[-1]


def test_a_broken_item_in_the_middle_of_an_api_order_list_costs_only_itself(write):
    text = (SNAP / "bobs-books" / "events.json").read_text()
    lines = text.splitlines()
    starts = _item_lines(text)
    broken = [
        *lines[: starts[2] + 3],
        '            "reason": "Oops" GARBAGE',
        *lines[starts[2] + 3 :],
    ]
    events, (t,) = load_events([write("events.json", "\n".join(broken) + "\n")])
    assert t.reconciles and t.events == 5
    assert t.rejected == starts[3] - starts[2] + 1  # the third item's lines and the garbage
    assert t.reject_examples[0] == (starts[2], "malformed or truncated JSON")
    assert APP_POD in events["pod"].to_list() and "bobbys-coherence-0" in events["pod"].to_list()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (
            '{\n    "apiVersion": "v1",\n    "items": [],\n    "kind": "List",\n'
            '    "metadata": {\n        "resourceVersion": ""\n    }\n}\n',
            "List",
        ),
        (
            '{"kind":"EventList","apiVersion":"v1","metadata":{"resourceVersion":"9"},"items":[]}\n',
            "EventList",
        ),
        ('apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: ""\n', "List"),
    ],
)
def test_an_empty_list_is_recognised_and_its_lines_skipped(write, text, kind):
    events, (t,) = load_events([write("events.txt", text)])
    assert t.format == "k8s_events"
    assert (t.events, t.rejected, t.skipped) == (0, 0, len(text.splitlines()))
    assert t.skip_reasons == ((f"empty {kind} (no items)", len(text.splitlines())),)


def test_events_k8s_io_v1_list():
    # regarding / note / deprecated* / reportingController (log-formats.md 3.2)
    path = EV / "events-v1.json"
    events, (t,) = load_events([path])
    events = events.sort("line")
    assert (t.format, t.events, t.rejected) == ("k8s_events", 3, 0) and t.reconciles
    assert events["line"].to_list() == _item_lines(path.read_text())
    rows = events.rows(named=True)
    assert [r["pod"] for r in rows] == ["bobbys-coherence-0", APP_POD, APP_POD]
    assert [r["kind"] for r in rows] == ["log", "probe_failed", "kill"]
    assert rows[0]["ts"].microsecond == 451948  # eventTime
    assert rows[1]["ts"].isoformat() == "2021-03-15T19:02:27+00:00"  # deprecatedFirstTimestamp
    assert "(x5, last 2021-03-15T19:03:17Z)" in rows[1]["message"]  # deprecatedCount, ...Last...
    assert rows[1]["container"] == "istio-proxy" and rows[1]["node"] == "at-tests-control-plane"


def test_yaml_list_and_watch_stream():
    for name in ("list.yaml", "watch.yaml"):
        path = EV / name
        events, (t,) = load_events([path])
        events = events.sort("line")
        assert (t.format, t.events, t.rejected) == ("k8s_events", 9, 0) and t.reconciles
        lines = path.read_text().splitlines()
        first = "- apiVersion: v1" if name == "list.yaml" else "apiVersion: v1"
        assert events["line"].to_list() == [i + 1 for i, x in enumerate(lines) if x == first]
        kill = events.filter(pl.col("kind") == "kill").row(0, named=True)
        assert (kill["pod"], kill["container"], kill["node"]) == (
            "hello-world-7ff854f459-kl4hq",
            "hello-world",
            "kind-control-plane",
        )
        assert kill["ts"].isoformat() == "2020-11-27T12:04:06+00:00"  # a quoted time stays text


def test_a_yaml_syntax_error_costs_its_item_or_its_document(write):
    lines = (EV / "list.yaml").read_text().splitlines()
    at = lines.index("  message: Created container hello-world")
    broken = [*lines[:at], '  message: "Created container hello-world', *lines[at + 1 :]]
    events, (t,) = load_events([write("list.yaml", "\n".join(broken) + "\n")])
    assert t.reconciles and t.events == 8
    starts = [i + 1 for i, x in enumerate(lines) if x.startswith("- ")]
    item = next(s for s in starts[::-1] if s <= at + 1)
    assert t.rejected == starts[starts.index(item) + 1] - item
    assert t.reject_examples[0][0] == item and "malformed YAML" in t.reject_examples[0][1]

    docs = (EV / "watch.yaml").read_text().split("\n---\n")
    docs[1] = docs[1].replace("kind: Event", "kind: [Event")
    events, (t,) = load_events([write("watch.yaml", "\n---\n".join(docs))])
    assert t.reconciles and t.events == 8
    assert t.rejected == len(docs[1].splitlines()) + 1  # with the `---` that opens it
    assert (
        t.reject_examples[0][1].startswith("malformed YAML (")
        and ", line " in t.reject_examples[0][1]
    )


def test_non_event_objects_are_skipped_by_kind(write):
    import json

    events, (t,) = load_events([SNAP / "bobs-books" / "pods.json"])
    assert (t.format, t.events, t.rejected) == ("k8s_events", 0, 0)
    assert dict(t.skip_reasons)["Kubernetes Pod object (not an event)"] > 20
    audit = {  # an audit.k8s.io EventList holds no Kubernetes Events
        "kind": "EventList",
        "apiVersion": "audit.k8s.io/v1",
        "items": [
            {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "a", "verb": "get"}
        ],
    }
    _, (t,) = load_events([write("audit.json", json.dumps(audit, indent=2) + "\n")])
    assert (t.events, t.rejected) == (0, 0)
    assert "audit.k8s.io/v1 Event object (not a Kubernetes Event)" in dict(t.skip_reasons)


def test_cluster_info_dump_to_stdout():
    path = EV / "cluster-info-dump.txt"
    events, (t,) = load_events([path])
    events = events.sort("line")
    # the istio-proxy container's section is read by its own format (istio_proxy)
    assert t.format == "cluster_info_dump+istio_proxy" and t.reconciles
    assert (t.events, t.rejected) == (10, 0)
    assert events.filter(pl.col("format") == "k8s_events").height == 6
    kube = events.filter(pl.col("format") == "k8s_events")
    assert kube["pod"].to_list()[2:] == [APP_POD] * 4
    agent = events.filter(pl.col("format") == "istio_proxy")
    assert set(agent["container"]) == {"istio-proxy"} and set(agent["source"]) == {"proxy"}
    reasons = dict(t.skip_reasons)
    assert reasons["empty ReplicationControllerList (no items)"] == 8
    assert reasons["Kubernetes Pod object (not an event)"] > 20
    assert reasons["cluster-info dump log section marker"] == 6
    assert (
        "container log section in a cluster-info dump (container istio-init of pod "
        "bobs-books/bobbys-helidon-stock-application-7965cf98f5-kfdmx; "
        "no format with timestamps of its own)"
    ) in reasons


def test_cluster_info_dump_log_sections_are_read_by_their_own_format(write):
    # the stdout dump with a klog component's section: its lines are parsed as klog and
    # take namespace / pod / container from the marker
    nginx = (SNAP / "verrazzano-ingress-nginx" / NGINX_POD / "logs.txt").read_text()
    path = write("dump.txt", (EV / "cluster-info-dump.txt").read_text() + nginx)
    events, (t,) = load_events([path], year=2022)
    assert t.format == "cluster_info_dump+istio_proxy+kubelet_klog" and t.reconciles
    logs = events.filter(pl.col("format") == "kubelet_klog").sort("line")
    assert logs.height == 16
    assert set(logs.select("namespace", "pod", "container").unique().rows()) == {
        ("ingress-nginx", NGINX_POD, "controller")
    }
    first = logs.row(0, named=True)
    assert first["ts"].isoformat() == "2022-06-03T14:15:51.505544+00:00"
    assert first["line"] == 263 + 11


def test_cluster_info_dump_directory():
    # `--output-directory`: NS/events.json, NS/pods.json, NS/POD/logs.txt
    events, tallies = load_events([SNAP], year=2022)
    t = {x.path.split("cluster-snapshot/")[1]: x for x in tallies}
    assert all(x.reconciles for x in tallies)
    assert t["bobs-books/events.json"].events == 6
    assert t["bobs-books/pods.json"].format == "k8s_events"  # not "unknown"
    app_logs = t[f"bobs-books/{APP_POD.replace('586dcbf7c-qdqx5', '7965cf98f5-kfdmx')}/logs.txt"]
    # istio-init and Helidon sections have no times; istio-proxy's agent lines do
    assert (app_logs.events, app_logs.rejected) == (4, 0)
    assert app_logs.format == "cluster_info_dump+istio_proxy"
    nginx = t[f"verrazzano-ingress-nginx/{NGINX_POD}/logs.txt"]
    assert nginx.format == "cluster_info_dump+kubelet_klog+istio_proxy" and nginx.events == 20
    logs = events.filter(pl.col("file").str.ends_with(f"{NGINX_POD}/logs.txt"))
    # the marker's namespace wins over the directory name Verrazzano gave it
    assert set(logs["namespace"].to_list()) == {"ingress-nginx"}
    assert set(logs["container"].to_list()) == {"controller", "istio-proxy"}


def test_dump_logs_path_names_the_pod():
    from analyzer.ingest import read_file

    parsed = read_file(SNAP / "verrazzano-ingress-nginx" / NGINX_POD / "logs.txt")
    assert parsed.identity == {"namespace": "verrazzano-ingress-nginx", "pod": NGINX_POD}


def test_a_log_without_final_newline_keeps_its_end_marker(write):
    text = (
        "==== START logs for container c of pod ns/p ====\n"
        "I0603 14:15:51.505544       7 main.go:1] one\n"
        "I0603 14:15:52.505544       7 main.go:1] two"
        "==== END logs for container c of pod ns/p ====\n"
        "==== START logs for container d of pod ns/p ====\n"
        "I0603 14:15:53.505544       7 main.go:1] three\n"
        "==== END logs for container d of pod ns/p ====\n"
    )
    events, (t,) = load_events([write("logs.txt", text)], year=2022)
    assert t.reconciles and t.rejected == 0
    assert events.sort("line").select("container", "message").rows() == [
        ("c", "one"),
        ("d", "three"),
    ]


def test_cluster_info_dump_as_yaml(write):
    # `kubectl cluster-info dump -o yaml`: the printer puts `---` between its Lists
    nginx = (SNAP / "verrazzano-ingress-nginx" / NGINX_POD / "logs.txt").read_text()
    empty = 'apiVersion: v1\nitems: []\nkind: ReplicationControllerList\nmetadata:\n  resourceVersion: "1"\n'
    text = (EV / "list.yaml").read_text() + "---\n" + empty + nginx
    events, (t,) = load_events([write("dump.yaml", text)], year=2022)
    assert t.format == "cluster_info_dump+kubelet_klog+istio_proxy" and t.reconciles
    # the controller's startup banner has no time of its own: skipped, not its fault
    assert t.rejected == 0
    assert (
        dict(t.skip_reasons)[
            "container output without a time of its own (in a cluster-info dump section)"
        ]
        == 7
    )
    assert events.filter(pl.col("format") == "k8s_events").height == 9
    assert events.filter(pl.col("format") == "kubelet_klog").height == 16
    assert dict(t.skip_reasons)["empty ReplicationControllerList (no items)"] == 5


def test_a_log_kubectl_could_not_fetch_is_skipped(write):
    text = (
        "==== START logs for container c of pod ns/p ====\n"
        "I0603 14:15:51.505544       7 main.go:1] one\n"
        "==== END logs for container c of pod ns/p ====\n"
        "==== START logs for container d of pod ns/p ====\n"
        'Request log error: container "d" in pod "p" is waiting to start: ContainerCreating\n'
        "==== END logs for container d of pod ns/p ====\n"
    )
    events, (t,) = load_events([write("logs.txt", text)], year=2022)
    assert t.reconciles and (t.events, t.rejected) == (1, 0)
    assert (
        dict(t.skip_reasons)["kubectl could not fetch this container's log (cluster-info dump)"]
        == 1
    )


def test_a_pod_object_with_its_ip_is_read_as_the_pods_address():
    events, (t,) = load_events([EV / "pods-with-ip.json"])
    assert (t.events, t.rejected) == (1, 0) and t.reconciles
    row = events.row(0, named=True)
    assert (row["source"], row["kind"], row["namespace"], row["pod"], row["upstream"]) == (
        "event",
        "log",
        "bobs-books",
        "bobbys-helidon-stock-application-7965cf98f5-kfdmx",
        "10.244.0.12",
    )
    assert row["ts"].isoformat() == "2021-03-15T19:01:17+00:00"  # status.startTime
    # the same pod with its address redacted names none: still skipped as a Pod object
    _, (t,) = load_events([SNAP / "bobs-books" / "pods.json"])
    assert t.events == 0
