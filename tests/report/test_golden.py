"""The bundled incident's reports, byte for byte (regenerate: pytest --update-golden)."""

import pytest

import analyzer
from analyzer.report import render_json, render_markdown, render_text
from tests.conftest import ROOT, SAMPLE, SAMPLE_FIXED


@pytest.fixture(scope="module")
def story_as_typed() -> analyzer.Analysis:
    """The sample as a user types it from the repository root: relative paths, so the
    wrapped text does not depend on where the repository is checked out."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        return analyzer.analyze([SAMPLE.relative_to(ROOT)])


@pytest.fixture(scope="module")
def story_fixed_as_typed() -> analyzer.Analysis:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        return analyzer.analyze([SAMPLE_FIXED.relative_to(ROOT)])


def test_text_report(story_as_typed, golden):
    golden("pid1-502.txt", render_text(story_as_typed))


def test_markdown_report(story_as_typed, golden):
    golden("pid1-502.md", render_markdown(story_as_typed))


def test_json_report(story_as_typed, golden):
    golden("pid1-502.json", render_json(story_as_typed))


def test_fixed_variant_text_report(story_fixed_as_typed, golden):
    golden("pid1-502-fixed.txt", render_text(story_fixed_as_typed))


def test_color_only_when_asked(story):
    assert "\x1b[" in render_text(story, color=True)
    assert "\x1b[" not in render_text(story)
