"""Line endings and encodings other than UTF-8 with LF: every line read, nothing lost."""

from __future__ import annotations

import gzip

import pytest

from analyzer.api import load_events
from tests.conftest import SAMPLE

#: a real node journal: kubelet and containerd lines (the story's, see sample_logs/README.md)
KUBELET = SAMPLE / "nodes" / "gke-gprd-default-pool-1a2b3c4d-x9k2" / "kubelet.log"


def _tally(path):
    events, tallies = load_events([str(path)])
    (t,) = tallies
    return events, t


@pytest.fixture(scope="module")
def as_read():
    return _tally(KUBELET)


def _same_events(events, reference):
    cols = ["ts", "kind", "pod", "container", "line"]
    assert events.select(cols).equals(reference.select(cols))


@pytest.mark.parametrize(
    ("name", "write", "note"),
    [
        ("cr.log", lambda t: t.replace("\n", "\r").encode(), "lone CR"),
        (
            "mixed.log",  # every third line ends in a lone CR, the rest in CRLF or LF
            lambda t: "".join(
                line + ("\r", "\r\n", "\n")[i % 3] for i, line in enumerate(t.splitlines())
            ).encode(),
            "lone CR",
        ),
        ("utf16le.log", lambda t: t.encode("utf-16"), "UTF-16 (little-endian)"),
        ("utf16be.log", lambda t: b"\xfe\xff" + t.encode("utf-16-be"), "UTF-16 (big-endian)"),
        ("utf32.log", lambda t: t.encode("utf-32"), "UTF-32"),
        ("utf16.log.gz", lambda t: gzip.compress(t.encode("utf-16")), "UTF-16"),
    ],
)
def test_every_line_is_read_and_the_report_says_how(tmp_path, as_read, name, write, note):
    reference, ref_tally = as_read
    path = tmp_path / name
    path.write_bytes(write(KUBELET.read_text(encoding="utf-8")))
    events, tally = _tally(path)
    assert tally.path == str(path)  # the report names the file given, not the decoded copy
    assert (tally.lines, tally.events, tally.rejected, tally.skipped) == (
        ref_tally.lines,
        ref_tally.events,
        ref_tally.rejected,
        ref_tally.skipped,
    )
    assert any(note in n for n in tally.notes)
    _same_events(events, reference)
    assert set(events["file"]) == {str(path)}


def test_crlf_alone_needs_no_copy(tmp_path, as_read):
    reference, _ = as_read
    path = tmp_path / "crlf.log"
    path.write_bytes(KUBELET.read_bytes().replace(b"\n", b"\r\n"))
    events, tally = _tally(path)
    assert not any("CR" in n for n in tally.notes)
    _same_events(events, reference)


def test_a_stray_cr_inside_a_line_stays_in_it(tmp_path, as_read):
    reference, ref_tally = as_read
    lines = KUBELET.read_text(encoding="utf-8").split("\n")
    lines[3] = lines[3] + "\rprogress 100%"  # one line of a terminal's output
    path = tmp_path / "stray.log"
    path.write_text("\n".join(lines), encoding="utf-8")
    events, tally = _tally(path)
    assert tally.lines == ref_tally.lines
    assert not any("CR" in n for n in tally.notes)


def test_a_quoted_line_of_a_decoded_file_is_the_line_as_read(tmp_path):
    """--strict quotes the bad line: of a UTF-16 file, its decoded text (read back from the
    copy the file was read through, not from the UTF-16 bytes)."""
    from analyzer.errors import BadLineError

    lines = KUBELET.read_text().splitlines()[:3]
    path = tmp_path / "kubelet.log"
    path.write_bytes("\n".join([lines[0], "I0516 not a kubelet line", lines[1]]).encode("utf-16"))
    with pytest.raises(BadLineError) as err:
        load_events([str(path)], strict=True)
    assert ":2" in str(err.value) and "I0516 not a kubelet line" in str(err.value)
