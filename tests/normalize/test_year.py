"""The year of yearless (klog / syslog) lines comes from the closest clue.

Lines are the AKS blocks of ``fixtures/kubelet_klog/journald.log`` (VijayRod/demo, MIT;
log-formats.md §1.6): node aks-np2-39852331-vmss000000 on 2024-11-29, kubelet and containerd
interleaved, and the liveness chain of node aks-nodepool1-29985679-vmss00000A on May 16. Where
a test needs another date, node or split, it derives the lines from these by replacing text.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from analyzer.api import load_events

FIXTURE = Path(__file__).parents[1] / "fixtures" / "kubelet_klog" / "journald.log"
NODE = "aks-np2-39852331-vmss000000"
ALL = FIXTURE.read_text(encoding="utf-8").splitlines()
BLOCK = [line for line in ALL if f" {NODE} " in line]  # 5 kubelet lines, 1 containerd line
KUBELET = [line for line in BLOCK if " kubelet[" in line]
CONTAINERD = [line for line in BLOCK if " containerd[" in line]
LIVENESS = [line for line in ALL if " aks-nodepool1-29985679-vmss00000A " in line]


def _write(path: Path, lines: list[str], mtime: datetime | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def _note(tallies, path: Path) -> str:
    (tally,) = [t for t in tallies if t.path == str(path)]
    (note,) = [n for n in tally.notes if n.startswith("klog times have no year")]
    return note


def _years(events: pl.DataFrame, path: Path, source: str = "kubelet") -> set[int]:
    rows = events.filter((pl.col("file") == str(path)) & (pl.col("source") == source))
    assert rows.height
    return set(rows["ts"].dt.year().to_list())


def _moved(lines: list[str], node: str | None = None, year: str | None = None) -> list[str]:
    """The lines on another node, or with containerd's year changed."""
    out = []
    for line in lines:
        if node is not None:
            line = line.replace(f" {NODE} ", f" {node} ")
        if year is not None:
            line = line.replace('time="2024-', f'time="{year}-')
        out.append(line)
    return out


def test_a_journal_dates_kubelet_lines_by_its_containerd_lines(tmp_path):
    # The file's mtime says 2026 (copied later): the containerd lines beside say 2024.
    path = _write(tmp_path / "journal.log", BLOCK, datetime(2026, 6, 1, tzinfo=UTC))
    events, tallies = load_events([path])
    assert _years(events, path) == {2024}
    kill = events.filter(pl.col("kind") == "kill").sort("ts")
    assert kill["ts"].to_list()[0] == datetime(2024, 11, 29, 18, 20, 18, 242970, tzinfo=UTC)
    assert "year 2024 from dated containerd lines of the same file" in _note(tallies, path)


def _new_year(line: str) -> str:
    """The block moved to the turn of 2023/2024: the first two kubelet lines (18:20:18.24)
    and the containerd line to Dec 31 23:59:59, the later kubelet lines to Jan 1."""
    early = ".24" in line.split("]: ", 1)[1][:30] or " containerd[" in line
    if early:
        line = line.replace("Nov 29 18:20:18", "Dec 31 23:59:59").replace(
            "I1129 18:20:18", "I1231 23:59:59"
        )
        return line.replace('time="2024-11-29T18:20:18', 'time="2023-12-31T23:59:59')
    return line.replace("Nov 29 18:20:18", "Jan 01 00:00:00").replace(
        "I1129 18:20:18", "I0101 00:00:00"
    )


def test_new_year_in_a_journal_klog_lines_of_january_follow_december_containerd(tmp_path):
    lines = [_new_year(line) for line in BLOCK]
    only_january = [line for line in lines if "I1231" not in line]
    assert len(only_january) == 4  # containerd (Dec 31 2023) + three kubelet lines (Jan 1)
    path = _write(tmp_path / "journal.log", only_january, datetime(2026, 6, 1, tzinfo=UTC))
    events, tallies = load_events([path])
    assert _years(events, path) == {2024}
    assert "year 2024 from dated containerd lines" in _note(tallies, path)
    # With December kubelet lines too, the file rolls over: December 2023, January 2024.
    both = _write(tmp_path / "both.log", lines, datetime(2026, 6, 1, tzinfo=UTC))
    events, tallies = load_events([both])
    kubelet = events.filter((pl.col("file") == str(both)) & (pl.col("source") == "kubelet"))
    assert kubelet.sort("line")["ts"].dt.year().to_list() == [2023, 2023, 2024, 2024, 2024]
    assert "year 2023 from dated containerd lines" in _note(tallies, both)


