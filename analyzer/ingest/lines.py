"""Read a file (plain or gzip) into a frame of lines with provenance."""

from __future__ import annotations

import codecs
import gzip
import re
import tempfile
import zlib
from pathlib import Path

import polars as pl

HEAD_BYTES = 256 * 1024
PIECE = 8 * 1024  # gzip input per step when salvaging a damaged stream


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
        # A truncated or damaged gzip still yields what it has, via the slow path below.
        return _read_all(path)[:HEAD_BYTES]


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
    """All bytes, gunzipped; a truncated gzip stream yields what decompresses."""
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    out = bytearray()
    while raw[:2] == b"\x1f\x8b":  # concatenated gzip members
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        rest = b""
        try:
            # In pieces: what decompressed before a damaged block is kept.
            for start in range(0, len(raw), PIECE):
                out += d.decompress(raw[start : start + PIECE])
                if d.eof:
                    rest = d.unused_data + raw[start + PIECE :]
                    break
        except zlib.error:
            break
        raw = rest
    return bytes(out)


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
_copies: tempfile.TemporaryDirectory[str] | None = None


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


def normalized_copy(path: Path, codec: str) -> Path:
    """``path`` (plain or gzip) decoded with ``codec`` and written as UTF-8 with LF line
    endings (CRLF and a lone CR each end one line), in a temporary directory that lives as
    long as the process (lazy plans read it after this returns). Read in pieces: never
    whole in memory."""
    global _copies
    if _copies is None:
        _copies = tempfile.TemporaryDirectory(prefix="analyzer-decoded-")
    out = Path(_copies.name) / f"{len(list(Path(_copies.name).iterdir()))}-{path.name}"
    if out.suffix == ".gz":
        out = out.with_suffix("")
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    carry = ""
    with _open(path) as src, out.open("w", encoding="utf-8", newline="") as dst:
        while True:
            piece = src.read(_COPY_PIECE)
            text = carry + decoder.decode(piece, final=not piece)
            # a CR at a piece's end may be the first half of a CRLF: keep it for the next
            carry = "\r" if text.endswith("\r") and piece else ""
            if carry:
                text = text[:-1]
            dst.write(text.replace("\r\n", "\n").replace("\r", "\n"))
            if not piece:
                break
    return out
