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
``require`` (jsonl): key paths that must all be present for a line to be this format.
``fields``: canonical column -> field name(s) (regex group names for text, dotted JSON key
paths for jsonl); a list means "first non-null". A top-level JSON key named ``line``, ``raw``,
``file`` or ``text`` (the reader's own columns) is the field ``json:<key>``.
``timestamp``: ``{field = name or [names], style = "rfc3339" | "klog" | "epoch" | "envelope" |
"clf"}`` (clf: ``18/Jun/2020:09:14:35 +0000``, as nginx ``$time_local``).
``scale``: ``{column = factor}``: a numeric column is multiplied by it (``duration_ms = 1000``
for a duration in seconds).
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
JSON array of records (``gcloud logging read --format=json``).
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
``also`` (text): other text formats in the same file (a journal holds kubelet and containerd
lines); a line this format does not match is parsed by the first of them that matches it.
``upstream_local``: the component proxies to a container of its own pod (a sidecar).
``[[samples]]``: ``line`` and expected ``kind``; the test-suite parses every sample.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from analyzer.errors import FormatSpecError
from analyzer.schema import COLUMNS, KINDS, SOURCES

SPEC_DIR = Path(__file__).parent
ENGINES = ("text", "jsonl", "events", "cri")
TS_STYLES = ("rfc3339", "klog", "epoch", "envelope", "clf")
_TOP_KEYS = {
    "name",
    "description",
    "source",
    "engine",
    "standalone",
    "payload",
    "priority",
    "pattern",
    "skip",
    "require",
    "fields",
    "timestamp",
    "extract",
    "rules",
    "default_kind",
    "upstream_local",
    "samples",
    "sniff_contains",
    "paths",
    "also",
    "rest",
    "payload_field",
    "newline_terminated",
    "payload_prefix",
    "own_event",
    "json_text",
    "scale",
    "identity_hint",
}
_RULE_KEYS = {"kind", "equals", "contains", "regex", "present", "set"}


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
    """One log format, declared as data."""

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
    require: tuple[str, ...] = ()
    sniff_contains: tuple[str, ...] = ()
    fields: tuple[tuple[str, tuple[str, ...]], ...] = ()
    ts_fields: tuple[str, ...] = ()  # first non-null wins
    ts_style: str = "rfc3339"
    extract: tuple[tuple[str, tuple[str, ...], str], ...] = ()  # (column, from, regex)
    rules: tuple[Rule, ...] = ()
    default_kind: str = "log"
    upstream_local: bool = False
    paths: tuple[str, ...] = ()  # cri: path regexes naming namespace/pod/pod_uid/container
    also: tuple[str, ...] = ()  # text: formats for the lines this one does not match
    payload_fields: tuple[str, ...] = ()  # jsonl: the keys holding a wrapped line, first wins
    payload_prefix: str | None = None  # payload_field: stripped from the carried line
    own_event: tuple[str, ...] = ()  # payload_field: records holding these are events themselves
    json_text: tuple[str, ...] = ()  # jsonl: keys read as JSON text, whatever their type
    scale: tuple[tuple[str, float], ...] = ()  # column -> factor (seconds -> ms)
    identity_hint: str = ""  # payload_field: noted when records name no pod
    newline_terminated: bool = False  # payload_field: a line without its newline continues
    samples: tuple[Sample, ...] = field(default=(), repr=False)
    path: str = ""

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
        names.extend(self.require)
        names.extend(self.payload_fields)
        names.extend(self.own_event)
        if self.newline_terminated:
            names.append("stream")  # fragments continue in the same stream
        return list(dict.fromkeys(names))


def _pairs(table: Any, file: str, key: str) -> tuple[tuple[str, str], ...]:
    if table is None:
        return ()
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise FormatSpecError(file, key, "expected a table of strings")
    return tuple(table.items())


def _check_regex(pattern: str, file: str, key: str) -> None:
    if "(?=" in pattern or "(?!" in pattern or "(?<=" in pattern or "(?<!" in pattern:
        raise FormatSpecError(file, key, "look-around is not supported by the polars regex engine")
    try:
        re.compile(pattern)
    except re.error as err:
        raise FormatSpecError(file, key, f"invalid regex: {err}") from err


def parse_spec(data: dict[str, Any], file: str) -> FormatSpec:
    """Validate a decoded TOML document into a ``FormatSpec``."""
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise FormatSpecError(file, ", ".join(sorted(unknown)), "unknown key(s)")
    for key in ("name", "source", "engine"):
        if not isinstance(data.get(key), str):
            raise FormatSpecError(file, key, "required string")
    if data["source"] not in SOURCES:
        raise FormatSpecError(file, "source", f"must be one of {SOURCES}")
    if data["engine"] not in ENGINES:
        raise FormatSpecError(file, "engine", f"must be one of {ENGINES}")
    if data["engine"] == "text" and not isinstance(data.get("pattern"), str):
        raise FormatSpecError(file, "pattern", "text formats need a pattern")
    if "pattern" in data:
        _check_regex(data["pattern"], file, "pattern")
    for i, pattern in enumerate(data.get("paths") or ()):
        _check_regex(pattern, file, f"paths[{i}]")
    for reason, pattern in (data.get("skip") or {}).items():
        _check_regex(pattern, file, f"skip.{reason}")
    if "payload_prefix" in data:
        _check_regex(data["payload_prefix"], file, "payload_prefix")
    payload_fields = data.get("payload_field") or ()
    payload_fields = (payload_fields,) if isinstance(payload_fields, str) else tuple(payload_fields)

    fields: list[tuple[str, tuple[str, ...]]] = []
    for col, alts in (data.get("fields") or {}).items():
        if col not in COLUMNS:
            raise FormatSpecError(file, f"fields.{col}", "not a column of schema.EVENTS")
        alts_t = (alts,) if isinstance(alts, str) else tuple(alts)
        fields.append((col, alts_t))

    ts = data.get("timestamp") or {}
    style = ts.get("style", "rfc3339")
    if style not in TS_STYLES:
        raise FormatSpecError(file, "timestamp.style", f"must be one of {TS_STYLES}")

    extract: list[tuple[str, tuple[str, ...], str]] = []
    for col, spec in (data.get("extract") or {}).items():
        if not isinstance(spec, dict) or set(spec) != {"from", "regex"}:
            raise FormatSpecError(file, f"extract.{col}", "expected {from = ..., regex = ...}")
        _check_regex(spec["regex"], file, f"extract.{col}.regex")
        if re.compile(spec["regex"]).groups != 1:
            raise FormatSpecError(file, f"extract.{col}.regex", "needs exactly one group")
        sources = spec["from"] if isinstance(spec["from"], list) else [spec["from"]]
        extract.append((col, tuple(sources), spec["regex"]))

    rules: list[Rule] = []
    for i, raw in enumerate(data.get("rules") or []):
        where = f"rules[{i}]"
        unknown = set(raw) - _RULE_KEYS
        if unknown:
            raise FormatSpecError(file, where, f"unknown key(s) {sorted(unknown)}")
        if raw.get("kind") not in KINDS:
            raise FormatSpecError(file, f"{where}.kind", f"must be one of {KINDS}")
        for fld, pattern in (raw.get("regex") or {}).items():
            _check_regex(pattern, file, f"{where}.regex.{fld}")
        rules.append(
            Rule(
                kind=raw["kind"],
                equals=_pairs(raw.get("equals"), file, f"{where}.equals"),
                contains=_pairs(raw.get("contains"), file, f"{where}.contains"),
                regex=_pairs(raw.get("regex"), file, f"{where}.regex"),
                present=tuple(raw.get("present") or ()),
                set=_pairs(raw.get("set"), file, f"{where}.set"),
            )
        )
    scale = data.get("scale") or {}
    for col, factor in scale.items():
        if col not in COLUMNS or not isinstance(factor, int | float):
            raise FormatSpecError(file, f"scale.{col}", "expected column = number")
    default_kind = data.get("default_kind", "log")
    if default_kind not in KINDS:
        raise FormatSpecError(file, "default_kind", f"must be one of {KINDS}")
    json_text = tuple(data.get("json_text") or ())
    for col, alts in fields:
        for name in alts:
            if name.startswith("$") and name not in json_text:
                raise FormatSpecError(file, f"fields.{col}", f"{name} must be in json_text")
    samples = tuple(Sample(line=s["line"], kind=s["kind"]) for s in (data.get("samples") or []))
    return FormatSpec(
        name=data["name"],
        description=data.get("description", ""),
        source=data["source"],
        engine=data["engine"],
        standalone=bool(data.get("standalone", True)),
        payload=bool(data.get("payload", False)),
        priority=int(data.get("priority", 0)),
        pattern=data.get("pattern"),
        rest=data.get("rest"),
        skip=_pairs(data.get("skip"), file, "skip"),
        require=tuple(data.get("require") or ()),
        sniff_contains=tuple(data.get("sniff_contains") or ()),
        fields=tuple(fields),
        ts_fields=(ts_field,)
        if isinstance(ts_field := ts.get("field"), str)
        else tuple(ts_field or ()),
        ts_style=style,
        extract=tuple(extract),
        rules=tuple(rules),
        default_kind=default_kind,
        upstream_local=bool(data.get("upstream_local", False)),
        paths=tuple(data.get("paths") or ()),
        also=tuple(data.get("also") or ()),
        payload_fields=payload_fields,
        payload_prefix=data.get("payload_prefix"),
        own_event=tuple(data.get("own_event") or ()),
        json_text=json_text,
        scale=tuple((c, float(f)) for c, f in scale.items()),
        identity_hint=data.get("identity_hint", ""),
        newline_terminated=bool(data.get("newline_terminated", False)),
        samples=samples,
        path=file,
    )


def load_spec(path: str | Path) -> FormatSpec:
    """Load one TOML spec file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise FormatSpecError(str(path), "(file)", str(err)) from err
    return parse_spec(data, path.name)


@cache
def builtin() -> tuple[FormatSpec, ...]:
    """Every bundled format, highest priority first."""
    specs = [load_spec(p) for p in sorted(SPEC_DIR.glob("*.toml"))]
    names = [s.name for s in specs]
    if len(names) != len(set(names)):
        raise FormatSpecError(str(SPEC_DIR), "name", "duplicate format names")
    return tuple(sorted(specs, key=lambda s: (-s.priority, s.name)))


def get(name: str) -> FormatSpec:
    """The bundled spec called ``name``."""
    for spec in builtin():
        if spec.name == name:
            return spec
    raise FormatSpecError(
        name, "name", f"unknown format; known: {', '.join(s.name for s in builtin())}"
    )


def names() -> list[str]:
    return [s.name for s in builtin()]
