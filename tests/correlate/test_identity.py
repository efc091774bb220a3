"""Pod identity from the lines as the formats read them: a Calico CNI line in the node
journal, an app's own line with the ingress's request id (upstreams.address_book)."""

import json

import polars as pl

from analyzer.api import load_events
from analyzer.correlate.upstreams import attribute, failing
from tests.conftest import FIXTURES

# elastic/beats' ingress-nginx test line 5 (tests/fixtures/ingress_nginx/controller.log), its
# upstream, time, status and request id changed: a 502 from the pod Calico gave 192.168.124.235.
NGINX = (
    '192.168.64.1 - - [22/Apr/2022:05:17:{s:02d} +0000] "POST /products HTTP/1.1" {status} 59 "-" '
    '"curl/7.54.0" 89 0.001 [default-web-8080] [] {upstream} 59 0.000 {status} {rid}'
)
RID = "529a007902362a5f51385a5fa7049884"


def _nginx(tmp_path, rows):
    path = tmp_path / "ingress-nginx" / "controller.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(NGINX.format(**r) for r in rows) + "\n")
    return path


def test_a_calico_line_in_the_node_journal_names_the_pod_behind_an_ingress_upstream(tmp_path):
    journal = FIXTURES / "calico_cni" / "containerd.journal.log"
    nginx = _nginx(
        tmp_path,
        [
            dict(s=30 + i, status=502, upstream="192.168.124.235:80", rid=f"{i:032x}")
            for i in range(3)
        ],
    )
    events, _ = load_events([journal, nginx], year=2022)
    failed = failing(attribute(events))
    assert failed.select("target_namespace", "target_pod", "target_by").unique().rows() == [
        ("default", "nginx-kata", "cni")
    ]


def test_the_pods_own_line_with_the_ingress_request_id_names_the_pod(tmp_path):
    nginx = _nginx(
        tmp_path,
        [
            dict(s=30, status=502, upstream="10.244.1.7:8181", rid=RID),
            dict(s=31, status=502, upstream="10.244.1.7:8181", rid="0" * 32),
        ],
    )
    # Workhorse in the webservice pod logged the same request (its correlation_id is the
    # X-Request-ID the ingress sent): the access line of workhorse_json/current.log, line 1
    # (derived; labkit's key layout), with this request's id and time.
    access = json.loads((FIXTURES / "workhorse_json" / "current.log").read_text().splitlines()[0])
    access |= {"correlation_id": RID, "time": "2022-04-22T05:17:30Z", "uri": "/products"}
    pod_dir = tmp_path / (
        "var/log/pods/gitlab_gitlab-webservice-default-5d85b6854c-sbx2z_"
        "b80a99ae-7c8d-4fc3-9433-0cddd173b894/gitlab-workhorse"
    )
    pod_dir.mkdir(parents=True)
    (pod_dir / "0.log").write_text(
        f"2022-04-22T05:17:30.000100000Z stdout F {json.dumps(access, separators=(',', ':'))}\n"
    )
    events, _ = load_events([nginx, tmp_path / "var"], year=2022)
    ingress = attribute(events).filter(pl.col("format") == "ingress_nginx").sort("ts")
    assert (
        ingress.select("status", "target_pod", "target_by").rows()
        == [(502, "gitlab-webservice-default-5d85b6854c-sbx2z", "sidecar")] * 2
    )
