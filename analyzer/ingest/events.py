"""Kubernetes Event documents -> one row per Event object.

Events come as a ``List`` (``kubectl get events -o json``), as pretty-printed objects one
after another (``kubectl get events -w -o json``), or as NDJSON (exporters, raw watch). All
three are split with ``json.JSONDecoder.raw_decode``, which gives each object's offset and so
its line. Events are bounded by the API's TTL (1 h by default) and rate limits, so a Python
pass over objects is affordable here, unlike for access logs.
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Any

import polars as pl

from analyzer.ingest.tally import OUTCOME

_WS = re.compile(r"\s*")
_EVENT_MARKERS = ('"involvedObject"', '"regarding"')


def unwrap_event(obj: Any) -> dict[str, Any] | None:
    """The Event inside watch / exporter / Cloud Logging wrappers, or None."""
    for _ in range(3):
        if not isinstance(obj, dict):
            return None
        if "involvedObject" in obj or "regarding" in obj:
            return obj
        inner = obj.get("object") or obj.get("Object") or obj.get("event") or obj.get("jsonPayload")
        obj = inner
    return None


def looks_like_event_document(head: str) -> bool:
    text = head.lstrip()
    return text.startswith(("{", "[")) and any(m in head for m in _EVENT_MARKERS)


def _get(obj: dict[str, Any], path: str) -> Any:
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value)


def flatten_event(event: dict[str, Any], paths: list[str]) -> dict[str, str | None]:
    """The declared key paths as strings, plus the fields derived from the object model."""
    row = {p: _text(_get(event, p)) for p in paths}
    obj = event.get("involvedObject") or event.get("regarding") or {}
    note = event.get("message") or event.get("note") or ""
    count = event.get("count") or _get(event, "series.count") or event.get("deprecatedCount")
    last = event.get("lastTimestamp") or _get(event, "series.lastObservedTime")
    is_pod = isinstance(obj, dict) and obj.get("kind") == "Pod"
    text = f"{event.get('reason') or ''}: {note}".strip(": ")
    if isinstance(count, int) and count > 1:
        text += f" (x{count}, last {last})"
    row |= {
        "reason": _text(event.get("reason")),
        "note": _text(note),
        "field_path": _text(obj.get("fieldPath")) if isinstance(obj, dict) else None,
        "involved_pod": _text(obj.get("name")) if is_pod else None,
        "involved_pod_uid": _text(obj.get("uid")) if is_pod else None,
        "event_text": text,
    }
    return row


def _split(text: str) -> tuple[list[tuple[int, Any]], int | None]:
    """Top-level JSON values (List items expanded) with offsets; offset of the first error."""
    decoder = json.JSONDecoder()
    out: list[tuple[int, Any]] = []
    pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
    while pos < len(text):
        if text[pos] in ",[]":  # a JSON array of events, or separators between objects
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            continue
        try:
            obj, end = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError):
            items, err = _salvage_items(text, pos, decoder)
            out.extend(items)
            return out, err
        if isinstance(obj, dict) and isinstance(obj.get("items"), list):
            items, _ = _salvage_items(text, pos, decoder)
            if len(items) == len(obj["items"]):
                out.extend(items)
            else:  # could not locate each item: cite the List's first line for all
                out.extend((pos, item) for item in obj["items"])
        else:
            out.append((pos, obj))
        pos = _WS.match(text, end).end()  # type: ignore[union-attr]
    return out, None


def _salvage_items(
    text: str, pos: int, decoder: json.JSONDecoder
) -> tuple[list[tuple[int, Any]], int]:
    """Decode the items of a List one by one from ``pos``; stop at the first broken one."""
    key = text.find('"items"', pos)
    bracket = text.find("[", key) if key >= 0 else -1
    if bracket < 0:
        return [], pos
    items: list[tuple[int, Any]] = []
    cur = _WS.match(text, bracket + 1).end()  # type: ignore[union-attr]
    while cur < len(text) and text[cur] != "]":
        try:
            item, end = decoder.raw_decode(text, cur)
        except (ValueError, RecursionError):
            return items, cur
        items.append((cur, item))
        cur = _WS.match(text, end).end()  # type: ignore[union-attr]
        if cur < len(text) and text[cur] == ",":
            cur = _WS.match(text, cur + 1).end()  # type: ignore[union-attr]
    return items, len(text)


def parse_event_document(lines: pl.DataFrame, paths: list[str]) -> pl.DataFrame:
    """Rows for every Event object, plus skipped/rejected rows so every line is counted."""
    raw_lines = lines["raw"].to_list()
    text = "\n".join(raw_lines)
    starts = [0]
    for i, ln in enumerate(raw_lines[:-1]):
        starts.append(starts[i] + len(ln) + 1)

    def line_of(offset: int) -> int:
        return bisect.bisect_right(starts, offset)

    values, error_at = _split(text)
    rows: list[dict[str, Any]] = []
    used: set[int] = set()
    for offset, value in values:
        ln = line_of(offset)
        event = unwrap_event(value)
        if ln in used:  # two objects on one line: only the first can own the line
            continue
        used.add(ln)
        if event is None:
            rows.append({"line": ln, OUTCOME: "reject: JSON value is not a Kubernetes Event"})
        else:
            rows.append({"line": ln, OUTCOME: None, **flatten_event(event, paths)})
    first_bad = line_of(error_at) if error_at is not None else len(raw_lines) + 1
    for ln in range(1, len(raw_lines) + 1):
        if ln in used:
            continue
        if not raw_lines[ln - 1].strip():
            rows.append({"line": ln, OUTCOME: "skip: blank line"})
        elif ln >= first_bad:
            rows.append({"line": ln, OUTCOME: "reject: malformed or truncated JSON"})
        else:
            rows.append({"line": ln, OUTCOME: "skip: part of a multi-line JSON document"})
    cols = [
        "line",
        OUTCOME,
        *paths,
        "reason",
        "note",
        "field_path",
        "involved_pod",
        "involved_pod_uid",
        "event_text",
    ]
    frame = pl.DataFrame(
        [{c: r.get(c) for c in cols} for r in rows],
        schema={c: (pl.UInt32 if c == "line" else pl.String) for c in cols},
    )
    return frame.join(lines, on="line", how="left").sort("line")
