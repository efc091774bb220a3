"""The data behind the HTML timeline, as polars frames (no plotting here).

Everything is aggregated or bounded by the incidents: request rates per second and status
class, phase spans and lifecycle markers of the pods involved in incidents. Raw request rows
never reach the page, so a million requests cost as much as their seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from analyzer.result import Analysis
from analyzer.schema import COUNT, LAST_TS, Kind

END_PAD_S = 5.0  # how long a terminal phase (dead, removed) is drawn


@dataclass(frozen=True)
class TimelineData:
    rates: pl.DataFrame  # ts (1 s bucket), series, count
    lanes: list[str]  # top to bottom
    spans: pl.DataFrame  # lane, start, end, phase, detail
    markers: pl.DataFrame  # lane, ts, kind, summary, raw, file, line, offset_s, incident
    bursts: pl.DataFrame  # start, end, key, count, incident
    findings: pl.DataFrame  # lane, start, end, code, severity, summary, incident, explains
    incidents: pl.DataFrame  # id, severity, start, end, window_start, window_end


def _series() -> pl.Expr:
    status = pl.col("status")
    return (
        pl.when(pl.col("kind") == Kind.UPSTREAM_ERROR.value)
        .then(pl.lit("upstream error"))
        .when(status >= 500)
        .then(status.cast(pl.String))
        .when(status >= 400)
        .then(pl.lit("4xx"))
        .when(status >= 300)
        .then(pl.lit("3xx"))
        .otherwise(pl.lit("2xx"))
    )


def request_rates(requests: pl.DataFrame, failures: pl.DataFrame) -> pl.DataFrame:
    """Requests per second per series: 2xx / 3xx / 4xx / each 5xx code / upstream errors."""

    def rows(frame: pl.DataFrame) -> pl.DataFrame:
        lines = pl.col(COUNT) if COUNT in frame.columns else pl.lit(1)
        return frame.select("ts", "kind", "status", lines.cast(pl.UInt32).alias("_n"))

    http = rows(requests.filter(pl.col("kind") == Kind.HTTP.value))
    # Upstream errors count only where they have no access line of their own.
    lone = rows(failures.filter(pl.col("kind") == Kind.UPSTREAM_ERROR.value))
    return (
        pl.concat([http, lone])
        .group_by(pl.col("ts").dt.truncate("1s"), _series().alias("series"))
        .agg(pl.col("_n").sum().cast(pl.UInt32).alias("count"))
        .sort("series", "ts")
    )


def _lane(pod: pl.Expr, container: pl.Expr | None = None) -> pl.Expr:
    if container is None:
        return pod
    return (
        pl.when(container.is_not_null()).then(pl.format("{} · {}", pod, container)).otherwise(pod)
    )


def _spans(changes: pl.DataFrame, keys: list[str], lane: pl.Expr, end: object) -> pl.DataFrame:
    if changes.height == 0:
        return pl.DataFrame(
            schema={
                "lane": pl.String,
                "start": changes.schema["ts"],
                "end": changes.schema["ts"],
                "phase": pl.String,
                "detail": pl.String,
            }
        )
    nxt = pl.col("ts").shift(-1).over(keys)
    terminal = pl.col("phase").is_in(["dead", "removed", "killed"])
    return (
        changes.sort([*keys, "ts"])
        .with_columns(
            pl.when(nxt.is_not_null())
            .then(nxt)
            .when(terminal)
            .then(pl.col("ts") + timedelta(seconds=END_PAD_S))
            .otherwise(pl.lit(end))
            .alias("end")
        )
        .select(lane.alias("lane"), pl.col("ts").alias("start"), "end", "phase", "detail")
    )


def timeline_data(analysis: Analysis) -> TimelineData:
    """Frames for the HTML timeline of every incident in ``analysis``."""
    corr = analysis.correlation
    pods = sorted({p for inc in analysis.incidents for p in inc.frames.pods})
    pod_names = pl.DataFrame(
        {"namespace": [p[0] for p in pods], "pod": [p[1] for p in pods]},
        schema={"namespace": pl.String, "pod": pl.String},
    )
    end = analysis.reduced[LAST_TS].max()
    pod_label = pl.format("{}/{}", pl.col("namespace"), pl.col("pod"))
    pod_spans = _spans(
        corr.pod_phases.join(pod_names, on=["namespace", "pod"]),
        ["namespace", "pod"],
        pod_label,
        end,
    )
    container_spans = _spans(
        corr.container_phases.join(pod_names, on=["namespace", "pod"]),
        ["namespace", "pod", "container"],
        _lane(pod_label, pl.col("container")),
        end,
    )
    spans = pl.concat([pod_spans, container_spans])

    marker_rows = []
    for inc in analysis.incidents:
        tl = inc.timeline.with_columns(
            pl.when(pl.col("pod").is_not_null())
            .then(_lane(pod_label, pl.col("container")))
            # Failures no pod is known for sit on the lane of the log that reported them.
            .otherwise(pl.format("reported in {}", pl.col("file").str.extract(r"([^/\\]+)$", 1)))
            .alias("lane"),
            pl.lit(inc.id).alias("incident"),
        )
        marker_rows.append(
            tl.select(
                "lane", "ts", "kind", "summary", "raw", "file", "line", "offset_s", "incident"
            )
        )
    markers = (
        pl.concat(marker_rows).unique(["file", "line", "kind"], maintain_order=True)
        if marker_rows
        else pl.DataFrame(
            schema={
                "lane": pl.String,
                "ts": pl.Datetime("ns", "UTC"),
                "kind": pl.String,
                "summary": pl.String,
                "raw": pl.String,
                "file": pl.String,
                "line": pl.UInt32,
                "offset_s": pl.Float64,
                "incident": pl.String,
            }
        )
    )

    lanes: list[str] = []
    for ns, pod in pods:
        label = f"{ns}/{pod}"
        lanes.append(label)
        containers = corr.container_phases.filter(
            (pl.col("namespace") == ns) & (pl.col("pod") == pod)
        )["container"]
        lanes += [f"{label} · {c}" for c in sorted(set(containers.to_list()))]
    lanes += sorted(set(markers["lane"].to_list()) - set(lanes))

    bursts = analysis.bursts.select(
        "start",
        "end",
        pl.col("burst_key").alias("key"),
        "count",
        pl.format("inc-{}", pl.col("incident")).alias("incident"),
    )
    findings = (
        analysis.findings()
        .filter(pl.col("window_start").is_not_null() & pl.col("pod").is_not_null())
        .select(
            _lane(pl.col("pod"), pl.col("container")).alias("lane"),
            pl.col("window_start").alias("start"),
            pl.col("window_end").alias("end"),
            "code",
            "severity",
            "summary",
            "incident",
            "explains",
        )
    )
    incidents = pl.DataFrame(
        [
            {
                "id": i.id,
                "severity": i.severity,
                "start": i.start,
                "end": i.end,
                "window_start": i.frames.window_start,
                "window_end": i.frames.window_end,
            }
            for i in analysis.incidents
        ],
        schema={
            "id": pl.String,
            "severity": pl.String,
            "start": pl.Datetime("ns", "UTC"),
            "end": pl.Datetime("ns", "UTC"),
            "window_start": pl.Datetime("ns", "UTC"),
            "window_end": pl.Datetime("ns", "UTC"),
        },
    )
    return TimelineData(
        rates=request_rates(corr.requests, corr.failures),
        lanes=lanes,
        spans=spans.filter(pl.col("lane").is_in(lanes)),
        markers=markers,
        bursts=bursts,
        findings=findings,
        incidents=incidents,
    )
