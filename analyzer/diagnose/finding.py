"""Findings: a named cause, its evidence lines, the share of failures it explains, the fix."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime

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
    explains: float  # share (0..1) of the incident's failing requests this accounts for
    fix: str
    evidence: tuple[Evidence, ...] = ()
    pod: str | None = None  # namespace/name
    container: str | None = None
    window: tuple[datetime, datetime] | None = field(default=None)  # where it acts

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
    explained = min(1.0, sum(f.explains for f in findings))
    if explained < EXPLAINED_ENOUGH:
        worst = min(worst, SEVERITIES.index("warning"))
    return SEVERITIES[worst]
