"""Kubernetes objects as written -> one row per Event object; every other line counted.

What is read: a List in any key order (``kubectl get events -o json`` writes ``apiVersion,
items, kind, metadata``; the API server and client-go write ``kind, apiVersion, metadata,
items``), core/v1 and events.k8s.io/v1 Events, pretty-printed objects one after another
(``kubectl get events -w -o json``), NDJSON (exporters, raw watch), the same as YAML
(``-o yaml``, ``---`` streams), and ``kubectl cluster-info dump`` (concatenated Lists of every
kind, with container log sections between them; see ``log_sections``).

JSON is split with ``json.JSONDecoder.raw_decode``, whose offsets give each object's line; a
List is walked key by key so that each item is located and a broken item costs only itself.
YAML goes through PyYAML's composer, whose node marks give each item's line. Events are
bounded by the API's TTL (1 h by default) and rate limits, so a Python pass over objects is
affordable here, unlike for access logs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

import polars as pl
import yaml

from analyzer.ingest.jsonl import get_path
from analyzer.ingest.tally import OUTCOME

_WS = re.compile(r"[ \t\n\r]*")
_EVENT_MARKERS = ('"involvedObject"', '"regarding"')

MULTILINE = "skip: part of a multi-line {} document"
BLANK = "skip: blank line"
COMMENT = "skip: comment line"
MALFORMED_JSON = "reject: malformed or truncated JSON"


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


# --- sniffing -------------------------------------------------------------------------

# A JSON document that opens like an API object or List (first key one of these)...
_JSON_OBJECT_HEAD = re.compile(r'\s*\{\s*"(?:kind|apiVersion|metadata|items)"\s*:')
# ... and names an API version (`v1`, `apps/v1`, `events.k8s.io/v1beta1`).
_JSON_API_VERSION = re.compile(r'"apiVersion"\s*:\s*"(?:[a-z0-9.-]+/)?v\d+(?:(?:alpha|beta)\d+)?"')
# YAML as kubectl writes it: the first key at column 0 (after comments and `---`).
_YAML_HEAD = re.compile(r"(?:(?:#[^\n]*|---[^\n]*|[ \t]*)\n)*(?:apiVersion|kind|items):")
_YAML_API_VERSION = re.compile(
    r"^\s*(?:- )?apiVersion: ['\"]?(?:[a-z0-9.-]+/)?v\d+(?:(?:alpha|beta)\d+)?['\"]?\s*$", re.M
)
_YAML_OBJECT = re.compile(r"^\s*(?:- )?(?:involvedObject|regarding|kind: [A-Z]\w*\s*$)", re.M)


DUMP_LOGS = "==== START logs for container "


def looks_like_event_document(head: str) -> bool:
    """Does the file start like Kubernetes objects (Events, Lists of any kind) as written
    by kubectl or the API, in JSON or YAML?"""
    text = head.lstrip()
    # `cluster-info dump --output-directory`: NS/POD/logs.txt (maybe after a few header lines)
    if text.startswith(DUMP_LOGS) or f"\n{DUMP_LOGS}" in head[:4096]:
        return True
    if text.startswith(("{", "[")):
        if any(m in head for m in _EVENT_MARKERS):
            return True
        return bool(_JSON_OBJECT_HEAD.match(text) and _JSON_API_VERSION.search(head))
    return bool(
        _YAML_HEAD.match(text) and _YAML_API_VERSION.search(head) and _YAML_OBJECT.search(head)
    )


# --- events -> fields -----------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value, default=str)


@cache
def _split_paths(paths: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((p, tuple(p.split("."))) for p in dict.fromkeys(paths))


def flatten_event(event: dict[str, Any], paths: list[str]) -> dict[str, str | None]:
    """The declared key paths as strings, plus the fields derived from the object model
    (core/v1 and events.k8s.io/v1 names; log-formats.md 3.1, 3.2)."""
    row = {p: _text(get_path(event, parts)) for p, parts in _split_paths(tuple(paths))}
    obj = event.get("involvedObject") or event.get("regarding") or {}
    note = event.get("message") or event.get("note") or ""
    count = event.get("count") or get_path(event, "series.count") or event.get("deprecatedCount")
    last = (
        event.get("lastTimestamp")
        or get_path(event, "series.lastObservedTime")
        or event.get("deprecatedLastTimestamp")
    )
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
        "pod_ip": None,
    }
    return row


DERIVED = [
    "reason",
    "note",
    "field_path",
    "involved_pod",
    "involved_pod_uid",
    "event_text",
    "pod_ip",
]
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def pod_address(obj: Any, list_kind: str | None, paths: list[str]) -> dict[str, str | None] | None:
    """A Pod object (``kubectl get pods -o json``, a cluster-info dump's PodList) with its
    ``status.podIP`` as a row like an Event's: the pod, its address (``pod_ip``) and the
    time it started (``status.startTime``, else its creation). None for anything else, and
    for a Pod without a usable address (pending, or redacted)."""
    if not isinstance(obj, dict):
        return None
    kind = obj.get("kind") or (list_kind[: -len("List")] if list_kind else None)
    meta, status = obj.get("metadata"), obj.get("status")
    if kind != "Pod" or not isinstance(meta, dict) or not isinstance(status, dict):
        return None
    ip, name = status.get("podIP"), meta.get("name")
    if not isinstance(ip, str) or not _IPV4.fullmatch(ip) or not isinstance(name, str):
        return None
    row: dict[str, str | None] = dict.fromkeys(paths)
    started = status.get("startTime") or meta.get("creationTimestamp")
    row |= dict.fromkeys(DERIVED)
    row |= {
        "metadata.namespace": _text(meta.get("namespace")),
        "status.startTime": _text(started),
        "involved_pod": name,
        "involved_pod_uid": _text(meta.get("uid")),
        "pod_ip": ip,
        "event_text": f"Pod {name}: podIP {ip} (status.podIP)",
    }
    return row


def _not_an_event(obj: Any, list_kind: str | None, list_api: str | None) -> str | None:
    """The skip reason for an API object that is not an Event (a Pod in a PodList), or None
    when ``obj`` is not recognisably an API object."""
    if not isinstance(obj, dict):
        return None
    kind = obj.get("kind")
    if not isinstance(kind, str) or not kind:
        # Items of a typed List (PodList) carry no kind of their own: the List's names it.
        kind = list_kind[: -len("List")] if list_kind and list_kind.endswith("List") else None
    api = obj.get("apiVersion") if isinstance(obj.get("apiVersion"), str) else list_api
    listed = list_kind is not None
    shaped = (kind and isinstance(api, str)) or isinstance(obj.get("metadata"), dict)
    if not (listed or shaped):
        return None
    if kind == "Event":  # an Event without involvedObject/regarding: audit.k8s.io's
        return f"skip: {api or 'unknown API'} Event object (not a Kubernetes Event)"
    return f"skip: Kubernetes {kind or 'API'} object (not an event)"


# --- what a document holds, in 0-based line spans ------------------------------------


@dataclass
class Found:
    """Values read from a document, with the lines they span (0-based, inclusive)."""

    values: list[tuple[int, int, Any, str | None, str | None]] = field(default_factory=list)
    # (first, last, value, kind of the List it is an item of, that List's apiVersion)
    bad: list[tuple[int, int, str]] = field(default_factory=list)  # (first, last, reason)
    empty: list[tuple[int, int, str]] = field(default_factory=list)  # empty Lists, their kind
    language: str = "JSON"


# --- JSON ---------------------------------------------------------------------------


def _ws(text: str, pos: int) -> int:
    return _WS.match(text, pos).end()  # type: ignore[union-attr]


class _Broken(ValueError):
    def __init__(self, pos: int) -> None:
        super().__init__(pos)
        self.pos = pos


def _line_indent(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    return re.match(r"[ \t]*", text[start:pos]).group()  # type: ignore[union-attr]


def _resync(text: str, pos: int, indent: str) -> int:
    """The next line after ``pos`` that opens an object at ``indent``, or the end."""
    m = re.compile(r"\n" + re.escape(indent) + r"\{").search(text, pos + 1)
    return m.end() - 1 if m else len(text)  # at the brace


@dataclass
class _JsonList:
    start: int
    end: int = 0
    head: dict[str, Any] = field(default_factory=dict)
    items: list[tuple[int, int, Any]] = field(default_factory=list)
    bad: list[tuple[int, int]] = field(default_factory=list)


def _items(text: str, pos: int, dec: json.JSONDecoder, out: _JsonList) -> tuple[int, bool]:
    """Read the array at ``pos`` (its ``[``) into ``out.items``.

    A broken item is skipped to the next item at the same indentation, or to the array's
    closing bracket. Returns the offset after the array and whether it closed; reading
    stops (not closed) at a line that starts at column 0: the next top-level document.
    """
    key_indent = _line_indent(text, pos)
    cur = _ws(text, pos + 1)
    starts_line = text.rfind("\n", 0, cur) > text.rfind("\n", 0, pos)
    indent = _line_indent(text, cur) if starts_line else None
    alternatives = [r"(?P<top>)(?=[^\s\]])"]
    if indent is not None:
        alternatives.insert(0, re.escape(indent) + r"(?P<item>)\{")
    alternatives.insert(0, re.escape(key_indent) + r"(?P<close>)\]")
    resync = re.compile(r"\n(?:" + "|".join(alternatives) + ")")
    while cur < len(text) and text[cur] != "]":
        try:
            item, end = dec.raw_decode(text, cur)
        except (ValueError, RecursionError):
            m = resync.search(text, cur)
            stop = m.end() - (0 if m and m.lastgroup == "top" else 1) if m else len(text)
            out.bad.append((cur, stop))
            if m is None or m.lastgroup == "top":
                return stop, False
            cur = stop
            continue
        out.items.append((cur, end, item))
        cur = _ws(text, end)
        if text.startswith(",", cur):
            cur = _ws(text, cur + 1)
        elif cur < len(text) and text[cur] != "]":  # not a separator: treat as a broken item
            continue
    if cur >= len(text):
        return len(text), False
    return cur + 1, True


def _walk_list(text: str, pos: int, dec: json.JSONDecoder) -> _JsonList | None:
    """The object at ``pos`` read key by key, when it is a List (has an ``items`` array),
    whatever the order of its keys; None otherwise or when it breaks before its items."""
    out = _JsonList(pos)
    seen_items = False
    cur = _ws(text, pos + 1)
    try:
        while not text.startswith("}", cur):
            if not text.startswith('"', cur):
                raise _Broken(cur)
            key, cur = scanstring(text, cur + 1)
            cur = _ws(text, cur)
            if not text.startswith(":", cur):
                raise _Broken(cur)
            cur = _ws(text, cur + 1)
            if key == "items" and text.startswith("[", cur) and not seen_items:
                seen_items = True
                cur, closed = _items(text, cur, dec, out)
                if not closed:
                    out.end = cur
                    return out
            else:
                out.head[key], cur = dec.raw_decode(text, cur)
            cur = _ws(text, cur)
            if text.startswith(",", cur):
                cur = _ws(text, cur + 1)
            elif not text.startswith("}", cur):
                raise _Broken(cur)
    except (ValueError, RecursionError) as err:
        if not seen_items:
            return None
        broken = max(getattr(err, "pos", cur) or cur, cur)
        out.end = _resync(text, broken, "")
        out.bad.append((broken, out.end))
        return out
    if not seen_items:
        return None
    out.end = cur + 1
    return out


_ITEMS_AHEAD = re.compile(r'"items"\s*:\s*\[')
LIST_PEEK = 4096  # a List's own keys before `items` (kind, apiVersion, metadata) are short


def _list_ahead(text: str, pos: int) -> bool:
    return text.startswith("{", pos) and bool(_ITEMS_AHEAD.search(text, pos, pos + LIST_PEEK))


def _split_json(
    text: str,
) -> tuple[
    list[tuple[int, int, Any, str | None, str | None]], list[tuple[int, int]], list[_JsonList]
]:
    """Top-level JSON values and List items with their offsets; unreadable spans; Lists.

    A broken value costs only itself: reading resumes at the next object that starts a
    line at the same indentation (the next NDJSON line, the next List item).
    """
    dec = json.JSONDecoder()
    values: list[tuple[int, int, Any, str | None, str | None]] = []
    bad: list[tuple[int, int]] = []
    lists: list[_JsonList] = []
    pos = _ws(text, 0)
    while pos < len(text):
        if text[pos] in ",[]":  # a JSON array of events, or separators between objects
            pos = _ws(text, pos + 1)
            continue
        # A List is walked key by key (each item decoded once, with its offset); a short
        # look ahead keeps plain objects (NDJSON, watch output) on the one-call decoder.
        walked = _walk_list(text, pos, dec) if _list_ahead(text, pos) else None
        if walked is None:
            try:
                obj, end = dec.raw_decode(text, pos)
            except (ValueError, RecursionError):
                walked = _walk_list(text, pos, dec) if text[pos] == "{" else None
                if walked is None:
                    end = _resync(text, pos, "")
                    bad.append((pos, end))
                    pos = _ws(text, end)
                    continue
            else:
                if isinstance(obj, dict) and isinstance(obj.get("items"), list):
                    walked = _walk_list(text, pos, dec)  # `items` after a large value
                    if walked is None or len(walked.items) != len(obj["items"]):
                        walked = None  # cannot happen for valid JSON; cite the List's line
                        kind, api = obj.get("kind"), obj.get("apiVersion")
                        values.extend((pos, pos + 1, item, kind, api) for item in obj["items"])
                else:
                    values.append((pos, end, obj, None, None))
        if walked is not None:
            kind, api = walked.head.get("kind"), walked.head.get("apiVersion")
            kind = kind if isinstance(kind, str) else "List"
            values.extend((s, e, item, kind, api) for s, e, item in walked.items)
            bad.extend(walked.bad)
            lists.append(walked)
            end = walked.end
        pos = _ws(text, end)
    return values, bad, lists


def _json_found(text: str) -> Found:
    values, bad, lists = _split_json(text)
    spans = [(s, max(s, e - 1)) for s, e, *_ in values]
    spans += [(s, max(s, e - 1)) for s, e in bad]
    empty = [x for x in lists if not x.items and not x.bad]
    spans += [(x.start, max(x.start, x.end - 1)) for x in empty]
    line = _lines_at(text, [o for span in spans for o in span])
    found = Found()
    found.values = [
        (line[a], line[b], v, k, api)
        for (a, b), (_, _, v, k, api) in zip(spans, values, strict=False)
    ]
    found.bad = [(line[a], line[b], MALFORMED_JSON) for a, b in spans[len(values) :][: len(bad)]]
    found.empty = [
        (line[x.start], line[max(x.start, x.end - 1)], str(x.head.get("kind") or "List"))
        for x in empty
    ]
    return found


def _lines_at(text: str, offsets: list[int]) -> dict[int, int]:
    """The 0-based line of each offset: newlines counted once, in order (no index of all
    line starts, which costs more than the decoding for a large List)."""
    out: dict[int, int] = {}
    line = last = 0
    for offset in sorted(set(offsets)):
        line += text.count("\n", last, offset)
        last = offset
        out[offset] = line
    return out


# --- YAML ---------------------------------------------------------------------------

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # C parser when built


_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_SPECIAL = {v: "tag:yaml.org,2002:null" for v in ("", "~", "null", "Null", "NULL")} | {
    v: "tag:yaml.org,2002:bool" for v in ("true", "True", "TRUE", "false", "False", "FALSE")
}
_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")


class YamlLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe YAML with the scalar types API objects use: a plain scalar is null, a boolean,
    an integer or text. Timestamps stay the text they were written as (RFC 3339), and
    the C parser calls this for every scalar: PyYAML's own resolver (a list of regexes
    per first character) was most of the time of reading a large List."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]
        if not implicit[0]:
            return _STR
        tag = _SPECIAL.get(value)
        if tag is not None:
            return tag
        if value[:1] in _INT_START and _PLAIN_INT.fullmatch(value):
            return _INT
        return _STR


_INT_START = frozenset("+-0123456789")


# What the event model reads (besides the spec's key paths): constructing Python objects
# is the cost of YAML, so the rest of an item (managedFields, a Pod's spec) is not built.
_MODEL_KEYS = frozenset(
    {
        "kind", "apiVersion", "metadata", "involvedObject", "regarding", "reason", "message",
        "note", "count", "series", "deprecatedCount", "lastTimestamp", "deprecatedLastTimestamp",
        "type", "object", "Object", "event", "jsonPayload",
    }
)  # fmt: skip
_METADATA_KEYS = frozenset({"name", "namespace", "uid", "creationTimestamp"})


def _pruned(node: yaml.Node, keep: frozenset[str]) -> yaml.Node:
    """A mapping node with only the keys in ``keep`` (and a short ``metadata``)."""
    if not isinstance(node, yaml.MappingNode):
        return node
    pairs = []
    for k, v in node.value:
        name = k.value if isinstance(k, yaml.ScalarNode) else None
        if name not in keep:
            continue
        if name == "metadata" and isinstance(v, yaml.MappingNode):
            short = [(a, b) for a, b in v.value if getattr(a, "value", None) in _METADATA_KEYS]
            v = yaml.MappingNode(v.tag, short, v.start_mark, v.end_mark, v.flow_style)
        pairs.append((k, v))
    return yaml.MappingNode(node.tag, pairs, node.start_mark, node.end_mark, node.flow_style)


YAML_DOC_START = re.compile(r"^---(?=\s|$)", re.M)


def yaml_error(err: Exception, first: int) -> str:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    where = f", line {first + mark.line + 1}" if mark is not None else ""
    return f"reject: malformed YAML ({problem}{where})"


def _mapping_get(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def _scalar(node: yaml.Node | None) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) and node.value else None


def _node_last_line(node: yaml.Node) -> int:
    """The last line a node spans (its end mark sits where the next token begins)."""
    end = node.end_mark
    return end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line


def _yaml_doc(text: str, first: int, found: Found, keep: frozenset[str]) -> None:
    """One YAML document (lines from ``first``) into ``found``."""
    loader = YamlLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return
        items = _mapping_get(root, "items")
        if isinstance(root, yaml.SequenceNode):
            items, kind, api = root, None, None
        else:
            kind, api = (
                _scalar(_mapping_get(root, "kind")),
                _scalar(_mapping_get(root, "apiVersion")),
            )
        if not isinstance(items, yaml.SequenceNode):
            value = loader.construct_document(_pruned(root, keep))
            found.values.append(
                (first + root.start_mark.line, first + _node_last_line(root), value, None, None)
            )
            return
        if not items.value:
            found.empty.append(
                (first + root.start_mark.line, first + _node_last_line(root), kind or "List")
            )
            return
        nodes = items.value
        for i, node in enumerate(nodes):
            start = node.start_mark.line
            last = nodes[i + 1].start_mark.line - 1 if i + 1 < len(nodes) else _node_last_line(node)
            try:
                value = loader.construct_document(_pruned(node, keep))
            except (yaml.YAMLError, RecursionError) as err:
                found.bad.append((first + start, first + last, yaml_error(err, first)))
                continue
            found.values.append((first + start, first + last, value, kind or "List", api))
    except (yaml.YAMLError, RecursionError) as err:
        _salvage_yaml(text, first, err, found)
    finally:
        loader.dispose()


def _salvage_yaml(text: str, first: int, err: Exception, found: Found) -> None:
    """A document with a syntax error: each List item is read on its own, so a broken one
    costs only itself; the List's own keys are rejected only if they hold the error."""
    reason = yaml_error(err, first)
    lines = text.split("\n")
    n = len(lines) - (1 if text.endswith("\n") else 0)
    starts, stop = _yaml_item_starts(text, lines, n)
    if not starts:
        found.bad.append((first, first + n - 1, reason))
        return
    kind = re.search(r"^kind:[ \t]*(\S+)", text, re.M)
    api = re.search(r"^apiVersion:[ \t]*(\S+)", text, re.M)
    for j, start in enumerate(starts):
        end = starts[j + 1] if j + 1 < len(starts) else stop
        try:
            values = yaml.load("\n".join(lines[start:end]), Loader=YamlLoader)  # noqa: S506
        except (yaml.YAMLError, RecursionError) as item_err:
            found.bad.append((first + start, first + end - 1, yaml_error(item_err, first + start)))
            continue
        value = values[0] if isinstance(values, list) and values else values
        list_kind = kind.group(1) if kind else "List"
        found.values.append(
            (first + start, first + end - 1, value, list_kind, api and api.group(1))
        )
    rest = [*lines[: starts[0]], *[""] * (stop - starts[0]), *lines[stop:n]]
    try:
        yaml.load("\n".join(rest), Loader=YamlLoader)  # noqa: S506
    except (yaml.YAMLError, RecursionError) as rest_err:
        why = yaml_error(rest_err, first)
        found.bad.extend((first + i, first + i, why) for i, ln in enumerate(rest) if ln.strip())


_ITEMS_KEY = re.compile(r"^items:[ \t]*\n", re.M)


def _yaml_item_starts(text: str, lines: list[str], n: int) -> tuple[list[int], int]:
    """Where each item of a YAML List's ``items:`` sequence starts, found textually (for a
    document the parser cannot read), and the line after the last item."""
    m = _ITEMS_KEY.search(text)
    if m is None:
        return [], n
    body = next((i for i in range(text.count("\n", 0, m.end()), n) if lines[i].strip()), n)
    indent = re.match(r"[ \t]*", lines[body]).group() if body < n else ""  # type: ignore[union-attr]
    item = re.compile(re.escape(indent) + r"-(?:[ \t]|$)")
    starts: list[int] = []
    for i in range(body, n):
        line = lines[i]
        if item.match(line):
            starts.append(i)
        elif line.strip() and not line.startswith(indent + " ") and line.lstrip()[:1] != "#":
            return starts, i  # a key of the List itself (`kind: List`): the items are over
    return starts, n


def _yaml_found(text: str, keep: frozenset[str] = _MODEL_KEYS) -> Found:
    """Every ``---`` document of a YAML stream; a broken one does not stop the next."""
    found = Found(language="YAML")
    bounds = [0, *(m.start() for m in YAML_DOC_START.finditer(text) if m.start() > 0), len(text)]
    first = 0
    for a, b in zip(bounds, bounds[1:], strict=False):
        _yaml_doc(text[a:b], first, found, keep)
        first += text.count("\n", a, b)
    return found


# --- one row per line ----------------------------------------------------------------


def _is_yaml(raw_lines: list[str]) -> bool:
    for line in raw_lines:
        s = line.strip()
        if s and not s.startswith("#"):
            return not s.startswith(("{", "["))
    return False


def parse_event_document(
    lines: pl.DataFrame, paths: list[str], hidden: list[tuple[int, int, str]] | None = None
) -> tuple[pl.DataFrame, list[str]]:
    """Rows for every Event object, plus skipped/rejected rows so every line is counted;
    and notes on what could not be read.

    ``hidden``: (first, last, outcome) 1-based line spans that are not documents (log
    sections of a cluster-info dump): they get that outcome and are not parsed.
    """
    notes: list[str] = []
    raw_lines = lines["raw"].to_list()
    n = len(raw_lines)
    doc_lines = raw_lines
    if hidden:
        doc_lines = list(raw_lines)
        for a, b, _ in hidden:
            doc_lines[a - 1 : b] = [""] * (b - a + 1)
    text = "\n".join(doc_lines)
    if _is_yaml(doc_lines):
        found = _yaml_found(text, _MODEL_KEYS | {p.split(".")[0] for p in paths})
    else:
        found = _json_found(text)
    outcome: list[str | None] = [MULTILINE.format(found.language)] * n

    def mark(first: int, last: int, why: str) -> None:
        outcome[first : last + 1] = [why] * (last + 1 - first)

    for first, last, kind in found.empty:
        mark(first, last, f"skip: empty {kind} (no items)")
    rows: list[dict[str, Any]] = []
    used: set[int] = set()
    more = 0
    rejects: list[int] = []
    for first, last, value, list_kind, list_api in found.values:
        event = unwrap_event(value)
        pod = None if event is not None else pod_address(value, list_kind, paths)
        if pod is not None and first not in used:
            used.add(first)
            rows.append({"line": first + 1, **pod})
            continue
        if event is None:
            why = _not_an_event(value, list_kind, list_api)
            if why is not None:
                mark(first, last, why)
            else:
                rejects.append(first)
            continue
        if first in used:  # two objects on one line: only the first can own the line
            more += 1
            continue
        used.add(first)
        rows.append({"line": first + 1, **flatten_event(event, paths)})
    for first, last, why in found.bad:
        mark(first, last, why)
    for first in rejects:
        outcome[first] = f"reject: {found.language} value is not a Kubernetes Event"
    for a, b, why in hidden or ():  # last: a broken document's span may run across them
        outcome[a - 1 : b] = [why] * (b - a + 1)
    blank = lines.select(pl.arg_where(pl.col("raw").str.strip_chars() == ""))
    for i in blank.to_series().to_list():
        outcome[i] = BLANK
    # A `#` line outside any value is a comment (a YAML comment, a header a tool added).
    comment = lines.select(pl.arg_where(pl.col("raw").str.starts_with("#")))
    for i in comment.to_series().to_list():
        if outcome[i] is not None and outcome[i].startswith("reject: "):
            outcome[i] = COMMENT
    for ln in used:
        outcome[ln] = None
    if more:
        notes.append(
            f"{more} more JSON value(s) shared a line with another and were not read "
            "(one event per line; pretty-print the file to read them all)"
        )
    cols = [*dict.fromkeys([*paths, *DERIVED])]
    events = pl.DataFrame(
        [{c: r.get(c) for c in ["line", *cols]} for r in rows],
        schema={"line": pl.UInt32, **{c: pl.String for c in cols}},
    )
    frame = lines.with_columns(pl.Series(OUTCOME, outcome, dtype=pl.String))
    return frame.join(events, on="line", how="left", maintain_order="left"), notes
