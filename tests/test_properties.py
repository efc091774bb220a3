"""Invariants for arbitrary input: every line is counted once, and nothing crashes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer import formats
from analyzer.api import load_events

LINE = st.one_of(
    st.binary(max_size=120),
    st.sampled_from(
        [
            b'{"level":"info","msg":"access","status":502,"time":"2022-04-05T06:04:04Z"}',
            b'{"level":"info","msg":"access","status":{"x":1},"time":"2022-04-05T06:04:04Z"}',
            b'{"level":"info","time":"not a time"}',
            b'I0405 06:03:49.000001    2345 prober.go:107] "Probe failed" probeType="Readiness"',
            b"2022-04-05T06:04:04.1Z stdout P part",
            b'2022-04-05T06:04:04.2Z stdout F {"level":"info","time":"2022-04-05T06:04:04Z"}',
            b"",
            b"\t continuation",
            b"[1,2,3]",
        ]
    ),
)
FORMATS = [None, *(s.name for s in formats.builtin() if s.standalone)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(LINE, max_size=30), fmt=st.sampled_from(FORMATS), newline=st.booleans())
def test_every_line_accounted_for(lines, fmt, newline):
    data = b"\n".join(lines) + (b"\n" if newline else b"")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.log"
        path.write_bytes(data)
        events, (tally,) = load_events([path], as_format=fmt)
        assert tally.lines == tally.events + tally.rejected + tally.skipped
        assert events.height == tally.events
        assert events["file"].null_count() == 0 and events["line"].null_count() == 0
        if tally.lines:
            assert events["line"].is_unique().all()
            assert events["line"].max() is None or events["line"].max() <= tally.lines
