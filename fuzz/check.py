"""What must hold for any input bytes (the fuzz targets' oracle, and the regression tests'):
- nothing but ``AnalyzerError`` (our error, naming file and line) is raised;
- every line is accounted for: ``lines == events + rejected + skipped`` for every file;
- the events frame has one row per counted event."""

from __future__ import annotations

import shutil
from pathlib import Path

from analyzer.api import load_events
from analyzer.errors import AnalyzerError


def check_input(work: Path, name: str, data: bytes, as_format: str | None) -> None:
    shutil.rmtree(work / name.split("/")[0], ignore_errors=True)  # one file per run
    path = work / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    try:
        events, tallies = load_events([path], as_format=as_format, year=2024)
    except AnalyzerError:
        return
    for tally in tallies:
        if tally.lines != tally.events + tally.rejected + tally.skipped:
            raise AssertionError(f"lines not accounted for: {tally}")
    counted = sum(t.events for t in tallies)
    if events.height != counted:
        raise AssertionError(f"{events.height} event rows but {counted} counted")
