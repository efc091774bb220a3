from __future__ import annotations

from pathlib import Path

import pytest

import analyzer

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = ROOT / "sample_logs" / "pid1-502"
SAMPLE_FIXED = ROOT / "sample_logs" / "pid1-502-fixed"


GOLDEN = Path(__file__).parent / "golden"
ARTIFACTS = ROOT / "artifacts"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/*")


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    """Compare text with tests/golden/NAME, the repository path and version normalized."""

    def check(name: str, actual: str) -> None:
        actual = actual.replace(str(ROOT), "{root}").replace(analyzer.__version__, "{version}")
        path = GOLDEN / name
        if request.config.getoption("--update-golden"):
            path.parent.mkdir(exist_ok=True)
            path.write_text(actual, encoding="utf-8")
        expected = path.read_text(encoding="utf-8")
        assert actual == expected, f"golden mismatch: {name} (rerun with --update-golden)"

    return check


@pytest.fixture(scope="session")
def story() -> analyzer.Analysis:
    return analyzer.analyze([SAMPLE])


@pytest.fixture(scope="session")
def story_fixed() -> analyzer.Analysis:
    return analyzer.analyze([SAMPLE_FIXED])


@pytest.fixture
def write(tmp_path: Path):
    """Write text (or bytes) to a file under tmp_path and return its path."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write


def assert_same_critical_incident(result: analyzer.Analysis, story: analyzer.Analysis) -> None:
    """``result`` (the story read in another shape) finds the story's critical incident."""
    assert all(t.rejected == 0 for t in result.inputs)
    (inc,) = [i for i in result.incidents if i.severity == "critical"]
    (want,) = [i for i in story.incidents if i.severity == "critical"]
    assert [(f.code, f.container) for f in inc.findings] == [
        (f.code, f.container) for f in want.findings
    ]
    assert (inc.start, inc.end, inc.status_counts(), inc.frames.pods) == (
        want.start,
        want.end,
        want.status_counts(),
        want.frames.pods,
    )
