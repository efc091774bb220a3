"""Read a file (plain or gzip) into a frame of lines with provenance."""

from __future__ import annotations

import codecs
import gzip
import itertools
import re
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import polars as pl

from analyzer.limits import Limits, active, size_text

HEAD_BYTES = 256 * 1024


BOM = b"\xef\xbb\xbf"


def _open(path: Path):  # type: ignore[no-untyped-def]
    """The file for binary reading, through gzip when it starts with the gzip magic."""
    with path.open("rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else path.open("rb")


def read_head(path: Path) -> bytes:
    """The first bytes of a file, decompressed if it is gzip (a byte-order mark dropped)."""
    try:
        with _open(path) as fh:
            return fh.read(HEAD_BYTES).removeprefix(BOM)  # type: ignore[no-any-return]
    except (OSError, EOFError, zlib.error):
        # A truncated or damaged gzip still yields what inflated before the damage.
        head = bytearray()
        for piece in _raw_pieces(path, [], active()):
            head += piece
            if len(head) >= HEAD_BYTES:
                break
        return bytes(head[:HEAD_BYTES]).removeprefix(BOM)


#: Windows of a large file read for sniffing, besides its head: a banner or an init phase at
#: the top must not decide the format of a file whose body is another.
SAMPLE_WINDOWS = 8
WINDOW_BYTES = 32 * 1024


def read_sample(path: Path, head: bytes) -> str:
    """Lines from across the file: its head, then windows spread evenly to its end.

    Only whole lines are kept from a window. A gzip file cannot be read at an offset: its
    (decompressed) head is the sample.
    """
    text = head.decode("utf-8", errors="replace")
    size = path.stat().st_size
    if len(head) < HEAD_BYTES or size <= HEAD_BYTES + WINDOW_BYTES:
        return text
    try:
        with path.open("rb") as fh:
            if fh.read(2) == b"\x1f\x8b":
                return text
            pieces = [text.rsplit("\n", 1)[0]]
            span = size - HEAD_BYTES - WINDOW_BYTES
            for i in range(1, SAMPLE_WINDOWS + 1):
                fh.seek(HEAD_BYTES + span * i // SAMPLE_WINDOWS)
                window = fh.read(WINDOW_BYTES).decode("utf-8", errors="replace")
                whole = window.split("\n")[1:-1]  # the first and last are cut
                pieces.append("\n".join(whole))
    except OSError:
        return text
    return "\n".join(pieces)


def has_bom(path: Path) -> bool:
    """Does the (decompressed) file start with a UTF-8 byte-order mark? Reads 3 bytes."""
    try:
        with _open(path) as fh:
            return fh.read(len(BOM)) == BOM  # type: ignore[no-any-return]
    except (OSError, EOFError, zlib.error):
        return False


def _read_all(path: Path) -> bytes:
    """All bytes, gunzipped behind the guard; a damaged gzip stream yields what inflated
    before the damage."""
    return b"".join(_raw_pieces(path, [], active()))


def read_lines(path: Path) -> tuple[pl.DataFrame, list[str]]:
    """Lines of ``path`` as a frame ``(line: UInt32 1-based, raw: String)`` plus notes.

    Fast path: polars ``scan_lines`` (it decompresses gzip itself). Invalid UTF-8 or a broken
    gzip stream falls back to reading the bytes and decoding with replacement characters, so
    one bad byte never loses a file.
    """
    notes: list[str] = []
    try:
        # glob=False: a file name may hold [ ] * ? (a pattern would match nothing, silently)
        df = pl.scan_lines(
            path, name="raw", row_index_name="line", row_index_offset=1, glob=False
        ).collect()
    except (pl.exceptions.ComputeError, OSError) as err:
        data = _read_all(path)
        notes.append(
            f"read with the fallback reader: {str(err).splitlines()[0]}; invalid UTF-8 replaced"
        )
        text = data.decode("utf-8", errors="replace")
        df = pl.scan_lines(
            text.encode("utf-8"), name="raw", row_index_name="line", row_index_offset=1
        ).collect()
    bom = has_bom(path)
    return df.with_columns(pl.col("line").cast(pl.UInt32), clean_line(pl.col("raw"), bom)), notes


def clean_line(raw: pl.Expr, bom: bool) -> pl.Expr:
    """Drop what is not part of a record: a CRLF file's \\r, the file's byte-order mark."""
    raw = raw.str.strip_suffix("\r")
    return raw.str.strip_prefix("\ufeff") if bom else raw


def lines_at(path: Path, numbers: set[int]) -> dict[int, str]:
    """The text of lines ``numbers`` (1-based) of ``path``, in one streaming pass that keeps
    only those lines (evidence is read back when a report quotes it, not held per line)."""
    wanted = pl.Series(sorted(numbers), dtype=pl.UInt32)
    try:
        found = (
            pl.scan_lines(path, name="raw", row_index_name="line", row_index_offset=1, glob=False)
            .head(max(numbers))  # the scan stops after the last line asked for
            .with_columns(pl.col("line").cast(pl.UInt32))
            .filter(pl.col("line").is_in(wanted.implode()))
            .collect()
        )
    except (pl.exceptions.ComputeError, OSError):
        found, _ = read_lines(path)
        found = found.filter(pl.col("line").is_in(wanted.implode()))
    found = found.with_columns(clean_line(pl.col("raw"), has_bom(path)))
    return dict(zip(found["line"].to_list(), found["raw"].to_list(), strict=True))


#: Byte-order marks of the encodings decoded before reading (UTF-32 before UTF-16: FF FE
#: starts both), and the codec that decodes them (it drops the mark).
BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32", "UTF-32 (little-endian)"),
    (b"\x00\x00\xfe\xff", "utf-32", "UTF-32 (big-endian)"),
    (b"\xff\xfe", "utf-16", "UTF-16 (little-endian)"),
    (b"\xfe\xff", "utf-16", "UTF-16 (big-endian)"),
)
_LONE_CR = re.compile(rb"\r(?!\n)")
CR_ENDINGS_SHARE = 0.1
_COPY_PIECE = 1 << 20
_GZIP_READ = 16 * 1024  # gzip input per step: what inflated before a damaged block is kept
_copies: tempfile.TemporaryDirectory[str] | None = None
_copy_numbers = itertools.count()


def needs_normalizing(head: bytes) -> tuple[str, str] | None:
    """``(codec, what)`` when a file must be decoded or re-split before its lines are read:
    a UTF-16/32 byte-order mark, or line endings that are a lone CR (old Mac, some Windows
    tools): at least ``CR_ENDINGS_SHARE`` of the head's line ends. None for UTF-8 with LF or
    CRLF (a stray CR within a line stays in it)."""
    for mark, codec, name in BOMS:
        if head.startswith(mark):
            return codec, f"decoded from {name} (byte-order mark)"
    if b"\x00" in head[:8192]:
        return None  # binary data (UTF-16/32 without a mark too): not lines of text
    lone = len(_LONE_CR.findall(head[:-1] if head.endswith(b"\r") else head))
    # A stray CR inside LF lines (a progress bar's output) is part of its line; lone CRs
    # that end lines are as many as the LFs, or a good share of them in a mixed file.
    if lone and lone >= CR_ENDINGS_SHARE * (lone + head.count(b"\n")):
        return "utf-8", "lines ending in a lone CR (or mixed CR / LF) split as lines"
    return None


def _copies_dir() -> Path:
    """A temporary directory that lives as long as the process (lazy plans read a copy
    after the function that wrote it returns)."""
    global _copies
    if _copies is None:
        _copies = tempfile.TemporaryDirectory(prefix="analyzer-copies-")
    return Path(_copies.name)


def _copy_path(path: Path) -> Path:
    out = _copies_dir() / f"{next(_copy_numbers)}-{path.name}"
    return out.with_suffix("") if out.suffix == ".gz" else out


#: The plain copy each file was read through (by the name the report gives the file): a
#: quoted line is read back from what was read, not from the gzip or UTF-16 original.
_read_through: dict[str, Path] = {}


def remember_copy(name: str, copy: Path) -> None:
    _read_through[name] = copy


def copy_read(name: str) -> Path | None:
    """The plain copy the file called ``name`` was read through, if it was (and still is)."""
    copy = _read_through.get(name)
    return copy if copy is not None and copy.exists() else None


def is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _raw_pieces(path: Path, notes: list[str], limits: Limits) -> Iterator[bytes]:
    """The file's bytes in pieces; gunzipped (``_gunzipped``) if it is gzip."""
    with path.open("rb") as fh:
        if fh.read(2) == b"\x1f\x8b":
            fh.seek(0)
            yield from _gunzipped(fh, path.stat().st_size, notes, limits)
            return
        fh.seek(0)
        while piece := fh.read(_COPY_PIECE):
            yield piece


def _gunzipped(fh: BinaryIO, compressed: int, notes: list[str], limits: Limits) -> Iterator[bytes]:
    """A gzip stream inflated in pieces (concatenated members too) behind the decompression
    guard. A damaged or truncated stream yields what inflated before the damage; ``notes``
    say where and why the stream ended early."""
    allowed = max(limits.inflate_floor, compressed * limits.max_inflate_ratio)
    inflated = 0
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    data = fh.read(_GZIP_READ)
    while data:
        try:
            # max_length: a bomb inflates 1000:1; never more than a piece at once
            out = d.decompress(data, _COPY_PIECE)
            while out:
                inflated += len(out)
                if inflated > allowed:
                    yield out[: len(out) - (inflated - allowed)]
                    notes.append(_guard_note(allowed, compressed, limits))
                    return
                yield out
                out = d.decompress(d.unconsumed_tail, _COPY_PIECE)
        except zlib.error as err:
            notes.append(f"the gzip stream is damaged ({err}): read up to the damage")
            return
        if not d.eof:
            data = fh.read(_GZIP_READ)
            continue
        data = d.unused_data or fh.read(_GZIP_READ)
        if not data:
            return
        if data[:2] != b"\x1f\x8b":  # not another member: trailing bytes
            if data.strip(b"\x00") or fh.read(1):
                notes.append("bytes after the end of the gzip stream are not read")
            return
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    if not d.eof and inflated:
        notes.append("the gzip stream ends early (a truncated file): read up to there")


def _guard_note(allowed: int, compressed: int, limits: Limits) -> str:
    return (
        f"decompression stopped after {size_text(allowed)} ({limits.max_inflate_ratio}x the "
        f"{size_text(compressed)} compressed): a decompression bomb, or not a log; the rest of "
        "the file is not read (raise --max-inflate-ratio to read it)"
    )


def _decoded(pieces: Iterable[bytes], codec: str | None, resplit: bool) -> Iterator[bytes]:
    """UTF-8 pieces with LF endings: decoded from ``codec`` (its mark dropped) and, with
    ``resplit``, CRLF and a lone CR each end one line."""
    if codec is None and not resplit:
        yield from pieces
        return
    decoder = codecs.getincrementaldecoder(codec or "utf-8")(errors="replace")
    carry = ""
    for piece in (*pieces, b""):
        text = carry + decoder.decode(piece, final=not piece)
        # a CR at a piece's end may be the first half of a CRLF: keep it for the next
        carry = "\r" if text.endswith("\r") and piece else ""
        if carry:
            text = text[:-1]
        if resplit:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        yield text.encode("utf-8")


#: A line over ``--max-line-bytes`` is replaced in the copy by this mark and what to say of
#: it: the line keeps its number and is rejected with its size (``over_cap_reason``).
OVER_CAP = "\uffffanalyzer-over-cap: "


def over_cap_line(size: int, cap: int) -> bytes:
    return f"{OVER_CAP}line of {size} bytes, over --max-line-bytes ({cap})\n".encode()


def over_cap_reason(raw: pl.Expr) -> pl.Expr:
    return pl.lit("reject: ") + raw.str.strip_prefix(OVER_CAP)


def _capped(pieces: Iterable[bytes], cap: int, counts: list[int]) -> Iterator[bytes]:
    """Lines longer than ``cap`` bytes replaced by ``over_cap_line``; never more than
    ``cap`` bytes of one line held. Pieces are cut to at most ``cap`` bytes, so only a line
    crossing a piece boundary can be long: no step looks at every line."""
    open_line = bytearray()  # the start of a line not yet ended (while it is short)
    length = 0  # of the open line
    for big in pieces:
        for start in range(0, len(big), cap):
            piece = big[start : start + cap]
            first = piece.find(b"\n")
            if first < 0:
                length += len(piece)
                if length <= cap:
                    open_line += piece
                else:
                    open_line.clear()
                continue
            length += first + 1
            if length - 1 > cap:  # the newline is not part of the line
                counts.append(length - 1)
                yield over_cap_line(length - 1, cap)
            else:
                yield bytes(open_line) + piece[: first + 1]
            open_line.clear()
            last = piece.rfind(b"\n")
            yield piece[first + 1 : last + 1]
            open_line += piece[last + 1 :]
            length = len(piece) - last - 1
    if length > cap:
        counts.append(length)
        yield over_cap_line(length, cap)[:-1]
    elif open_line:
        yield bytes(open_line)


def has_long_line(path: Path, cap: int) -> bool:
    """Does the plain file hold a line longer than ``cap`` bytes? Reads it in ``cap``-sized
    pieces: only a line crossing a piece boundary can be that long."""
    if path.stat().st_size <= cap:
        return False
    length = 0
    with path.open("rb") as fh:
        while piece := fh.read(cap):
            first = piece.find(b"\n")
            if first < 0:
                length += len(piece)
                if length > cap:
                    return True
                continue
            if length + first > cap:
                return True
            length = len(piece) - piece.rfind(b"\n") - 1
    return length > cap


def plain_copy(
    path: Path, codec: str | None = None, resplit: bool = False, limits: Limits | None = None
) -> tuple[Path, list[str]]:
    """``path`` as a plain UTF-8 file the fast readers take whole: gunzipped behind the
    decompression guard, decoded from ``codec``, re-split on CR endings (``resplit``), and
    with lines over the line cap replaced by ``over_cap_line``. Written in pieces, never
    whole in memory, to a directory that lives as long as the process. Returns the copy and
    notes on what was done."""
    limits = limits or active()
    notes: list[str] = []
    long_lines: list[int] = []
    out = _copy_path(path)
    pieces = _raw_pieces(path, notes, limits)
    with out.open("wb") as dst:
        for piece in _capped(_decoded(pieces, codec, resplit), limits.max_line_bytes, long_lines):
            dst.write(piece)
    if is_gzip(path):
        notes.insert(0, "gunzipped to a temporary copy")
    if long_lines:
        notes.append(
            f"{len(long_lines)} line(s) over --max-line-bytes ({size_text(limits.max_line_bytes)})"
            f" not read, the longest {size_text(max(long_lines))}: rejected with their size"
        )
    return out, notes
