"""sidecar-shutdown-order, keepalive-reuse, lb-deregistration on hand-built incidents."""

from __future__ import annotations

from tests.correlate.helpers import ev
from tests.diagnose.helpers import IP, POD, failing, run, serving

APP, SIDE = "a" * 64, "b" * 64


def _kill(t, container, cid, grace=30.0):
    return ev(t, "kill", container=container, grace_period_s=grace, container_id=cid, **POD)


def test_a_sidecar_gone_while_its_app_serves_on_is_sidecar_shutdown_order():
    rows = serving(until=140)
    rows += [
        ev(99.9, "pod_deleted", **POD),
        _kill(100.0, "api", APP),
        _kill(100.0, "istio-proxy", SIDE),
        ev(100.05, "shutdown_started", source="app", container="api", **POD),
        ev(101.0, "container_died", container_id=SIDE, exit_code=0),
        ev(110.0, "container_died", container_id=APP, exit_code=0),
    ]
    rows += failing(101.2, 15, status=503, step=0.5)
    (inc,) = run(rows)
    top = inc.findings[0]
    assert (top.code, top.container) == ("sidecar-shutdown-order", "istio-proxy")
    assert "the sidecar istio-proxy" in top.summary and "api kept running" in top.summary
    assert "native sidecar" in top.fix
    assert "no-prestop-drain" not in [f.code for f in inc.findings]  # not a prompt exit


def test_containers_stopping_together_is_not_an_ordering_problem():
    rows = serving(until=140)
    rows += [
        ev(99.9, "pod_deleted", **POD),
        _kill(100.0, "api", APP),
        _kill(100.0, "istio-proxy", SIDE),
        ev(100.5, "container_died", container_id=APP, exit_code=0),
        ev(101.0, "container_died", container_id=SIDE, exit_code=0),
    ]
    rows += failing(100.6, 12)
    (inc,) = run(rows)
    codes = [f.code for f in inc.findings]
    assert "sidecar-shutdown-order" not in codes and codes[0] == "no-prestop-drain"


REAL_RESETS = {
    # nginx error log wording (root-causes.md RC4b, nginx ticket 1484)
    "nginx": "upstream prematurely closed connection while reading response header from upstream",
    # Envoy response flag and details (istio#55138)
    "envoy": "UC upstream_reset_before_response_started{connection_termination}",
    # Workhorse badgateway error on a reused connection (workhorse/internal/badgateway)
    "workhorse": "badgateway: failed to receive response: EOF",
}


def test_resets_around_a_shutdown_are_keepalive_reuse_not_the_prompt_exit():
    rows = serving(until=140)
    rows += [
        ev(99.9, "pod_deleted", **POD),
        _kill(100.0, "api", APP),
        ev(100.2, "container_died", container_id=APP, exit_code=0),
    ]
    for i, text in enumerate(REAL_RESETS.values()):
        rows += failing(100.3 + i, 4, detail=text, step=0.2)
    (inc,) = run(rows)
    top = inc.findings[0]
    assert top.code == "keepalive-reuse" and top.explains == 1.0
    assert "while the pod shut down" in top.summary


def test_a_steady_trickle_of_resets_with_no_deploy_is_its_own_keepalive_incident():
    rows = serving(until=900, step=0.5)
    rows += [
        ev(
            30 + 60 * k,
            "http",
            source="proxy",
            format="ingress",
            status=502,
            upstream=IP,
            detail=REAL_RESETS["nginx"],
        )
        for k in range(14)
    ]
    (inc,) = run(rows)
    assert inc.severity == "warning"
    top = inc.findings[0]
    assert top.code == "keepalive-reuse" and top.severity == "warning"
    assert "idle-timeout mismatch" in top.summary


def test_a_few_app_500s_spread_out_are_no_trickle():
    rows = serving(until=900, step=0.5)
    rows += [
        ev(30 + 60 * k, "http", source="proxy", format="ingress", status=500, upstream=IP)
        for k in range(14)
    ]
    assert run(rows) == []


def test_a_cloud_lb_that_outlasts_the_prestop_is_lb_deregistration():
    rows = serving(until=140)
    rows += [
        ev(99.9, "pod_deleted", **POD),
        _kill(100.0, "api", APP),
        # the controller's line names the target by its address (aws-load-balancer-controller)
        ev(
            100.6,
            "lb_deregistered",
            source="proxy",
            upstream=IP,
            namespace="kube-system",
            pod="aws-load-balancer-controller-7d9f-x2x2x",
        ),
        ev(106.0, "shutdown_started", source="app", container="api", **POD),
        ev(106.3, "container_died", container_id=APP, exit_code=0),
    ]
    rows += failing(106.4, 30, fmt="aws_alb", step=0.5)
    (inc,) = run(rows)
    top = inc.findings[0]
    assert top.code == "lb-deregistration" and top.explains == 1.0
    assert "began deregistering shop/api-7d9f-abcde" in top.summary
    assert "waited 6.3 s" in top.summary


def test_without_a_controller_line_the_lbs_own_log_says_it_kept_sending():
    rows = serving(until=140)
    rows += [
        ev(99.9, "pod_deleted", **POD),
        _kill(100.0, "api", APP),
        ev(106.3, "container_died", container_id=APP, exit_code=0),
    ]
    rows += failing(106.4, 30, fmt="aws_alb", step=0.5)
    (inc,) = run(rows)
    assert inc.findings[0].code == "lb-deregistration"


def test_an_in_cluster_proxy_after_a_waited_exit_is_not_the_load_balancer():
    rows = serving(until=140)
    rows += [
        ev(99.9, "pod_deleted", **POD),
        _kill(100.0, "api", APP),
        ev(106.3, "container_died", container_id=APP, exit_code=0),
    ]
    rows += failing(106.4, 12, fmt="ingress_nginx")
    (inc,) = run(rows)
    assert "lb-deregistration" not in [f.code for f in inc.findings]
