"""The report as plain data. ``report_dict`` *is* the JSON contract (docs/report-json.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from analyzer.diagnose.finding import Finding
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
        "fix": f.fix,
        "pod": f.pod,
        "container": f.container,
        "window": [iso(f.window[0]), iso(f.window[1])] if f.window else None,
        "evidence": [
            {"ts": iso(e.ts), "file": e.file, "line": e.line, "text": e.text} for e in f.evidence
        ],
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
