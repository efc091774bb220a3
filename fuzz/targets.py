"""What each fuzz target makes of its input: the file to write (a name under the work
directory, its bytes) and the format to force (None: sniffed). Pure, without atheris, so
``tests/ingest/test_fuzz_regressions.py`` replays a crash exactly as its target ran it."""

from __future__ import annotations

import gzip
from collections.abc import Callable

from analyzer import formats

Input = tuple[str, bytes, str | None]  # file name, file bytes, --as


def _specs(engine: str) -> list[str]:
    return sorted(s.name for s in formats.builtin() if s.engine == engine)


TEXT_SPECS = _specs("text")
JSONL_SPECS = _specs("jsonl")


def text(data: bytes) -> Input | None:
    """The text engine (regex specs): the first byte picks the spec, the rest is the file."""
    if not data:
        return None
    return "input.log", data[1:], TEXT_SPECS[data[0] % len(TEXT_SPECS)]


def jsonl(data: bytes) -> Input | None:
    """The JSON-lines engine: the first byte picks the spec, the rest is the file."""
    if not data:
        return None
    return "input.log", data[1:], JSONL_SPECS[data[0] % len(JSONL_SPECS)]


PLACES = (
    "var/log/pods/default_web-7d4b9c6f5-x2x9z_0b6c3f9e-6a55-4b0c-9d7e-0f3a2c1d5e4f/app/0.log",
    "var/log/containers/web-7d4b9c6f5-x2x9z_default_app-4f1c.log",
    "var/lib/docker/containers/4f1c/4f1c-json.log",
    "node/journal.json",
    "loki/export.jsonl",
    "anything.log",
)


def wrapped(data: bytes) -> Input | None:
    """Runtime files where a node keeps them, formats sniffed. The first byte picks the
    place; with its high bit set the file is gzipped and then cut short by its low 4 bits."""
    if not data:
        return None
    place, body = PLACES[data[0] % len(PLACES)], data[1:]
    if data[0] & 0x80:
        packed = gzip.compress(body, mtime=0)
        return f"gz/{place}.gz", packed[: len(packed) - (data[0] & 0x0F)], None
    return f"raw/{place}", body, None


SUFFIXES = (".json", ".yaml", ".ndjson", ".txt", ".log")


def objects(data: bytes) -> Input | None:
    """Kubernetes objects (events lists, watch streams, cluster-info dumps), sniffed; the
    first byte picks the file's suffix."""
    if not data:
        return None
    return f"events{SUFFIXES[data[0] % len(SUFFIXES)]}", data[1:], None


TARGETS: dict[str, Callable[[bytes], Input | None]] = {
    "text": text,
    "jsonl": jsonl,
    "wrapped": wrapped,
    "objects": objects,
}
