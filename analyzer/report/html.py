"""The self-contained HTML timeline (the only module that imports plotly).

One page, plotly.js embedded, no network: a request-rate panel above (per second and status,
bursts shaded) and swimlanes below (each pod and container, phases as coloured spans,
lifecycle events as markers whose hover shows the raw line and its file:line, findings drawn
where they act), with buttons to jump between incidents. Every log-derived string is
HTML-escaped before plotly sees it.
"""

from __future__ import annotations

import html
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from analyzer.report.timeline import TimelineData, timeline_data
from analyzer.result import Analysis

DIV_ID = "analyzer-timeline"
PHASE_COLORS = {
    "pending": "#9ecae1",
    "starting": "#9ecae1",
    "ready": "#31a354",
    "not_ready": "#fd8d3c",
    "deleted": "#bdbdbd",
    "terminating": "#de2d26",
    "shutting_down": "#756bb1",
    "shut_down": "#d9d9d9",
    "killed": "#67000d",
    "dead": "#252525",
    "removed": "#f0f0f0",
}
MARKERS = {  # kind -> (symbol, colour)
    "probe_failed": ("x", "#e6550d"),
    "probe_errored": ("x-open", "#e6550d"),
    "not_ready": ("triangle-down", "#e6550d"),
    "ready": ("triangle-up", "#31a354"),
    "pod_added": ("circle-open", "#3182bd"),
    "pod_deleted": ("square", "#636363"),
    "pod_removed": ("square-open", "#636363"),
    "kill": ("star", "#de2d26"),
    "sigkill": ("star-open", "#67000d"),
    "shutdown_started": ("diamond", "#756bb1"),
    "shutdown_finished": ("diamond-open", "#756bb1"),
    "container_started": ("circle", "#3182bd"),
    "container_died": ("hexagram", "#000000"),
    "oom_killed": ("hexagram-open", "#67000d"),
    "back_off": ("hourglass", "#67000d"),
    "evicted": ("square-x", "#636363"),
    "lb_deregistered": ("square-open", "#e6550d"),
    "app_started": ("circle-open", "#31a354"),
    "upstream_error": ("bowtie", "#a50f15"),
    "burst_start": ("line-ew-open", "#a50f15"),
    "burst_end": ("line-ew-open", "#a50f15"),
}
SERIES_COLORS = {"2xx": "#74c476", "3xx": "#9ecae1", "4xx": "#fdae6b", "upstream error": "#67000d"}
SEVERITY_COLORS = {"critical": "#de2d26", "warning": "#fd8d3c", "info": "#6baed6"}


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _hover(row: dict[str, object]) -> str:
    raw = str(row.get("raw") or "")
    if len(raw) > 600:
        raw = raw[:600] + " …"
    parts = [
        f"<b>{_esc(row['kind'])}</b> {_esc(row['ts'])} "
        f"({float(row['offset_s']):+.1f} s, {_esc(row['incident'])})",  # type: ignore[arg-type]
        _esc(row["summary"]),
        f"{_esc(row['file'])}:{row['line']}",
    ]
    if raw:
        parts.append(f"<i>{_esc(raw)}</i>")
    return "<br>".join(parts)


