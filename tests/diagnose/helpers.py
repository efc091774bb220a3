"""Small incidents built by hand, diagnosed as ``analyze`` does."""

from __future__ import annotations

from analyzer.api import Incident
from analyzer.correlate import correlate
from analyzer.correlate.incidents import timeline
from analyzer.diagnose.run import diagnose
from analyzer.normalize.identity import fill_identity
from tests.correlate.helpers import ev, frame

POD = {"namespace": "shop", "pod": "api-7d9f-abcde"}
IP = "10.44.0.12:3000"


def run(rows) -> list[Incident]:
    events = fill_identity(frame(rows)).sort("ts")
    corr = correlate(events)
    out = []
    for f in corr.incidents:
        d = diagnose(f, corr.episodes)
        out.append(Incident(f.id, f, d.findings, timeline(f), unexplained=d.unexplained))
    return out


def serving(pod=POD, ip=IP, *, container="api", until=100.0, since=0.0, step=1.0):
    """A pod whose IP a probe line names, ready, answering 200s through an ingress."""
    rows = [
        ev(since, "probe_failed", probe="readiness", container=container, upstream=ip, **pod),
        ev(since + 1, "ready", probe="readiness", **pod),
    ]
    t = since + 2
    while t < until:
        rows.append(ev(t, "http", source="proxy", format="ingress", status=200, upstream=ip))
        t += step
    return rows


def failing(start, n, *, ip=IP, step=0.3, status=502, detail=None, fmt="ingress"):
    return [
        ev(
            start + i * step,
            "http",
            source="proxy",
            format=fmt,
            status=status,
            upstream=ip,
            detail=detail,
        )
        for i in range(n)
    ]
