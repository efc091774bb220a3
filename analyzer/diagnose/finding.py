"""Findings: a named cause, its evidence lines, the share of failures it explains, the fix."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True)
class Evidence:
    ts: datetime
    file: str
    line: int
    text: str


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # critical | warning | info
    summary: str
    #: share (0..1) of the incident's failing requests this is the primary cause of: each
    #: failure is explained once (``diagnose.assign``); a group's share includes its parts'
    explains: float
    fix: str
    evidence: tuple[Evidence, ...] = ()
    pod: str | None = None  # namespace/name
    container: str | None = None
    window: tuple[datetime, datetime] | None = field(default=None)  # where it acts
    #: share its mechanism covers, including failures a stronger cause explains first
    covers: float | None = None
    #: the code of the finding this one is a part of (a mass termination's per-pod causes)
    part_of: str | None = None
    #: which of the incident's failures its mechanism covers (not stored: ``diagnose`` turns
    #: it into ``explains``)
    claims: pl.Expr | None = field(default=None, compare=False, repr=False)

    @property
    def rank(self) -> tuple[int, float]:
        return (SEVERITIES.index(self.severity), -self.explains)

    def _repr_html_(self) -> str:
        items = "".join(
            f"<li><code>{html.escape(e.file)}:{e.line}</code> {html.escape(e.text[:300])}</li>"
            for e in self.evidence
        )
        return (
            f"<div><b>{html.escape(self.code)}</b> [{html.escape(self.severity)}] "
            f"explains {self.explains:.0%}<br>{html.escape(self.summary)}"
            f"<br><i>Fix:</i> {html.escape(self.fix)}<ul>{items}</ul></div>"
        )


#: Below this share of an incident's failures explained, the rest is an unexplained burst.
EXPLAINED_ENOUGH = 0.5


def incident_severity(findings: tuple[Finding, ...] | list[Finding]) -> str:
    """The most severe finding's severity, never lowered by a lesser one; failures left
    mostly unexplained (no finding, or findings that cover under ``EXPLAINED_ENOUGH`` of
    them) make it at least a warning, as an unexplained burst is."""
    worst = min((SEVERITIES.index(f.severity) for f in findings), default=len(SEVERITIES))
    explained = explained_share(findings)
    if explained < EXPLAINED_ENOUGH:
        worst = min(worst, SEVERITIES.index("warning"))
    return SEVERITIES[worst]


def explained_share(findings: tuple[Finding, ...] | list[Finding]) -> float:
    """The share of an incident's failures that some finding explains (each failure is
    explained once; a part's share is already in its group's)."""
    return round(min(1.0, sum(f.explains for f in findings if f.part_of is None)), 3)


@dataclass(frozen=True)
class Stream:
    """Failures that no finding of an incident explains, from one place: a pod, or (for an
    unrelated incident running at the same time) that incident."""

    what: str  # namespace/pod, the reporting component, or an incident id
    failures: int
    share: float  # of the incident's failures (of its own, for another incident)
    start: datetime
    end: datetime
    modes: str = ""  # how they failed: ``5 refused, 2 reset``
    cause: str | None = None  # another incident's top finding
