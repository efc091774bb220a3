"""Registry of log formats.

Each format is one TOML file in this folder, loaded into a frozen ``FormatSpec``. Adding a
format means adding a file; the engines in ``analyzer.ingest`` read specs, never names.

Spec keys (all formats):

``name``, ``description``, ``source`` (a ``schema.Source``), ``engine`` (``text`` |
``jsonl`` | ``events`` | ``cri``), ``standalone`` (may be chosen for a whole file),
``payload`` (may be chosen for the payload of a runtime wrapper such as CRI),
``priority`` (ties in sniffing go to the higher one).

``pattern`` (text): a regex with named groups, run by polars (Rust regex: no look-around).
``rest`` (text): the pattern matches only a prefix (cheap to run on long lines); the rest of
the line after the match becomes this field.
``skip`` (text): ``{reason = regex}``; matching lines are counted as skipped, not rejected.
``quick`` (text): a list of small regexes whose named groups are groups of ``pattern``: when a
run counts successful requests per second instead of keeping them (``analyze``), a line the
pattern matches whose ``quick`` status is below 500 is read from these alone, skipping the
full pattern's captures (the costly part of a long access line). They must give the same
values as ``pattern`` (the samples are checked).
``require`` (jsonl): key paths that must all be present for a line to be this format.
``prefix`` (jsonl): a regex for what a line may carry before its JSON (a journal or syslog
prefix: ``Nov 19 02:13:48 kind-worker2 kubelet[250]: {...}``); it is stripped before
decoding, and its named groups are fields (``node = "host"``), not JSON keys.
``fields``: canonical column -> field name(s) (regex group names for text, dotted JSON key
paths for jsonl); a list means "first non-null". A top-level JSON key named ``line``, ``raw``,
``file`` or ``text`` (the reader's own columns) is the field ``json:<key>``.
``timestamp``: ``{field = name or [names], style = "rfc3339" | "klog" | "epoch" | "envelope" |
"clf" | "local"}`` (clf: ``18/Jun/2020:09:14:35 +0000``, as nginx ``$time_local``; local: a
wall-clock time with no zone, read in ``--tz`` (default UTC), while a value that carries an
offset keeps it). With ``local``, ``layout`` is the wall clock's strftime layout when it is not
``%Y-%m-%d %H:%M:%S%.f`` (nginx error log: ``%Y/%m/%d %H:%M:%S``).
``timestamp.start``: the time is when the request *started* (Envoy's ``START_TIME``, Traefik's
``StartUTC``, HAProxy's accept date), so the event's ``ts`` is that time plus ``duration_ms``: a
failure happened when it failed, when the proxy answered. ``true`` means every
``timestamp.field``; a list names the fields that are start times (a row whose time came from
another, a logger's own time, is not moved). Needs ``duration_ms``.
``extract``: ``{column = {from = field or [fields], regex = one-group regex}}`` (a list: the
first non-null of them), run after ``fields``.
``rules``: ordered ``[[rules]]`` with ``kind`` and conditions ``equals``/``contains``/
``regex`` (``{field = value}``) and ``present`` (list of fields); first match wins; a rule may
``set`` constant columns. Lines no rule claims get ``default_kind``.
``payload_field`` (jsonl): this format is a wrapper (a journal or log-store export): the line
it carries is under that key and is sniffed and parsed by its own format, as in CRI files;
the wrapper gives the time and its identity ``fields`` (``namespace``, ``pod``, ``container``,
``pod_uid``, ``container_id``, ``node``) fill what the line lacks. A list: the first key
present (Cloud Logging: ``textPayload``, else ``jsonPayload``); an object-valued key must
be in ``json_text`` and is carried as its JSON text. A wrapper also reads a file that is one
JSON array of records (``gcloud logging read --format=json``) or a YAML stream of them
(``gcloud logging read``'s default output; see ``analyzer.ingest.records``).
``payload_prefix`` (with ``payload_field``): a regex; a carried line that starts with it
loses that prefix (a CRI header a log shipper stored with the line).
``own_event`` (with ``payload_field``): key paths; a record holding any of them is an event
of the wrapper itself (a request log: ``httpRequest.status``), read with its own ``fields``,
``extract`` and ``rules`` instead of being unwrapped.
``identity_hint`` (with ``payload_field``): a note for the report when none of the first
records names a namespace, pod or container (how to export them with it).
``json_text`` (jsonl): key paths whose value may be an object, an array or any scalar, read
as JSON text (a string as itself) instead of being decoded: kubelet's ``pod`` is an object
or ``ns/name``. A path starting with ``$`` is a JSONPath used as written (for keys holding
dots: ``$.labels['compute.googleapis.com/resource_name']``); the field is named by it.
``newline_terminated`` (with ``payload_field``): the carried line keeps its newline, and one
without it is a fragment continued by the next record of the same ``stream`` (Docker
json-file splits lines over 16 KiB so); fragments are joined like CRI partial lines.
``also`` (text, jsonl): other line formats in the same file (a journal holds kubelet and
containerd lines; an istio-proxy log holds access lines and the agent's own); a line this
format does not match is parsed by the first of them that matches it (a jsonl format matches
the lines that are JSON objects).
``sum``: ``{column = [fields]}``: the column is the sum of these numeric fields (ALB's three
processing times); null when one is missing or negative (-1: that phase did not happen).
``join``: ``{column = [fields]}``: the column is these fields' values joined by ``:`` (a
target's address and port: ``upstream = ["target_id", "target_port"]``); null when one is.
``scale``: ``{column = factor}``: a numeric column times this factor, after ``fields`` and
``sum``, into the schema's unit (seconds -> ``duration_ms``: 1000; nanoseconds: 1e-6).
``program_field`` and ``programs`` (text): the field naming the program that wrote a line (a
journal's identifier) and the programs whose lines this format's ``source`` and kinds describe
(``kubelet``). A line another program wrote, or that a container wrote (inside a runtime
wrapper, or a file without the format's ``sniff_contains`` markers), is that program's own log:
source ``app``, kind ``log``, its pod from where it was written (the log path), not from text.
On a wrapper (``payload_field``), ``program_field`` names the program of each record (a
journal's ``SYSLOG_IDENTIFIER``): a carried line in no format we read is skipped and counted
per program instead of being kept as a plain log line.
``upstream_local``: the component proxies to a container of its own pod (a sidecar).
``load_balancer``: the component is a cloud load balancer outside the cluster, which stops
sending to a pod only when its target deregistration (ALB) or endpoint detach (NEG) is done.
``inbound_lines``: a mesh sidecar (Envoy under Istio): in a pod's own log, its line to that
pod's own address is the pod's inbound side (Istio >= 1.10 logs the pod IP, not 127.0.0.1).
``[[samples]]``: ``line`` and expected ``kind``; the test-suite parses every sample, and a
user's spec has its samples parsed when it is loaded.
``override`` (user specs): this spec replaces the built-in format of the same name (without
it, reusing a built-in's name is an error).

User specs are the same TOML files in a directory of one's own (``--formats-dir``,
``$ANALYZER_FORMATS_DIR``, ``~/.config/k8s-502-analyzer/formats``): see ``registry.py`` and
docs/user-formats.md. Regexes run in polars (Rust regex) and, for sniffing, Python ``re``: a
spec's regexes must mean the same in both, and loading checks that each compiles in both.
Loading collects every problem of every file (``FormatSpecErrors``) before it fails.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

from analyzer.errors import FormatSpecError, FormatSpecErrors
from analyzer.formats.check import group_count, group_names, regex_problem
from analyzer.schema import COLUMNS, EVENTS, KINDS, SOURCES

SPEC_DIR = Path(__file__).parent
ENGINES = ("text", "jsonl", "events", "cri")
TS_STYLES = ("rfc3339", "klog", "epoch", "envelope", "clf", "local")
COLUMNS_NUMERIC = {n for n, t in EVENTS.items() if t.is_numeric()}
_EXTRACT_KEYS = {"from", "regex"}


def spec_key(name: str | None) -> dict[str, str | None]:
    """Field metadata: the TOML key of a ``FormatSpec`` field whose key is not its name
    (a dotted key lives in a table; ``None``: not read from TOML)."""
    return {"key": name}


@dataclass(frozen=True)
class Rule:
    """Assigns ``kind`` to the lines that meet every condition."""

    kind: str
    equals: tuple[tuple[str, str], ...] = ()
    contains: tuple[tuple[str, str], ...] = ()
    regex: tuple[tuple[str, str], ...] = ()
    present: tuple[str, ...] = ()
    set: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Sample:
    line: str
    kind: str


@dataclass(frozen=True)
class FormatSpec:
    """One log format, declared as data.

    A new spec key is a new field here: its TOML key is the field's name unless
    ``metadata=spec_key(...)`` says otherwise, and loading derives the allowed keys from these
    fields (simple values are type-checked from the annotation).
    """

    name: str
    description: str
    source: str
    engine: str
    standalone: bool = True
    payload: bool = False
    priority: int = 0
    pattern: str | None = None
    rest: str | None = (
        None  # text: the pattern matches a prefix; the rest of the line -> this field
    )
    skip: tuple[tuple[str, str], ...] = ()
    # text: small patterns whose named groups are ``pattern``'s own, enough to count a request
    # answered below 500 without the full pattern's captures (reduce while reading)
    quick: tuple[str, ...] = ()
    require: tuple[str, ...] = ()
    sniff_contains: tuple[str, ...] = ()
    fields: tuple[tuple[str, tuple[str, ...]], ...] = ()
    ts_fields: tuple[str, ...] = field(default=(), metadata=spec_key("timestamp.field"))
    ts_style: str = field(default="rfc3339", metadata=spec_key("timestamp.style"))
    ts_layout: str | None = field(default=None, metadata=spec_key("timestamp.layout"))
    # the ``timestamp.field`` names that are a request's start (TOML: true = all of them)
    ts_start: tuple[str, ...] = field(default=(), metadata=spec_key("timestamp.start"))
    extract: tuple[tuple[str, tuple[str, ...], str], ...] = ()  # (column, from, regex)
    rules: tuple[Rule, ...] = ()
    default_kind: str = "log"
    upstream_local: bool = False
    load_balancer: bool = False
    inbound_lines: bool = False  # a mesh sidecar: it logs its own pod's inbound requests
    paths: tuple[str, ...] = ()  # cri: path regexes naming namespace/pod/pod_uid/container
    also: tuple[str, ...] = ()  # text: formats for the lines this one does not match
    # jsonl: the keys holding a wrapped line, first present wins (TOML: one key or a list)
    payload_fields: tuple[str, ...] = field(default=(), metadata=spec_key("payload_field"))
    payload_prefix: str | None = None  # payload_field: stripped from the carried line
    prefix: str | None = None  # jsonl: a line prefix before the JSON; its groups are fields
    own_event: tuple[str, ...] = ()  # payload_field: records holding these are events themselves
    json_text: tuple[str, ...] = ()  # jsonl: keys read as JSON text, whatever their type
    identity_hint: str = ""  # payload_field: noted when records name no pod
    newline_terminated: bool = False  # payload_field: a line without its newline continues
    program_field: str | None = None  # text: the field naming the program that wrote a line
    programs: tuple[str, ...] = ()  # the programs whose lines ``source`` and kinds describe
    sum: tuple[tuple[str, tuple[str, ...]], ...] = ()  # column = sum of these fields
    join: tuple[tuple[str, tuple[str, ...]], ...] = ()  # column = these fields joined by ":"
    scale: tuple[tuple[str, float], ...] = ()  # column *= factor (unit conversion)
    samples: tuple[Sample, ...] = field(default=(), repr=False)
    override: bool = False  # a user spec that replaces the built-in of the same name
    path: str = field(default="", metadata=spec_key(None))  # the spec's file
    builtin: bool = field(default=False, metadata=spec_key(None))  # bundled

    @property
    def payload_field(self) -> str | None:
        return self.payload_fields[0] if self.payload_fields else None

    def field_names(self) -> list[str]:
        """Every raw field name the spec reads (for projection)."""
        names: list[str] = []
        for _, alts in self.fields:
            names.extend(alts)
        names.extend(src for _, sources, _ in self.extract for src in sources)
        for rule in self.rules:
            names.extend(k for k, _ in rule.equals + rule.contains + rule.regex)
            names.extend(rule.present)
        names.extend(self.ts_fields)
        names.extend(src for _, parts in self.sum for src in parts)
        names.extend(src for _, parts in self.join for src in parts)
        names.extend(self.require)
        names.extend(self.payload_fields)
        names.extend(self.own_event)
        if self.program_field:
            names.append(self.program_field)
        if self.newline_terminated:
            names.append("stream")  # fragments continue in the same stream
        return list(dict.fromkeys(names))


def _spec_keys() -> dict[str, tuple[str, str]]:
    """TOML key (``timestamp.style``) -> (field name, annotation), from the dataclass."""
    out = {}
    for f in fields(FormatSpec):
        toml_key = f.metadata.get("key", f.name)
        if toml_key is not None:
            out[toml_key] = (f.name, str(f.type))
    return out


SPEC_KEYS = _spec_keys()
TOP_KEYS = {k.split(".")[0] for k in SPEC_KEYS}
TABLE_KEYS = {  # tables whose keys are fixed (``timestamp``); others map names to values
    top: {k.split(".", 1)[1] for k in SPEC_KEYS if k.startswith(top + ".")}
    for top in TOP_KEYS
    if top not in SPEC_KEYS
}
RULE_KEYS = {f.name for f in fields(Rule)}
SAMPLE_KEYS = {f.name for f in fields(Sample)}

# Simple values are checked by their annotation; structured ones by their own parser below.
_SIMPLE: dict[str, tuple[Callable[[Any], bool], str]] = {
    "str": (lambda v: isinstance(v, str), "a string"),
    "str | None": (lambda v: isinstance(v, str), "a string"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "int | None": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "float": (lambda v: isinstance(v, int | float) and not isinstance(v, bool), "a number"),
    "float | None": (lambda v: isinstance(v, int | float) and not isinstance(v, bool), "a number"),
    "tuple[str, ...]": (
        lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "a list of strings",
    ),
}

Bad = Callable[[str, str], None]  # (key, problem): records one problem and carries on


def _lookup(data: dict[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _check_keys(data: dict[str, Any], bad: Bad) -> None:
    """Unknown keys, and simple values of the wrong type."""
    for k in sorted(set(data) - TOP_KEYS):
        bad(k, "unknown key")
    for top, allowed in TABLE_KEYS.items():
        table = data.get(top)
        if table is None:
            continue
        if not isinstance(table, dict):
            bad(top, "expected a table")
            continue
        for k in sorted(set(table) - allowed):
            bad(f"{top}.{k}", f"unknown key (known: {', '.join(sorted(allowed))})")
    for toml_key, (_, annotation) in SPEC_KEYS.items():
        value = _lookup(data, toml_key)
        simple = _SIMPLE.get(annotation)
        if value is None or simple is None:
            continue
        if toml_key in ("timestamp.field", "payload_field") and isinstance(value, str):
            continue  # one field or a list of them
        if toml_key == "timestamp.start" and isinstance(value, bool):
            continue  # true: every timestamp field; or a list of them
        ok, what = simple
        if not ok(value):
            bad(toml_key, f"expected {what}, got {type(value).__name__}")


def _strs(value: Any) -> tuple[str, ...]:
    """A string or a list of strings (already type-checked) as a tuple."""
    if isinstance(value, str):
        return (value,)
    return tuple(v for v in value or () if isinstance(v, str))


def _pairs(table: Any, key: str, bad: Bad) -> tuple[tuple[str, str], ...]:
    if table is None:
        return ()
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        bad(key, "expected a table of strings")
        return ()
    return tuple(table.items())


def _regex(pattern: Any, key: str, bad: Bad) -> bool:
    if not isinstance(pattern, str):
        bad(key, "expected a regex string")
        return False
    problem = regex_problem(pattern)
    if problem:
        bad(key, problem)
    return not problem


def _join_table(table: Any, bad: Bad) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``join``: canonical string column -> the fields whose values it joins with ``:``."""
    if table is None:
        return ()
    if not isinstance(table, dict):
        bad("join", "expected a table")
        return ()
    out = []
    for col, value in table.items():
        if col not in COLUMNS or col in COLUMNS_NUMERIC:
            bad(f"join.{col}", "not a text column of schema.EVENTS")
        elif not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            bad(f"join.{col}", "expected a list of fields")
        else:
            out.append((col, tuple(value)))
    return tuple(out)


