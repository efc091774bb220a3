"""Grade an analysis against a simulation's truth: which planted incidents it found, with
the right cause and interval, and which warnings it raised that nothing planted explains.

Works on anything shaped like ``Analysis.incidents`` (``start``, ``end``, ``severity``,
``findings``, ``frames.pods``), so the simulator never imports the pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from analyzer.simulate.model import Truth, TruthIncident

INTERVAL_TOLERANCE_S = 2.0
ALARMS = ("critical", "warning")


@dataclass(frozen=True)
class Match:
    truth: TruthIncident
    found: Any | None  # the analysis incident matched to it, if any
    top: str | None  # its top finding's code
    start_error_s: float | None
    end_error_s: float | None

    @property
    def cause_right(self) -> bool:
        return self.top == self.truth.cause

    @property
    def interval_right(self) -> bool:
        return (
            self.start_error_s is not None
            and self.end_error_s is not None
            and max(abs(self.start_error_s), abs(self.end_error_s)) <= INTERVAL_TOLERANCE_S
        )


@dataclass(frozen=True)
class Grade:
    truth: Truth
    matches: tuple[Match, ...]
    false_alarms: tuple[Any, ...] = field(default=())  # warning/critical incidents unplanted

    def problems(self, *, causes: Sequence[str] | None = None) -> list[str]:
        """What is wrong, one line each; empty when the analysis got it right. ``causes``
        limits the cause check to those codes (others: found, as a warning at least)."""
        out = []
        for m in self.matches:
            t = m.truth
            what = f"{t.cause} ({t.severity}, {_hms(t.start)}-{_hms(t.end)})"
            if t.severity not in ALARMS:
                if m.found is not None and m.found.severity in ALARMS:
                    out.append(f"{what}: raised as {m.found.severity}")
                continue
            if m.found is None:
                out.append(f"{what}: not found")
                continue
            if causes is None or t.cause in causes:
                if not m.cause_right:
                    out.append(f"{what}: top finding {m.top!r}")
            elif m.found.severity not in ALARMS:
                out.append(f"{what}: found as {m.found.severity}")
            if not m.interval_right:
                out.append(
                    f"{what}: interval off by {m.start_error_s:+.1f} s / {m.end_error_s:+.1f} s"
                )
        for inc in self.false_alarms:
            out.append(
                f"false alarm: {inc.id} {inc.severity} {_hms(inc.start)}-{_hms(inc.end)} "
                f"top {_top(inc)!r}"
            )
        return out


def _hms(ts: datetime) -> str:
    return ts.strftime("%H:%M:%S.%f")[:-3]


def _top(incident: Any) -> str | None:
    return incident.findings[0].code if incident.findings else None


def _pods(incident: Any) -> set[str]:
    return {f"{ns}/{pod}" for ns, pod in incident.frames.pods}


def _overlap_s(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> float:
    return (min(a_end, b_end) - max(a_start, b_start)).total_seconds()


def grade(truth: Truth, incidents: Sequence[Any]) -> Grade:
    """Match each planted incident to the found one sharing its pods (else overlapping it
    most in time); alarms left unmatched are false."""
    used: set[int] = set()
    matches = []
    # Alarms first, so an info truth never takes the incident a real cause needs.
    order = sorted(truth.incidents, key=lambda t: t.severity not in ALARMS)
    for t in order:
        best, best_key = None, None
        for i, inc in enumerate(incidents):
            if i in used:
                continue
            shared = len(set(t.pods) & _pods(inc))
            overlap = _overlap_s(t.start, t.end, inc.start, inc.end)
            if shared == 0 and overlap < -INTERVAL_TOLERANCE_S:
                continue
            key = (shared, overlap)
            if best_key is None or key > best_key:
                best, best_key = i, key
        if best is None:
            matches.append(Match(t, None, None, None, None))
            continue
        used.add(best)
        inc = incidents[best]
        matches.append(
            Match(
                t,
                inc,
                _top(inc),
                (inc.start - t.start).total_seconds(),
                (inc.end - t.end).total_seconds(),
            )
        )
    false_alarms = tuple(
        inc for i, inc in enumerate(incidents) if i not in used and inc.severity in ALARMS
    )
    return Grade(truth, tuple(matches), false_alarms)
