"""RC4: requests written onto pooled connections the server had closed (or was closing).

Around a shutdown, clients and proxies keep reusing connections to a pod that left the
endpoints (4a); in steady state, a server idle timeout shorter than the proxy's makes the
proxy write onto a connection the server is closing (4b). Either way the failures are
resets and premature closes (Envoy ``UC``, nginx ``upstream prematurely closed connection``,
Go ``EOF``), not refused connections.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from analyzer.diagnose.base import Context, Rule, ev, fmt, pod_cond, pod_episodes
from analyzer.diagnose.finding import Finding
from analyzer.schema import Kind

MIN_RESETS = 3
#: Resets this long before a pod's SIGTERM or after its death are not of its shutdown.
AROUND_SHUTDOWN_S = 5.0

KEEPALIVE_FIX = (
    "Make the server's keep-alive (idle) timeout longer than every proxy's upstream idle "
    "timeout (ingress-nginx `upstream-keepalive-timeout`, Envoy `idle_timeout`, ALB 60 s), and "
    "on SIGTERM send `Connection: close` / close idle connections before exiting (Go "
    "`Server.Shutdown`, Puma, gunicorn do) behind a preStop delay, so no proxy writes onto a "
    "connection the server is closing."
)


def keepalive_reuse(ctx: Context) -> list[Finding]:
    inc, findings = ctx.inc, []
    resets = ctx.failures.filter(pl.col("mode") == "reset")
    if resets.height < MIN_RESETS:
        return []
    # Failures tied to no pod (no line names the upstream's pod) are one stream.
    for ns, pod in inc.pods or [(None, None)]:
        where = pod_cond(ns, pod) if pod is not None else pl.col("target_pod").is_null()
        claims = where & (pl.col("mode") == "reset")
        mine = ctx.failures.filter(claims).sort("ts")
        if mine.height < MIN_RESETS:
            continue
        first, last = mine.row(0, named=True), mine.row(-1, named=True)
        eps = pod_episodes(ctx, ns, pod) if pod is not None else ctx.episodes.clear()
        name = f"{ns}/{pod}" if pod is not None else "upstreams no line names a pod for"
        evidence = [ev(first)]
        if eps.height:
            ep = eps.row(0, named=True)
            end = ep["death_ts"] or ep["sigkill_ts"] or last["ts"]
            during = mine.filter(
                (pl.col("ts") >= ep["kill_ts"] - timedelta(seconds=AROUND_SHUTDOWN_S))
                & (pl.col("ts") <= end + timedelta(seconds=AROUND_SHUTDOWN_S))
            )
            when = (
                f"{during.height} of them while the pod shut down (SIGTERM at "
                f"{fmt(ep['kill_ts'])}): connections pooled before it left the endpoints kept "
                "being reused, and the server closed them under the requests"
            )
            evidence.insert(
                0,
                ev(
                    {
                        "ts": ep["kill_ts"],
                        "file": ep["kill_file"],
                        "line": ep["kill_line"],
                        "raw": ep["kill_raw"],
                    }
                ),
            )
        else:
            when = (
                "with no termination of the pod around them: the server closes idle "
                "connections sooner than the proxy stops reusing them (idle-timeout mismatch)"
            )
        evidence.append(ev(last))
        summary = (
            f"{mine.height} requests to {name} failed on connections the server closed "
            f"(resets, premature closes, EOF) from {fmt(first['ts'])} to {fmt(last['ts'])}, "
            f"{when}."
        )
        findings.append(
            ctx.finding(
                "keepalive-reuse",
                claims,
                severity="critical" if eps.height else "warning",
                summary=summary,
                fix=KEEPALIVE_FIX,
                evidence=tuple(evidence),
                pod=f"{ns}/{pod}" if pod is not None else None,
                container=first.get("target_container"),
                window=(first["ts"], last["ts"]),
            )
        )
    return findings


RULES = (
    Rule(
        code="keepalive-reuse",
        cause="RC4",
        severity="critical",
        title="requests sent on pooled connections the server had closed",
        needs=(Kind.HTTP.value, Kind.UPSTREAM_ERROR.value, Kind.KILL.value),
        fix=KEEPALIVE_FIX,
        find=keepalive_reuse,
    ),
)