def _numeric_table(table: Any, key: str, kind: Any, bad: Bad) -> list[tuple[str, Any]]:
    """``sum`` / ``scale``: canonical numeric column -> fields list / factor."""
    if table is None:
        return []
    if not isinstance(table, dict):
        bad(key, "expected a table")
        return []
    out = []
    for col, value in table.items():
        if col not in COLUMNS_NUMERIC:
            bad(f"{key}.{col}", "not a numeric column of schema.EVENTS")
        elif not isinstance(value, kind) or isinstance(value, bool):
            bad(f"{key}.{col}", f"expected {'a list of fields' if kind is list else 'a number'}")
        else:
            out.append((col, value))
    return out


def _top(data: dict[str, Any], bad: Bad) -> None:
    """Required keys, enumerations and the regexes that run on whole lines."""
    for k in ("name", "source", "engine"):
        if k not in data:  # a value of the wrong type is _check_keys' to report
            bad(k, "required")
    if isinstance(data.get("source"), str) and data["source"] not in SOURCES:
        bad("source", f"must be one of {', '.join(SOURCES)}")
    if isinstance(data.get("engine"), str) and data["engine"] not in ENGINES:
        bad("engine", f"must be one of {', '.join(ENGINES)}")
    if data.get("engine") == "text" and "pattern" not in data:
        bad("pattern", "text formats need a pattern")
    if isinstance(data.get("pattern"), str) and _regex(data["pattern"], "pattern", bad):
        _pattern_groups(data, bad)
    if isinstance(data.get("paths"), list):
        for i, pattern in enumerate(data["paths"]):
            _regex(pattern, f"paths[{i}]", bad)
    for reason, pattern in _pairs(data.get("skip"), "skip", bad):
        _regex(pattern, f"skip.{reason}", bad)
    if isinstance(data.get("quick"), list):
        for i, pattern in enumerate(data["quick"]):
            _regex(pattern, f"quick[{i}]", bad)
    for key in ("payload_prefix", "prefix"):
        if isinstance(data.get(key), str):
            _regex(data[key], key, bad)
    json_text = _strs(data.get("json_text"))
    fields_table = data.get("fields") if isinstance(data.get("fields"), dict) else {}
    for col, alts in fields_table.items():
        for name in _strs(alts):
            if name.startswith("$") and name not in json_text:
                bad(f"fields.{col}", f"{name} must be in json_text")
    default_kind = data.get("default_kind", "log")
    if default_kind not in KINDS:
        bad("default_kind", f"must be one of {', '.join(KINDS)}")
    ts = data.get("timestamp")
    if isinstance(ts, dict) and ts.get("style", "rfc3339") not in TS_STYLES:
        bad("timestamp.style", f"must be one of {', '.join(TS_STYLES)}")
    if isinstance(ts, dict) and "layout" in ts and ts.get("style") != "local":
        bad("timestamp.layout", 'a strftime layout, used with style = "local"')
    if isinstance(ts, dict) and ts.get("start") not in (None, False):
        _start_keys(data, ts, bad)


