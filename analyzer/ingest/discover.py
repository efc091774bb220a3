"""Expand user paths (files, directories, .gz) into a sorted list of input files."""

from __future__ import annotations

from pathlib import Path

from analyzer.errors import InputError

# Files that are never logs: our own Parquet export, notes beside sample logs, scripts.
IGNORED_SUFFIXES = {".md", ".py", ".parquet", ".toml", ".ipynb", ".png", ".html"}
IGNORED_NAMES = {
    "analyzer-export.json",  # the manifest of a Parquet export (analyzer.store)
    "truth.json",  # what `analyzer simulate` planted in a bundle: the answer, not a log
}


def discover(paths: list[str | Path]) -> list[Path]:
    """Every regular file under ``paths``, recursively, in a stable order."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and p.suffix not in IGNORED_SUFFIXES
                and p.name not in IGNORED_NAMES
                and not p.name.startswith(".")
            )
        elif path.is_file():
            found.append(path)
        elif path.exists():
            msg = f"{path}: not a regular file or directory"
            raise InputError(msg)
        else:
            msg = f"{path}: no such file or directory"
            raise InputError(msg)
    return list(dict.fromkeys(found))
