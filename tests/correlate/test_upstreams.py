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
    requests = _no_probe([(100.0, "container_died", "api-1"), (100.2, "sigkill", "api-2")])
    assert requests["target_pod"].null_count() == requests.height
    assert requests["target_by"].null_count() == requests.height


def test_of_two_pods_ending_a_second_apart_the_ip_goes_to_the_one_that_ended_as_it_failed():
    requests = _no_probe([(100.0, "container_died", "api-1"), (99.0, "sigkill", "api-2")])
    assert requests["target_pod"].unique().to_list() == ["api-1"]
    assert requests["target_by"].unique().to_list() == ["timing"]


def _drain(extra=()):
    """A node drain: two pods SIGTERMed together, each dying on its own; an ingress sends to
    both IPs, which no probe names. 10.160.1.28 stops answering as api-1 dies; 10.160.1.15
    (quieter) fails only 3 s after api-2 died."""
    pods = [
        ev(35.0, "kill", container="api", namespace="shop", pod="api-1", grace_period_s=30.0),
        ev(35.0, "kill", container="api", namespace="shop", pod="api-2", grace_period_s=30.0),
        ev(35.76, "container_died", container="api", namespace="shop", pod="api-2"),
        ev(36.786, "container_died", container="api", namespace="shop", pod="api-1"),
    ]
    http = dict(source="proxy", format="ingress_nginx")
    rows = [
        ev(30 + i * 0.5, "http", status=200, upstream="10.160.1.28:8080", **http) for i in range(13)
    ]
    rows += [ev(30 + i, "http", status=200, upstream="10.160.1.15:8080", **http) for i in range(5)]
    rows += [
        ev(36.829 + i, "http", status=502, upstream="10.160.1.28:8080", **http) for i in range(4)
    ]
    rows += [
        ev(38.772 + i, "http", status=502, upstream="10.160.1.15:8080", **http) for i in range(4)
    ]
    return attribute(frame(pods + rows + list(extra)))


def test_pods_dying_together_are_told_apart_by_each_ones_own_death():
    requests = _drain().filter(pl.col("status") == 502)
    got = requests.group_by("upstream").agg(
        pl.col("target_pod").unique(), pl.col("target_by").unique()
    )
    assert sorted(got.rows()) == [
        ("10.160.1.15:8080", ["api-2"], ["timing"]),
        ("10.160.1.28:8080", ["api-1"], ["timing"]),
    ]


def test_two_ips_failing_together_as_two_pods_die_together_stay_unmatched():
    pods = [
        ev(100.0, "container_died", container="api", namespace="shop", pod=p) for p in ("a", "b")
    ]
    http = dict(source="proxy", format="ingress_nginx", status=502)
    rows = [ev(100.3, "http", upstream=f"10.7.7.{i}:8000", **http) for i in (1, 2)]
    requests = attribute(frame(pods + rows))
    assert requests["target_pod"].null_count() == 2


# Lines as the formats read them: an ingress-nginx access line with $req_id, and the app's
# own JSON line with the same id in its container log (namespace/pod from the CRI path).
NGINX = dict(
    source="proxy",
    format="ingress_nginx",
    namespace="ingress-nginx",
    pod="ingress-nginx-controller-7d9f",
)
APP = dict(
    source="app", format="generic_json", namespace="web", pod="profile-hm7ph", container="app"
)
RID = "7f1c2e9a3b4d5e6f708192a3b4c5d6e7"


def _by_request_id():
    return frame(
        [
            ev(10.0, "http", status=502, upstream="10.77.2.29:8080", request_id=RID, **NGINX),
            # the app's own access line for it: a 500 (a reduced read keeps it whole)
            ev(9.99, "http", status=500, request_id=RID, message="POST /profile 500", **APP),
            # answered requests are counted without their ids: no evidence
            ev(12.0, "http", status=200, upstream="10.77.2.30:8080", request_id="a" * 32, **NGINX),
            ev(11.99, "log", request_id="a" * 32, message="POST /profile 200", **APP),
            ev(13.0, "http", status=503, upstream="10.77.2.29:8080", request_id="2" * 32, **NGINX),
        ]
    )