def _start_keys(data: dict[str, Any], ts: dict[str, Any], bad: Bad) -> None:
    """``timestamp.start`` names timestamp fields, and the spec gives a ``duration_ms``."""
    start = ts["start"]
    if isinstance(start, list):
        unknown = [f for f in start if isinstance(f, str) and f not in _strs(ts.get("field"))]
        if unknown:
            bad("timestamp.start", f"not in timestamp.field: {', '.join(unknown)}")
    tables = [data.get(k) for k in ("fields", "sum")]
    if not any(isinstance(t, dict) and "duration_ms" in t for t in tables):
        bad("timestamp.start", "the start time needs a duration_ms (in fields or sum) to add")


MATCH_GROUP = "_m"  # the text engine tells a match from a miss by this (empty) group
# every line has these before parsing (``stream``: a wrapped line's, from its wrapper)
_LINE_COLUMNS = {"line", "raw", "file", "text", "stream"}


def _pattern_groups(data: dict[str, Any], bad: Bad) -> None:
    """A text pattern needs the match marker (without it every file of the format fails
    when its plan runs), and every field a text spec reads must be one of its groups (or
    ``rest``, or an ``extract`` column): a misspelt one would silently stay null."""
    if data.get("engine") not in ("text", "cri"):
        return
    groups = set(group_names(data["pattern"]))
    if MATCH_GROUP not in groups:
        bad("pattern", f"needs the empty group (?P<{MATCH_GROUP}>) at its start")
    _quick_groups(data, groups, bad)
    if data["engine"] != "text":
        return
    have = groups | _LINE_COLUMNS | {data.get("rest")}
    have |= set(data.get("extract") or {}) if isinstance(data.get("extract"), dict) else set()
    for rule in data.get("rules") or []:  # a rule's `set` makes columns too
        if isinstance(rule, dict) and isinstance(rule.get("set"), dict):
            have |= set(rule["set"])
    wanted: list[tuple[str, Any]] = []
    if isinstance(data.get("fields"), dict):
        wanted += [(f"fields.{col}", alts) for col, alts in data["fields"].items()]
    if isinstance(data.get("timestamp"), dict):
        wanted.append(("timestamp.field", data["timestamp"].get("field")))
    for i, rule in enumerate(data.get("rules") or []):
        if isinstance(rule, dict):
            for cond in ("equals", "contains", "regex"):
                if isinstance(rule.get(cond), dict):
                    wanted += [(f"rules[{i}].{cond}.{f}", f) for f in rule[cond]]
            wanted.append((f"rules[{i}].present", rule.get("present")))
    for where, fields_named in wanted:
        if isinstance(fields_named, str | list):
            missing = [n for n in _strs(fields_named) if n not in have]
            if missing:
                bad(where, f"no group {', '.join(missing)} in the pattern")


