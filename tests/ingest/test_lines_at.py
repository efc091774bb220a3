"""Evidence read back by line number: one pass, only the lines asked for."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import polars as pl

from analyzer.api import Incident, _quoted
from analyzer.diagnose.finding import Evidence, Finding
from analyzer.ingest.lines import lines_at


def test_lines_at_reads_the_numbered_lines(tmp_path):
    path = tmp_path / "a.log"
    path.write_text("one\r\ntwo\r\nthree\r\n")
    assert lines_at(path, {3, 1, 9}) == {1: "one", 3: "three"}


def test_lines_at_reads_gzip_and_bad_bytes(tmp_path):
    gz = tmp_path / "a.log.gz"
    gz.write_bytes(gzip.compress(b"x\ny\n"))
    assert lines_at(gz, {2}) == {2: "y"}
    bad = tmp_path / "b.log"
    bad.write_bytes(b"ok\n\xff\xfe broken\n")
    assert lines_at(bad, {2})[2].endswith(" broken")


def test_evidence_of_a_counted_line_quotes_it_from_the_file(tmp_path):
    path = tmp_path / "access.log"
    path.write_text("first\nsecond: the last request\n")
    ts = datetime(2024, 5, 7, tzinfo=UTC)
    counted = Evidence(ts=ts, file=str(path), line=2, text="")
    kept = Evidence(ts=ts, file=str(path), line=1, text="kept as it was")
    gone = Evidence(ts=ts, file=str(tmp_path / "gone.log"), line=1, text="")
    finding = Finding("readiness-lag", "warning", "s", 1.0, "fix", (counted, kept, gone))
    inc = Incident(id="inc-1", frames=None, findings=(finding,), timeline=pl.DataFrame())  # type: ignore[arg-type]
    (quoted,) = _quoted((inc,))
    texts = [e.text for e in quoted.findings[0].evidence]
    assert texts == ["second: the last request", "kept as it was", ""]
