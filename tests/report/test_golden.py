"""The bundled incident's reports, byte for byte (regenerate: pytest --update-golden)."""

from analyzer.report import render_json, render_markdown, render_text


def test_text_report(story, golden):
    golden("pid1-502.txt", render_text(story))


def test_markdown_report(story, golden):
    golden("pid1-502.md", render_markdown(story))


def test_json_report(story, golden):
    golden("pid1-502.json", render_json(story))


def test_fixed_variant_text_report(story_fixed, golden):
    golden("pid1-502-fixed.txt", render_text(story_fixed))


def test_color_only_when_asked(story):
    assert "\x1b[" in render_text(story, color=True)
    assert "\x1b[" not in render_text(story)
