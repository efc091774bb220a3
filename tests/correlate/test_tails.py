"""A rollout that lost one or two requests on each pod it replaced lost them all the same."""

from __future__ import annotations

from tests.correlate.helpers import ev
from tests.diagnose.helpers import failing, run, serving


def _pod(i: int) -> tuple[dict[str, str], str]:
    return {"namespace": "shop", "pod": f"api-7d9f-{i:05d}"}, f"10.44.0.{10 + i}:3000"


def _ends_losing(i: int, t_kill: float, lost: int) -> list[dict]:
    pod, ip = _pod(i)
    cid = f"{i}" * 64
    rows = serving(pod, ip, until=t_kill + 60)
    rows += [
        ev(t_kill - 0.1, "pod_deleted", **pod),
        ev(t_kill, "kill", container="api", grace_period_s=30.0, container_id=cid, **pod),
        ev(t_kill + 0.3, "container_died", container_id=cid, exit_code=0),
    ]
    return rows + failing(t_kill + 0.5, lost, ip=ip, step=0.5)


def test_a_rollout_losing_a_request_or_two_per_pod_is_one_incident():
    rows = [r for i, t in enumerate((100.0, 130.0, 160.0)) for r in _ends_losing(i, t, 2)]
    (inc,) = run(rows)
    assert len(inc.frames.pods) == 3 and inc.frames.failures.height == 6
    assert inc.findings[0].code == "no-prestop-drain"
    assert inc.severity == "critical"


def test_one_pod_losing_two_requests_as_it_ends_is_no_incident():
    assert run(_ends_losing(0, 100.0, 2)) == []


def test_a_tail_joins_the_burst_of_its_rollout():
    rows = _ends_losing(0, 100.0, 8) + _ends_losing(1, 130.0, 1)
    (inc,) = run(rows)
    assert len(inc.frames.pods) == 2 and inc.frames.failures.height == 9


def test_failures_long_after_the_termination_are_no_tail():
    rows = _ends_losing(0, 100.0, 0) + _ends_losing(1, 130.0, 0)
    pod, ip = _pod(0)
    rows += failing(400.0, 1, ip=ip) + failing(420.0, 1, ip=_pod(1)[1])
    assert run(rows) == []
