"""Expand user paths (files, directories, .gz) into a sorted list of input files."""

from __future__ import annotations

import os
import stat
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
    return discover_all(paths)[0]


def discover_all(paths: list[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Every regular file under ``paths`` (recursively, in a stable order), and every path
    under them that is not read, with why: a FIFO, socket or device, a link to nothing or
    a link loop, a directory or file that cannot be read. Nothing is dropped unmentioned
    (files the analyzer never reads, ``IGNORED_SUFFIXES`` and hidden ones, aside)."""
    found: list[Path] = []
    unread: list[tuple[str, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for p in _walk(path, unread):
                if p.suffix in IGNORED_SUFFIXES or p.name in IGNORED_NAMES:
                    continue
                why = _not_a_file(p)
                if why is None:
                    found.append(p)
                else:
                    unread.append((str(p), why))
        elif path.is_file():
            found.append(path)
        elif path.exists():
            msg = f"{path}: not a regular file or directory ({_not_a_file(path)})"
            raise InputError(msg)
        elif path.is_symlink():
            msg = f"{path}: a link to nothing (or a link loop)"
            raise InputError(msg)
        else:
            msg = f"{path}: no such file or directory"
            raise InputError(msg)
    return list(dict.fromkeys(found)), unread


def _walk(top: Path, unread: list[tuple[str, str]]) -> list[Path]:
    """The non-hidden entries under ``top`` that are not directories, sorted; directories
    that cannot be listed go to ``unread``."""

    def failed(err: OSError) -> None:
        unread.append((str(err.filename), f"cannot be read ({err.strerror or err})"))

    out: list[Path] = []
    for root, dirs, files in os.walk(top, onerror=failed):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for d in dirs:  # listed, not followed: a loop or a second path to the same files
            if (Path(root) / d).is_symlink():
                unread.append((str(Path(root) / d), "a link to a directory, not followed"))
        out.extend(Path(root) / f for f in files if not f.startswith("."))
    return sorted(out)


def _not_a_file(p: Path) -> str | None:
    """Why ``p`` is not read as a log file, or None if it is one."""
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        return "a link to nothing"
    except OSError as err:
        if err.errno == 40:  # ELOOP
            return "a link loop"
        return f"cannot be read ({err.strerror})"
    if stat.S_ISREG(mode):
        if not os.access(p, os.R_OK):
            return "cannot be read (permission denied)"
        return None
    if stat.S_ISFIFO(mode):
        return "not a regular file (a FIFO)"
    if stat.S_ISSOCK(mode):
        return "not a regular file (a socket)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "not a regular file (a device)"
    return "not a regular file"
