"""Shared by the fuzz targets (``fuzz_<target>.py``): run each input through the analyzer's
ingest and check what must hold for any bytes (``check.py``). A violation raises, which
atheris records as a crash: its input is written to ``crashes/<target>/``; it becomes a
regression test in ``tests/ingest/test_fuzz_regressions.py``."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris
import polars as pl  # noqa: F401  # imported before instrumentation: only our code is traced

with atheris.instrument_imports(include=["analyzer"]):
    from check import check_input
    from targets import TARGETS

    from analyzer import formats

WORK = Path(tempfile.mkdtemp(prefix="analyzer-fuzz-"))
FIXTURES = Path(__file__).parent.parent / "tests" / "fixtures"


def run(target: str, seeds: list[bytes]) -> None:
    """``python fuzz/fuzz_<target>.py [libFuzzer flags] [corpus dirs]``: with no corpus
    dir given, ``corpus/<target>`` is made and filled with the seeds (real lines)."""
    decode = TARGETS[target]

    def test_one_input(data: bytes) -> None:
        made = decode(data)
        if made is not None:
            check_input(WORK, *made)

    args = list(sys.argv)
    if not [a for a in args[1:] if not a.startswith("-")]:
        corpus = Path(__file__).parent / "corpus" / target
        corpus.mkdir(parents=True, exist_ok=True)
        for i, seed in enumerate(seeds):
            (corpus / f"seed-{i:04d}").write_bytes(seed)
        args.append(str(corpus))
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


def sample_lines(spec_name: str) -> list[bytes]:
    return [s.line.encode("utf-8") for s in formats.get(spec_name).samples]


def fixture_files(*names: str, limit: int = 4096) -> list[bytes]:
    out = []
    for name in names:
        for path in sorted((FIXTURES / name).rglob("*")):
            if path.is_file() and not path.name.endswith((".md", ".gz")):
                out.append(path.read_bytes()[:limit])
    return out
