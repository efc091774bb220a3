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
