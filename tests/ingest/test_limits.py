"""Bounded resources: a line over the cap is rejected with its size (never loaded), a
gzip stream stops at the decompression guard, a damaged one yields what inflated, and a
run over its memory budget ends with exit 2 and a message."""

from __future__ import annotations

import gzip
import subprocess
import sys
import zlib

import pytest

from analyzer import limits
from analyzer.api import load_events
from analyzer.ingest.lines import has_long_line, plain_copy
from tests.conftest import SAMPLE

KUBELET = SAMPLE / "nodes" / "gke-gprd-default-pool-1a2b3c4d-x9k2" / "kubelet.log"


def _klog(n: int) -> bytes:
    return (
        f'I0405 10:00:{n:02d}.000000    1234 prober.go:116] "Probe failed" probeType="Readiness" '
        'pod="default/web-1" podUID=abc containerName="app" probeResult="failure" '
        'output="Get: connection refused"\n'
    ).encode()


def test_a_line_over_the_cap_is_rejected_with_its_size(tmp_path):
    path = tmp_path / "kubelet.log"
    path.write_bytes(_klog(1) + b"I0405 10:00:02.000000 " + b"x" * 5000 + b"\n" + _klog(3))
    with limits.using(limits.Limits(max_line_bytes=1024)):
        events, (tally,) = load_events([path], year=2022)
    assert (tally.lines, tally.events, tally.rejected) == (3, 2, 1)
    (example,) = tally.reject_examples
    assert example[0] == 2 and "line of 5022 bytes, over --max-line-bytes (1024)" in example[1]
    assert events["line"].to_list() == [1, 3]  # the lines keep their numbers
    assert any("over --max-line-bytes" in n for n in tally.notes)


@pytest.mark.parametrize("cap", [7, 8, 64, 1000])
def test_capping_keeps_every_short_line_byte_for_byte(tmp_path, cap):
    """Lines of every length around the cap and the piece size, with CRLF and no final
    newline: the short ones come through unchanged, each long one becomes one line."""
    lines = [b"a" * n for n in (0, 1, cap - 1, cap, cap + 1, 3 * cap, 2, cap * 2 + 5, 5)]
    data = b"\n".join(lines[:-1]) + b"\r\n" + lines[-1]
    src = tmp_path / "in.log"
    src.write_bytes(data)
    copy, _ = plain_copy(src, limits=limits.Limits(max_line_bytes=cap))
    out = copy.read_bytes().split(b"\n")
    assert len(out) == len(data.split(b"\n"))
    for before, after in zip(data.split(b"\n"), out, strict=True):
        if len(before) <= cap:
            assert after == before
        else:
            assert f"line of {len(before)} bytes".encode() in after
    assert has_long_line(src, cap) == any(len(x) > cap for x in data.split(b"\n"))


def test_a_plain_file_without_long_lines_is_read_in_place(tmp_path):
    path = tmp_path / "k.log"
    path.write_bytes(b"".join(_klog(i) for i in range(50)))
    assert not has_long_line(path, 1000)
    assert has_long_line(path, 100)  # every line is about 190 bytes


def test_a_gzip_bomb_stops_at_the_guard(tmp_path):
    path = tmp_path / "bomb.log.gz"
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    with path.open("wb") as fh:
        fh.write(c.compress(_klog(1)))
        for _ in range(64):
            fh.write(c.compress(b"a" * (1 << 20)))
        fh.write(c.compress(b"\n" + _klog(2)) + c.flush())
    small = limits.Limits(max_line_bytes=1 << 20, max_inflate_ratio=50, inflate_floor=1 << 20)
    with limits.using(small):
        events, (tally,) = load_events([path], year=2022)
    guard = [n for n in tally.notes if n.startswith("decompression stopped")]
    assert guard and "--max-inflate-ratio" in guard[0]
    assert tally.events == 1  # the line before the bomb; the one after it is never reached
    assert tally.lines == tally.events + tally.rejected + tally.skipped


def test_a_truncated_gzip_yields_what_inflated(tmp_path):
    data = b"".join(_klog(i % 60) for i in range(4000))
    packed = gzip.compress(data)
    path = tmp_path / "kubelet.log.gz"
    path.write_bytes(packed[: len(packed) // 2])
    events, (tally,) = load_events([path], year=2022)
    assert 0 < tally.events < 4000
    assert tally.lines == tally.events + tally.rejected + tally.skipped
    assert any("truncated" in n for n in tally.notes)


def test_concatenated_gzip_members_are_all_read(tmp_path):
    path = tmp_path / "kubelet.log.gz"
    path.write_bytes(gzip.compress(_klog(1)) + gzip.compress(_klog(2)))
    events, (tally,) = load_events([path], year=2022)
    assert tally.events == 2


def test_a_gzipped_log_gives_the_same_events_as_the_plain_one(tmp_path):
    path = tmp_path / "kubelet.log.gz"
    path.write_bytes(gzip.compress(KUBELET.read_bytes()))
    plain, _ = load_events([KUBELET])
    packed, _ = load_events([path])
    cols = ["ts", "kind", "pod", "container", "line", "status"]
    assert packed.select(cols).equals(plain.select(cols))


@pytest.mark.parametrize(
    ("text", "size"),
    [("16MiB", 16 << 20), ("512k", 512 << 10), ("2GB", 2 << 30), ("1048576", 1048576)],
)
def test_sizes(text, size):
    assert limits.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "abc", "-1", "0", "1e30G"])
def test_not_a_size(text):
    with pytest.raises(ValueError, match="not a size"):
        limits.parse_size(text)


def test_over_the_memory_budget_the_run_ends_with_exit_2_and_says_what_to_do(tmp_path):
    """A budget below what reading a 20 MB line costs: exit 2 and the message, no traceback
    and no signal."""
    path = tmp_path / "long.log"
    path.write_bytes(_klog(1)[:-2] + b"x" * 40_000_000 + b'"\n')
    run = subprocess.run(
        [sys.executable, "-m", "analyzer", "report", str(path), "--year", "2022",
         "--max-line-bytes", "100MiB", "--max-memory", "150MiB"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "over the budget of 150.0 MiB (--max-memory) while reading" in run.stderr
    assert str(path) in run.stderr and "Traceback" not in run.stderr


def test_the_limits_options_reach_the_reader(tmp_path):
    path = tmp_path / "kubelet.log"
    path.write_bytes(_klog(1) + b"I0405 " + b"x" * 3000 + b"\n")
    run = subprocess.run(
        [sys.executable, "-m", "analyzer", "report", str(path), "--year", "2022",
         "--format", "json", "--max-line-bytes", "2k"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "over --max-line-bytes (2048)" in run.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "analyzer", "report", str(path), "--max-memory", "lots"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert bad.returncode == 2 and "'lots' is not a size" in bad.stderr


def test_the_default_budget_heeds_a_containers_memory_limit(tmp_path, monkeypatch):
    """In a pod the kernel kills at the cgroup limit, whatever the host has free."""
    limit = tmp_path / "memory.max"
    limit.write_text("1073741824\n")
    monkeypatch.setattr(limits, "CGROUP_LIMITS", (tmp_path / "absent", limit))
    monkeypatch.setattr(limits, "_available", lambda: 64 << 30)
    assert limits.default_budget() == int((1 << 30) * 0.8)
    limit.write_text("max\n")
    assert limits.default_budget() == int((64 << 30) * 0.8)
