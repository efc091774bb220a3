"""Log text is untrusted: it is neutralized in every rendering."""

from __future__ import annotations

import re
import shutil

import analyzer
from analyzer.report import render_json, render_markdown, render_text
from analyzer.report.safe import code_fence, markdown, terminal
from tests.conftest import SAMPLE

HOSTILE_URI = "/x<img src=x onerror=alert(1)>|**bold**`tick`"


def test_safe_helpers():
    assert terminal("a\x1b[2Jb\x07") == "a\\x1b[2Jb\\x07"
    # a newline in a log value must not start a forged report line; no bidi reordering
    assert terminal("a\nb\tc\u202ed") == "a\\x0ab\\x09c\\u202ed"
    assert markdown("<script>|*x*") == "&lt;script&gt;\\|\\*x\\*"
    assert code_fence("a ``` b") == "````"


def _hostile_story(tmp_path):
    root = tmp_path / "story"
    shutil.copytree(SAMPLE, root)
    kubelet = next(root.glob("nodes/*1a2b3c4d*/kubelet.log"))
    text = kubelet.read_text()
    # A raw ESC sequence (clear screen) inside the first readiness failure's output.
    text = text.replace(
        'output="HTTP probe failed with statuscode: 503"',
        'output="HTTP probe failed with statuscode: 503 \x1b[2J\x1b]0;pwned\x07"',
        1,
    )
    kubelet.write_text(text)
    wh = next(root.rglob("*sbx2z*/gitlab-workhorse/0.log"))
    lines = wh.read_text().splitlines()
    last_502 = max(i for i, ln in enumerate(lines) if '"status":502' in ln)
    lines[last_502] = re.sub(r'"uri":"[^"]*"', f'"uri":"{HOSTILE_URI}"', lines[last_502])
    wh.write_text("\n".join(lines) + "\n")
    return analyzer.analyze([root])


def test_terminal_report_has_no_control_characters(tmp_path):
    out = render_text(_hostile_story(tmp_path))
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[2J" in out  # shown, not executed


def test_markdown_has_no_live_html_outside_code_blocks(tmp_path):
    out = render_markdown(_hostile_story(tmp_path))
    assert "\x1b" not in out
    inside = False
    fence = None
    for line in out.splitlines():
        m = re.match(r"^(`{3,})", line)
        if m and (fence is None or m.group(1) == fence):
            inside, fence = (not inside), (m.group(1) if not inside else None)
            continue
        if not inside:
            assert "<img" not in line and "<script" not in line, line
    assert "<img src=x onerror=alert(1)>" in out  # verbatim, but only inside a code block


def test_json_keeps_text_exact(tmp_path):
    import json

    data = json.loads(render_json(_hostile_story(tmp_path)))
    texts = [e["text"] for i in data["incidents"] for f in i["findings"] for e in f["evidence"]]
    assert any(HOSTILE_URI in t for t in texts)
