"""mass-termination groups per-pod causes; each failure is explained once; rankings; streams."""

from __future__ import annotations

from analyzer.diagnose import registry
from analyzer.diagnose.finding import Finding
from analyzer.simulate.model import CAUSES
from tests.correlate.helpers import ev
from tests.diagnose.helpers import failing, run, serving

A = {"namespace": "shop", "pod": "api-7d9f-aaaaa"}
B = {"namespace": "shop", "pod": "api-7d9f-bbbbb"}
IP_A, IP_B = "10.44.0.12:3000", "10.44.0.13:3000"


def _pod_ignoring_sigterm(pod, ip, cid, t_kill, *, evicted):
    rows = serving(pod, ip, until=t_kill + 40)
    if evicted:
        rows.append(ev(t_kill - 0.2, "evicted", **pod))
    rows += [
        ev(t_kill - 0.1, "pod_deleted", **pod),
        ev(t_kill, "kill", container="api", grace_period_s=30.0, container_id=cid, **pod),
        ev(t_kill + 30.1, "container_died", container_id=cid, exit_code=137),
    ]
    return rows + failing(t_kill + 30.2, 8, ip=ip)


def _pod_exiting_at_once(pod, ip, cid, t_kill, *, evicted):
    rows = serving(pod, ip, until=t_kill + 40)
    if evicted:
        rows.append(ev(t_kill - 0.2, "evicted", **pod))
    rows += [
        ev(t_kill - 0.1, "pod_deleted", **pod),
        ev(t_kill, "kill", container="api", grace_period_s=30.0, container_id=cid, **pod),
        ev(t_kill + 0.3, "container_died", container_id=cid, exit_code=0),
    ]
    return rows + failing(t_kill + 0.4, 12, ip=ip)


def test_two_pods_evicted_together_are_one_mass_termination_with_each_pods_cause():
    rows = _pod_ignoring_sigterm(A, IP_A, "a" * 64, 100.0, evicted=True)
    rows += _pod_exiting_at_once(B, IP_B, "b" * 64, 101.0, evicted=True)
    (inc,) = run(rows)
    top = inc.findings[0]
    assert top.code == "mass-termination" and top.explains == 1.0 and top.part_of is None
    assert "2 pods were evicted" in top.summary
    assert "api-7d9f-aaaaa lost 8 (sigterm-ignored" in top.summary
    assert "api-7d9f-bbbbb lost 12 (no-prestop-drain" in top.summary
    parts = {f.code: f for f in inc.findings if f.part_of == "mass-termination"}
    assert set(parts) == {"sigterm-ignored", "no-prestop-drain"}
    assert round(parts["sigterm-ignored"].explains, 2) == round(8 / 20, 2)
    assert inc.explained == 1.0  # the parts are in the group's share, not added again


def test_two_pods_deleted_in_the_same_moment_are_a_mass_termination_too():
    # a scale-down deletes its pods in one decision: no eviction line needed
    rows = _pod_ignoring_sigterm(A, IP_A, "a" * 64, 100.0, evicted=False)
    rows += _pod_exiting_at_once(B, IP_B, "b" * 64, 100.5, evicted=False)
    (inc,) = run(rows)
    assert inc.findings[0].code == "mass-termination"
    assert "2 pods were terminated within 0.5 s" in inc.findings[0].summary


def test_two_pods_of_a_rollout_one_after_the_other_are_each_their_own_cause():
    rows = _pod_ignoring_sigterm(A, IP_A, "a" * 64, 100.0, evicted=False)
    rows += _pod_exiting_at_once(B, IP_B, "b" * 64, 106.0, evicted=False)
    incidents = run(rows)
    codes = {f.code for inc in incidents for f in inc.findings}
    assert "mass-termination" not in codes
    assert {"sigterm-ignored", "no-prestop-drain"} <= codes


def test_a_failure_two_findings_cover_is_explained_once_by_the_first_cause():
    # The story's shape: readiness fails while the SIGKILL-bound container keeps failing.
    rows = serving(A, IP_A, until=150)
    rows += [
        ev(99.9, "pod_deleted", **A),
        ev(100.0, "kill", container="api", grace_period_s=30.0, container_id="a" * 64, **A),
    ]
    rows += [
        ev(101 + 10 * k, "probe_failed", probe="readiness", container="api", **A) for k in range(3)
    ]
    rows += [ev(130.1, "container_died", container_id="a" * 64, exit_code=137)]
    rows += failing(100.5, 40, ip=IP_A, step=0.75)
    (inc,) = run(rows)
    by_code = {f.code: f for f in inc.findings}
    assert by_code["sigterm-ignored"].explains == 1.0
    lag = by_code["readiness-lag"]  # kept: a lag worth fixing, though the SIGKILL explains all
    assert lag.explains == 0.0 and lag.covers > 0
    assert inc.findings[0].code == "sigterm-ignored"
    assert sum(f.explains for f in inc.findings if f.part_of is None) == 1.0


def test_failures_no_rule_covers_are_reported_as_an_unexplained_stream():
    rows = serving(A, IP_A, until=150)
    rows += failing(100.0, 12, ip=IP_A, status=503, step=0.4)  # no lifecycle at all
    (inc,) = run(rows)
    assert inc.findings == () and inc.explained == 0.0
    (stream,) = inc.unexplained
    assert stream.what == "shop/api-7d9f-aaaaa" and stream.failures == 12 and stream.share == 1.0
    assert inc.severity == "warning"


def test_ranking_puts_the_largest_share_first_and_noise_last():
    def f(code, severity, explains):
        return Finding(code=code, severity=severity, summary="", explains=explains, fix="")

    from analyzer.diagnose.run import rank

    ranked = rank(
        [
            f("startup-not-ready", "info", 0.7),
            f("readiness-lag", "warning", 0.1),
            f("no-prestop-drain", "critical", 0.2),
        ]
    )
    assert [x.code for x in ranked] == ["no-prestop-drain", "readiness-lag", "startup-not-ready"]


def test_every_planted_cause_has_a_rule_and_every_rule_says_what_it_needs_and_fixes():
    assert set(CAUSES) == set(registry.RULES)
    for code, rule in registry.RULES.items():
        assert rule.code == code and rule.fix and rule.needs and rule.title
        assert rule.severity in ("critical", "warning", "info")
    assert list(registry.RULES)[-1] == "mass-termination"  # groups run last
