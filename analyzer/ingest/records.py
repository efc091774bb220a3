"""Log-store exports written as one document instead of a record per line: gcloud's JSON
array (``gcloud logging read --format=json``) and its default output, a YAML stream of
records (``---`` between them). Each record becomes compact JSON text, numbered by the line
it starts on, for a JSON-lines wrapper (``payload_field``) to read like NDJSON.

YAML is parsed in Python (PyYAML's C parser when built), a document at a time so that a
broken one costs only itself; exports of this kind are bounded by the store's query limit.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

import yaml

from analyzer.ingest.events import (
    YAML_DOC_START,
    YamlLoader,
    looks_like_event_document,
    yaml_error,
)
from analyzer.ingest.jsonl import array_elements

#: A YAML mapping at column 0 after comments and `---` lines (`insertId: …`, `jsonPayload:`).
_YAML_HEAD = re.compile(r"(?:(?:#[^\n]*|---[^\n]*|[ \t]*)\n)*[A-Za-z_][\w.-]*:(?:[ \t]|\n|$)")
_CONTENT = re.compile(r"^(?!#|---|\s*$)", re.M)
#: Sniffing reads the records of this much of a file's head (a cut last one is dropped).
SNIFF_CHARS = 128 * 1024

#: (first line, 1-based; the record as compact JSON, or None; the reject reason, or None)
Record = tuple[int, str | None, str | None]


def looks_like_yaml_records(text: str) -> bool:
    """A YAML stream of mappings that are not Kubernetes objects (those are ``k8s_events``'
    to read, whatever wraps them)?"""
    return bool(_YAML_HEAD.match(text)) and not looks_like_event_document(text)


@lru_cache(maxsize=4)  # sniffing and the wrapper's notes ask about the same head
def yaml_records(text: str, *, whole: bool = True) -> tuple[Record, ...] | None:
    """Every ``---`` document of a YAML stream of records; None if ``text`` is not one.

    ``whole``: ``text`` is the whole file, so a document that cannot be read is kept with
    its YAML error; otherwise (a head sample) it may be a cut one and is dropped.
    """
    if not looks_like_yaml_records(text):
        return None
    bounds = [0, *(m.start() for m in YAML_DOC_START.finditer(text) if m.start() > 0), len(text)]
    out: list[Record] = []
    first = 0  # 0-based line where the document's text starts
    for a, b in zip(bounds, bounds[1:], strict=False):
        record = _document(text[a:b], first)
        first += text.count("\n", a, b)
        if record is not None and (whole or record[1] is not None):
            out.append(record)
    return tuple(out)


def _document(text: str, first: int) -> Record | None:
    """One YAML document as a record; None when it holds nothing (comments, `---` alone)."""
    loader = YamlLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        value = loader.construct_document(root)
        # ASCII escapes: a lone surrogate stays valid JSON text; default=str: `!!binary`.
        record = json.dumps(value, separators=(",", ":"), default=str)
        return first + root.start_mark.line + 1, record, None
    except (yaml.YAMLError, RecursionError, TypeError, ValueError) as err:
        content = _CONTENT.search(text)
        line = text.count("\n", 0, content.start()) if content else 0
        return first + line + 1, None, yaml_error(err, first)
    finally:
        loader.dispose()


def head_records(text: str) -> list[str] | None:
    """The records at the head of a JSON array or YAML stream document, as JSON text; None
    if ``text`` is neither (lines of their own)."""
    entries = array_elements(text, whole=False)
    if entries is not None:
        return [e for _, e in entries if e]
    docs = yaml_records(text[:SNIFF_CHARS], whole=False)
    return [r for _, r, _ in docs if r] if docs is not None else None


def document_form(head: str) -> str | None:
    """``array`` | ``yaml`` when the file is one document of records, else None."""
    if array_elements(head, whole=False) is not None:
        return "array"
    return "yaml" if yaml_records(head[:SNIFF_CHARS], whole=False) is not None else None
