"""Markdown rendering, for tickets and postmortems."""

from __future__ import annotations

from analyzer.report.model import explained_lines, nothing_read, report_dict, share_words
from analyzer.report.safe import code_fence, markdown, terminal
from analyzer.result import Analysis


def _background(bg: dict[str, object]) -> list[str]:
    if not bg["failures"]:
        return []
    return [
        "",
        f"Background: {bg['failures']} failing requests in no burst, at the usual rate of "
        f"{bg['keys']} pod(s)/proxies (not incidents).",
    ]


def render_markdown(analysis: Analysis) -> str:
    data = report_dict(analysis)
    s = data["summary"]
    out = [
        "# 5xx incident report",
        "",
        f"{s['incidents']} incident(s): {s['critical']} critical, {s['warning']} warning, "
        f"{s['info']} info.",
        *([f"**{empty}**"] if (empty := nothing_read(data)) else []),
        *_background(data["background"]),
        "",
        "## Inputs",
        "",
        "| file | format | lines | events | rejected | skipped |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for t in data["inputs"]:
        out.append(
            f"| {markdown(t['path'])} | {markdown(t['format'])} | {t['lines']} | {t['events']} | "
            f"{t['rejected']} | {t['skipped']} |"
        )
    out += [
        "",
        "## Incidents",
        "",
        "| id | severity | start | duration | failing | top finding |",
        "|---|---|---|---:|---:|---|",
    ]
    for inc in data["incidents"]:
        top = inc["findings"][0]["code"] if inc["findings"] else "unexplained"
        out.append(
            f"| {inc['id']} | {inc['severity']} | {inc['start']} | {inc['duration_s']:.1f} s | "
            f"{inc['errors']} | {top} |"
        )
    for inc in data["incidents"]:
        statuses = ", ".join(f"{k}: {v}" for k, v in inc["status_counts"].items())
        out += [
            "",
            f"## {inc['id']} ({inc['severity']}): {inc['start']} to {inc['end']}",
            "",
            f"- **Pods:** {markdown(', '.join(inc['pods']) or 'not attributed')}",
            f"- **Containers:** {markdown(', '.join(inc['containers']) or '-')}",
            f"- **Clients:** {markdown(', '.join(inc['clients']) or '-')}",
            f"- **Failing requests:** {inc['errors']} ({markdown(statuses)})",
            *(
                [f"- **Concurrent with:** {', '.join(inc['concurrent'])} (another cause chain)"]
                if inc["concurrent"]
                else []
            ),
            "",
            "### Findings",
        ]
        for f in inc["findings"]:
            evidence = "\n".join(
                terminal(f"{e['file']}:{e['line']}  {e['text']}") for e in f["evidence"]
            )
            fence = code_fence(evidence)
            out += [
                "",
                ("- " if f["part_of"] else "")
                + f"**{f['code']}** ({f['severity']}, {share_words(f)}): "
                + markdown(f["summary"]),
                "",
                f"*Fix:* {markdown(f['fix'])}",
                "",
                f"{fence}text",
                evidence,
                fence,
            ]
        if not inc["findings"]:
            out += ["", "No known cause matched."]
        out += ["", *(f"- {markdown(line)}" for line in explained_lines(inc))]
        out += [
            "",
            "### Timeline",
            "",
            "| offset | time | kind | pod/container | what | where |",
            "|---:|---|---|---|---|---|",
        ]
        for r in inc["timeline"]:
            who = "/".join(x for x in (r["pod"], r["container"]) if x) or "-"
            out.append(
                f"| {r['offset_s']:+.1f} s | {r['ts'][11:]} | {r['kind']} | {markdown(who)} | "
                f"{markdown(r['summary'])} | {markdown(r['file'])}:{r['line']} |"
            )
    return "\n".join(out) + "\n"
