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
