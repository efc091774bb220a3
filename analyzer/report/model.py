"""The report as plain data. ``report_dict`` *is* the JSON contract (docs/report-json.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from analyzer.diagnose.finding import Finding, Stream
from analyzer.result import Analysis, Incident

SCHEMA_VERSION = 1


def iso(ts: datetime | None) -> str | None:
    """ISO 8601 UTC with milliseconds: ``2022-04-05T06:04:04.526Z``."""
    if ts is None:
        return None
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "code": f.code,
        "severity": f.severity,
        "summary": f.summary,
        "explains": f.explains,
        "covers": f.covers if f.covers is not None else f.explains,
        "part_of": f.part_of,
        "fix": f.fix,
        "pod": f.pod,
        "container": f.container,
        "window": [iso(f.window[0]), iso(f.window[1])] if f.window else None,
        "evidence": [
            {"ts": iso(e.ts), "file": e.file, "line": e.line, "text": e.text} for e in f.evidence
        ],
    }


def _stream(s: Stream) -> dict[str, Any]:
    return {
        "what": s.what,
        "failures": s.failures,
        "share": s.share,
        "start": iso(s.start),
        "end": iso(s.end),
        "modes": s.modes,
        "cause": s.cause,
    }


def _incident(inc: Incident) -> dict[str, Any]:
    fr = inc.frames
    return {
        "id": inc.id,
        "start": iso(inc.start),  # type: ignore[arg-type]
        "end": iso(inc.end),  # type: ignore[arg-type]
        "duration_s": inc.duration_s,
        "severity": inc.severity,
        "status_counts": inc.status_counts(),
        "errors": fr.failures.height,
        "downstream_errors": fr.downstream.height,
        "pods": [f"{ns}/{pod}" for ns, pod in fr.pods],
        "containers": inc.containers(),
        "clients": inc.clients(),
        "concurrent": list(fr.concurrent),
        "bursts": [
            {
                "key": b["burst_key"],
                "start": iso(b["start"]),
                "end": iso(b["end"]),
                "count": b["count"],
                "peak_per_s": b["peak_per_s"],
                "share": round(b["share"], 3),
                "background_share": round(b["background_share"], 4),
                "attributed": b["attributed"],
                "formats": b["formats"],
                "status_counts": {s["status"]: s["count"] for s in b["status_counts"]},
            }
            for b in fr.bursts.iter_rows(named=True)
        ],
        "findings": [_finding(f) for f in inc.findings],
        "explained": inc.explained,
        "unexplained": [_stream(s) for s in inc.unexplained],
        "unrelated": [_stream(s) for s in inc.unrelated],
        "timeline": [
            {
                "ts": iso(r["ts"]),
                "offset_s": round(r["offset_s"], 3),
                "source": r["source"],
                "kind": r["kind"],
                "pod": f"{r['namespace']}/{r['pod']}" if r["pod"] else None,
                "container": r["container"],
                "summary": r["summary"],
                "file": r["file"],
                "line": r["line"],
            }
            for r in inc.timeline.iter_rows(named=True)
        ],
    }


def report_dict(analysis: Analysis) -> dict[str, Any]:
    """The whole report as JSON-ready data (stable keys; see docs/report-json.md)."""
    sev = [i.severity for i in analysis.incidents]
    return {
        "schema_version": SCHEMA_VERSION,
        "inputs": [t.to_dict() for t in analysis.inputs],
        "summary": {
            "incidents": len(analysis.incidents),
            "critical": sev.count("critical"),
            "warning": sev.count("warning"),
            "info": sev.count("info"),
            "events": analysis.event_count,
        },
        "background": _background(analysis.correlation.background),
        "incidents": [_incident(i) for i in analysis.incidents],
    }


def nothing_read(data: dict[str, Any]) -> str | None:
    """Say so when lines were read but none became an event: an empty report then means
    nothing could be read, not that nothing happened."""
    lines = sum(t["lines"] for t in data["inputs"])
    if data["summary"]["events"] or not lines:
        return None
    return (
        f"warning: none of the {lines} line(s) read became an event (see the inputs for why): "
        "this report is empty because nothing could be read, not because nothing happened"
    )


BACKGROUND_KEYS_SHOWN = 10


def _background(frame: Any) -> dict[str, Any]:
    """Failures in no burst: at their pod's or proxy's usual rate, never an incident."""
    top = frame.head(BACKGROUND_KEYS_SHOWN)
    return {
        "failures": int(frame["count"].sum()) if frame.height else 0,
        "keys": frame.height,
        "by_key": [
            {
                "key": r["burst_key"],
                "count": r["count"],
                "first": iso(r["first"]),
                "last": iso(r["last"]),
                "statuses": r["statuses"],
            }
            for r in top.iter_rows(named=True)
        ],
    }


def share_words(f: dict[str, Any]) -> str:
    """``explains 80%``; with what else its mechanism covers, when a stronger cause
    explains part of it first."""
    words = f"explains {f['explains']:.0%}"
    if f["part_of"]:
        words += f" (part of {f['part_of']})"
    if f["covers"] > f["explains"] + 0.0005:
        words += f", covers {f['covers']:.0%} (the rest explained by a cause above)"
    return words


def explained_lines(inc: dict[str, Any]) -> list[str]:
    """What the findings explain of the incident, what they leave, and what runs beside it."""
    out = [f"explained: {inc['explained']:.0%} of {inc['errors']} failing requests"]
    for s in inc["unexplained"]:
        out.append(
            f"unexplained: {s['failures']} ({s['share']:.0%}) to {s['what']} from "
            f"{s['start'][11:]} to {s['end'][11:]} ({s['modes']}): no known cause covers them"
        )
    for s in inc["unrelated"]:
        cause = s["cause"] or "no finding"
        out.append(
            f"unrelated: {s['what']} around the same time ({s['failures']} failures, {cause}) "
            "involves other pods; none of this incident's findings explains it"
        )
    return out
