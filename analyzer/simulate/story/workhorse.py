"""The request path's logs: both Workhorse containers and GitLab Pages.

Workhorse logs an access line per request; a request it cannot pass to Puma also gets a
``badgateway`` error line just before its 502 access line. Pages logs its user's request, and a
``could not fetch domain information`` error when its domain lookup through Workhorse got a 502.
"""

from __future__ import annotations

from dataclasses import dataclass

from analyzer.simulate.story.cast import (
    BADGATEWAY,
    NEW_POD_GEO_FROM,
    OLD_200_UNTIL,
    OLD_POD_GEO_FROM,
    WH_SHUTDOWN,
    WH_SHUTDOWN_TIMEOUT_S,
    stream_rng,
)
from analyzer.simulate.story.clock import MS, SEC, at, rfc3339
from analyzer.simulate.story.sinks import CriLog, JsonLines
from analyzer.simulate.story.traffic import PagesUser, Req, Streams, fate
from analyzer.simulate.story.wire import UlidSource, gojson

PAGES_502_BYTES = 2683
GEO_URI = "/api/v4/geo/proxy"


def wh_access(
    req: Req, *, status: int, ctype: str, size: int, dur: int, ttfb: int, log_ns: int
) -> str:
    return gojson(
        {
            "backend_id": "rails",
            "content_type": ctype,
            "correlation_id": req.wh_cid,
            "duration_ms": dur,
            "host": req.host,
            "level": "info",
            "method": req.method,
            "msg": "access",
            "proto": "HTTP/1.1",
            "referrer": req.referrer,
            "remote_addr": f"{req.remote_ip}:0",
            "remote_ip": req.remote_ip,
            "route": req.route,
            "route_id": req.route_id,
            "status": status,
            "system": "http",
            "time": rfc3339(log_ns),
            "ttfb_ms": ttfb,
            "uri": req.uri,
            "user_agent": req.user_agent,
            "written_bytes": size,
        }
    )


def wh_badgateway(cid: str, method: str, uri: str, log_ns: int) -> str:
    return gojson(
        {
            "correlation_id": cid,
            "duration_ms": 0,
            "error": BADGATEWAY,
            "level": "error",
            "method": method,
            "msg": "",
            "time": rfc3339(log_ns),
            "uri": uri,
        }
    )


def pages_access(user: PagesUser, *, status: int, ctype: str, size: int, log_ns: int) -> str:
    dur = (log_ns - user.arrival) // MS
    return gojson(
        {
            "content_type": ctype,
            "correlation_id": user.cid,
            "duration_ms": dur,
            "host": user.domain,
            "level": "info",
            "method": "GET",
            "msg": "access",
            "pages_host": user.domain,
            "pages_https": user.https,
            "proto": user.proto,
            "referrer": "",
            "remote_addr": f"{user.client_ip}:{user.client_port}",
            "remote_ip": user.client_ip,
            "status": status,
            "system": "http",
            "time": rfc3339(log_ns),
            "ttfb_ms": max(0, dur - (1 if size > 50_000 else 0)),
            "uri": user.path,
            "user_agent": user.client_ua,
            "written_bytes": size,
        }
    )


def pages_502_at(req: Req) -> tuple[int, int]:
    """When Pages logs its lookup error and its 502 access line for a failed lookup."""
    perr = req.answered_502_at + 310_000
    return perr, perr + 57_000


