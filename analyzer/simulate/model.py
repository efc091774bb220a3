"""What a simulation is: the files of a log bundle, and the truth behind them.

A scenario builds a ``Bundle``: each file as a function yielding its bytes (so a GB bundle is
written chunk by chunk, never held whole), and the ``Truth`` an analysis of those files should
find. ``truth.json`` is ``Truth.to_json()``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

#: Finding codes a scenario can plant, and the root cause (../shared/docs/root-causes.md) each
#: stands for. Codes without a rule yet are planted all the same: accuracy shows them missed.
CAUSES: dict[str, str] = {
    "sigterm-ignored": "RC1",
    "no-prestop-drain": "RC2",
    "readiness-lag": "RC3",
    "keepalive-reuse": "RC4",
    "sidecar-shutdown-order": "RC5",
    "lb-deregistration": "RC6",
    "grace-period-exceeded": "RC7",
    "oom-killed": "RC8",
    "startup-not-ready": "RC9",
    "mass-termination": "RC10",
    "liveness-restart": "",
    "crash-loop": "",
}

SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True)
class Params:
    """What the command line can vary; ``None`` leaves the choice to the scenario."""

    seed: int = 0
    proxy: str | None = None  # ingress-nginx | envoy | istio | workhorse
    runtime: str | None = None  # containerd | cri-o | docker
    size_bytes: int | None = None  # about this many bytes in all; None: the small default


@dataclass(frozen=True)
class TruthIncident:
    """One planted incident: failures of one cause chain, from the first to the last."""

    start: datetime  # the first planted failure (when it failed, not when it started)
    end: datetime  # the last planted failure
    pods: tuple[str, ...]  # namespace/pod that failed to answer
    cause: str  # a key of CAUSES: the finding that should rank first
    severity: str  # of SEVERITIES
    failures: int  # failing requests (one per request, however many hops logged it)
    note: str = ""


@dataclass(frozen=True)
class Truth:
    scenario: str
    params: Params
    incidents: tuple[TruthIncident, ...] = ()
    background_failures: int = 0  # failures at the background rate: never an incident
    notes: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        """Nothing an on-call engineer should be woken for (info incidents allowed)."""
        return not any(i.severity in ("critical", "warning") for i in self.incidents)

    def to_json(self) -> str:
        def default(value: object) -> object:
            if isinstance(value, datetime):
                return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
            raise TypeError(type(value))

        data = asdict(self)
        data["healthy"] = self.healthy
        return json.dumps(data, default=default, indent=2, sort_keys=True) + "\n"


#: A file's content, produced on demand in chunks.
Chunks = Callable[[], Iterable[bytes]]


@dataclass(frozen=True)
class Bundle:
    files: Mapping[str, Chunks]  # path relative to the bundle root (".gz": written gzipped)
    truth: Truth
