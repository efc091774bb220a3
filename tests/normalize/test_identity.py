from analyzer.normalize.identity import fill_from_paths
from tests.correlate.helpers import ev, frame


def _known_and_dump(dump: str):
    """Kubelet lines name web-0 in two namespaces; a `kubectl logs` dump names only a pod."""
    return frame(
        [
            ev(0, "kill", namespace="prod", pod="web-0", container="edge", file="node-a.log"),
            ev(1, "kill", namespace="staging", pod="web-0", container="edge", file="node-b.log"),
            ev(2, "http", source="proxy", status=502, file=dump),
        ]
    )


def test_the_namespace_in_the_path_picks_the_pod():
    events, notes = fill_from_paths(_known_and_dump("dumps/staging/web-0_edge.log"))
    dump = events.filter(events["file"] == "dumps/staging/web-0_edge.log").row(0, named=True)
    assert (dump["namespace"], dump["pod"], dump["container"]) == ("staging", "web-0", "edge")
    assert notes == {}


def test_a_name_in_two_namespaces_without_one_in_the_path_is_not_guessed():
    events, notes = fill_from_paths(_known_and_dump("dumps/web-0_edge.log"))
    dump = events.filter(events["file"] == "dumps/web-0_edge.log").row(0, named=True)
    assert dump["pod"] is None and dump["namespace"] is None
    assert "prod/web-0, staging/web-0" in notes["dumps/web-0_edge.log"]


def _pod_with(containers: list[str], dump: str):
    """Kubelet kill lines name the pod's containers; a `kubectl logs` dump names none."""
    rows = [
        ev(i, "kill", namespace="shop", pod="api-7d9f-abcde", container=c, file="node.log")
        for i, c in enumerate(containers)
    ]
    rows.append(ev(9, "http", source="proxy", status=502, file=dump))
    return frame(rows)


def _dump_row(events, dump):
    row = events.filter(events["file"] == dump).row(0, named=True)
    return (row["namespace"], row["pod"], row["container"])


def test_kubectl_logs_dump_of_a_pod_with_one_app_container_gets_it():
    """`kubectl logs api-7d9f-abcde > api-7d9f-abcde.log`: the default container is the app,
    not the istio-proxy sidecar."""
    for dump in ("dumps/api-7d9f-abcde.log", "api-7d9f-abcde/logs.txt"):
        events, _ = fill_from_paths(_pod_with(["api", "istio-proxy"], dump))
        assert _dump_row(events, dump) == ("shop", "api-7d9f-abcde", "api"), dump


def test_a_dump_of_a_pod_with_two_app_containers_names_no_container():
    dump = "dumps/api-7d9f-abcde.log"
    events, _ = fill_from_paths(_pod_with(["api", "worker", "istio-proxy"], dump))
    assert _dump_row(events, dump) == ("shop", "api-7d9f-abcde", None)


def test_kubectl_logs_container_naming_conventions():
    """`kubectl logs POD -c NAME > POD_NAME.log`, `POD-NAME.log`, `POD/NAME.log`."""
    for dump in (
        "dumps/api-7d9f-abcde_istio-proxy.log",
        "dumps/api-7d9f-abcde-istio-proxy.log",
        "dumps/api-7d9f-abcde/istio-proxy.log",
    ):
        events, notes = fill_from_paths(_pod_with(["api", "worker", "istio-proxy"], dump))
        assert _dump_row(events, dump) == ("shop", "api-7d9f-abcde", "istio-proxy"), dump
        assert notes == {}