def _quick_groups(data: dict[str, Any], groups: set[str], bad: Bad) -> None:
    """``quick`` patterns name only the pattern's groups, and one of them gives the status."""
    quick = data.get("quick")
    if not isinstance(quick, list) or not quick:
        return
    fields_table = data.get("fields") if isinstance(data.get("fields"), dict) else {}
    status = fields_table.get("status")
    named: set[str] = set()
    for i, rx in enumerate(quick):
        if not isinstance(rx, str) or regex_problem(rx):
            continue  # reported by _top
        own = set(group_names(rx))
        if own - groups:
            bad(f"quick[{i}]", f"groups not in the pattern: {', '.join(sorted(own - groups))}")
        named |= own
    if not isinstance(status, str | list) or not set(_strs(status)) & named:
        bad("quick", "no quick pattern gives the status field")


def _fields(data: dict[str, Any], bad: Bad) -> tuple[tuple[str, tuple[str, ...]], ...]:
    raw = data.get("fields") or {}
    if not isinstance(raw, dict):
        bad("fields", "expected a table")
        return ()
    out: list[tuple[str, tuple[str, ...]]] = []
    for col, alts in raw.items():
        if col not in COLUMNS:
            bad(f"fields.{col}", "not a column of schema.EVENTS")
        elif not _SIMPLE["tuple[str, ...]"][0](alts) and not isinstance(alts, str):
            bad(f"fields.{col}", "expected a field name or a list of them")
        else:
            out.append((col, _strs(alts)))
    return tuple(out)


