"""Per-file accounting: every input line is an event, rejected, or skipped."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

OUTCOME = "_outcome"  # null = event; "skip: reason" / "reject: reason" otherwise
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class FileTally:
    """What became of one input file's lines."""

    path: str
    format: str
    lines: int
    events: int
    rejected: int
    skipped: int
    reject_examples: tuple[tuple[int, str], ...] = ()  # (line, reason)
    skip_reasons: tuple[tuple[str, int], ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def reconciles(self) -> bool:
        return self.lines == self.events + self.rejected + self.skipped

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "format": self.format,
            "lines": self.lines,
            "events": self.events,
            "rejected": self.rejected,
            "skipped": self.skipped,
            "reject_examples": [{"line": ln, "reason": r} for ln, r in self.reject_examples],
            "skip_reasons": dict(self.skip_reasons),
            "notes": list(self.notes),
        }


def skip(reason: str) -> pl.Expr:
    return pl.lit(f"skip: {reason}")


def reject(reason: str) -> pl.Expr:
    return pl.lit(f"reject: {reason}")


def tally_from_groups(
    path: str,
    fmt: str,
    lines: int,
    events: int,
    groups: pl.DataFrame,
    notes: tuple[str, ...] = (),
) -> FileTally:
    """Tally of a file read by a reducing plan: ``events`` lines became events, ``groups``
    (``_outcome``, ``n``, ``first_lines``) counts the rest per reason."""
    rejected = skipped = 0
    skip_reasons: list[tuple[str, int]] = []
    examples: list[tuple[int, str]] = []
    for outcome, n, first in groups.select(OUTCOME, "n", "first_lines").iter_rows():
        if outcome.startswith("reject: "):
            rejected += n
            examples.extend((int(ln), outcome.removeprefix("reject: ")) for ln in first)
        else:
            skipped += n
            skip_reasons.append((outcome.removeprefix("skip: "), n))
    return FileTally(
        path=path,
        format=fmt,
        lines=lines,
        events=events,
        rejected=rejected,
        skipped=skipped,
        reject_examples=tuple(sorted(examples)[:MAX_EXAMPLES]),
        skip_reasons=tuple(sorted(skip_reasons)),
        notes=notes,
    )
