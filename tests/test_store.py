"""An export directory read back: damaged ones are input errors naming the file, not crashes."""

import json

import pytest

import analyzer
from analyzer.errors import InputError
from tests.conftest import FIXTURES


@pytest.fixture
def exported(tmp_path):
    result = analyzer.analyze([FIXTURES / "generic_json" / "app.log"])
    return analyzer.export(result, tmp_path / "out")


def test_export_reads_back_every_event(exported):
    # An export holds the reduced rows: plain log lines are counted per minute.
    events, tallies = analyzer.load_reduced([exported])
    assert events["count"].sum() == tallies[0].events == 3
    assert tallies[0].format == "generic_json"


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda d: (d / "events.parquet").write_bytes(b"PAR1 cut"), r"events.parquet: unreadable"),
        (lambda d: (d / "analyzer-export.json").write_text("[1, 2]"), r"not an export manifest"),
        (
            lambda d: (d / "analyzer-export.json").write_text(
                json.dumps(
                    {
                        **json.loads((d / "analyzer-export.json").read_text()),
                        "inputs": [{"path": "x"}],
                    }
                )
            ),
            r"malformed inputs entry",
        ),
    ],
)
def test_a_damaged_export_is_an_input_error(exported, damage, match):
    damage(exported)
    with pytest.raises(InputError, match=match):
        analyzer.load_events([exported])


def test_an_export_alone_keeps_its_quoted_findings_when_the_inputs_are_gone(tmp_path):
    """The export stores findings with their evidence text: a report over it reads neither
    the inputs nor diagnoses again."""
    import shutil

    from tests.conftest import SAMPLE

    copy = tmp_path / "logs"
    shutil.copytree(SAMPLE, copy)
    result = analyzer.analyze([copy])
    analyzer.export(result, tmp_path / "export")
    shutil.rmtree(copy)
    again = analyzer.analyze([tmp_path / "export"])
    assert [i.findings for i in again.incidents] == [i.findings for i in result.incidents]
    assert any(e.text for i in again.incidents for f in i.findings for e in f.evidence)
