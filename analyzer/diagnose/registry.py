"""Every diagnosis rule, in cause order: one place to see (and extend) the catalogue.

The order is the order in which a failing request is explained (``assign``): definite events
(a SIGKILL at the grace end, an OOM kill, a restart, a sidecar gone) before the propagation
delays and lags that let clients reach a pod that could not answer, and startup noise last.
Group rules (a mass termination) run after the per-pod ones and group their findings.
"""

from __future__ import annotations

from analyzer.diagnose import (
    fleet,
    keepalive,
    loadbalancer,
    readiness,
    restarts,
    sidecar,
    termination,
)
from analyzer.diagnose.base import Rule

_BY_CODE = {
    r.code: r
    for m in (termination, restarts, sidecar, keepalive, loadbalancer, readiness, fleet)
    for r in m.RULES
}

#: per-pod rules in cause order
ORDER = (
    # a restart's reason before how the container took its SIGTERM: a liveness kill of an app
    # that also ignores SIGTERM is a liveness restart first (made 30 s longer by the SIGKILL)
    "oom-killed",
    "liveness-restart",
    "crash-loop",
    "sigterm-ignored",
    "grace-period-exceeded",
    "sidecar-shutdown-order",
    "keepalive-reuse",
    "lb-deregistration",
    "no-prestop-drain",
    "readiness-lag",
    "startup-not-ready",
)
GROUPS = ("mass-termination",)

RULES: dict[str, Rule] = {code: _BY_CODE[code] for code in (*ORDER, *GROUPS)}
assert set(RULES) == set(_BY_CODE), "a rule module's rule is not in the registry's order"


def rules() -> list[Rule]:
    return list(RULES.values())
