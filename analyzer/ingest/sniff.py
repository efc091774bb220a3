"""Choose a format for a file (or for the payloads inside a runtime wrapper).

Each candidate spec scores the share of sample lines it can parse; a spec's
``sniff_contains`` markers found in the sample add a bonus, their absence costs a little (so
a generic spec beats a product's spec on lines that only share its shape), and ties go to
the higher priority. The sample comes from across the file (``lines.read_sample``), so a
banner or an init phase at the top does not decide. Other text formats with lines of their
own in the sample are the chosen one's companions: each line of the file then goes to the
format that matches it (a journal holds kubelet and containerd lines, a container log klog
and access lines). The choice, its score and the runner-up are reported, never silent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache

from analyzer.formats import FormatSpec
from analyzer.ingest.events import looks_like_event_document, unwrap_event
from analyzer.ingest.jsonl import array_elements, get_path
from analyzer.ingest.records import SNIFF_CHARS, yaml_records

SAMPLE_LINES = 2000
MIN_SCORE = 0.5
#: A strict format that explains only a minority of the sample still names the file when it
#: matched this many lines (a `kubectl logs` dump whose app prints much else besides klog).
MINORITY_HITS, MINORITY_SCORE = 10, 0.2
#: A companion needs this many sample lines of its own.
COMPANION_HITS = 2
MARKER_BONUS = 0.25
UNMARKED_FACTOR = 0.9


@dataclass(frozen=True)
class Score:
    """How one spec explains a sample."""

    spec: FormatSpec
    score: float  # ``share`` with the marker bonus or the unmarked penalty: ranks the specs
    hits: int  # sample lines it parses
    counted: int  # sample lines it did not skip
    share: float = 0.0  # hits / counted: whether the spec fits at all


@dataclass(frozen=True)
class Choice:
    spec: FormatSpec | None
    score: float
    tried: tuple[str, ...]
    ranking: tuple[Score, ...] = field(default=(), repr=False)  # best first
    companions: tuple[FormatSpec, ...] = ()  # other text formats with lines of their own

    @property
    def runner_up(self) -> Score | None:
        return next((s for s in self.ranking if s.spec != self.spec and s.score > 0), None)


@lru_cache(maxsize=4)
def _decoded(lines: tuple[str, ...], prefix: str | None = None) -> tuple[dict[str, object], ...]:
    """The sample's JSON objects, decoded once for every JSON spec that scores it (per line
    ``prefix``: it is stripped first)."""
    strip = re.compile(f"(?:{prefix})") if prefix else None
    out = []
    for line in lines:
        m = strip.match(line) if strip else None
        line = line[m.end() :] if m else line
        if not line.lstrip().startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return tuple(out)


def _line_score(spec: FormatSpec, lines: list[str]) -> tuple[float, int, int]:
    """(share, hits, lines counted): skipped lines count for neither side."""
    if spec.engine in ("text", "cri"):
        pattern = re.compile(spec.pattern or "")
        skips = [re.compile(p) for _, p in spec.skip]
        hits = total = 0
        for line in lines:
            if pattern.match(line):
                hits += 1
                total += 1
            elif not any(s.match(line) for s in skips):
                total += 1
        return (hits / total if total and hits else 0.0), hits, total
    hits = 0
    for obj in _decoded(tuple(lines), spec.prefix):
        if spec.engine == "events":
            hits += unwrap_event(obj) is not None
        elif all(get_path(obj, p) is not None for p in spec.require):
            hits += 1
    # A `#` line is never JSON: a comment (a header someone wrote), on neither side.
    total = sum(not line.startswith("#") for line in lines)
    return (hits / total if total else 0.0), hits, total


def _score(spec: FormatSpec, lines: list[str], head: str) -> Score:
    if spec.engine == "events" and looks_like_event_document(head):
        base, hits, counted = 1.0, 1, 1
    else:
        base, hits, counted = _line_score(spec, lines)
    share = base
    if base > 0 and spec.sniff_contains:
        if any(marker in head for marker in spec.sniff_contains):
            base += MARKER_BONUS
        else:
            # Lines that merely fit the shape (any JSON with `time` and `level`) are not
            # this product's: a spec without markers of its own (generic) wins the tie.
            base *= UNMARKED_FACTOR
    return Score(spec, base, hits, counted, share)


def sample_lines(text: str) -> list[str]:
    """Up to ``SAMPLE_LINES`` non-blank lines, spread evenly over the sample."""
    lines = [ln.rstrip("\r") for ln in text.splitlines() if ln.strip()]
    if len(lines) <= SAMPLE_LINES:
        return lines
    step = len(lines) / SAMPLE_LINES
    return [lines[int(i * step)] for i in range(SAMPLE_LINES)]


def rank(specs: list[FormatSpec], text: str) -> list[Score]:
    """Every spec's score on the sample ``text``, best first (ties: higher priority)."""
    lines = sample_lines(text)
    scores = [_score(spec, lines, text) for spec in specs]
    return sorted(scores, key=lambda s: (s.score, s.spec.priority), reverse=True)


def _acceptable(s: Score) -> bool:
    if max(s.share, s.score) >= MIN_SCORE:  # the markers may carry a borderline share
        return True
    strict = s.spec.engine == "text" and s.spec.priority >= 0
    return strict and s.hits >= MINORITY_HITS and s.share >= MINORITY_SCORE


def choose(specs: list[FormatSpec], text: str) -> Choice:
    """The best spec for a sample of text, or ``Choice(None, ...)`` when none fits."""
    entries = array_elements(text, whole=False)
    # A JSON array or YAML stream document (gcloud's exports): only the wrappers read it
    # record by record.
    wrappers = [s for s in specs if s.payload_fields or s.engine == "events"]
    if entries is not None:
        return _best(wrappers, "\n".join(e for _, e in entries if e))
    docs = yaml_records(text[:SNIFF_CHARS], whole=False)
    if docs:
        choice = _best(wrappers, "\n".join(r for _, r, _ in docs if r))
        if choice.spec is not None:
            return choice  # else `key: value` lines of some text format
    return _best(specs, text)


def _best(specs: list[FormatSpec], text: str) -> Choice:
    ranking = tuple(rank(specs, text))
    tried = tuple(s.name for s in specs)
    best = next((s for s in ranking if _acceptable(s)), None)
    if best is None:
        return Choice(None, 0.0, tried, ranking)
    companions = tuple(
        s.spec
        for s in ranking
        if s.spec != best.spec
        and s.spec.engine == "text"
        and s.spec.priority >= 0
        and s.hits >= COMPANION_HITS
    )
    return Choice(best.spec, best.score, tried, ranking, companions)
