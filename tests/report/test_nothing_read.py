"""A report over inputs of which no line became an event says so, in text and Markdown: an
empty report must not read as "nothing happened"."""

from __future__ import annotations

from analyzer.api import analyze
from analyzer.report import render_markdown, render_text


def test_no_event_from_any_line_is_said(tmp_path):
    path = tmp_path / "app.log"
    path.write_text('{"msg":"a","status":502}\n{"msg":"b","status":502}\n')
    analysis = analyze([str(path)], as_format="workhorse_json")
    for out in (render_text(analysis), render_markdown(analysis)):
        assert "none of the 2 line(s) read became an event" in " ".join(out.split())


def test_a_report_with_events_does_not_say_it(story):
    assert "became an event" not in render_text(story)
