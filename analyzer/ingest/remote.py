"""Inputs named by an fsspec URL (``s3://``, ``gs://``, ``http(s)://``, ``file://``).

A URL file is copied whole to a temporary local file and read from there, under its URL as
its name (the report shows the URL; its path names the pod as a local path would). Whoever
reads it needs the protocol's fsspec package (``s3fs``, ``gcsfs``, ``aiohttp``) and
credentials: on a cluster that is each Dask worker, and the client too, which lists a prefix.
fsspec is imported only when a URL is given.
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePosixPath
from typing import Any

from analyzer.errors import InputError
from analyzer.ingest.discover import IGNORED_NAMES, IGNORED_SUFFIXES

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
#: Protocols whose "directories" cannot be listed reliably: a URL there names one file.
_FILE_ONLY = {"http", "https"}


def is_url(path: str | Path) -> bool:
    """Is ``path`` a URL (``scheme://...``) rather than a local path? (A ``Path`` never is:
    it would have folded the ``//``.)"""
    return isinstance(path, str) and bool(_SCHEME.match(path))


def _filesystem(url: str) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError as err:
        msg = f"{url}: reading URLs needs fsspec (pip install 'k8s-502-analyzer[dask]')"
        raise InputError(msg) from err
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as err:  # an unknown protocol, or its package missing
        msg = f"{url}: cannot open this kind of URL ({err})"
        raise InputError(msg) from err


def _wanted(name: str) -> bool:
    """The same files ``discover`` takes from a local directory."""
    path = PurePosixPath(name)
    return (
        path.suffix not in IGNORED_SUFFIXES
        and path.name not in IGNORED_NAMES
        and not path.name.startswith(".")
    )


def expand_url(url: str) -> list[str]:
    """The file URLs ``url`` names: itself, every file under it (a bucket prefix or a
    directory, recursively), or the matches of its glob pattern; in a stable order."""
    fs, root = _filesystem(url)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    if protocol in _FILE_ONLY:
        return [url]
    try:
        if glob.has_magic(root):
            found = [p for p in fs.glob(root) if fs.isfile(p)]
        elif fs.isdir(root):
            found = [p for p in fs.find(root) if _wanted(p)]
        elif fs.isfile(root):
            return [url]
        else:
            found = []
    except OSError as err:
        msg = f"{url}: cannot list ({err})"
        raise InputError(msg) from err
    if not found:
        msg = f"{url}: no such file, or no files under it"
        raise InputError(msg)
    return [fs.unstrip_protocol(p) for p in sorted(found)]


def _mtime(info: dict[str, Any]) -> float | None:
    """The modification time an fsspec ``info`` gives, in whichever key its protocol uses
    (the year of yearless klog lines may be judged by it)."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "Last-Modified"):
        value = info.get(key)
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                try:
                    return parsedate_to_datetime(value).timestamp()
                except (TypeError, ValueError):
                    continue
    return None


@contextmanager
def local_copy(url: str) -> Iterator[Path]:
    """``url`` copied to a temporary file (same base name: ``.gz`` still tells gzip; its
    modification time kept where the protocol gives one), removed on exit. Raises
    ``OSError`` when it cannot be read."""
    fs, remote = _filesystem(url)
    with tempfile.TemporaryDirectory(prefix="analyzer-url-") as tmp:
        local = Path(tmp) / (PurePosixPath(remote).name or "file")
        fs.get_file(remote, str(local))
        try:
            mtime = _mtime(fs.info(remote))
        except OSError:
            mtime = None
        if mtime is not None:
            os.utime(local, (mtime, mtime))
        yield local