def _extract(data: dict[str, Any], bad: Bad) -> tuple[tuple[str, tuple[str, ...], str], ...]:
    raw = data.get("extract") or {}
    if not isinstance(raw, dict):
        bad("extract", "expected a table")
        return ()
    out: list[tuple[str, tuple[str, ...], str]] = []
    for col, spec in raw.items():
        where = f"extract.{col}"
        if not isinstance(spec, dict) or set(spec) != _EXTRACT_KEYS:
            bad(where, "expected {from = ..., regex = ...}")
            continue
        if not isinstance(spec["from"], str | list):
            bad(f"{where}.from", "expected a field name or a list of them")
            continue
        if not _regex(spec["regex"], f"{where}.regex", bad):
            continue
        groups = group_count(spec["regex"])
        if groups != 1:
            bad(f"{where}.regex", f"needs exactly one capture group, has {groups}")
            continue
        out.append((col, _strs(spec["from"]), spec["regex"]))
    return tuple(out)


def _rules(data: dict[str, Any], bad: Bad) -> tuple[Rule, ...]:
    raw_rules = data.get("rules") or []
    if not isinstance(raw_rules, list):
        bad("rules", "expected [[rules]] tables")
        return ()
    rules: list[Rule] = []
    for i, raw in enumerate(raw_rules):
        where = f"rules[{i}]"
        if not isinstance(raw, dict):
            bad(where, "expected a table")
            continue
        for k in sorted(set(raw) - RULE_KEYS):
            bad(f"{where}.{k}", f"unknown key (known: {', '.join(sorted(RULE_KEYS))})")
        if raw.get("kind") not in KINDS:
            bad(f"{where}.kind", f"must be one of {', '.join(KINDS)}")
            continue
        regexes = _pairs(raw.get("regex"), f"{where}.regex", bad)
        for fld, pattern in regexes:
            _regex(pattern, f"{where}.regex.{fld}", bad)
        present = raw.get("present") or []
        if not _SIMPLE["tuple[str, ...]"][0](present):
            bad(f"{where}.present", "expected a list of field names")
            present = []
        rules.append(
            Rule(
                kind=raw["kind"],
                equals=_pairs(raw.get("equals"), f"{where}.equals", bad),
                contains=_pairs(raw.get("contains"), f"{where}.contains", bad),
                regex=regexes,
                present=tuple(present),
                set=_pairs(raw.get("set"), f"{where}.set", bad),
            )
        )
    return tuple(rules)


