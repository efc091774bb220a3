"""Real logs from public repositories against what a person expects of them.

Each file in ``tests/corpus`` is read alone with ``load_events``; ``expected.toml`` says what
a person would count (events / rejected / skipped), which formats they would name, and a few
events with fields. The expectations are the truth, not the analyzer's current output:
failures here are analyzer gaps (see ``benchmarks/corpus_table.py`` for the whole table).
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from analyzer.api import load_events
from analyzer.ingest import FileTally
from analyzer.schema import COLUMNS, KINDS

CORPUS = Path(__file__).parent / "corpus"
SPEC = tomllib.loads((CORPUS / "expected.toml").read_text())["file"]
IDS = [f["path"] for f in SPEC]
TIME_KEYS = {"ts", "ts_prefix", "ts_suffix"}
LOOKUP_KEYS = {"line", "message_contains"}


@cache
def loaded(rel: str) -> tuple[pl.DataFrame, tuple[FileTally, ...]]:
    return load_events([str(CORPUS / rel)])


def tally_of(rel: str) -> FileTally:
    _, tallies = loaded(rel)
    assert len(tallies) == 1, f"one file in, {len(tallies)} tallies out"
    return tallies[0]


def epoch_ns(ts: str) -> int:
    """ISO 8601 UTC with up to nanoseconds -> nanoseconds since the epoch."""
    head, _, frac = ts.rstrip("Z").partition(".")
    whole = datetime.fromisoformat(head).replace(tzinfo=UTC)
    return int(whole.timestamp()) * 1_000_000_000 + int((frac + "000000000")[:9])


def find_event(events: pl.DataFrame, want: dict[str, Any]) -> dict[str, Any]:
    if "line" in want:
        rows = events.filter(pl.col("line") == want["line"])
        where = f"line {want['line']}"
    else:
        rows = events.filter(pl.col("message").str.contains(want["message_contains"], literal=True))
        where = f"message containing {want['message_contains']!r}"
    assert rows.height >= 1, f"no event at {where}"
    return rows.with_columns(pl.col("ts").dt.epoch("ns").alias("_ns")).row(0, named=True)


def check_time(row: dict[str, Any], want: dict[str, Any]) -> list[str]:
    if not TIME_KEYS & want.keys():
        return []
    if row["ts"] is None:
        return ["ts is null"]
    text = row["ts"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    problems = []
    if "ts" in want and row["_ns"] != epoch_ns(want["ts"]):
        problems.append(f"ts {text} ({row['_ns']} ns) != {want['ts']}")
    if "ts_prefix" in want and not text.startswith(want["ts_prefix"]):
        problems.append(f"ts {text} does not start with {want['ts_prefix']}")
    if "ts_suffix" in want and not text[5:].startswith(want["ts_suffix"]):
        problems.append(f"ts {text} does not match --{want['ts_suffix']}")
    return problems


def test_expectations_are_well_formed() -> None:
    on_disk = {
        str(p.relative_to(CORPUS))
        for p in CORPUS.rglob("*")
        if p.is_file() and p.parent != CORPUS and "LICENSES" not in p.parts
    }
    assert on_disk == set(IDS), "every corpus file has expectations and vice versa"
    for f in SPEC:
        n = len((CORPUS / f["path"]).read_bytes().splitlines())
        assert n == f["lines"], f["path"]
        assert f["events"] + f["rejected"] + f["skipped"] + f.get("either", 0) == n, f["path"]
        for want in f.get("expect", []):
            assert LOOKUP_KEYS & want.keys(), f["path"]
            unknown = want.keys() - LOOKUP_KEYS - TIME_KEYS - set(COLUMNS)
            assert not unknown, (f["path"], unknown)
            assert want.get("kind", "log") in KINDS, (f["path"], want["kind"])


@pytest.mark.parametrize("spec", SPEC, ids=IDS)
def test_counts(spec: dict[str, Any]) -> None:
    t = tally_of(spec["path"])
    assert t.reconciles, "every line is an event, a rejection or a skip"
    either = spec.get("either", 0)
    got = {"lines": t.lines, "events": t.events}
    want = {"lines": spec["lines"], "events": spec["events"]}
    assert got == want, f"{dict(t.skip_reasons)} {t.reject_examples}"
    assert spec["rejected"] <= t.rejected <= spec["rejected"] + either, (
        f"rejected {t.rejected}, want {spec['rejected']} (+{either} either): {t.reject_examples}"
    )
    assert spec["skipped"] <= t.skipped <= spec["skipped"] + either, (
        f"skipped {t.skipped}, want {spec['skipped']} (+{either} either): {dict(t.skip_reasons)}"
    )


@pytest.mark.parametrize("spec", SPEC, ids=IDS)
def test_formats(spec: dict[str, Any]) -> None:
    found = set(tally_of(spec["path"]).format.split("+"))
    assert set(spec["formats"]) <= found, f"read as {found}"


@pytest.mark.parametrize("spec", [s for s in SPEC if s.get("expect")], ids=lambda s: s["path"])
def test_expected_events(spec: dict[str, Any]) -> None:
    events, _ = loaded(spec["path"])
    problems = []
    for want in spec["expect"]:
        row = find_event(events, want)
        where = want.get("line", want.get("message_contains"))
        problems += [f"{where}: {p}" for p in check_time(row, want)]
        for key, value in want.items():
            if key in LOOKUP_KEYS | TIME_KEYS:
                continue
            if row[key] != value:
                problems.append(f"{where}: {key} = {row[key]!r}, want {value!r}")
    assert not problems, "\n".join(problems)
