"""The HTML timeline, opened in a real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

import analyzer
from analyzer.report.html import DIV_ID, timeline_figure, write_timeline
from tests.conftest import ARTIFACTS, SAMPLE

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
XSS = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install -y chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _open(browser, path: Path):
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_function(f"() => document.querySelector('#{DIV_ID} .main-svg') !== null")
    return page, problems, requests


def test_story_timeline_in_chromium(browser, story):
    html = write_timeline(story, ARTIFACTS / "timeline-pid1-502.html")
    page, problems, requests = _open(browser, html)
    assert problems == []
    assert all(u.startswith("file://") for u in requests), requests  # offline: no network
    names = page.evaluate(f"() => document.getElementById('{DIV_ID}').data.map(t => t.name)")
    for name in (
        "requests/s 502",
        "phase: terminating",
        "phase: ready",
        "kill",
        "container_died",
        "probe_failed",
        "shutdown_started",
        "burst_start",
    ):
        assert name in names, name
    lanes = page.evaluate(f"() => document.getElementById('{DIV_ID}').layout.yaxis2.categoryarray")
    assert any(lane.endswith("5d85b6854c-sbx2z · gitlab-workhorse") for lane in lanes)
    notes = page.evaluate(
        f"() => document.getElementById('{DIV_ID}').layout.annotations.map(a => a.text)"
    )
    assert any("sigterm-ignored" in n for n in notes)
    assert any("inc-2 critical" in n for n in notes)
    # The sigterm-ignored span: kill to kill + grace period on the Workhorse lane.
    shapes = page.evaluate(f"() => document.getElementById('{DIV_ID}').layout.shapes")
    spans = [s for s in shapes if s.get("type") == "rect" and s.get("yref") == "y2"]
    assert any("06:03:46.1" in str(s["x0"]) and "06:04:46.1" in str(s["x1"]) for s in spans), spans
    # Jump to the critical incident: the x range follows.
    page.get_by_text("inc-2 (critical)").click()
    rng = page.evaluate(f"() => document.getElementById('{DIV_ID}').layout.xaxis.range")
    assert "06:02:34" in str(rng[0]) and "06:05:15" in str(rng[1]), rng
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "timeline-pid1-502.png"), full_page=True)
    assert (ARTIFACTS / "timeline-pid1-502.png").stat().st_size > 10_000
    page.close()


def test_markup_in_a_log_line_is_inert(browser, tmp_path):
    root = tmp_path / "story"
    shutil.copytree(SAMPLE, root)
    kubelet = next(root.glob("nodes/*1a2b3c4d*/kubelet.log"))
    text = kubelet.read_text()
    text = text.replace('output="HTTP probe failed with statuscode: 503"', f'output="{XSS}"', 1)
    kubelet.write_text(text)
    hostile = analyzer.analyze([root])
    html = write_timeline(hostile, tmp_path / "hostile.html")
    assert "<script>window.__pwned" not in html.read_text()
    page, problems, _ = _open(browser, html)
    assert page.evaluate("() => window.__pwned === undefined")
    assert page.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0
    hover = page.evaluate(
        f"() => document.getElementById('{DIV_ID}').data.filter(t => t.name === 'probe_failed')"
        ".flatMap(t => t.hovertext).join(' ')"
    )
    assert "&lt;script&gt;window.__pwned" in hover
    # Show the injected marker's hover label: plotly renders the escaped text, nothing runs.
    label = page.evaluate(
        f"""() => {{
            const gd = document.getElementById('{DIV_ID}');
            const curve = gd.data.findIndex(t => t.name === 'probe_failed');
            const point = gd.data[curve].hovertext.findIndex(h => h.includes('__pwned'));
            Plotly.Fx.hover(gd, [{{curveNumber: curve, pointNumber: point}}], 'x2y2');
            return document.querySelector('.hoverlayer').textContent;
        }}"""
    )
    assert "<script>window.__pwned = 1</script>" in label  # shown as text
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.__pwned === undefined")
    assert problems == []
    page.close()


def test_html_is_self_contained(tmp_path, story):
    html = write_timeline(story, tmp_path / "t.html").read_text()
    assert not re.search(r"<script[^>]+src=", html)  # plotly.js is inline, no CDN
    assert len(html) > 1_000_000


def test_request_panel_is_aggregated(story):
    fig = timeline_figure(story)
    rate_points = sum(len(t.x) for t in fig.data if t.name.startswith("requests/s"))
    seconds = story.requests["ts"].dt.truncate("1s").n_unique()
    assert rate_points <= 6 * seconds < story.requests.height * 6
    assert rate_points < story.requests.height