def _samples(data: dict[str, Any], bad: Bad) -> tuple[Sample, ...]:
    raw_samples = data.get("samples") or []
    if not isinstance(raw_samples, list):
        bad("samples", "expected [[samples]] tables")
        return ()
    out: list[Sample] = []
    for i, raw in enumerate(raw_samples):
        where = f"samples[{i}]"
        if not isinstance(raw, dict):
            bad(where, "expected a table with line and kind")
            continue
        for k in sorted(set(raw) - SAMPLE_KEYS):
            bad(f"{where}.{k}", "unknown key (known: kind, line)")
        line, kind = raw.get("line"), raw.get("kind")
        if not isinstance(line, str) or not line.strip():
            bad(f"{where}.line", "required non-empty string")
        elif kind not in KINDS:
            bad(f"{where}.kind", f"must be one of {', '.join(KINDS)}")
        else:
            out.append(Sample(line=line, kind=kind))
    return tuple(out)


def parse_spec(data: dict[str, Any], file: str, *, builtin: bool = False) -> FormatSpec:
    """Validate a decoded TOML document into a ``FormatSpec``.

    Every problem is collected before failing: ``FormatSpecErrors`` lists them all, each
    naming ``file`` and the key.
    """
    problems: list[FormatSpecError] = []

    def bad(key: str, problem: str) -> None:
        problems.append(FormatSpecError(file, key, problem))

    _check_keys(data, bad)
    _top(data, bad)
    fields_ = _fields(data, bad)
    extract = _extract(data, bad)
    rules = _rules(data, bad)
    samples = _samples(data, bad)
    sums = _numeric_table(data.get("sum"), "sum", list, bad)
    scales = _numeric_table(data.get("scale"), "scale", int | float, bad)
    joins = _join_table(data.get("join"), bad)
    if problems:
        raise FormatSpecErrors(problems)
    ts = data.get("timestamp") or {}
    return FormatSpec(
        name=data["name"],
        description=data.get("description", ""),
        source=data["source"],
        engine=data["engine"],
        standalone=data.get("standalone", True),
        payload=data.get("payload", False),
        priority=data.get("priority", 0),
        pattern=data.get("pattern"),
        rest=data.get("rest"),
        skip=tuple((data.get("skip") or {}).items()),
        quick=_strs(data.get("quick")),
        require=_strs(data.get("require")),
        sniff_contains=_strs(data.get("sniff_contains")),
        fields=fields_,
        ts_fields=_strs(ts.get("field")),
        ts_style=ts.get("style", "rfc3339"),
        extract=extract,
        rules=rules,
        default_kind=data.get("default_kind", "log"),
        upstream_local=data.get("upstream_local", False),
        load_balancer=data.get("load_balancer", False),
        inbound_lines=data.get("inbound_lines", False),
        paths=_strs(data.get("paths")),
        also=_strs(data.get("also")),
        payload_fields=_strs(data.get("payload_field")),
        payload_prefix=data.get("payload_prefix"),
        prefix=data.get("prefix"),
        own_event=_strs(data.get("own_event")),
        json_text=_strs(data.get("json_text")),
        identity_hint=data.get("identity_hint", ""),
        newline_terminated=data.get("newline_terminated", False),
        program_field=data.get("program_field"),
        programs=_strs(data.get("programs")),
        ts_layout=ts.get("layout"),
        ts_start=_ts_start(ts),
        sum=tuple((c, _strs(parts)) for c, parts in sums),
        join=joins,
        scale=tuple((c, float(f)) for c, f in scales),
        samples=samples,
        override=data.get("override", False),
        path=file,
        builtin=builtin,
    )