def _split_node_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The node's kubelet lines (yearless), its containerd line (dated) in another file, and
    three lines of another node, same day but 2023: closer in number, of no relation."""
    late = datetime(2026, 6, 1, tzinfo=UTC)
    kubelet = _write(tmp_path / "kubelet.log", KUBELET, late)
    containerd = _write(tmp_path / "containerd.log", CONTAINERD)
    decoy = _write(
        tmp_path / "other-node.log",
        _moved(CONTAINERD * 3, node="aks-np2-39852331-vmss000001", year="2023"),
    )
    return kubelet, containerd, decoy


def test_a_dated_file_of_the_same_node_wins_over_other_inputs(tmp_path):
    kubelet, containerd, decoy = _split_node_files(tmp_path)
    events, tallies = load_events([tmp_path])
    assert _years(events, kubelet) == {2024}
    assert _years(events, decoy, "runtime") == {2023}
    note = _note(tallies, kubelet)
    assert f"year 2024 from dated files of node {NODE}: {containerd}" in note
    assert str(decoy) not in note


def test_without_the_node_the_overlapping_inputs_decide(tmp_path):
    kubelet, containerd, decoy = _split_node_files(tmp_path)
    containerd.unlink()
    events, tallies = load_events([tmp_path])
    # Both years put the other node's lines on the kubelet's span; 2023 has more of them.
    assert _years(events, kubelet) == {2023}
    assert f"year 2023 from inputs overlapping its span: {decoy}" in _note(tallies, kubelet)


def test_a_raw_klog_file_takes_its_node_from_its_path(tmp_path):
    raw = [line.split("]: ", 1)[1] for line in KUBELET]  # journald MESSAGE only: no host
    kubelet = _write(
        tmp_path / "nodes" / NODE / "kubelet.log", raw, datetime(2026, 6, 1, tzinfo=UTC)
    )
    containerd = _write(tmp_path / "containerd.log", CONTAINERD)
    _write(
        tmp_path / "other-node.log",
        _moved(CONTAINERD * 3, node="aks-np2-39852331-vmss000001", year="2023"),
    )
    events, tallies = load_events([tmp_path])
    assert _years(events, kubelet) == {2024}
    assert f"from dated files of node {NODE}: {containerd}" in _note(tallies, kubelet)


def test_an_input_of_another_era_does_not_date_a_yearless_file(tmp_path):
    # The May 16 liveness chain written in May 2024, beside a node's containerd line of
    # November 2018: more than 31 days from May 16 in every year.
    kubelet = _write(tmp_path / "kubelet.log", LIVENESS, datetime(2024, 5, 17, tzinfo=UTC))
    old = _write(tmp_path / "old" / "containerd.log", _moved(CONTAINERD, year="2018"))
    events, tallies = load_events([tmp_path])
    assert _years(events, old, "runtime") == {2018}
    assert _years(events, kubelet) == {2024}
    note = _note(tallies, kubelet)
    assert "year 2024 from the file's modification time; no dated input overlaps its span" in note
    assert str(old) in note  # named as the nearest, and how far it is


def test_year_flag_overrides_every_clue(tmp_path):
    path = _write(tmp_path / "journal.log", BLOCK, datetime(2026, 6, 1, tzinfo=UTC))
    events, tallies = load_events([path], year=2021)
    assert _years(events, path) == {2021}
    assert _years(events, path, "runtime") == {2024}  # a dated line keeps its own year
    assert "year 2021 from --year" in _note(tallies, path)


def test_a_short_iso_journal_needs_no_year(tmp_path):
    # `journalctl -o short-iso`: the prefix carries year and offset; no year note.
    lines = [line.replace("Nov 29 18:20:18", "2024-11-29T18:20:18+0000") for line in KUBELET]
    path = _write(tmp_path / "journal.log", lines, datetime(2026, 6, 1, tzinfo=UTC))
    events, tallies = load_events([path])
    assert _years(events, path) == {2024}
    (tally,) = tallies
    assert not [n for n in tally.notes if "no year" in n]


def test_short_iso_lines_date_the_short_ones_of_the_same_file(tmp_path):
    # Two exports of one node concatenated: the first in `short-iso`, the rest in `short`.
    iso = [line.replace("Nov 29 18:20:18", "2024-11-29T18:20:18+0000") for line in KUBELET[:2]]
    path = _write(tmp_path / "journal.log", iso + KUBELET[2:], datetime(2026, 6, 1, tzinfo=UTC))
    events, tallies = load_events([path])
    assert _years(events, path) == {2024}
    assert "year 2024 from dated short-iso prefixed lines of the same file" in _note(tallies, path)
