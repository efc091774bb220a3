"""What ``analyze`` returns: an ``Analysis`` and its ``Incident``s.

It sits below ``report`` and ``store``, which render and write it, and below ``api``, which
builds it: it reads no input itself, so the members read again on demand (``reduced``,
``events``) call the readers ``api`` hands it.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import polars as pl

from analyzer import formats
from analyzer.correlate import Correlation, all_requests, request_container_phases
from analyzer.correlate.incidents import IncidentFrames
from analyzer.diagnose.finding import (
    SEVERITIES,
    Evidence,
    Finding,
    Stream,
    explained_share,
    incident_severity,
)
from analyzer.ingest import FileTally


@dataclass(frozen=True)
class Incident:
    """One burst of failures with its pods, timeline and findings."""

    id: str
    frames: IncidentFrames
    findings: tuple[Finding, ...]
    timeline: pl.DataFrame
    #: failures no finding explains, per pod or component
    unexplained: tuple[Stream, ...] = ()
    #: incidents at the same time that no finding of this one explains (other pods, causes)
    unrelated: tuple[Stream, ...] = ()

    @property
    def explained(self) -> float:
        """The share of its failures that some finding explains (each failure once)."""
        return explained_share(self.findings)

    @property
    def severity(self) -> str:
        return incident_severity(self.findings)

    @property
    def start(self):  # type: ignore[no-untyped-def]
        return self.frames.start

    @property
    def end(self):  # type: ignore[no-untyped-def]
        return self.frames.end

    @property
    def duration_s(self) -> float:
        return round((self.frames.end - self.frames.start).total_seconds(), 3)  # type: ignore[operator]

    @property
    def failures(self) -> pl.DataFrame:
        return self.frames.failures

    def status_counts(self) -> dict[str, int]:
        counts = (
            self.frames.failures.group_by(
                pl.col("status").cast(pl.String).fill_null("upstream_error")
            )
            .len()
            .sort("status")
        )
        return dict(counts.iter_rows())

    def containers(self) -> list[str]:
        names = set(self.frames.failures["target_container"].drop_nulls().to_list())
        names |= set(self.frames.lifecycle["container"].drop_nulls().to_list())
        return sorted(names)

    def clients(self) -> list[str]:
        return sorted(set(self.frames.failures["client"].drop_nulls().to_list()))

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{r['offset_s']:+.1f} s</td><td>{html.escape(str(r['kind']))}</td>"
            f"<td>{html.escape(str(r['summary']))}</td>"
            f"<td><code>{html.escape(str(r['file']))}:{r['line']}</code></td></tr>"
            for r in self.timeline.iter_rows(named=True)
        )
        finds = "".join(f._repr_html_() for f in self.findings)
        return (
            f"<h4>{html.escape(self.id)} [{self.severity}] {self.duration_s:.1f} s, "
            f"{self.frames.failures.height} failing requests</h4>{finds}"
            f"<table><tr><th>offset</th><th>kind</th><th>what</th><th>where</th></tr>{rows}</table>"
        )


@dataclass(frozen=True)
class Analysis:
    """Everything ``analyze`` found; frames are polars DataFrames.

    ``reduced`` is what was correlated (``schema.REDUCED``: events kept whole, the bulk as
    counts). ``events`` and ``requests``, one row per line, are read again from
    the inputs the first time they are asked for (the notebook loses nothing; a report
    never pays for them).
    """

    inputs: tuple[FileTally, ...]
    correlation: Correlation
    incidents: tuple[Incident, ...]
    options: dict[str, object] = field(default_factory=dict)
    paths: tuple[str, ...] = ()
    registry: formats.Registry | None = field(default=None, compare=False, repr=False)
    # None: read from the export ``paths[0]`` when asked for (a report over it needs none)
    reduced_rows: pl.DataFrame | None = field(default=None, compare=False, repr=False)
    # The readers of the lazy members, given by ``api`` (this module must not import it)
    read_reduced: Reader | None = field(default=None, compare=False, repr=False)
    read_events: Reader | None = field(default=None, compare=False, repr=False)

    @cached_property
    def reduced(self) -> pl.DataFrame:
        """The ``schema.REDUCED`` rows that were correlated."""
        if self.reduced_rows is not None:
            return self.reduced_rows
        return _read(self.read_reduced, "reduced")(self)

    @cached_property
    def events(self) -> pl.DataFrame:
        """Every event, one row each (``schema.EVENTS``), read again from ``paths``."""
        return _read(self.read_events, "events")(self)

    @cached_property
    def requests(self) -> pl.DataFrame:
        """Every request, one row each, with the pod and container it hit and their phases
        (``correlation.requests`` is the same with the successful ones counted per second)."""
        with formats.using(self.registry or formats.active()):
            return all_requests(self.events, self.correlation)

    @property
    def event_count(self) -> int:
        """How many events the inputs held (count rows stand for ``count`` events each)."""
        return sum(t.events for t in self.inputs)

    @property
    def bursts(self) -> pl.DataFrame:
        return self.correlation.bursts

    def failure_container_phases(self) -> pl.DataFrame:
        """Each failing request x each container of the pod it hit, with that container's
        phase at the time (``file``/``line`` name the request's line)."""
        return request_container_phases(
            self.correlation.failures, self.correlation.container_phases
        )

    def findings(self) -> pl.DataFrame:
        """All findings of all incidents as one frame (``window_*``: where each acts)."""
        rows = [
            {
                "incident": inc.id,
                "code": f.code,
                "severity": f.severity,
                "explains": f.explains,
                "covers": f.covers if f.covers is not None else f.explains,
                "part_of": f.part_of,
                "pod": f.pod,
                "container": f.container,
                "window_start": f.window[0] if f.window else None,
                "window_end": f.window[1] if f.window else None,
                "summary": f.summary,
                "fix": f.fix,
            }
            for inc in self.incidents
            for f in inc.findings
        ]
        ts = pl.Datetime("ns", "UTC")
        return pl.DataFrame(
            rows,
            schema={
                "incident": pl.String,
                "code": pl.String,
                "severity": pl.String,
                "explains": pl.Float64,
                "covers": pl.Float64,
                "part_of": pl.String,
                "pod": pl.String,
                "container": pl.String,
                "window_start": ts,
                "window_end": ts,
                "summary": pl.String,
                "fix": pl.String,
            },
        )

    def unexplained(self) -> pl.DataFrame:
        """Per incident, the failures no finding explains, per pod or component."""
        rows = [
            {
                "incident": inc.id,
                "what": u.what,
                "failures": u.failures,
                "share": u.share,
                "start": u.start,
                "end": u.end,
                "modes": u.modes,
            }
            for inc in self.incidents
            for u in inc.unexplained
        ]
        ts = pl.Datetime("ns", "UTC")
        return pl.DataFrame(
            rows,
            schema={
                "incident": pl.String,
                "what": pl.String,
                "failures": pl.Int64,
                "share": pl.Float64,
                "start": ts,
                "end": ts,
                "modes": pl.String,
            },
        )

    def incident(self, incident_id: str) -> Incident:
        for inc in self.incidents:
            if inc.id == incident_id:
                return inc
        msg = f"no incident {incident_id!r}; have {[i.id for i in self.incidents]}"
        raise KeyError(msg)

    def worst_severity(self) -> str | None:
        sev = [i.severity for i in self.incidents]
        return min(sev, key=SEVERITIES.index) if sev else None

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(t.path)}</td><td>{html.escape(t.format)}</td><td>{t.lines}</td>"
            f"<td>{t.events}</td><td>{t.rejected}</td><td>{t.skipped}</td></tr>"
            for t in self.inputs
        )
        incs = "".join(i._repr_html_() for i in self.incidents)
        return (
            "<table><tr><th>input</th><th>format</th><th>lines</th><th>events</th>"
            f"<th>rejected</th><th>skipped</th></tr>{rows}</table>{incs}"
        )


#: Reads a lazy member of an ``Analysis`` again from its inputs (``paths``, ``options``).
Reader = Callable[[Analysis], pl.DataFrame]


def _read(reader: Reader | None, member: str) -> Reader:
    if reader is None:
        msg = f"this Analysis has no reader for {member!r}; build it with analyzer.analyze"
        raise ValueError(msg)
    return reader


__all__ = ["SEVERITIES", "Analysis", "Evidence", "Finding", "Incident", "Reader"]
