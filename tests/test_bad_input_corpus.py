"""The generated bad-input corpus (``tests/badinput.py``), each case analyzed whole and
rendered every way: no traceback (only our error, where a case expects it), every line of
every file accounted for, valid JSON out, nothing a log says rendered as markup or as a
terminal escape, and the same bytes out for the same input."""

from __future__ import annotations

import json
import os

import pytest

from analyzer import limits
from analyzer.api import analyze
from analyzer.errors import AnalyzerError
from analyzer.report import render_json, render_markdown, render_text
from tests.badinput import INJECTED, SMALL, cases, write

CASES = cases()


def _no_constants(name: str) -> None:
    raise AssertionError(f"{name} in JSON output")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input_case(case, tmp_path):
    root = write(case, tmp_path / "in")
    with limits.using(SMALL):
        try:
            analysis = analyze([str(root)])
        except AnalyzerError as err:
            assert case.error is not None and case.error in str(err), err
            return
    assert case.error is None, "expected our error"
    assert len(analysis.inputs) == len(case.files)
    for t in analysis.inputs:
        assert t.lines == t.events + t.rejected + t.skipped, t
    case.check(analysis)

    out = render_json(analysis)
    json.loads(out, parse_constant=_no_constants)  # NaN / Infinity are not JSON
    text = render_text(analysis, color=True)
    markdown = render_markdown(analysis)
    for rendered in (out, text, markdown):
        assert "\x1b]" not in rendered and "\x1b[2J" not in rendered and "\x07" not in rendered
    for rendered in (text, markdown):
        assert "<script>" not in rendered and "<img" not in rendered
    assert "](javascript:" not in markdown

    with limits.using(SMALL):
        again = analyze([str(root)])
    assert render_json(again) == out


def test_the_markup_case_renders_escaped_html(tmp_path):
    from analyzer.api import write_timeline

    (case,) = [c for c in CASES if c.name == "markup-and-escapes"]
    analysis = analyze([str(write(case, tmp_path / "in"))])
    html = write_timeline(analysis, tmp_path / "t.html").read_text()
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert INJECTED[:4] not in html


def test_special_paths_are_listed_not_lost(tmp_path):
    """FIFO, dangling link and link loop inside a directory: listed as not read, with why."""
    root = tmp_path / "in"
    root.mkdir()
    (root / "kubelet.log").write_bytes(CASES[0].files["kubelet.log.gz"][:0] + b"")
    os.mkfifo(root / "pipe")
    (root / "dangling").symlink_to(root / "missing")
    (root / "loop").symlink_to(root / "loop")
    analysis = analyze([str(root)])
    formats = {t.path.rsplit("/", 1)[1]: (t.format, t.notes) for t in analysis.inputs}
    assert formats["pipe"][0] == formats["dangling"][0] == formats["loop"][0] == "not-read"
    assert formats["kubelet.log"][0] == "empty"