def test_an_id_the_app_logged_names_the_pod_behind_the_proxys_upstream():
    book = address_book(_by_request_id())
    assert book.select("ip", "port", "pod", "container", "by").rows() == [
        ("10.77.2.29", "8080", "profile-hm7ph", "app", "request_id")
    ]
    failed = failing(attribute(_by_request_id())).filter(pl.col("format") == "ingress_nginx")
    assert failed.select("target_pod", "target_by", "target_container").unique().rows() == [
        ("profile-hm7ph", "request_id", "app")
    ]


def test_the_proxys_own_lines_with_the_id_name_no_pod():
    rows = _by_request_id().filter(pl.col("format") == "ingress_nginx")
    assert address_book(rows).height == 0
    assert attribute(rows)["target_pod"].null_count() == 3


def test_a_cni_line_or_pod_object_names_a_pod_that_no_probe_or_request_does():
    cni = ev(
        1.0,
        "log",
        source="runtime",
        format="calico_cni",
        namespace="web",
        pod="profile-hm7ph",
        upstream="10.77.2.29",
    )
    obj = ev(
        0.5,
        "log",
        source="event",
        format="k8s_events",
        namespace="web",
        pod="profile-old",
        upstream="10.77.2.7",
    )
    http = dict(source="proxy", format="ingress_nginx")
    rows = [
        cni,
        obj,
        ev(5.0, "http", status=502, upstream="10.77.2.29:8080", **http),
        ev(5.5, "http", status=502, upstream="10.77.2.7:8080", **http),
    ]
    got = attribute(frame(rows)).select("upstream", "target_pod", "target_by").rows()
    assert sorted(got) == [
        ("10.77.2.29:8080", "profile-hm7ph", "cni"),
        ("10.77.2.7:8080", "profile-old", "pod_object"),
    ]


def test_a_load_balancer_deregistering_an_address_joins_the_pods_lifecycle():
    from analyzer.correlate import lifecycle_of
    from analyzer.correlate.lifecycle import pod_phases

    events = frame(
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
                3,
                "lb_deregistered",
                source="proxy",
                format="aws_lb_controller",
                upstream="10.1.2.3:8080",
            ),
            ev(
                4,
                "lb_deregistered",
                source="proxy",
                format="aws_lb_controller",
                upstream="10.9.9.9:80",
            ),
            ev(5, "kill", container="app", grace_period_s=30.0, **POD),
        ]
    )
    life = lifecycle_of(events, pod_phases(events))
    dereg = life.filter(pl.col("kind") == "lb_deregistered").sort("ts")
    assert dereg.select("namespace", "pod", "upstream").rows() == [
        ("shop", "web-1", "10.1.2.3:8080"),
        (None, None, "10.9.9.9:80"),
    ]


def test_an_ip_that_answers_after_the_death_is_not_that_pod():
    requests = _no_probe([(100.0, "container_died", "api-1")], answers_after=[110.0])
    assert requests["target_pod"].null_count() == requests.height


def test_probe_named_ips_say_so():
    requests = attribute(_events())
    by = dict(zip(requests["upstream"].to_list(), requests["target_by"].to_list(), strict=True))
    assert by["10.1.2.3:8080"] == "probe" and by["127.0.0.1:8080"] == "local"
    assert by["10.9.9.9:80"] is None


