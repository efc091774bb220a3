"""``Analysis`` reads its lazy members through the readers ``analyze`` gives it."""

from __future__ import annotations

import pytest

import analyzer
from analyzer.result import Analysis
from tests.conftest import SAMPLE


def test_an_export_reads_its_correlated_rows_when_asked(tmp_path):
    result = analyzer.analyze([SAMPLE])
    analyzer.export(result, tmp_path / "export")
    again = analyzer.analyze([tmp_path / "export"])
    assert again.reduced_rows is None  # not read by analyze: only a report that draws needs it
    assert again.reduced.equals(result.reduced)
    assert again.events.height == again.reduced.height


def test_an_analysis_built_without_readers_says_so():
    bare = Analysis(inputs=(), correlation=None, incidents=(), paths=("x",))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no reader for 'events'"):
        _ = bare.events
