"""Diagnose one incident: run every rule, explain each failure once, rank the findings."""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl

from analyzer.correlate.incidents import IncidentFrames
from analyzer.diagnose.assign import assign
from analyzer.diagnose.base import Context
from analyzer.diagnose.finding import Finding, Stream
from analyzer.diagnose.registry import GROUPS, RULES

#: Unexplained failures from one place below this many are not a stream of their own.
MIN_STREAM = 3


@dataclass(frozen=True)
class Diagnosis:
    findings: tuple[Finding, ...]  # ranked: by share explained, noise (info) last
    unexplained: tuple[Stream, ...]  # failures no finding explains, per pod or component
    causes: pl.DataFrame  # each failure's ``file``, ``line`` and primary ``cause`` (or null)


def diagnose(inc: IncidentFrames, episodes: pl.DataFrame) -> Diagnosis:
    ctx = Context(inc, episodes)
    found: list[Finding] = []
    for code, rule in RULES.items():
        if code not in GROUPS:
            found += rule.find(ctx)
    for code in GROUPS:
        for group in RULES[code].find(ctx, found):  # type: ignore[call-arg]
            members = set(group.pod.split(", ")) if group.pod else set()
            found = [
                replace(f, part_of=group.code) if f.pod in members and f.part_of is None else f
                for f in found
            ]
            found.append(group)
    contributing = frozenset(c for c, r in RULES.items() if r.contributing)
    findings, cause = assign(ctx.failures, found, contributing=contributing)
    causes = ctx.failures.select("file", "line").with_columns(cause)
    return Diagnosis(
        findings=tuple(rank(findings)),
        unexplained=unexplained_streams(ctx.failures.with_columns(cause)),
        causes=causes,
    )


def rank(findings: list[Finding]) -> list[Finding]:
    """By the share each explains (noise last, then severity, then cause order); a group's
    parts right after it."""
    order = {code: i for i, code in enumerate(RULES)}

    def key(f: Finding) -> tuple[bool, float, int, int]:
        return (
            f.severity == "info",
            -f.explains,
            ["critical", "warning", "info"].index(f.severity),
            order.get(f.code, 99),
        )

    top = sorted((f for f in findings if f.part_of is None), key=key)
    out: list[Finding] = []
    for f in top:
        out.append(f)
        out += sorted((p for p in findings if p.part_of == f.code), key=key)
    return out


def unexplained_streams(failures: pl.DataFrame) -> tuple[Stream, ...]:
    """The failures no finding explains, per pod (or per reporting component when tied to
    no pod), largest first."""
    total = failures.height
    rest = failures.filter(pl.col("cause").is_null())
    if rest.height == 0:
        return ()
    where = pl.coalesce(
        pl.format("{}/{}", "target_namespace", "target_pod"),
        pl.format("{}/{} (reporting)", "namespace", "pod"),
        pl.col("file"),
    ).alias("_what")
    groups = (
        rest.with_columns(where)
        .group_by("_what")
        .agg(
            pl.len().alias("n"),
            pl.col("ts").min().alias("start"),
            pl.col("ts").max().alias("end"),
            pl.col("mode").value_counts(sort=True).alias("modes"),
        )
        .filter(pl.col("n") >= min(MIN_STREAM, rest.height))
        .sort("n", "_what", descending=[True, False])
    )
    out = []
    for row in groups.iter_rows(named=True):
        modes = ", ".join(f"{m['count']} {m['mode']}" for m in row["modes"])
        out.append(
            Stream(
                what=row["_what"],
                failures=row["n"],
                share=round(row["n"] / total, 3),
                start=row["start"],
                end=row["end"],
                modes=modes,
            )
        )
    return tuple(out)