def test_the_pods_own_sidecar_logging_the_same_request_to_the_same_address_names_it():
    # ingress-nginx sent the request to 10.28.0.19:80; the pod's istio-proxy logged its
    # inbound side (Istio >= 1.10: upstream_host is the pod's own IP; log-formats.md 9.2)
    rid = "ffc1de9a-c7dd-9e0f-b62c-1c12b7a830ff"
    side = dict(namespace="default", pod="helloworld-v1-7d9f", container="istio-proxy")
    rows = [
        ev(1.0, "http", status=502, upstream="10.28.0.19:80", request_id=rid, **NGINX),
        ev(
            0.99,
            "http",
            source="proxy",
            format="envoy",
            status=503,
            upstream="10.28.0.19:80",
            request_id=rid,
            detail="UF",
            **side,
        ),
        # the same sidecar's outbound call elsewhere names no address of its own pod
        ev(
            2.0,
            "http",
            source="proxy",
            format="envoy",
            status=200,
            upstream="10.28.0.44:9080",
            request_id="other",
            **side,
        ),
    ]
    book = address_book(frame(rows))
    assert book.select("ip", "port", "pod", "container", "by").rows() == [
        ("10.28.0.19", "80", "helloworld-v1-7d9f", None, "sidecar")
    ]
    got = attribute(frame(rows)).filter(pl.col("format") == "ingress_nginx")
    assert got.select("target_pod", "target_by").rows() == [("helloworld-v1-7d9f", "sidecar")]


def test_a_mesh_gateway_and_the_pods_sidecar_logging_one_request_name_neither():
    rid = "35e82df8-1262-9404-8ad2-303b8613955c"
    envoy = dict(source="proxy", format="envoy", container="istio-proxy", request_id=rid)
    rows = [
        ev(
            1.0,
            "http",
            status=503,
            upstream="10.1.2.31:5000",
            namespace="istio-system",
            pod="istio-ingressgateway-5c6d",
            **envoy,
        ),
        ev(
            0.99,
            "http",
            status=503,
            upstream="10.1.2.31:5000",
            namespace="default",
            pod="helloworld-v1-7d9f",
            **envoy,
        ),
    ]
    assert address_book(frame(rows)).height == 0


def test_a_container_that_died_and_started_again_keeps_its_address():
    # an OOM kill: the IP answers again, but only once that pod's container is back
    back = ev(104.0, "container_started", container="api", namespace="shop", pod="api-1")
    requests = _no_probe(
        [(100.0, "container_died", "api-1")], answers_after=[106.0, 107.0], extra=[back]
    )
    failed = requests.filter(pl.col("status") == 502)
    assert failed["target_pod"].to_list() == ["api-1"] * 5


def test_an_ip_answering_again_before_any_restart_is_not_that_pod():
    requests = _no_probe([(100.0, "container_died", "api-1")], answers_after=[102.5])
    assert requests.filter(pl.col("status") == 502)["target_pod"].null_count() == 5


def test_app_500s_as_a_pod_ends_count_as_its_failures():
    # the app answers 500 (its database sidecar is gone), then nothing: it ended
    http = dict(source="proxy", format="ingress", upstream="10.7.7.7:8000")
    rows = [ev(90 + i, "http", status=200, **http) for i in range(10)]
    rows += [ev(100.0, "kill", container="db-proxy", namespace="shop", pod="api-1")]
    rows += [ev(100.5 + i * 0.3, "http", status=500, **http) for i in range(6)]
    requests = attribute(frame(rows))
    assert requests.filter(pl.col("status") == 500)["target_pod"].to_list() == ["api-1"] * 6


def _born(starts, first_request_at):
    """New pods start at ``starts`` ((t, pod)); an unknown IP is first asked at ``first_request_at``."""
    rows = [ev(0, "log", source="app", message="the logs begin")]
    rows += [
        ev(t, "container_started", container="api", namespace="shop", pod=p) for t, p in starts
    ]
    http = dict(source="proxy", format="ingress", upstream="10.7.7.9:8000")
    rows += [
        ev(first_request_at + i, "http", status=502 if i < 3 else 200, **http) for i in range(8)
    ]
    return attribute(frame(rows))


def test_an_unknown_ip_first_asked_as_one_new_pod_starts_is_that_pod():
    requests = _born([(100.0, "api-new")], 101.0)
    assert requests["target_pod"].unique().to_list() == ["api-new"]


def test_two_pods_starting_together_leave_a_new_ip_unmatched():
    requests = _born([(100.0, "api-a"), (100.2, "api-b")], 101.0)
    assert requests["target_pod"].null_count() == requests.height


def test_an_ip_asked_long_after_any_start_is_no_new_pod():
    requests = _born([(100.0, "api-new")], 200.0)
    assert requests["target_pod"].null_count() == requests.height
