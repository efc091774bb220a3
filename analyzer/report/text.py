"""Terminal and JSON rendering of a report."""

from __future__ import annotations

import json
import textwrap
from typing import TYPE_CHECKING, Any

from analyzer.report.model import report_dict
from analyzer.report.safe import terminal

if TYPE_CHECKING:  # the API builds what reports render; reports never call it
    from analyzer.api import Analysis

WIDTH = 100
SEVERITY_MARK = {"critical": "CRITICAL", "warning": "WARNING", "info": "info"}


def render_json(analysis: Analysis) -> str:
    return json.dumps(report_dict(analysis), indent=2, ensure_ascii=False) + "\n"


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(
        terminal(text), WIDTH, initial_indent=indent, subsequent_indent=indent
    ) or [indent]


def _inputs(data: dict[str, Any]) -> list[str]:
    out = ["Inputs"]
    for t in data["inputs"]:
        out.append(f"  {terminal(t['path'])}")
        out.append(
            f"      {t['format']}: {t['lines']} lines = {t['events']} events + "
            f"{t['rejected']} rejected + {t['skipped']} skipped"
        )
        for ex in t["reject_examples"][:3]:
            out.extend(_wrap(f"rejected line {ex['line']}: {ex['reason']}", "      "))
        for note in t["notes"]:
            out.extend(_wrap(f"note: {note}", "      "))
    return out


def render_text(analysis: Analysis) -> str:
    data = report_dict(analysis)
    s = data["summary"]
    lines = _inputs(data)
    lines += [
        "",
        f"{s['incidents']} incident(s): {s['critical']} critical, {s['warning']} warning, "
        f"{s['info']} info  ({s['events']} events)",
    ]
    for inc in data["incidents"]:
        top = inc["findings"][0]["code"] if inc["findings"] else "unexplained"
        lines.append(
            f"  {inc['id']:<7} {SEVERITY_MARK[inc['severity']]:<8} {inc['start']}  "
            f"{inc['duration_s']:>7.1f} s {inc['errors']:>7} failing  {top}"
        )
    for inc in data["incidents"]:
        lines += ["", "=" * WIDTH]
        lines.append(
            f"{inc['id']}  {SEVERITY_MARK[inc['severity']]}  {inc['start']} .. {inc['end']} "
            f"({inc['duration_s']:.1f} s)"
        )
        lines.extend(_wrap("pods: " + ", ".join(inc["pods"] or ["(not attributed)"]), "  "))
        lines.extend(_wrap("containers: " + ", ".join(inc["containers"] or ["-"]), "  "))
        lines.extend(_wrap("clients: " + ", ".join(inc["clients"] or ["-"]), "  "))
        statuses = ", ".join(f"{k}: {v}" for k, v in inc["status_counts"].items())
        lines.append(f"  failing requests: {inc['errors']} ({statuses})")
        if inc["downstream_errors"]:
            lines.append(f"  also reported downstream: {inc['downstream_errors']} failures")
        lines += ["", "  Findings"]
        if not inc["findings"]:
            lines.append("    none: no known cause matched these failures")
        for f in inc["findings"]:
            lines.append(
                f"    [{SEVERITY_MARK[f['severity']]}] {f['code']}  explains {f['explains']:.0%}"
            )
            lines.extend(_wrap(f["summary"], "      "))
            lines.extend(_wrap("Fix: " + f["fix"], "      "))
            lines.append("      Evidence:")
            for e in f["evidence"]:
                lines.append(f"        {terminal(e['file'])}:{e['line']}")
                text = e["text"] if len(e["text"]) <= 400 else e["text"][:400] + " …"
                lines.extend(_wrap(text, "          "))
        lines += ["", "  Timeline"]
        for r in inc["timeline"]:
            who = "/".join(x for x in (r["pod"], r["container"]) if x) or "-"
            lines.append(
                f"    {r['offset_s']:+8.1f} s  {r['ts'][11:]}  {r['kind']:<17} {terminal(who)}"[
                    :WIDTH
                ]
            )
            lines.extend(_wrap(r["summary"], " " * 16))
            lines.append(" " * 16 + f"@ {terminal(r['file'])}:{r['line']}")
    return "\n".join(lines) + "\n"
