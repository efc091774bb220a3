"""Choose a format for a file (or for the payloads inside a runtime wrapper).

Each candidate spec scores the share of sample lines it can parse; a spec's
``sniff_contains`` markers found in the sample add a bonus, their absence costs a little (so
a generic spec beats a product's spec on lines that only share its shape), and ties go to
the higher priority. The choice and its score are reported, never silent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from analyzer.formats import FormatSpec
from analyzer.ingest.events import looks_like_event_document, unwrap_event
from analyzer.ingest.jsonl import array_elements

SAMPLE_LINES = 200
MIN_SCORE = 0.5
MARKER_BONUS = 0.25
UNMARKED_FACTOR = 0.9


@dataclass(frozen=True)
class Choice:
    spec: FormatSpec | None
    score: float
    tried: tuple[str, ...]


def _has_path(obj: dict[str, object], path: str) -> bool:
    node: object = obj
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _line_score(spec: FormatSpec, lines: list[str]) -> float:
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
        return hits / total if total and hits else 0.0
    hits = 0
    for line in lines:
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            continue
        if not isinstance(obj, dict):
            continue
        if spec.engine == "events":
            hits += unwrap_event(obj) is not None
        elif all(_has_path(obj, p) for p in spec.require):
            hits += 1
    return hits / len(lines) if lines else 0.0


def score(spec: FormatSpec, lines: list[str], head: str) -> float:
    """How well ``spec`` explains the sample (0 = not at all)."""
    if spec.engine == "events" and looks_like_event_document(head):
        base = 1.0
    else:
        base = _line_score(spec, lines)
    if base > 0 and spec.sniff_contains:
        if any(marker in head for marker in spec.sniff_contains):
            base += MARKER_BONUS
        else:
            # Lines that merely fit the shape (any JSON with `time` and `level`) are not
            # this product's: a spec without markers of its own (generic) wins the tie.
            base *= UNMARKED_FACTOR
    return base


def choose(specs: list[FormatSpec], head: str) -> Choice:
    """The best spec for a sample of text, or ``Choice(None, ...)`` when none fits."""
    lines = [ln.rstrip("\r") for ln in head.splitlines() if ln.strip()][:SAMPLE_LINES]
    scored = specs
    entries = array_elements(head, whole=False)
    if entries is not None:
        # A JSON array document (gcloud's export): only the wrappers read it entry by entry.
        lines = [e for _, e in entries if e][:SAMPLE_LINES]
        scored = [s for s in specs if s.payload_fields or s.engine == "events"]
    best: tuple[float, int, FormatSpec] | None = None
    for spec in scored:
        s = score(spec, lines, head)
        if s >= MIN_SCORE and (best is None or (s, spec.priority) > best[:2]):
            best = (s, spec.priority, spec)
    tried = tuple(s.name for s in specs)
    if best is None:
        return Choice(None, 0.0, tried)
    return Choice(best[2], best[0], tried)
