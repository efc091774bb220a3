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
