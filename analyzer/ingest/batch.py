"""Many small files read as one: a ``kubectl cluster-info dump --output-directory`` or a
log collector's bundle holds thousands of files of a few lines each, and a plan per file
costs tens of milliseconds. Small plain files of one line format are read into one frame
(their ``file`` and ``line`` per row) and parsed by one plan per format.

What is batched: local regular files of at most ``SMALL_FILE`` bytes, UTF-8 with LF or CRLF
endings, in a line format (text or JSON lines, no wrapper, no document), read alike by at
least 8 files. Each is sniffed as it would be alone, once per shape of text. Everything else
(gzip, other encodings, wrappers, Kubernetes objects, unknown formats) is read file by file.
The result is the same as reading each file alone (``tests/ingest/test_batch.py``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from analyzer import formats
from analyzer.formats import FormatSpec
from analyzer.ingest import (
    Chunk,
    ParsedFile,
    _any_taken,
    _base_frame,
    _comments,
    _only,
    _own_program,
    _route_order,
    _routes,
)
from analyzer.ingest.jsonl import parse_jsonl
from analyzer.ingest.lines import clean_line, needs_normalizing
from analyzer.ingest.sniff import choose
from analyzer.ingest.text import parse_text

SMALL_FILE = 64 * 1024


@dataclass(frozen=True)
class SmallFile:
    path: Path
    shown: str
    text: str
    mtime: float


@dataclass(frozen=True)
class Batch:
    """Small files parsed as one: ``parsed`` is their chunks over all their lines."""

    parsed: ParsedFile
    files: tuple[SmallFile, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.shown for f in self.files)


def _small(path: Path) -> SmallFile | None:
    """``path`` as a small plain UTF-8 file, or None (it is read on its own)."""
    try:
        if path.is_symlink() or not path.is_file():
            return None
        stat = path.stat()
        if not 0 < stat.st_size <= SMALL_FILE:
            return None
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b" or data[:3] == b"\xef\xbb\xbf" or b"\x00" in data:
            return None
        if needs_normalizing(data) is not None:
            return None
        text = data.decode("utf-8")
        str(path).encode("utf-8")
    except (OSError, UnicodeError):
        return None
    if not text.strip():
        return None
    return SmallFile(path, str(path), text, stat.st_mtime)


def _shapes(files: list[SmallFile]) -> list[int]:
    """Each file's text with its digits as 9, hashed: files of one shape sniff alike (a
    format's patterns tell digits from other characters, not one digit from another)."""
    texts = pl.Series([f.text for f in files], dtype=pl.String)
    return pl.select(texts.str.replace_all(r"\d", "9").hash()).to_series().to_list()


def _year(mtime: float) -> int:
    return datetime.fromtimestamp(mtime, UTC).year


def _batchable(spec: FormatSpec | None) -> bool:
    return (
        spec is not None
        and spec.engine in ("text", "jsonl")
        and not spec.payload_field
        and spec.standalone
    )


def read_small_files(
    paths: list[Path], as_format: str | None = None, *, least: int = 8
) -> tuple[list[Batch], list[Path]]:
    """The small files of ``paths`` in batches (at least ``least`` files read alike), and
    the paths read one by one, in their order.

    Each file is sniffed as it would be alone (its whole text is its sample), once per
    shape (``_shapes``); files read alike (format, the formats sharing their lines,
    whether a container wrote them, the year they were written) form a batch."""
    small: list[SmallFile] = []
    alone: list[Path] = []
    for path in paths:
        found = _small(path) if isinstance(path, Path) else None
        if found is None:
            alone.append(path)
        else:
            small.append(found)
    standalone = [s for s in formats.specs() if s.standalone]
    forced = formats.get(as_format) if as_format else None
    choices: dict[int, tuple[FormatSpec | None, tuple[FormatSpec, ...]]] = {}
    groups: dict[tuple[str, tuple[str, ...], bool, int], list[SmallFile]] = defaultdict(list)
    specs: dict[tuple[str, tuple[str, ...], bool, int], tuple[FormatSpec, tuple[FormatSpec, ...]]]
    specs = {}
    for f, shape in zip(small, _shapes(small) if small else [], strict=True):
        if shape not in choices:
            choice = None if forced else choose(standalone, f.text)
            choices[shape] = (forced, ()) if choice is None else (choice.spec, choice.companions)
        spec, companions = choices[shape]
        if spec is None or not _batchable(spec):
            alone.append(f.path)
            continue
        key = (spec.name, tuple(c.name for c in companions), not _own_program(spec, f.text))
        key = (*key, _year(f.mtime))  # the year of writing dates yearless lines: one per batch
        groups[key].append(f)
        specs[key] = (spec, companions)
    batches = []
    for key, files in groups.items():
        if len(files) < least:
            alone.extend(f.path for f in files)
            continue
        spec, companions = specs[key]
        batches.append(_batch(files, spec, companions, contained=key[2]))
    order = {p: i for i, p in enumerate(paths)}
    return batches, sorted(alone, key=lambda p: order[p])


def _lines(files: list[SmallFile]) -> pl.DataFrame:
    """``file, line, raw`` of every file, as ``scan_lines`` would read each."""
    texts = pl.DataFrame(
        {"file": [f.shown for f in files], "raw": [f.text for f in files]},
        schema={"file": pl.String, "raw": pl.String},
    )
    lines = (
        texts.with_columns(pl.col("raw").str.strip_suffix("\n").str.split("\n"))
        .explode("raw")
        .with_columns(
            (pl.int_range(pl.len()).over("file") + 1).cast(pl.UInt32).alias("line"),
            clean_line(pl.col("raw"), bom=False),
        )
    )
    return lines.select("line", "raw", "file")


def _batch(
    files: list[SmallFile],
    spec: FormatSpec,
    companions: tuple[FormatSpec, ...],
    contained: bool,
) -> Batch:
    lines = _lines(files)
    base = _base_frame(lines.drop("file"), "").with_columns(lines["file"])
    assert isinstance(base, pl.DataFrame)
    name = f"{len(files)} small files alike ({files[0].shown} ...)"
    if spec.engine == "jsonl" and not (spec.also or companions):
        chunks: tuple[Chunk, ...] = (
            Chunk(
                spec,
                parse_jsonl(_comments(base.lazy()), spec),
                contained=contained,
                files_apart=True,
            ),
        )
        return Batch(ParsedFile(name, spec.name, None, chunks), tuple(files))
    order = _route_order(spec, companions)
    if len(order) > 1:
        order = [f for f in order if f == spec or _any_taken(lines["raw"], f)]
    index, routes = _routes(order, spec, pl.col("raw"))
    chunks = tuple(
        Chunk(
            fmt,
            (parse_text if fmt.engine == "text" else parse_jsonl)(
                _only(base, index, rows).lazy(),  # type: ignore[arg-type]
                fmt,
            ),
            contained=contained,
            files_apart=True,
        )
        for fmt, rows in routes.items()
    )
    return Batch(ParsedFile(name, spec.name, None, chunks), tuple(files))
