"""The world scenarios by name: each builds a ``World`` and its ``Truth`` from ``Params``."""

from __future__ import annotations

from collections.abc import Callable

from analyzer.simulate.engine import build
from analyzer.simulate.model import Params, Truth
from analyzer.simulate.scenarios import SCENARIOS
from analyzer.simulate.world import World


def _world(plan: Callable) -> Callable[[Params], tuple[World, Truth]]:
    return lambda params: build(plan(params))


WORLDS: dict[str, Callable[[Params], tuple[World, Truth]]] = {
    name: _world(plan) for name, (plan, _, _) in SCENARIOS.items()
}


#: name -> the proxies the scenario is written for (the first is its default).
PROXIES: dict[str, tuple[str, ...]] = {name: p for name, (_, _, p) in SCENARIOS.items()}


def describe(name: str) -> str:
    return SCENARIOS[name][1]


def proxies(name: str) -> tuple[str, ...]:
    """The proxies the scenario is written for (its first is the default)."""
    return PROXIES[name]
