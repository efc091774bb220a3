"""Terminal and JSON rendering of a report.

The terminal report is built with rich: colour only when asked (the CLI asks on a TTY),
plain text otherwise, 100 columns wide. Log text goes in as ``rich.text.Text`` (never parsed
as markup) after control characters are neutralized.
"""

from __future__ import annotations

import io
import json
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from analyzer.report.model import explained_lines, nothing_read, report_dict, share_words
from analyzer.report.safe import terminal
from analyzer.result import Analysis

WIDTH = 100
SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
SEVERITY_MARK = {"critical": "CRITICAL", "warning": "WARNING", "info": "info"}
EVIDENCE_CHARS = 400


def render_json(analysis: Analysis) -> str:
    return json.dumps(report_dict(analysis), indent=2, ensure_ascii=False) + "\n"


def _t(value: object, style: str = "") -> Text:
    """Untrusted text: control characters shown escaped, no markup interpreted."""
    return Text(terminal(value), style=style)


def _sev(severity: str) -> Text:
    return Text(SEVERITY_MARK[severity], style=SEVERITY_STYLE[severity])


def _pad(renderable: object, left: int) -> Padding:
    return Padding(renderable, (0, 0, 0, left))  # type: ignore[arg-type]


def _inputs(data: dict[str, Any]) -> list[object]:
    # One file per line, whole: a path is something to copy, never to fold.
    out: list[object] = [Text("Inputs", style="bold")]
    for t in data["inputs"]:
        out.append(_pad(_t(t["path"]).append(""), 2))
        counts = Text.assemble(
            _t(t["format"], "bold"),
            f": {t['lines']} lines = {t['events']} events + ",
            (f"{t['rejected']} rejected", "red" if t["rejected"] else ""),
            f" + {t['skipped']} skipped",
        )
        out.append(_pad(counts, 6))
        for ex in t["reject_examples"][:3]:
            out.append(_pad(_t(f"line {ex['line']} rejected: {ex['reason']}", "red"), 6))
        for note in t["notes"]:
            out.append(_pad(_t(f"note: {note}", "dim"), 6))
    return out


def _summary(data: dict[str, Any]) -> list[object]:
    s = data["summary"]
    head = Text(
        f"{s['incidents']} incident(s): {s['critical']} critical, {s['warning']} warning, "
        f"{s['info']} info ({s['events']} events)",
        style="bold",
    )
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name, kw in (
        ("id", {}),
        ("severity", {}),
        ("start", {"no_wrap": True}),
        ("duration", {"justify": "right"}),
        ("failing", {"justify": "right"}),
        ("pods", {"justify": "right"}),
        ("top finding", {"no_wrap": True, "min_width": 17}),
    ):
        table.add_column(name, **kw)  # type: ignore[arg-type]
    for inc in data["incidents"]:
        top = inc["findings"][0]["code"] if inc["findings"] else "unexplained"
        table.add_row(
            inc["id"],
            _sev(inc["severity"]),
            inc["start"],
            f"{inc['duration_s']:.1f} s",
            str(inc["errors"]),
            str(len(inc["pods"])),
            top,
        )
    out: list[object] = [head, table] if data["incidents"] else [head]
    empty = nothing_read(data)
    if empty:
        out.append(_t(empty, "red"))
    bg = data["background"]
    if bg["failures"]:
        out.append(
            _t(
                f"background: {bg['failures']} failing requests in no burst, at the usual "
                f"rate of {bg['keys']} pod(s)/proxies (not incidents)",
                "dim",
            )
        )
    return out


def _incident(inc: dict[str, Any]) -> list[object]:  # noqa: C901
    title = Text.assemble(
        (f"{inc['id']} ", "bold"),
        _sev(inc["severity"]),
        f"  {inc['start']} .. {inc['end']}  ({inc['duration_s']:.1f} s)",
    )
    statuses = ", ".join(f"{k}: {v}" for k, v in inc["status_counts"].items())
    out: list[object] = [
        Text(""),
        Rule(style="dim"),
        title,
        _pad(_t(f"pods: {', '.join(inc['pods']) or '(not attributed)'}"), 2),
        _pad(_t(f"containers: {', '.join(inc['containers']) or '-'}"), 2),
        _pad(_t(f"clients: {', '.join(inc['clients']) or '-'}"), 2),
        _pad(_t(f"failing requests: {inc['errors']} ({statuses})"), 2),
    ]
    if inc["downstream_errors"]:
        out.append(_pad(_t(f"also reported downstream: {inc['downstream_errors']} failures"), 2))
    if inc["concurrent"]:
        out.append(
            _pad(_t(f"concurrent with: {', '.join(inc['concurrent'])} (another cause chain)"), 2)
        )
    out.append(Text("\nFindings", style="bold"))
    if not inc["findings"]:
        out.append(_pad(Text("none: no known cause matched these failures", style="yellow"), 2))
    for f in inc["findings"]:
        out.append(
            _pad(
                Text.assemble(
                    "[",
                    _sev(f["severity"]),
                    f"] {f['code']}",
                    (f"  {share_words(f)}", "dim"),
                ),
                4 if f["part_of"] else 2,
            )
        )
        out.append(_pad(_t(f["summary"]), 4))
        out.append(_pad(Text.assemble(("Fix: ", "bold green"), _t(f["fix"])), 4))
        out.append(_pad(Text("Evidence:", style="bold"), 4))
        for e in f["evidence"]:
            text = (
                e["text"] if len(e["text"]) <= EVIDENCE_CHARS else e["text"][:EVIDENCE_CHARS] + " …"
            )
            out.append(_pad(_t(f"{e['file']}:{e['line']}", "blue"), 6))
            out.append(_pad(_t(text, "dim"), 8))
    for line in explained_lines(inc):
        out.append(_pad(_t(line, "yellow" if line.startswith("unexplained") else ""), 2))
    out.append(Text("\nTimeline", style="bold"))
    for r in inc["timeline"]:
        who = "/".join(x for x in (r["pod"], r["container"]) if x) or "-"
        style = "red" if r["kind"] in ("burst_start", "burst_end", "kill", "container_died") else ""
        head = Text.assemble(f"{r['offset_s']:+8.1f} s  {r['ts'][11:]}  ", (r["kind"], style))
        out.append(_pad(head, 2))
        out.append(_pad(Text.assemble(_t(who, "bold"), "  ", _t(r["summary"])), 16))
        out.append(_pad(_t(f"@ {r['file']}:{r['line']}", "dim"), 16))
    return out


def render_text(analysis: Analysis, *, color: bool = False, width: int = WIDTH) -> str:
    """The terminal report: plain text unless ``color``."""
    data = report_dict(analysis)
    buf = io.StringIO()
    console = Console(
        file=buf,
        width=width,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
        legacy_windows=False,
        soft_wrap=False,
    )
    parts: list[object] = [*_inputs(data), Text(""), *_summary(data)]
    for inc in data["incidents"]:
        parts += _incident(inc)
    console.print(Group(*parts))  # type: ignore[arg-type]
    text = buf.getvalue()
    # rich pads table rows to the full width; trailing blanks only make diffs noisy.
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