def serve_ok(req: Req, wh: CriLog, pages: JsonLines, *, limit: int | None = None) -> None:
    """Puma answers; ``limit`` cuts the duration of a request still running when it goes."""
    dur = req.dur_ms
    if limit is not None and req.start + (dur + 1) * MS > limit:
        dur = max(1, (limit - req.start) // MS - 1)
    ttfb = min(req.ttfb_ms, dur)
    end = req.start + dur * MS + req.dur_rem_ns
    wh.add(
        end,
        wh_access(
            req,
            status=req.ok_status,
            ctype=req.ok_ctype,
            size=req.ok_bytes,
            dur=dur,
            ttfb=ttfb,
            log_ns=end,
        ),
        req.lag1,
        req.cri_override,
    )
    if req.user is not None:
        u = req.user
        done = end + 300_000 + u.serve_ns
        pages.add(done, pages_access(u, status=u.status, ctype=u.ctype, size=u.size, log_ns=done))


def serve_502(req: Req, wh: CriLog, pages: JsonLines) -> None:
    """Workhorse cannot reach Puma: error line, 502 access line, and Pages' side of it."""
    err_ns, acc_ns = req.failed_at, req.answered_502_at
    wh.add(err_ns, wh_badgateway(req.wh_cid, req.method, req.uri, err_ns), req.lag1)
    wh.add(
        acc_ns,
        wh_access(
            req, status=502, ctype=req.err_ctype, size=req.err_bytes, dur=0, ttfb=0, log_ns=acc_ns
        ),
        req.lag2,
    )
    if req.user is not None:
        u = req.user
        perr, pacc = pages_502_at(req)
        pages.add(
            perr,
            gojson(
                {
                    "correlation_id": u.cid,
                    "error": "HTTP status: 502",
                    "host": u.domain,
                    "level": "error",
                    "msg": "could not fetch domain information from a source",
                    "path": u.path,
                    "time": rfc3339(perr),
                }
            ),
        )
        pages.add(
            pacc,
            pages_access(
                u, status=502, ctype="text/html; charset=utf-8", size=PAGES_502_BYTES, log_ns=pacc
            ),
        )


@dataclass(frozen=True)
class Poll:
    """One failed try of Workhorse's Geo poller: an error line, no access line, no client."""

    at: int
    cid: str
    lag: int


def geo_polls(seed: int) -> tuple[list[Poll], list[Poll]]:
    """The poller's failures on the new pod (before Puma listens) and on the old pod (after
    Puma exits), every 10 s with jitter. The old pod's are drawn in both variants, last, so the
    fixed variant, which does not log them, draws the same new-pod polls."""
    rng = stream_rng(seed, "workhorse-misc")
    ids = UlidSource(stream_rng(seed, "geo-ids"))

    def polls(first: int, n: int) -> list[Poll]:
        out = []
        for i in range(n):
            t = first + i * 10 * SEC + rng.randint(0, 900_000)
            out.append(Poll(t, ids.new(t), rng.randint(14_000, 200_000)))
        return out

    new_pod = polls(NEW_POD_GEO_FROM, 5)
    return new_pod, polls(OLD_POD_GEO_FROM, 4)


def _add_polls(log: CriLog, polls: list[Poll]) -> None:
    for p in polls:
        log.add(p.at, wh_badgateway(p.cid, "GET", GEO_URI, p.at), p.lag)


def _add_shutdown(wh_a: CriLog) -> None:
    """Workhorse as PID 1 gets SIGTERM and says so (fixed variant only)."""
    t = WH_SHUTDOWN
    wh_a.add(
        t,
        gojson(
            {
                "level": "info",
                "msg": "shutdown initiated",
                "shutdown_timeout_s": WH_SHUTDOWN_TIMEOUT_S,
                "signal": "terminated",
                "time": rfc3339(t),
            }
        ),
        48_113,
    )
    t += 1_204_553
    wh_a.add(
        t,
        gojson({"level": "info", "msg": "keywatcher: shutting down", "time": rfc3339(t)}),
        31_870,
    )
    t += 4_870_112
    wh_a.add(
        t,
        gojson({"error": None, "level": "fatal", "msg": "shutting down", "time": rfc3339(t)}),
        27_391,
    )


def workhorse_logs(
    streams: Streams, polls: tuple[list[Poll], list[Poll]], *, fixed: bool
) -> tuple[CriLog, CriLog, JsonLines]:
    """The old pod's and the new pod's Workhorse logs, and the Pages log."""
    wh_a, wh_b, pages = CriLog(), CriLog(), JsonLines()
    for req in streams.old:
        where = fate(req, fixed=fixed)
        if where == "502":
            serve_502(req, wh_a, pages)
        elif where == "new":
            serve_ok(req, wh_b, pages)
        else:
            limit = WH_SHUTDOWN - 5 * MS if fixed else OLD_200_UNTIL + 150 * MS
            serve_ok(req, wh_a, pages, limit=limit)
    for req in streams.new:
        serve_ok(req, wh_b, pages)
    for u in streams.cached:
        done = u.arrival + u.serve_ns
        pages.add(done, pages_access(u, status=u.status, ctype=u.ctype, size=u.size, log_ns=done))

    start = at("06:02:40.301274")
    wh_b.add(
        start,
        gojson(
            {
                "build_time": "20220401.120000",
                "level": "info",
                "msg": "Starting",
                "time": rfc3339(start),
                "version": "v14.9.2",
            }
        ),
        61_204,
    )
    new_pod_polls, old_pod_polls = polls
    _add_polls(wh_b, new_pod_polls)  # the red herring: Puma not listening yet
    if fixed:
        _add_shutdown(wh_a)
    else:
        _add_polls(wh_a, old_pod_polls)
    return wh_a, wh_b, pages
