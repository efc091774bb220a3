"""The accuracy suite: every scenario, in two seeds and (up to) two proxies, analyzed and graded.

Every planted cause has a rule (``diagnose.registry``), so the planted cause must be the
incident's top finding; the incident's interval is within 2 s of the truth's, and a healthy
scenario raises no warning or critical incident. ``benchmarks/accuracy.py`` runs the larger matrix.
"""

from __future__ import annotations

import pytest

from analyzer.diagnose.registry import RULES
from analyzer.simulate import proxies_for, scenario_names, simulate
from analyzer.simulate.accuracy import evaluate
from analyzer.simulate.model import Params

#: Causes with a rule today: for these the top finding must be the planted cause.
RULED = tuple(sorted(RULES))
SEEDS = (1, 2)

CASES = [
    pytest.param(name, proxy, seed, id=f"{name}-{proxy or 'default'}-{seed}")
    for name in scenario_names()
    for proxy in proxies_for(name)[:2]
    for seed in SEEDS
]


@pytest.mark.parametrize(("name", "proxy", "seed"), CASES)
def test_the_analyzer_finds_what_was_planted(name, proxy, seed, tmp_path):
    run = evaluate(name, Params(seed=seed, proxy=proxy), tmp_path, build=simulate)
    assert run.grade.problems(causes=RULED) == []


def test_the_suite_covers_healthy_and_failing_scenarios_in_several_proxies():
    truths = {name: simulate(name, Params(seed=1)).truth for name in scenario_names()}
    healthy = [name for name, truth in truths.items() if truth.healthy]
    failing = [name for name, truth in truths.items() if not truth.healthy]
    assert len(healthy) >= 3 and len(failing) >= 10
    assert {t.cause for truth in truths.values() for t in truth.incidents} >= set(RULED)
    proxies = {proxy for name in scenario_names() for proxy in proxies_for(name)[:2]}
    assert len(proxies) >= 4
