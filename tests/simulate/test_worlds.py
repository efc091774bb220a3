"""Every world scenario: schemas, determinism, and a truth counted from its own frames."""

from __future__ import annotations

import polars as pl
import pytest

from analyzer.simulate.engine import BYTES_PER_REQUEST
from analyzer.simulate.model import CAUSES, SEVERITIES, Params, Truth
from analyzer.simulate.registry import PROXIES, WORLDS, describe
from analyzer.simulate.world import APP_LINES, LIFECYCLE, LIFECYCLE_KINDS, REQUESTS, World

SEEDS = (1, 2)
HEALTHY = {
    "sigterm-fixed",
    "healthy-rolling-deploy",
    "hpa-scale-down",
    "startup-not-ready",  # an info incident only
    "background-errors",
    "istio-two-sidecars",
}
PLANTED = {
    "sigterm-ignored": {"sigterm-ignored"},
    "no-prestop-drain": {"no-prestop-drain"},
    "readiness-lag": {"readiness-lag"},
    "keepalive-reuse": {"keepalive-reuse"},
    "sidecar-shutdown-order": {"sidecar-shutdown-order"},
    "lb-deregistration": {"lb-deregistration"},
    "grace-period-exceeded": {"grace-period-exceeded"},
    "oom-killed": {"oom-killed"},
    "startup-not-ready": {"startup-not-ready"},
    "node-drain": {"mass-termination"},
    "scale-down-mixed": {"mass-termination"},
    "keepalive-idle-timeout": {"keepalive-reuse"},
    "liveness-restart": {"liveness-restart"},
    "crash-loop": {"crash-loop"},
    "startup-red-herring": {"sigterm-ignored", "startup-not-ready"},
    "clock-skew": {"sigterm-ignored"},
    "rotated-gz": {"sigterm-ignored"},
    "kubectl-logs-dumps": {"sigterm-ignored"},
}
CASES = [(n, s, p) for n in WORLDS for s in SEEDS for p in PROXIES[n]]
_cache: dict[tuple[str, int, str], tuple[World, Truth]] = {}


def build(name: str, seed: int, proxy: str) -> tuple[World, Truth]:
    key = (name, seed, proxy)
    if key not in _cache:
        _cache[key] = WORLDS[name](Params(seed=seed, proxy=proxy))
    return _cache[key]


def _failed(world: World) -> pl.DataFrame:
    """Failing request lines, with when each failed and the pod that failed to answer."""
    return world.requests.filter(pl.col("status") >= 500).with_columns(
        at=pl.col("ts") + pl.duration(microseconds=(pl.col("duration_ms") * 1000).cast(pl.Int64)),
        key=pl.col("namespace") + "/" + pl.col("pod"),
    )


def test_every_scenario_is_described_and_planted_or_healthy():
    assert set(PLANTED) | HEALTHY == set(WORLDS)
    for name in WORLDS:
        assert describe(name)
        assert PROXIES[name]


@pytest.mark.parametrize(("name", "seed", "proxy"), CASES)
def test_frames_keep_the_world_schemas_and_name_known_pods(name, seed, proxy):
    world, truth = build(name, seed, proxy)
    assert world.lifecycle.schema == LIFECYCLE
    assert world.requests.schema == REQUESTS
    assert world.app_lines.schema == APP_LINES
    assert set(world.lifecycle["kind"].unique()) <= set(LIFECYCLE_KINDS)
    assert world.requests.height > 1000
    assert set(world.requests["proxy"].unique()) <= {p.name for p in world.proxies}
    pods = {(p.namespace, p.name) for p in world.pods}
    nodes = {n.name for n in world.nodes}
    for frame in (world.lifecycle, world.requests, world.app_lines):
        for row in frame.select("namespace", "pod").drop_nulls().unique().iter_rows():
            assert row in pods
    assert set(world.lifecycle["node"].unique()) <= nodes
    for p in world.pods:
        assert len(p.uid) == 36 and all(len(c.id) == 64 for c in p.containers)
        assert p.node in nodes
    assert truth.scenario == name