def _rates(fig: go.Figure, data: TimelineData) -> None:
    for series in data.rates["series"].unique().sort().to_list():
        rows = data.rates.filter(pl.col("series") == series).sort("ts")
        fig.add_trace(
            go.Scatter(
                x=rows["ts"].to_list(),
                y=rows["count"].to_list(),
                mode="lines",
                line={"width": 1.5, "shape": "hv", "color": SERIES_COLORS.get(series, "#de2d26")},
                name=f"requests/s {_esc(series)}",
                legendgroup="rates",
                hovertemplate=f"{_esc(series)}: %{{y}}/s at %{{x}}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    for b in data.bursts.iter_rows(named=True):
        fig.add_vrect(
            x0=b["start"],
            x1=b["end"],
            fillcolor="#de2d26",
            opacity=0.15,
            line_width=0,
            row=1,
            col=1,
        )


def _lanes(fig: go.Figure, data: TimelineData) -> None:
    # Category positions count from the bottom; the first lane is drawn on top.
    index = {lane: i for i, lane in enumerate(reversed(data.lanes))}
    for phase, color in PHASE_COLORS.items():
        rows = data.spans.filter(pl.col("phase") == phase)
        if rows.height == 0:
            continue
        xs: list[object] = []
        ys: list[object] = []
        texts: list[object] = []
        for r in rows.iter_rows(named=True):
            label = "<br>".join(
                (_esc(r["lane"]), f"{_esc(phase)} from {_esc(r['start'])}", _esc(r["detail"] or ""))
            )
            xs += [r["start"], r["end"], None]
            ys += [_esc(r["lane"]), _esc(r["lane"]), None]
            texts += [label, label, None]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"width": 14, "color": color},
                name=f"phase: {phase}",
                legendgroup="phases",
                hovertext=texts,
                hoverinfo="text",
                connectgaps=False,
            ),
            row=2,
            col=1,
        )
    for kind in data.markers["kind"].unique().sort().to_list():
        rows = data.markers.filter(pl.col("kind") == kind)
        symbol, color = MARKERS.get(kind, ("circle", "#636363"))
        fig.add_trace(
            go.Scatter(
                x=rows["ts"].to_list(),
                y=[_esc(lane) for lane in rows["lane"].to_list()],
                mode="markers",
                marker={"symbol": symbol, "size": 11, "color": color, "line": {"width": 1}},
                name=_esc(kind),
                legendgroup="events",
                hovertext=[_hover(r) for r in rows.iter_rows(named=True)],
                hoverinfo="text",
            ),
            row=2,
            col=1,
        )
    for f in data.findings.iter_rows(named=True):
        y = index.get(f["lane"])
        if y is None:
            continue
        color = SEVERITY_COLORS.get(f["severity"], "#636363")
        fig.add_shape(
            type="rect",
            x0=f["start"],
            x1=f["end"],
            y0=y - 0.45,
            y1=y + 0.45,
            xref="x2",
            yref="y2",
            line={"color": color, "width": 2, "dash": "dot"},
            fillcolor=color,
            opacity=0.12,
        )
        fig.add_annotation(
            x=f["start"],
            y=_esc(f["lane"]),
            xref="x2",
            yref="y2",
            yshift=14,
            xanchor="left",
            text=f"<b>{_esc(f['code'])}</b> ({_esc(f['incident'])}, explains {f['explains']:.0%})",
            showarrow=False,
            font={"color": color, "size": 11},
            hovertext=_esc(f["summary"]),
        )


def _incident_buttons(fig: go.Figure, data: TimelineData) -> None:
    buttons = [
        {
            "label": "all",
            "method": "relayout",
            "args": [{"xaxis.autorange": True, "xaxis2.autorange": True}],
        }
    ]
    for inc in data.incidents.iter_rows(named=True):
        rng = [inc["window_start"], inc["window_end"]]
        buttons.append(
            {
                "label": f"{inc['id']} ({inc['severity']})",
                "method": "relayout",
                "args": [{"xaxis.range": rng, "xaxis2.range": rng}],
            }
        )
        fig.add_annotation(
            x=inc["start"],
            y=1.0,
            xref="x",
            yref="paper",
            yanchor="bottom",
            showarrow=False,
            text=f"{_esc(inc['id'])} {_esc(inc['severity'])}",
            font={"color": SEVERITY_COLORS.get(inc["severity"], "#636363")},
        )
    fig.update_layout(
        updatemenus=[
            {
                "type": "buttons",
                "direction": "right",
                "x": 0,
                "y": 1.12,
                "xanchor": "left",
                "buttons": buttons,
                "showactive": True,
            }
        ]
    )


def timeline_figure(analysis: Analysis) -> go.Figure:
    """The timeline figure of every incident in ``analysis`` (a ``plotly`` Figure)."""
    data = timeline_data(analysis)
    lanes = [_esc(lane) for lane in data.lanes]
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        row_heights=[0.28, 0.72],
    )
    _rates(fig, data)
    _lanes(fig, data)
    _incident_buttons(fig, data)
    fig.update_yaxes(
        row=2,
        col=1,
        type="category",
        categoryorder="array",
        categoryarray=lanes[::-1],
        range=[-0.5, max(len(lanes), 1) - 0.5],
    )
    fig.update_yaxes(row=1, col=1, title_text="requests/s")
    fig.update_xaxes(type="date")
    fig.update_layout(
        title="5xx incidents and pod lifecycles",
        height=420 + 34 * max(len(lanes), 1),
        hovermode="closest",
        template="plotly_white",
        legend={"orientation": "v", "x": 1.01, "y": 1},
        margin={"l": 20, "r": 20, "t": 110, "b": 40},
    )
    return fig


def write_timeline(analysis: Analysis, path: str | Path) -> Path:
    """Write the self-contained HTML timeline (plotly.js embedded, works offline)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = timeline_figure(analysis)
    fig.write_html(
        path,
        include_plotlyjs=True,
        full_html=True,
        div_id=DIV_ID,
        config={"displaylogo": False, "responsive": True},
    )
    return path
