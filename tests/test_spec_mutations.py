"""Every format spec on mutated real samples (its own ``[[samples]]``, taken from public logs):
nothing but our own error type is raised, every line is accounted for, and the same input
gives the same events."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer import formats
from analyzer.api import load_events
from analyzer.errors import AnalyzerError

SPECS = [s for s in formats.builtin() if s.samples]
#: per spec; a longer hunt: ANALYZER_MUTATION_EXAMPLES=500 python -m pytest tests/test_spec_mutations.py
EXAMPLES = int(os.environ.get("ANALYZER_MUTATION_EXAMPLES", "12"))

#: What a damaged log looks like: cut short, a byte flipped or dropped, junk spliced in, a
#: quote or brace lost, a line doubled, endings changed.
MUTATIONS = ("keep", "truncate", "drop", "insert", "flip", "double", "crlf", "strip_quote")


def _mutate(line: bytes, how: str, at: int, junk: bytes) -> bytes:
    at = at % (len(line) + 1)
    if how == "truncate":
        return line[:at]
    if how == "drop":
        return line[:at] + line[at + 1 :]
    if how == "insert":
        return line[:at] + junk + line[at:]
    if how == "flip" and line:
        i = at % len(line)
        return line[:i] + bytes([line[i] ^ 0xFF]) + line[i + 1 :]
    if how == "double":
        return line + b"\n" + line
    if how == "crlf":
        return line + b"\r"
    if how == "strip_quote":
        return line.replace(b'"', b"", 1).replace(b"}", b"", 1)
    return line


def _read(data: bytes, spec: str):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.log"
        path.write_bytes(data)
        try:
            return load_events([path], as_format=spec)
        except AnalyzerError:
            return None


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_mutated_samples(spec):
    samples = [s.line.encode("utf-8") for s in spec.samples]

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        picks=st.lists(
            st.tuples(
                st.integers(0, len(samples) - 1),
                st.sampled_from(MUTATIONS),
                st.integers(0, 10_000),
                st.binary(max_size=8),
            ),
            min_size=1,
            max_size=6,
        )
    )
    def check(picks):
        data = b"\n".join(_mutate(samples[i], how, at, junk) for i, how, at, junk in picks)
        first = _read(data, spec.name)
        if first is None:
            return  # our own error, naming the file and line: allowed
        events, (tally,) = first
        assert tally.lines == tally.events + tally.rejected + tally.skipped
        assert events.height == tally.events
        again, _ = _read(data, spec.name)
        assert events.drop("file").equals(again.drop("file"))

    check()