@pytest.mark.parametrize(("name", "seed", "proxy"), CASES)
def test_the_truth_counts_what_the_frames_hold(name, seed, proxy):
    world, truth = build(name, seed, proxy)
    failed = _failed(world)
    # one failure per request, however many proxies logged it
    assert failed["request_id"].n_unique() == (
        sum(i.failures for i in truth.incidents) + truth.background_failures
    )
    covered: set[str] = set()
    for inc in truth.incidents:
        assert inc.cause in CAUSES and inc.severity in SEVERITIES
        assert world.start <= inc.start <= inc.end <= world.end
        mine = failed.filter(
            pl.col("key").is_in(list(inc.pods)), pl.col("at").is_between(inc.start, inc.end)
        )
        ids = set(mine["request_id"].to_list())
        assert len(ids) >= inc.failures >= 3
        assert mine["at"].min() == inc.start and mine["at"].max() == inc.end
        covered |= ids
    outside = set(failed["request_id"].to_list()) - covered
    assert len(outside) <= truth.background_failures


@pytest.mark.parametrize(("name", "seed", "proxy"), CASES)
def test_each_scenario_plants_its_causes(name, seed, proxy):
    _, truth = build(name, seed, proxy)
    assert truth.healthy == (name in HEALTHY)
    assert {i.cause for i in truth.incidents} == PLANTED.get(name, set())


@pytest.mark.parametrize("name", list(WORLDS))
def test_a_seed_gives_one_world_and_another_seed_another(name):
    proxy = PROXIES[name][0]
    a, ta = WORLDS[name](Params(seed=7, proxy=proxy))
    b, tb = WORLDS[name](Params(seed=7, proxy=proxy))
    assert a.requests.equals(b.requests) and a.lifecycle.equals(b.lifecycle)
    assert a.app_lines.equals(b.app_lines)
    assert a.pods == b.pods and a.nodes == b.nodes and ta == tb
    c, _ = WORLDS[name](Params(seed=8, proxy=proxy))
    assert {p.name for p in c.pods}.isdisjoint({p.name for p in a.pods})
    assert c.start != a.start


def test_a_mesh_logs_a_request_twice_and_the_truth_counts_it_once():
    world, truth = build("istio-two-sidecars", 1, "istio")
    assert world.requests.group_by("request_id").len()["len"].max() == 2
    failed = _failed(world)
    assert failed.height > failed["request_id"].n_unique() == truth.background_failures > 0
    assert world.requests.filter(pl.col("upstream").str.starts_with("127.0.0.1:")).height > 0


def test_workhorse_sits_in_the_pod_in_front_of_its_app():
    world, _ = build("sigterm-ignored", 1, "workhorse")
    assert (world.requests["upstream"] == "127.0.0.1:8080").all()
    by_pod = world.requests.group_by("proxy").agg(pl.col("pod").n_unique())
    assert (by_pod["pod"] == 1).all()


def test_variants_carry_their_extras_and_the_skew_is_on_the_victims_node_only():
    assert build("rotated-gz", 1, "ingress-nginx")[0].extras == {"rotate": True}
    assert build("kubectl-logs-dumps", 1, "ingress-nginx")[0].extras == {"dumps": True}
    world, truth = build("clock-skew", 1, "ingress-nginx")
    skewed = [n for n in world.nodes if n.clock_offset_s]
    victim = truth.incidents[0].pods[0].split("/")[1]
    assert len(skewed) == 1 and world.pod(world.pods[0].namespace, victim).node == skewed[0].name
    proxy_nodes = {p.pod.node for p in world.proxies if p.pod is not None}
    assert skewed[0].name not in proxy_nodes


