"""How right the analyzer is on simulated bundles: write a scenario, analyze it, grade it.

Used by the accuracy suite (``tests/simulate/test_accuracy.py``) and by
``benchmarks/accuracy.py`` (the larger matrix with precision and recall per cause). The pipeline
is imported only when a bundle is analyzed, so ``analyzer.simulate`` stays usable alone.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from analyzer.simulate.grade import ALARMS, Grade, grade
from analyzer.simulate.model import Bundle, Params


@dataclass(frozen=True)
class Run:
    scenario: str
    params: Params
    grade: Grade


def evaluate(
    scenario: str, params: Params, workdir: Path, *, build: Callable[[str, Params], Bundle]
) -> Run:
    """Write ``scenario`` under ``workdir``, analyze it and grade the incidents found."""
    from analyzer.api import analyze
    from analyzer.simulate import write

    bundle = build(scenario, params)
    out = workdir / f"{scenario}-{params.proxy or 'default'}-{params.seed}"
    shutil.rmtree(out, ignore_errors=True)
    write(bundle, out)
    analysis = analyze([out])
    return Run(scenario, params, grade(bundle.truth, analysis.incidents))


@dataclass
class CauseScore:
    planted: int = 0  # truth incidents of this cause
    named: int = 0  # found incidents whose top finding is this cause
    right: int = 0  # truth incidents found with this cause on top
    interval_right: int = 0  # of those, with the interval within tolerance

    @property
    def precision(self) -> float | None:
        return self.right / self.named if self.named else None

    @property
    def recall(self) -> float | None:
        return self.right / self.planted if self.planted else None


def score(runs: Iterable[Run]) -> tuple[dict[str, CauseScore], int, Counter[str]]:
    """Per cause: planted, named, right; the false alarms raised on healthy scenarios; and
    every false alarm counted by the top finding it carried (``None`` for unexplained)."""
    scores: dict[str, CauseScore] = {}
    healthy_alarms = 0
    alarms_by_top: Counter[str] = Counter()
    for run in runs:
        g = run.grade
        for m in g.matches:
            s = scores.setdefault(m.truth.cause, CauseScore())
            s.planted += 1
            if m.found is not None and m.cause_right:
                s.right += 1
                s.interval_right += m.interval_right
            if m.top is not None:
                scores.setdefault(m.top, CauseScore()).named += 1
        for inc in g.false_alarms:
            top = inc.findings[0].code if inc.findings else "(unexplained)"
            if inc.findings:
                scores.setdefault(top, CauseScore()).named += 1
            alarms_by_top[top] += 1
        if g.truth.healthy:
            healthy_alarms += sum(inc.severity in ALARMS for inc in g.false_alarms)
    return scores, healthy_alarms, alarms_by_top


def table(scores: dict[str, CauseScore]) -> str:
    """The per-cause table, as Markdown."""

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{100 * x:.0f} %"

    rows = [
        "| cause | planted | named | right | precision | recall | interval ok |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for cause in sorted(scores):
        s = scores[cause]
        rows.append(
            f"| {cause} | {s.planted} | {s.named} | {s.right} | {pct(s.precision)} | "
            f"{pct(s.recall)} | {s.interval_right}/{s.right} |"
        )
    return "\n".join(rows)