def _ts_start(ts: dict[str, Any]) -> tuple[str, ...]:
    start = ts.get("start", False)
    if start is True:
        return _strs(ts.get("field"))
    return _strs(start) if isinstance(start, list) else ()


def load_spec(path: str | Path, *, builtin: bool = False) -> FormatSpec:
    """Load one TOML spec file (problems name the file as given; built-ins by file name)."""
    path = Path(path)
    shown = path.name if builtin else str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise FormatSpecErrors([FormatSpecError(shown, "(file)", str(err))]) from err
    return parse_spec(data, shown, builtin=builtin)


@cache
def builtin() -> tuple[FormatSpec, ...]:
    """Every bundled format, highest priority first (never a user's: see ``specs()``)."""
    specs = [load_spec(p, builtin=True) for p in sorted(SPEC_DIR.glob("*.toml"))]
    names = [s.name for s in specs]
    if len(names) != len(set(names)):
        raise FormatSpecError(str(SPEC_DIR), "name", "duplicate format names")
    return tuple(sorted(specs, key=lambda s: (-s.priority, s.name)))


# The registry module reads the definitions above; importing it last keeps one namespace
# (``formats.load``, ``formats.get``) without an import cycle.
from analyzer.formats.registry import (  # noqa: E402
    Registry,
    active,
    config_dirs,
    get,
    load,
    names,
    specs,
    using,
)

__all__ = [
    "FormatSpec",
    "Registry",
    "Rule",
    "Sample",
    "active",
    "builtin",
    "config_dirs",
    "get",
    "load",
    "load_spec",
    "names",
    "parse_spec",
    "specs",
    "using",
]
