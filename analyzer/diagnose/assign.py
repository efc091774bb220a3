"""Each failing request explained once.

Every finding claims the failures its mechanism covers (its pod, container phase and time).
A failure claimed by several goes to the first in cause order (the registry's order: a
definite event such as a SIGKILL at the grace end or an OOM kill before the lags and
propagation delays that let it reach the clients), and each finding's ``explains`` is the
share it got. A finding left with none is dropped unless its rule only contributes (a
readiness lag that a SIGKILL explains first is still worth fixing); a group (a mass
termination) explains its parts' failures and the rest of its own.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from analyzer.diagnose.finding import Finding


def assign(
    failures: pl.DataFrame, findings: list[Finding], *, contributing: frozenset[str]
) -> tuple[list[Finding], pl.Series]:
    """The findings with ``explains`` and ``covers`` set, and each failure's primary cause
    (a ``String`` series beside ``failures``; null: unexplained)."""
    total = failures.height
    if total == 0 or not findings:
        return [
            replace(f, covers=f.covers if f.covers is not None else f.explains) for f in findings
        ], pl.Series("cause", [None] * total, pl.String)
    groups = [i for i, f in enumerate(findings) if any(g.part_of == f.code for g in findings)]
    order = [i for i, f in enumerate(findings) if i not in groups] + groups
    claims = failures.select(
        [
            (findings[i].claims if findings[i].claims is not None else pl.lit(False))
            .fill_null(False)
            .alias(f"c{i}")
            for i in order
        ]
    )
    covered = {i: claims[f"c{i}"].sum() for i in order}
    # The first claiming finding in cause order, per failure.
    primary = pl.Series("primary", [None] * total, pl.Int64)
    for i in order:
        primary = pl.select(
            pl.when(primary.is_null() & claims[f"c{i}"]).then(pl.lit(i)).otherwise(primary)
        ).to_series()
    got = {i: int((primary == i).sum()) for i in order}
    for g in groups:
        got[g] += sum(got[i] for i, f in enumerate(findings) if f.part_of == findings[g].code)
    out: list[Finding] = []
    for i, f in enumerate(findings):
        share = round(got[i] / total, 3)
        if got[i] == 0 and f.code not in contributing and i not in groups:
            continue
        out.append(replace(f, explains=share, covers=round(covered[i] / total, 3)))
    codes = pl.Series([findings[i].code for i in range(len(findings))], dtype=pl.String)
    cause = (
        pl.select(pl.when(primary.is_not_null()).then(codes.gather(primary.fill_null(0))))
        .to_series()
        .alias("cause")
    )
    return out, cause
