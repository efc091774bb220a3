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


Bad = tuple[int, int]  # (start, end) offsets of text no JSON value could be read from


def _resync(text: str, pos: int, indent: str) -> int:
    """The next line after ``pos`` that opens an object at ``indent``, or the end."""
    m = re.compile(r"\n" + re.escape(indent) + r"\{").search(text, pos + 1)
    return m.end() - 1 if m else len(text)  # at the brace


def _split(text: str) -> tuple[list[tuple[int, Any]], list[Bad]]:
    """Top-level JSON values (List items expanded) with offsets, and the unreadable spans.

    A broken value costs only itself: reading resumes at the next object that starts a
    line at the same indentation (the next NDJSON line, the next List item).
    """
    decoder = json.JSONDecoder()
    out: list[tuple[int, Any]] = []
    bad: list[Bad] = []
    pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
    while pos < len(text):
        if text[pos] in ",[]":  # a JSON array of events, or separators between objects
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            continue
        try:
            obj, end = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError):
            if _opens_list(text, pos):
                items, item_bad, end = _salvage_items(text, pos, decoder)
                out.extend(items)
                bad.extend(item_bad)
            else:
                end = _resync(text, pos, "")
                bad.append((pos, end))
            pos = _WS.match(text, end).end()  # type: ignore[union-attr]
            continue
        if isinstance(obj, dict) and isinstance(obj.get("items"), list):
            items, _, _ = _salvage_items(text, pos, decoder)
            if len(items) == len(obj["items"]):
                out.extend(items)
            else:  # could not locate each item: cite the List's first line for all
                out.extend((pos, item) for item in obj["items"])
        else:
            out.append((pos, obj))
        pos = _WS.match(text, end).end()  # type: ignore[union-attr]
    return out, bad


_LIST_HEAD = re.compile(r'\{\s*(?:"[^"]*"\s*:\s*"[^"]*"\s*,\s*)*"items"\s*:\s*\[')


def _opens_list(text: str, pos: int) -> bool:
    """Does the object at ``pos`` begin like a List (``{"apiVersion": ..., "items": [``)?"""
    return _LIST_HEAD.match(text, pos) is not None


def _salvage_items(
    text: str, pos: int, decoder: json.JSONDecoder
) -> tuple[list[tuple[int, Any]], list[Bad], int]:
    """Decode the items of a List one by one from ``pos``, skipping broken ones.

    Returns the items, the unreadable spans and the offset after the List.
    """
    m = _LIST_HEAD.match(text, pos)
    if m is None:
        return [], [(pos, len(text))], len(text)
    items: list[tuple[int, Any]] = []
    bad: list[Bad] = []
    cur = _WS.match(text, m.end()).end()  # type: ignore[union-attr]
    line_start = text.rfind("\n", 0, cur) + 1
    indent = text[line_start:cur] if text[line_start:cur].strip() == "" else ""
    while cur < len(text) and text[cur] != "]":
        try:
            item, end = decoder.raw_decode(text, cur)
        except (ValueError, RecursionError):
            end = _resync(text, cur, indent) if indent else len(text)
            bad.append((cur, end))
            cur = end
            continue
        items.append((cur, item))
        cur = _WS.match(text, end).end()  # type: ignore[union-attr]
        if cur < len(text) and text[cur] == ",":
            cur = _WS.match(text, cur + 1).end()  # type: ignore[union-attr]
    after = cur + 1 if cur < len(text) else len(text)
    close = _WS.match(text, after).end()  # type: ignore[union-attr]
    if close < len(text) and text[close] == "}":  # the List's own closing brace
        after = close + 1
    return items, bad, after


def parse_event_document(lines: pl.DataFrame, paths: list[str]) -> tuple[pl.DataFrame, list[str]]:
    """Rows for every Event object, plus skipped/rejected rows so every line is counted;
    and notes on what could not be read."""
    notes: list[str] = []
    raw_lines = lines["raw"].to_list()
    text = "\n".join(raw_lines)
    starts = [0]
    for i, ln in enumerate(raw_lines[:-1]):
        starts.append(starts[i] + len(ln) + 1)

    def line_of(offset: int) -> int:
        return bisect.bisect_right(starts, offset)

    values, bad = _split(text)
    rows: list[dict[str, Any]] = []
    used: set[int] = set()
    more = 0
    for offset, value in values:
        ln = line_of(offset)
        event = unwrap_event(value)
        if ln in used:  # two objects on one line: only the first can own the line
            more += 1
            continue
        used.add(ln)
        if event is None:
            rows.append({"line": ln, OUTCOME: "reject: JSON value is not a Kubernetes Event"})
        else:
            rows.append({"line": ln, OUTCOME: None, **flatten_event(event, paths)})
    bad_lines = {
        ln for start, end in bad for ln in range(line_of(start), line_of(max(start, end - 1)) + 1)
    }
    if more:
        notes.append(
            f"{more} more JSON value(s) shared a line with another and were not read "
            "(one event per line; pretty-print the file to read them all)"
        )
    for ln in range(1, len(raw_lines) + 1):
        if ln in used:
            continue
        if not raw_lines[ln - 1].strip():
            rows.append({"line": ln, OUTCOME: "skip: blank line"})
        elif ln in bad_lines:
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
    return frame.join(lines, on="line", how="left").sort("line"), notes
