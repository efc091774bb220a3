"""Every input a fuzz target (``fuzz/``) crashed on, replayed as that target ran it: each must
now pass the targets' oracle (``fuzz/check.py``: only our error type, every line counted,
one event row per counted event). A new crash: copy ``fuzz/crashes/<target>/crash-*`` to
``tests/fixtures/fuzz/<target>/``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).parents[2] / "fuzz"
sys.path.insert(0, str(FUZZ))

from check import check_input  # noqa: E402
from targets import TARGETS  # noqa: E402

CRASHES = sorted((Path(__file__).parents[1] / "fixtures" / "fuzz").glob("*/crash-*"))


def test_every_crash_names_a_target():
    assert CRASHES, "no fuzz crash inputs found"
    assert {c.parent.name for c in CRASHES} <= set(TARGETS)


@pytest.mark.parametrize("crash", CRASHES, ids=lambda p: f"{p.parent.name}/{p.name[6:14]}")
def test_fuzz_crash_replayed(crash, tmp_path):
    made = TARGETS[crash.parent.name](crash.read_bytes())
    assert made is not None
    check_input(tmp_path, *made)


def test_pod_named_without_namespace_does_not_break_path_attribution(tmp_path):
    """The objects crash, reduced: an event naming a pod with no namespace beside one with a
    namespace, and a file whose lines name no pod (sorting the pods compared None with str)."""
    from analyzer.api import load_events

    (tmp_path / "events.ndjson").write_text(
        '{"kind":"Event","involvedObject":{"kind":"Pod","name":"web-1"},"reason":"Killing",'
        '"message":"Stopping container app","lastTimestamp":"2024-01-01T00:00:01Z"}\n'
        '{"kind":"Event","involvedObject":{"kind":"Pod","name":"web-2","namespace":"prod"},'
        '"reason":"Killing","message":"Stopping container app",'
        '"lastTimestamp":"2024-01-01T00:00:02Z"}\n'
    )
    (tmp_path / "web-1_app.log").write_text(
        '{"time":"2024-01-01T00:00:03Z","status":502,"msg":"request"}\n'
    )
    events, tallies = load_events([tmp_path])
    assert sum(t.events for t in tallies) == events.height
    assert "web-1" in events["pod"].to_list()