def test_size_sets_how_many_requests():
    big, _ = WORLDS["sigterm-ignored"](Params(seed=1, size_bytes=30_000_000))
    expected = 30_000_000 / BYTES_PER_REQUEST["ingress-nginx"]
    assert abs(big.requests.height - expected) < 0.01 * big.requests.height


def test_lifecycle_shapes_of_a_sigkill_and_an_oom():
    life = build("sigterm-ignored", 1, "ingress-nginx")[0].lifecycle
    died = life.filter(pl.col("kind") == "container_died")
    assert 137 in died["exit_code"].to_list()
    assert life.filter(pl.col("kind") == "sigkill").height == 1
    oom = build("oom-killed", 1, "ingress-nginx")[0].lifecycle
    assert oom.filter(pl.col("kind") == "kill").height == 0
    assert oom.filter(pl.col("kind") == "oom").height == 1


def test_the_runtime_is_passed_on():
    world, _ = WORLDS["sigterm-ignored"](Params(seed=3, runtime="cri-o"))
    assert world.runtime == "cri-o"


def test_grace_period_exceeded_fails_at_the_sigkill():
    world, truth = build("grace-period-exceeded", 1, "ingress-nginx")
    sigkill = world.lifecycle.filter(pl.col("kind") == "sigkill")["ts"][0]
    inc = truth.incidents[0]
    assert abs((inc.start - sigkill).total_seconds()) < 0.1
    assert abs((inc.end - sigkill).total_seconds()) < 0.1


def test_a_db_sidecar_exits_first_outside_a_mesh_and_the_app_answers_5xx():
    world, truth = build("sidecar-shutdown-order", 1, "ingress-nginx")
    victim = world.pods[0]
    assert [c.name for c in victim.containers if c.sidecar] == ["cloud-sql-proxy"]
    died = world.lifecycle.filter(
        (pl.col("pod") == victim.name) & (pl.col("kind") == "container_died")
    ).sort("ts")
    assert died["container"][0] == "cloud-sql-proxy"
    lines = world.app_lines.filter(pl.col("pod") == victim.name)
    assert lines["text"].str.contains("SIGTERM signal received. Shutting down...").any()
    assert (
        lines["fields"].str.contains("dial tcp 127.0.0.1:5432: connect: connection refused").any()
    )
    failed = world.requests.filter((pl.col("pod") == victim.name) & (pl.col("status") >= 500))
    assert failed["error"].null_count() == failed.height  # the app itself answered
    assert set(failed["status"]) <= {500, 503} and truth.incidents[0].failures >= 3


def test_the_lb_controller_logs_each_deregistration_of_an_alb_target():
    world, _ = build("lb-deregistration", 1, "alb")
    ctl = [p for p in world.pods if p.name.startswith("aws-load-balancer-controller-")]
    assert len(ctl) == 1 and ctl[0].namespace == "kube-system"
    lines = world.app_lines.filter(pl.col("pod") == ctl[0].name)["text"].to_list()
    victim = world.pods[0]
    first = next(line for line in lines if '"msg":"deRegistering targets"' in line)
    assert f'"Id":"{victim.ip}","Port":8080' in first and ":targetgroup/k8s-" in first
    assert any('"msg":"deRegistered targets"' in line for line in lines)


def test_the_idle_timeout_trickle_spreads_over_the_window_with_no_deploy():
    world, truth = build("keepalive-idle-timeout", 1, "ingress-nginx")
    assert world.lifecycle.filter(pl.col("kind").is_in(["pod_deleted", "kill"])).height == 0
    (inc,) = truth.incidents
    assert inc.severity == "warning" and (inc.end - inc.start).total_seconds() > 600
    assert 20 <= inc.failures <= 300


def test_liveness_kill_carries_the_kubelets_liveness_message():
    world, _ = build("liveness-restart", 1, "ingress-nginx")
    kill = world.lifecycle.filter(pl.col("kind") == "kill")
    assert kill["detail"].str.ends_with("failed liveness probe, will be restarted").all()
