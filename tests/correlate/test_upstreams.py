import polars as pl

from analyzer.correlate.upstreams import address_book, attribute, failing
from tests.correlate.helpers import ev, frame

POD = {"namespace": "shop", "pod": "web-1"}


def _events():
    return frame(
        [
            ev(
                0,
                "probe_failed",
                probe="readiness",
                container="app",
                upstream="10.1.2.3:8080",
                **POD,
            ),
            ev(
                5,
                "http",
                source="proxy",
                format="ingress",
                status=502,
                upstream="10.1.2.3:8080",
                client="10.0.0.9",
                request_id="a",
            ),
            ev(6, "http", source="proxy", format="ingress", status=200, upstream="10.9.9.9:80"),
            ev(
                7,
                "upstream_error",
                source="proxy",
                format="workhorse_json",
                upstream="127.0.0.1:8080",
                request_id="b",
                **POD,
                container="sidecar",
            ),
            ev(
                8,
                "http",
                source="proxy",
                format="workhorse_json",
                status=502,
                request_id="b",
                **POD,
                container="sidecar",
            ),
            ev(
                9,
                "upstream_error",
                source="proxy",
                format="workhorse_json",
                upstream="127.0.0.1:8080",
                request_id="c",
                **POD,
                container="sidecar",
            ),
        ]
    )


def test_address_book_from_probe_targets():
    book = address_book(_events())
    assert book.select("ip", "port", "pod", "container").rows() == [
        ("10.1.2.3", "8080", "web-1", "app")
    ]


def test_remote_upstream_resolves_to_the_pod_that_held_the_ip():
    req = attribute(_events())
    row = req.filter(pl.col("request_id") == "a").row(0, named=True)
    assert (row["target_namespace"], row["target_pod"], row["target_container"]) == (
        "shop",
        "web-1",
        "app",
    )
    unknown = req.filter(pl.col("upstream") == "10.9.9.9:80").row(0, named=True)
    assert unknown["target_pod"] is None


def test_loopback_means_own_pod_and_port_names_the_container():
    req = attribute(_events())
    sidecar = req.filter(pl.col("request_id").is_in(["b", "c"]))
    assert set(sidecar["target_pod"]) == {"web-1"}
    assert set(sidecar["target_container"]) == {"app"}  # the access line has no port: inferred


def test_failing_counts_an_error_once_when_it_has_an_access_line():
    fails = failing(attribute(_events()))
    assert sorted(fails["request_id"].to_list()) == ["a", "b", "c"]
    assert fails.filter(pl.col("request_id") == "b")["kind"].to_list() == ["http"]


def _no_probe(ends, answers_after=(), answers_before=True, extra=()):
    """An ingress sending to 10.7.7.7:8000, which no probe names; pods end at ``ends``."""
    rows = [
        ev(t, kind, container="api", namespace="shop", pod=pod, exit_code=137)
        for t, kind, pod in ends
    ]
    http = dict(source="proxy", format="ingress", upstream="10.7.7.7:8000")
    if answers_before:  # fine until the end
        rows += [ev(90 + i, "http", status=200, **http) for i in range(10)]
    rows += [ev(100.3 + i * 0.2, "http", status=502, **http) for i in range(5)]
    rows += [ev(t, "http", status=200, **http) for t in answers_after]
    return attribute(frame(rows + list(extra)))


def test_an_ip_seen_only_failing_is_matched_too():
    requests = _no_probe([(100.0, "container_died", "api-1")], answers_before=False)
    assert requests["target_pod"].to_list() == ["api-1"] * 5


def test_a_pod_whose_address_a_probe_names_is_not_a_candidate():
    probe = ev(
        0,
        "probe_failed",
        probe="readiness",
        container="api",
        upstream="10.9.9.9:8000",
        namespace="shop",
        pod="api-2",
    )
    requests = _no_probe(
        [(100.0, "container_died", "api-1"), (99.5, "sigkill", "api-2")], extra=[probe]
    )
    by_ip = requests.filter(pl.col("upstream") == "10.7.7.7:8000")
    assert by_ip["target_pod"].unique().to_list() == ["api-1"]


def test_the_match_ends_when_the_ip_may_belong_to_a_new_pod():
    late = ev(700, "http", source="proxy", format="ingress", status=502, upstream="10.7.7.7:8000")
    requests = _no_probe([(100.0, "container_died", "api-1")], extra=[late])
    assert requests.filter(pl.col("ts") == late["ts"])["target_pod"].to_list() == [None]


def test_an_ip_no_probe_names_is_matched_to_the_one_pod_that_died_as_it_failed():
    requests = _no_probe([(100.0, "container_died", "api-1"), (40.0, "kill", "api-2")])
    assert requests["target_pod"].unique().to_list() == ["api-1"]  # before the end too
    assert requests["target_by"].unique().to_list() == ["timing"]


def test_two_pods_ending_together_leave_the_ip_unmatched():
    requests = _no_probe([(100.0, "container_died", "api-1"), (99.0, "sigkill", "api-2")])
    assert requests["target_pod"].null_count() == requests.height
    assert requests["target_by"].null_count() == requests.height


def test_an_ip_that_answers_after_the_death_is_not_that_pod():
    requests = _no_probe([(100.0, "container_died", "api-1")], answers_after=[110.0])
    assert requests["target_pod"].null_count() == requests.height


def test_probe_named_ips_say_so():
    requests = attribute(_events())
    by = dict(zip(requests["upstream"].to_list(), requests["target_by"].to_list(), strict=True))
    assert by["10.1.2.3:8080"] == "probe" and by["127.0.0.1:8080"] == "local"
    assert by["10.9.9.9:80"] is None
