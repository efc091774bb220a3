"""Ingest: files -> per-format raw fields with provenance and an outcome for every line.

``read_file`` never raises on content: a line it cannot use is skipped or rejected with a
reason. Turning fields into canonical events is ``analyzer.normalize``'s job.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import polars as pl

from analyzer import formats, limits
from analyzer.errors import AnalyzerError, InputError, UnknownFormatError
from analyzer.formats import FormatSpec
from analyzer.ingest.cri import path_identity, unwrap
from analyzer.ingest.discover import discover
from analyzer.ingest.dump import find_sections, section_chunks, taken_lines
from analyzer.ingest.events import (
    COMMENT,
    MULTILINE,
    flatten_event,
    parse_event_document,
    unwrap_event,
)
from analyzer.ingest.jsonl import (
    array_elements,
    get_path,
    key_column,
    parse_jsonl,
    parse_jsonl_robust,
)
from analyzer.ingest.lines import (
    HEAD_BYTES,
    OVER_CAP,
    clean_line,
    has_bom,
    has_long_line,
    is_gzip,
    needs_normalizing,
    over_cap_reason,
    plain_copy,
    read_head,
    read_lines,
    read_sample,
    remember_copy,
)
from analyzer.ingest.partial import PARTIAL, join_fragments
from analyzer.ingest.records import document_form, head_records, yaml_records
from analyzer.ingest.sniff import SAMPLE_LINES, Choice, choose
from analyzer.ingest.tally import OUTCOME, FileTally
from analyzer.ingest.text import Frame, parse_text

__all__ = [
    "Chunk",
    "FileTally",
    "ParsedFile",
    "discover",
    "parse_with",
    "read_file",
    "read_path",
]


@dataclass(frozen=True)
class Chunk:
    """Rows of one file parsed by one spec: ``file, line, raw, text, _outcome`` + fields."""

    spec: FormatSpec
    frame: pl.DataFrame | pl.LazyFrame  # lazy: collected (streaming) by normalize
    wrapped: bool = False  # the time is the wrapper's (``_envelope_ts``)
    # Eager re-parse for when the lazy plan fails at collect time (invalid UTF-8, a JSON
    # line the vectorized decoder rejects): slower, but isolates the bad lines.
    robust: Callable[[], pl.DataFrame] | None = field(default=None, compare=False)
    envelope_style: str = "rfc3339"  # how ``_envelope_ts`` is written (time.parse_times style)
    # A container wrote these lines (a runtime wrapper, or a file of one container's output):
    # a format of a node program (klog) then means that container's own log.
    contained: bool = False
    # Rows of several files (``ingest.batch``): what follows line order goes file by file.
    files_apart: bool = False


@dataclass(frozen=True)
class ParsedFile:
    path: str
    format: str
    lines: int | None  # None: known once the lazy chunks are collected
    chunks: tuple[Chunk, ...]
    identity: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    unknown: UnknownFormatError | None = None
    unreadable: InputError | None = None
    mtime: float | None = None
    choice: Choice | None = field(default=None, compare=False)  # how the format was sniffed


def _base_frame(lines: pl.DataFrame | pl.LazyFrame, path: str) -> pl.DataFrame | pl.LazyFrame:
    blank = pl.col("raw").str.strip_chars() == ""
    over_cap = pl.col("raw").str.starts_with(OVER_CAP)
    return lines.with_columns(
        pl.lit(path).alias("file"),
        pl.col("raw").alias("text"),
        pl.when(blank)
        .then(pl.lit("skip: blank line"))
        .when(over_cap)
        .then(over_cap_reason(pl.col("raw")))
        .otherwise(None)
        .alias(OUTCOME),
    )


def parse_with(df: pl.DataFrame, spec: FormatSpec) -> pl.DataFrame:
    """Apply one line-oriented spec's engine to the ``text`` column of ``df``.

    The plan runs lazily on the streaming engine. A JSON line that the vectorized decoder
    cannot read fails the whole plan; only then the robust (bisecting) path runs.
    """
    if spec.engine == "text":
        return parse_text(df.lazy(), spec).collect(engine="streaming")
    if spec.engine == "jsonl":
        try:
            return parse_jsonl(df.lazy(), spec).collect(engine="streaming")
        except BaseException as err:  # polars raises PanicException (a BaseException) here
            if isinstance(err, KeyboardInterrupt | SystemExit | MemoryError):
                raise
            return parse_jsonl_robust(df, spec)
    msg = f"format {spec.name} ({spec.engine}) cannot parse single lines"
    raise AnalyzerError(msg)


PLAIN = "_plain"  # a wrapped line whose payload is in no known format: kept as a plain log line


PROGRAM = "_program"  # the program a journal record names (its wrapper's ``program_field``)


def _mark_plain(df: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
    """Payloads the inner format rejects are still lines the container wrote: keep them.

    In a journal, such a line is another program's (the kernel's, systemd's): skipped and
    counted per program instead.
    """
    plain = (
        pl.col(OUTCOME).str.starts_with("reject: ") & pl.col("_envelope_ts").is_not_null()
    ).fill_null(False)
    if PROGRAM in df.collect_schema().names():
        program = pl.col(PROGRAM).fill_null("unnamed program")
        other = pl.concat_str(pl.lit("skip: "), program, pl.lit(" line in no format we read"))
        return df.with_columns(
            pl.when(plain).then(other).otherwise(pl.col(OUTCOME)).alias(OUTCOME),
            pl.lit(False).alias(PLAIN),
        ).drop(PROGRAM)
    return df.with_columns(plain.alias(PLAIN)).with_columns(
        pl.when(pl.col(PLAIN)).then(None).otherwise(pl.col(OUTCOME)).alias(OUTCOME)
    )


def _payload_choice(sample: str) -> tuple[FormatSpec, tuple[FormatSpec, ...], Choice]:
    """The format of a wrapper's payloads, and the text formats sharing the stream."""
    choice = choose([s for s in formats.specs() if s.payload], sample)
    spec = choice.spec if choice.spec is not None else formats.get("generic_text")
    return spec, choice.companions, choice


def _route_order(inner: FormatSpec, companions: tuple[FormatSpec, ...]) -> list[FormatSpec]:
    """Line formats a mixed stream's lines are routed to, the sniffed one first."""
    first = [inner] if inner.engine in ("text", "jsonl") else []
    named = [formats.get(name) for name in inner.also]
    return list(dict.fromkeys([*first, *named, *companions]))


def _parse_payload(frame: Frame, fmt: FormatSpec) -> Frame:
    if fmt.engine == "text":
        return _mark_plain(parse_text(frame, fmt))
    if isinstance(frame, pl.DataFrame):
        return _mark_plain(parse_jsonl_robust(frame, fmt))
    return _mark_plain(parse_jsonl(frame, fmt))


def _cri_payloads(frame: Frame, spec: FormatSpec) -> Frame:
    """The envelope of each CRI line split off: ``text`` is the payload."""
    plan = parse_text(frame, spec).with_columns(
        pl.col("payload").alias("text"), pl.col("ts").alias("_envelope_ts")
    )
    return plan.drop("payload", "ts", "stream", "tag")


def _cri_sample(sample: str, spec: FormatSpec) -> str:
    envelope = re.compile(spec.pattern or "")
    payloads = [
        m and line[m.end() :] for line in sample.splitlines() if (m := envelope.match(line))
    ]
    return "\n".join(p for p in payloads if p)


def _parse_cri(
    path: Path, shown: str, spec: FormatSpec, sample: str, notes: list[str]
) -> tuple[tuple[Chunk, ...], str, int, Choice]:
    """Eager path: needed when partial (P) lines must be joined."""
    lines, more = read_lines(path)
    notes.extend(more)
    df = unwrap(_base_frame(lines, shown), spec)  # type: ignore[arg-type]
    inner, companions, choice = _payload_choice(_cri_sample(sample, spec))
    index, routes = _routes(_route_order(inner, companions), inner, pl.col("text"))
    chunks = tuple(
        Chunk(fmt, _parse_payload(_only(df, index, rows), fmt), wrapped=True, contained=True)
        for fmt, rows in routes.items()
    )
    return chunks, _label(spec, routes), lines.height, choice


def _label(wrapper: FormatSpec, routes: dict[FormatSpec, pl.Expr | None]) -> str:
    """``wrapper+payload``: the formats of other routes join the label once they have lines."""
    return f"{wrapper.name}+{next(iter(routes)).name}"


def _lazy_cri(
    path: Path, shown: str, spec: FormatSpec, sample: str
) -> tuple[tuple[Chunk, ...], str, Choice] | None:
    """One streaming plan per payload format for a CRI file without partial lines (the
    common case)."""
    try:
        partial = (
            pl.scan_lines(path, glob=False)  # a file name may hold [ ] * ?
            .select(
                (
                    pl.col("line").str.contains(" stdout P ", literal=True)
                    | pl.col("line").str.contains(" stderr P ", literal=True)
                ).any()
            )
            .collect()
            .item()
        )
    except (pl.exceptions.ComputeError, OSError):  # bad UTF-8 or gzip: the eager reader copes
        return None
    if partial:
        return None
    inner, companions, choice = _payload_choice(_cri_sample(sample, spec))
    index, routes = _routes(_route_order(inner, companions), inner, pl.col("text"))

    @cache
    def eager() -> pl.DataFrame:
        return unwrap(_base_frame(read_lines(path)[0], shown), spec)  # type: ignore[arg-type]

    def chunk(fmt: FormatSpec, rows: pl.Expr) -> Chunk:
        plan = _parse_payload(
            _only(_cri_payloads(_lazy_lines(path, shown), spec), index, rows), fmt
        )
        robust = lambda: _parse_payload(_only(eager(), index, rows), fmt)  # noqa: E731
        return Chunk(fmt, plan, wrapped=True, robust=robust, contained=True)

    chunks = tuple(chunk(fmt, rows) for fmt, rows in routes.items())
    return chunks, _label(spec, routes), choice


#: Identity a wrapper record gives (journald ``_HOSTNAME``, Cloud Logging resource labels,
#: Loki stream labels): each fills the same column of lines that name none.
ENVELOPE_IDENTITY = ("namespace", "pod", "container", "pod_uid", "container_id", "node")


def envelope_column(column: str) -> str:
    return f"_envelope_{column}"


ENVELOPE_NODE = envelope_column("node")


def _carried(record: str, spec: FormatSpec) -> str | None:
    """The line one wrapper record carries (as ``_unwrap_json`` finds it), or None."""
    try:
        obj = json.loads(record)
    except (ValueError, RecursionError):
        return None
    if any(get_path(obj, key) is not None for key in spec.own_event):
        return None  # an event itself, not a carrier
    for key in spec.payload_fields:
        value = get_path(obj, key)
        if isinstance(value, dict | list):
            value = json.dumps(value, separators=(",", ":"))
        if isinstance(value, str):
            value = value.rstrip("\n")
            return (
                re.sub(f"^(?:{spec.payload_prefix})", "", value) if spec.payload_prefix else value
            )
    return None


def _lifted(spec: FormatSpec) -> FormatSpec:
    """A JSON format as a wrapper carries it: its time key may be gone, the wrapper holds
    the time (Cloud Logging lifts `time` out of jsonPayload)."""
    if spec.engine != "jsonl":
        return spec
    return replace(spec, require=tuple(p for p in spec.require if p not in spec.ts_fields))


def _carried_choice(sample: str) -> Choice:
    return choose([_lifted(s) for s in formats.specs() if s.payload], sample)


def _carried_spec(sample: str) -> FormatSpec:
    spec = _carried_choice(sample).spec
    return spec if spec is not None else formats.get("generic_text")


def _json_payloads(head: str, spec: FormatSpec) -> str:
    """The wrapped lines of the first records of a JSON wrapper, for sniffing their format."""
    records = head_records(head)
    texts = records if records is not None else head.splitlines()
    out = [line for r in texts[:SAMPLE_LINES] if r and (line := _carried(r, spec)) is not None]
    return "\n".join(out)


def _unwrap_json(frame: Frame, spec: FormatSpec) -> Frame:
    """Decoded wrapper fields -> ``text`` (the carried line), ``_envelope_ts``, identity."""
    assert spec.payload_fields
    ts = pl.coalesce([pl.col(key_column(f)) for f in spec.ts_fields])
    fields = dict(spec.fields)
    own = [key_column(c) for c in spec.field_names() if c != "stream"]
    payload = pl.coalesce([pl.col(key_column(f)) for f in spec.payload_fields])
    text = payload.str.strip_suffix("\n")
    if spec.payload_prefix:
        text = text.str.replace(f"^(?:{spec.payload_prefix})", "")
    identity = [
        (
            pl.coalesce([pl.col(key_column(n)) for n in fields[c]])
            if c in fields
            else pl.lit(None, pl.String)
        ).alias(envelope_column(c))
        for c in ENVELOPE_IDENTITY
    ]
    keys = ", ".join(spec.payload_fields)
    lineless = pl.col(OUTCOME).is_null() & payload.is_null()
    program = [pl.col(key_column(spec.program_field)).alias(PROGRAM)] if spec.program_field else []
    frame = frame.with_columns(
        *program,
        text.alias("text"),
        # A record the wrapper rejected has no time: its line is not kept as a plain line.
        pl.when(pl.col(OUTCOME).is_null()).then(ts).otherwise(None).alias("_envelope_ts"),
        *identity,
        (~payload.str.ends_with("\n") if spec.newline_terminated else pl.lit(False)).alias(PARTIAL),
        pl.when(lineless)
        .then(pl.lit(f"skip: record carries no line (none of {keys})"))
        .otherwise(pl.col(OUTCOME))
        .alias(OUTCOME),
    ).drop(own)
    if isinstance(frame, pl.DataFrame):
        frame = join_fragments(frame)
    else:
        frame = frame.drop(PARTIAL)
    return frame.drop("stream", strict=False)


def _has_fragments(path: Path, spec: FormatSpec) -> bool:
    """Might a record carry a line without its newline? (A textual check, no JSON decode.)"""
    if not spec.newline_terminated:
        return False
    # The payload string ends in an escaped newline exactly when the record holds
    # `\n"`: inside a JSON string a quote is always escaped.
    try:
        return bool(
            pl.scan_lines(path, glob=False)
            .select(
                (
                    ~pl.col("line").str.contains('\\n"', literal=True)
                    & (pl.col("line").str.strip_chars() != "")
                ).any()
            )
            .collect()
            .item()
        )
    except (pl.exceptions.ComputeError, OSError):  # bad UTF-8 or gzip: take the eager path
        return True


def _wrapper_notes(head: str, spec: FormatSpec) -> tuple[str, ...]:
    """``identity_hint`` when none of the first records names a namespace, pod or container."""
    if not spec.identity_hint:
        return ()
    paths = [p for c, alts in spec.fields if c in ("namespace", "pod", "container") for p in alts]
    entries = head_records(head)
    records = entries[:200] if entries is not None else head.splitlines()[:200]
    for record in records:
        try:
            obj = json.loads(record)
        except (ValueError, RecursionError):
            continue
        if any(get_path(obj, p) for p in paths):
            return ()
    return (spec.identity_hint,)


def _own_rows(spec: FormatSpec) -> pl.Expr:
    """Records that are events of the wrapper itself (``own_event``), not carried lines."""
    present = pl.any_horizontal([pl.col(key_column(p)).is_not_null() for p in spec.own_event])
    return (pl.col(OUTCOME).is_null() & present).fill_null(False)


def _mentions(path: Path, keys: tuple[str, ...]) -> bool:
    """Might a record hold one of these keys? (A textual check, no JSON decode.)"""
    if not keys:
        return False
    names = [f'"{k.split(".")[0]}"' for k in keys]
    try:
        hit = pl.any_horizontal([pl.col("line").str.contains(n, literal=True) for n in names])
        return bool(pl.scan_lines(path, glob=False).select(hit.any()).collect().item())
    except (pl.exceptions.ComputeError, OSError):
        return True


def _array_lines(path: Path, shown: str) -> pl.DataFrame:
    """A file that is one JSON array: a row per entry, numbered by the line it starts on."""
    lines, _ = read_lines(path)
    entries = array_elements("\n".join(lines["raw"].to_list())) or []
    frame = pl.DataFrame(
        {"line": [n for n, _ in entries], "raw": [e for _, e in entries]},
        schema={"line": pl.UInt32, "raw": pl.String},
    )
    frame = _base_frame(frame, shown).with_columns(
        pl.when(pl.col("raw").is_null())
        .then(pl.lit("reject: malformed JSON in the array (the rest of the file is unreadable)"))
        .otherwise(pl.col(OUTCOME))
        .alias(OUTCOME)
    )
    return frame  # type: ignore[return-value]


def _yaml_lines(path: Path, shown: str) -> pl.DataFrame:
    """A YAML stream of records: a row per line; a record's first line carries it as JSON,
    its other lines are skipped as part of it, a broken record is rejected there."""
    lines, _ = read_lines(path)
    records = yaml_records("\n".join(lines["raw"].to_list())) or ()
    docs = pl.DataFrame(
        records, schema={"line": pl.UInt32, "_record": pl.String, "_why": pl.String}, orient="row"
    )
    frame = _base_frame(lines, shown).join(docs, on="line", how="left", maintain_order="left")
    first = pl.col("_record").is_not_null() | pl.col("_why").is_not_null()
    outcome = (
        pl.when(first)
        .then(pl.col("_why"))
        .when(pl.col(OUTCOME).is_not_null())
        .then(pl.col(OUTCOME))
        .when(pl.col("raw").str.starts_with("#"))
        .then(pl.lit(COMMENT))
        .otherwise(pl.lit(MULTILINE.format("YAML")))
    )
    record = pl.coalesce("_record", "raw")
    return frame.with_columns(  # type: ignore[return-value]
        record.alias("raw"), record.alias("text"), outcome.alias(OUTCOME)
    ).drop("_record", "_why")


def _json_wrapped(
    path: Path, shown: str, spec: FormatSpec, head: str, across: str
) -> tuple[tuple[Chunk, ...], str]:
    """A JSON wrapper (journal export, Docker json-file, log-store export): one chunk per
    format of the lines it carries, and one for the records that are events themselves.

    ``head`` is the file's first bytes, ``across`` records sampled from across the file.
    """
    assert spec.payload_fields
    sample = _json_payloads(across, spec)
    choice = _carried_choice(sample)
    inner = choice.spec if choice.spec is not None else formats.get("generic_text")
    text_specs = [inner] if inner.engine == "text" and inner.payload else []
    named = [formats.get(name) for name in inner.also]
    if spec.program_field or any(c in dict(spec.fields) for c in ("namespace", "pod")):
        # A whole-node journal or a log store mixes programs: beyond the sniffed format,
        # every text format that can be carried gets its lines, wherever they are.
        rest = sorted(
            (s for s in formats.specs() if s.payload and s.engine == "text" and s.pattern),
            key=lambda s: -s.priority,
        )
    else:  # one container's output: the formats the sample found beside the sniffed one
        rest = list(choice.companions)
    # A log store mixes containers: JSON lines get a JSON format of their own, and a line in
    # no known format is its container's plain line, not the sniffed format's.
    json_sample = "\n".join(x for x in sample.splitlines() if x.lstrip().startswith("{"))
    json_inner = _carried_spec(json_sample) if json_sample and inner.engine == "text" else inner
    json_specs = [json_inner] if json_inner.engine == "jsonl" else []
    store = any(c in dict(spec.fields) for c in ("namespace", "pod", "container"))
    fallback = formats.get("generic_text") if store else inner
    # Kubernetes Events a store or an exporter's stdout carries (GKE's `events` log).
    markers = ('"involvedObject"', '"regarding"')
    events = [formats.get("k8s_events")] if store or any(m in sample for m in markers) else []
    order = list(dict.fromkeys([*events, *text_specs, *named, *rest, *json_specs]))
    index, routes = _routes(order, fallback, pl.col("text"))

    def parse(lines: Frame, fmt: FormatSpec) -> Frame:
        if ROUTE in lines.collect_schema().names():  # routed once for every chunk
            rows = routes[fmt]
            frame = (lines.filter(rows) if rows is not None else lines).drop(ROUTE)
        else:
            frame = _only(lines, index, routes[fmt])
        if fmt.engine == "events":
            return _event_rows(frame.collect() if isinstance(frame, pl.LazyFrame) else frame, fmt)
        if fmt.engine == "text":
            parsed = parse_text(frame, fmt)
        elif isinstance(frame, pl.DataFrame):
            parsed = parse_jsonl_robust(frame, fmt)
        else:
            parsed = parse_jsonl(frame, fmt)
        return _mark_plain(parsed)

    form = document_form(head)  # a JSON array or a YAML stream of records
    own = (
        _own_rows(spec)
        if spec.own_event and (form is not None or _mentions(path, spec.own_event))
        else None
    )

    @cache
    def decoded() -> pl.DataFrame:
        """Eager, shared by the chunks: isolates bad records."""
        if form == "array":
            lines = _array_lines(path, shown)
        elif form == "yaml":
            lines = _yaml_lines(path, shown)
        else:
            lines = _base_frame(read_lines(path)[0], shown)  # type: ignore[assignment]
        return parse_jsonl_robust(lines, spec)

    def carried(frame: Frame) -> Frame:
        return _unwrap_json(frame.filter(~own) if own is not None else frame, spec)

    @cache
    def unwrapped() -> pl.DataFrame:
        """Eager, shared by the chunks: joins fragments."""
        return carried(decoded())  # type: ignore[return-value]

    eager = form is not None or _has_fragments(path, spec)
    lazy_decoded = lambda: parse_jsonl(_lazy_lines(path, shown), spec)  # noqa: E731
    source: Callable[[], Frame] = lazy_decoded
    shared: pl.DataFrame | None = None
    if not eager and (store or own is not None):
        # A store's records go to many chunks (and its own events to one more): decode and
        # route them once, in memory, instead of once per chunk.
        once = _collected(lazy_decoded())
        if once is not None:
            source = once.lazy
            routed = carried(once.lazy()).with_columns(index.alias(ROUTE))
            shared = _collected(routed)  # type: ignore[arg-type]
    lazy = lambda: carried(source())  # noqa: E731
    if shared is not None:
        routes = _keep_routes(set(shared[ROUTE].unique().to_list()), order, routes, fallback)
    elif not eager:
        # Each chunk decodes the whole file again: first find the formats that have lines.
        routes = _taken_routes(lazy(), index, order, routes, fallback)

    def chunk(fmt: FormatSpec) -> Chunk:
        robust = lambda: parse(unwrapped(), fmt)  # noqa: E731
        if fmt.engine == "events":  # read now, in Python: Events are few
            read = lambda: parse(shared if shared is not None else lazy(), fmt)  # noqa: E731
            frame = None if eager else _collected_or(read)
            return Chunk(fmt, frame if frame is not None else robust())
        # A wrapper that knows container log paths is a runtime's: a container wrote its lines.
        contained = bool(spec.paths)
        if eager:
            return Chunk(
                fmt, robust(), wrapped=True, envelope_style=spec.ts_style, contained=contained
            )
        plan = parse(shared.lazy() if shared is not None else lazy(), fmt)
        return Chunk(
            fmt,
            plan,
            wrapped=True,
            robust=robust,
            envelope_style=spec.ts_style,
            contained=contained,
        )

    chunks = [chunk(f) for f in routes]
    if own is not None:
        mine = lambda: decoded().filter(own)  # noqa: E731
        chunks.append(Chunk(spec, mine() if eager else source().filter(own), robust=mine))
    return tuple(chunks), f"{spec.name}+{inner.name}"


def _event_rows(frame: pl.DataFrame, spec: FormatSpec) -> pl.DataFrame:
    """The Kubernetes Events carried as JSON lines, flattened as ``k8s_events`` reads them."""
    paths = spec.field_names()
    flat: list[dict[str, str | None] | None] = []
    for text in frame["text"].to_list():
        try:
            event = unwrap_event(json.loads(text)) if text else None
        except (ValueError, RecursionError):
            event = None
        flat.append(flatten_event(event, paths) if event is not None else None)
    found = dict.fromkeys(k for row in flat if row for k in row)
    keys = [k for k in found if k not in frame.columns]
    values = {k: [row.get(k) if row else None for row in flat] for k in keys}
    frame = frame.hstack(pl.DataFrame(values, schema=dict.fromkeys(keys, pl.String)).get_columns())
    bad = pl.Series([row is None for row in flat], dtype=pl.Boolean)
    return frame.with_columns(
        pl.when(pl.col(OUTCOME).is_null() & bad)
        .then(pl.lit("reject: JSON value is not a Kubernetes Event"))
        .otherwise(pl.col(OUTCOME))
        .alias(OUTCOME)
    )


def _collected_or(read: Callable[[], pl.DataFrame]) -> pl.DataFrame | None:
    try:
        return read()
    except BaseException as err:  # polars raises PanicException (a BaseException) on bad JSON
        if isinstance(err, KeyboardInterrupt | SystemExit | MemoryError):
            raise
        return None


def _collected(plan: pl.LazyFrame) -> pl.DataFrame | None:
    """``plan`` run once for the chunks to share; None if the streaming decode fails (a bad
    record: the chunks then take the robust path)."""
    try:
        return plan.collect(engine="streaming")
    except BaseException as err:  # polars raises PanicException (a BaseException) on bad JSON
        if isinstance(err, KeyboardInterrupt | SystemExit | MemoryError):
            raise
        return None


def _taken_routes(
    lines: pl.LazyFrame,
    index: pl.Expr,
    order: list[FormatSpec],
    routes: dict[FormatSpec, pl.Expr],
    fallback: FormatSpec,
) -> dict[FormatSpec, pl.Expr | None]:
    """The routes some line takes, in one streaming pass; ``fallback`` always stays (it
    also holds the wrapper's own rejects). If the pass fails, every route stays."""
    try:
        taken = set(
            lines.select(index.alias(ROUTE)).unique().collect(engine="streaming")[ROUTE].to_list()
        )
    except BaseException as err:  # polars raises PanicException (a BaseException) on bad JSON
        if isinstance(err, KeyboardInterrupt | SystemExit | MemoryError):
            raise
        return dict(routes)
    return _keep_routes(taken, order, routes, fallback)


def _keep_routes(
    taken: set[int],
    order: list[FormatSpec],
    routes: dict[FormatSpec, pl.Expr],
    fallback: FormatSpec,
) -> dict[FormatSpec, pl.Expr | None]:
    keep = {fmt for i, fmt in enumerate(order) if i in taken} | {fallback}
    if keep == {fallback}:
        # The common case, every line is the sniffed format's: no filter at all.
        return {fallback: None}
    return {fmt: rows for fmt, rows in routes.items() if fmt in keep}


def _lazy_lines(path: Path, shown: str) -> pl.LazyFrame:
    lines = pl.scan_lines(path, name="raw", row_index_name="line", row_index_offset=1, glob=False)
    bom = has_bom(path)
    lines = lines.with_columns(pl.col("line").cast(pl.UInt32), clean_line(pl.col("raw"), bom))
    return _base_frame(lines, shown)  # type: ignore[return-value]


def _mixed_text(
    path: Path,
    shown: str,
    spec: FormatSpec,
    companions: tuple[FormatSpec, ...],
    contained: bool,
    *,
    whole: bytes | None = None,
) -> tuple[Chunk, ...]:
    """A text file holding several formats: each line goes to exactly one chunk.

    ``whole``: the file's whole content when it is small enough to have been read whole
    already; then the formats none of its lines is in are left out (each chunk is a plan
    of its own: a cluster dump of 10^4 small files pays for every one of them)."""
    order = _route_order(spec, companions)
    if whole is not None and len(order) > 1:
        lines = pl.Series(whole.decode("utf-8", "replace").splitlines(), dtype=pl.String)
        order = [f for f in order if f == spec or _any_taken(lines, f)]
    index, routes = _routes(order, spec, pl.col("raw"))
    return tuple(
        _text_chunk(path, shown, fmt, index, rows, contained) for fmt, rows in routes.items()
    )


def _any_taken(lines: pl.Series, fmt: FormatSpec) -> bool:
    return bool(pl.select(_takes(fmt, pl.lit(lines)).any()).item())


ROUTE = "_route"  # which format a line of a mixed file goes to (an index into the order)


def _routes(
    order: list[FormatSpec], fallback: FormatSpec, text: pl.Expr
) -> tuple[pl.Expr, dict[FormatSpec, pl.Expr | None]]:
    """Each line goes to exactly one format: the first in ``order`` whose pattern matches
    it; ``fallback`` also keeps every line nobody took (its skips and rejects).

    Returns the route index of a line (store it as column ``ROUTE``: each pattern then runs
    once per line) and, per format, the filter on that column that selects its rows.
    """
    if not order or order == [fallback]:  # one format: every line is its
        return pl.lit(0), {fallback: None}
    index: pl.Expr = pl.lit(len(order))
    others = [_takes(fmt, text) for fmt in order[1:]]
    for i, matches in reversed(list(enumerate(others, start=1))):
        index = pl.when(matches).then(i).otherwise(index)
    first = order[0]
    if first == fallback:
        # The first format keeps the lines nobody took anyway: its own (often long) pattern
        # only has to run on the few lines another format would also take.
        contested = pl.any_horizontal(others)
        index = (
            pl.when(~contested)
            .then(0)
            .otherwise(
                pl.when(_takes(first, pl.when(contested).then(text))).then(0).otherwise(index)
            )
        )
    else:
        index = pl.when(_takes(first, text)).then(0).otherwise(index)
    route = pl.col(ROUTE)
    rows: dict[FormatSpec, pl.Expr | None] = {fmt: route == i for i, fmt in enumerate(order)}
    nobody = route == len(order)
    own = rows.get(fallback)
    rows[fallback] = own | nobody if own is not None else nobody
    return index, rows


def _takes(fmt: FormatSpec, text: pl.Expr) -> pl.Expr:
    """Lines ``fmt`` would take in a mixed stream (never null)."""
    if fmt.pattern:
        return text.str.contains(fmt.pattern).fill_null(False)
    if fmt.engine == "events":  # a Kubernetes Event object
        event = text.str.contains('"involvedObject"', literal=True) | text.str.contains(
            '"regarding"', literal=True
        )
        return (text.str.strip_chars_start().str.starts_with("{") & event).fill_null(False)
    if fmt.prefix:  # ... maybe behind its prefix
        return text.str.contains(f"^(?:{fmt.prefix})?\\s*\\{{").fill_null(False)
    # A JSON format takes the lines that are JSON objects.
    return text.str.strip_chars_start().str.starts_with("{").fill_null(False)


def _only(frame: Frame, index: pl.Expr, rows: pl.Expr | None) -> Frame:
    """The rows of ``frame`` that one route takes (``_routes``); None: all of them."""
    if rows is None:
        return frame
    return frame.with_columns(index.alias(ROUTE)).filter(rows).drop(ROUTE)


def _text_chunk(
    path: Path,
    shown: str,
    spec: FormatSpec,
    index: pl.Expr,
    rows: pl.Expr | None,
    contained: bool,
) -> Chunk:
    def eager() -> pl.DataFrame:
        lines, _ = read_lines(path)
        return parse_with(_base_frame(_only(lines, index, rows), shown), spec)  # type: ignore[arg-type]

    lines = _only(_lazy_lines(path, shown), index, rows)
    plan = parse_text(lines, spec) if spec.engine == "text" else parse_jsonl(lines, spec)
    return Chunk(spec, plan, robust=eager, contained=contained)


def _eager(
    path: Path, shown: str, spec: FormatSpec, prepare: Callable[[Frame], Frame] = lambda f: f
) -> pl.DataFrame:
    lines, _ = read_lines(path)
    return parse_with(prepare(_base_frame(lines, shown)), spec)  # type: ignore[arg-type]


def _comments(frame: Frame) -> Frame:
    """In a file of JSON lines a `#` line is a comment (a header someone wrote), not a
    broken record. (Inside a wrapper it stays a line the container wrote.)"""
    comment = pl.col(OUTCOME).is_null() & pl.col("raw").str.starts_with("#")
    return frame.with_columns(
        pl.when(comment).then(pl.lit(COMMENT)).otherwise(pl.col(OUTCOME)).alias(OUTCOME)
    )


def read_file(
    path: Path, *, as_format: str | None = None, shown: str | None = None, plain: bool = False
) -> ParsedFile:
    """Parse one file with its sniffed (or forced) format.

    Line-oriented formats (text, JSON lines) stay lazy: ``normalize`` runs the whole plan
    from ``scan_lines`` to canonical events in one streaming pass. Wrappers and multi-line
    documents are parsed here. ``shown``: the name the report gives the file, and whose
    path names its pod, when ``path`` is a local copy of it (a URL fetched to a temp file).
    ``plain``: ``path`` is already a plain copy (``lines.plain_copy``).
    """
    shown = str(path) if shown is None else shown
    mtime = path.stat().st_mtime
    head_bytes = read_head(path)
    if not head_bytes:
        what = (
            "empty file"
            if path.stat().st_size == 0
            else "no data (a gzip stream with nothing readable)"
        )
        return ParsedFile(shown, "empty", 0, (), notes=(what,), mtime=mtime)
    if not plain:
        unusual = needs_normalizing(head_bytes)
        cap = limits.active().max_line_bytes
        if unusual is not None or is_gzip(path) or has_long_line(path, cap):
            # A plain UTF-8 copy with LF endings, without its over-long lines, gunzipped
            # behind the guard: then read as any file is.
            codec, what = unusual or (None, None)
            copy, notes = plain_copy(path, codec, resplit=unusual is not None)
            remember_copy(shown, copy)
            parsed = read_file(copy, as_format=as_format, shown=shown, plain=True)
            more = (*notes, what) if what else tuple(notes)
            return replace(parsed, mtime=mtime, notes=(*parsed.notes, *more))
    sample = read_sample(path, head_bytes)
    choice = _choose_spec(path, shown, head_bytes, sample, as_format)
    if isinstance(choice, ParsedFile):
        return choice
    spec = choice.spec
    assert spec is not None
    parsed = _read_as(path, shown, spec, choice, head_bytes, sample)
    return replace(parsed, mtime=mtime, choice=choice)


def _own_program(spec: FormatSpec, sample: str) -> bool:
    """Do a node program's lines without a program name come from that program? Only if
    the file shows its markers: klog without the kubelet's is another component's log."""
    return not spec.programs or any(m in sample for m in spec.sniff_contains)


def _the_container_is_the_program(
    chunks: tuple[Chunk, ...], identity: dict[str, str], sample: str
) -> tuple[Chunk, ...]:
    """A container log whose container is the program itself (RKE runs the kubelet in a
    container named ``kubelet``; Docker's own path names no container, then the file's
    markers tell) is that program's log, not an app's."""

    def own(chunk: Chunk) -> bool:
        name = identity.get("container")
        if name is not None:
            return name in chunk.spec.programs
        return bool(chunk.spec.programs) and _own_program(chunk.spec, sample)

    return tuple(replace(c, contained=False) if c.contained and own(c) else c for c in chunks)


def _read_as(
    path: Path, shown: str, spec: FormatSpec, choice: Choice, head_bytes: bytes, sample: str
) -> ParsedFile:
    if spec.payload_field:
        head = head_bytes.decode("utf-8", "replace")
        across = head if document_form(head) is not None else sample
        chunks, label = _json_wrapped(path, shown, spec, head, across)
        identity, notes = path_identity(shown, spec), _wrapper_notes(head, spec)
        chunks = _the_container_is_the_program(chunks, identity, across)
        return ParsedFile(shown, label, None, chunks, identity, notes)
    if spec.engine == "text" or (spec.engine == "jsonl" and (spec.also or choice.companions)):
        contained = not _own_program(spec, sample)
        whole = head_bytes if len(head_bytes) < HEAD_BYTES else None
        chunks = _mixed_text(path, shown, spec, choice.companions, contained, whole=whole)
        return ParsedFile(shown, spec.name, None, chunks)
    if spec.engine == "jsonl":
        plan = parse_jsonl(_comments(_lazy_lines(path, shown)), spec)
        chunk = Chunk(spec, plan, robust=lambda: _eager(path, shown, spec, _comments))
        return ParsedFile(shown, spec.name, None, (chunk,))
    if spec.engine == "cri":
        identity = path_identity(shown, spec)
        fast = _lazy_cri(path, shown, spec, sample)
        if fast is not None:
            chunks, label, inner = fast
            chunks = _the_container_is_the_program(chunks, identity, sample)
            return ParsedFile(shown, label, None, chunks, identity, choice=inner)
        notes: list[str] = []
        chunks, label, n, inner = _parse_cri(path, shown, spec, sample, notes)
        chunks = _the_container_is_the_program(chunks, identity, sample)
        return ParsedFile(shown, label, n, chunks, identity, tuple(notes), choice=inner)
    lines, notes = read_lines(path)
    df = _base_frame(lines, shown)
    assert isinstance(df, pl.DataFrame)
    return _read_documents(df, shown, spec, lines.height, notes)


def _read_documents(
    df: pl.DataFrame, shown: str, spec: FormatSpec, n: int, notes: list[str]
) -> ParsedFile:
    """Kubernetes objects; a cluster-info dump's log sections go to their own formats."""
    sections = find_sections(df)
    logs, spans = section_chunks(df, sections)
    docs = df.select("line", "raw", "file", "text")
    frame, more = parse_event_document(docs, spec.field_names(), spans)
    frame = frame.filter(~pl.col("line").is_in(taken_lines(logs).implode()))
    # A log section is what a container wrote (klog there is that component's own log).
    chunks = (Chunk(spec, frame), *(Chunk(s, f, contained=True) for s, f in logs))
    label = "+".join(["cluster_info_dump" if sections else spec.name, *(s.name for s, _ in logs)])
    identity = path_identity(shown, spec) if sections else {}
    return ParsedFile(shown, label, n, chunks, identity, (*notes, *more))


def _timeless_hint(head: str) -> str:
    """Name the payload-only format a file's lines are in, if any: the user can fix that."""
    timeless = choose([s for s in formats.specs() if s.payload and not s.standalone], head)
    if timeless.spec is None:
        return ""
    return (
        f"its lines look like {timeless.spec.name}, which has no timestamps of its own: "
        "collect it with `kubectl logs --timestamps` or from /var/log/pods"
    )


def _choose_spec(
    path: Path, shown: str, head_bytes: bytes, sample: str, as_format: str | None
) -> Choice | ParsedFile:
    """How to parse ``path`` (its sniffed or forced format), or the finished ``ParsedFile``
    of an unknown file."""
    if as_format:
        spec = formats.get(as_format)
        if not spec.standalone:
            msg = (
                f"format {spec.name} has no timestamps of its own; it is read only inside a wrapper"
            )
            raise AnalyzerError(msg)
        return Choice(spec, 1.0, (spec.name,))
    head = head_bytes.decode("utf-8", errors="replace")
    choice = choose([s for s in formats.specs() if s.standalone], sample)
    if choice.spec is not None:
        return choice
    detail = "binary data" if b"\x00" in head_bytes[:8192] else _timeless_hint(head)
    unknown = UnknownFormatError(shown, list(choice.tried), detail)
    lines, notes = read_lines(path)
    frame = _base_frame(lines, shown).with_columns(
        pl.when(pl.col(OUTCOME).is_null())
        .then(pl.lit("reject: no known format"))
        .otherwise(pl.col(OUTCOME))
        .alias(OUTCOME)
    )
    chunk = Chunk(formats.get("generic_text"), frame)
    return ParsedFile(
        shown,
        "unknown",
        lines.height,
        (chunk,),
        notes=(*notes, str(unknown)),
        unknown=unknown,
        mtime=path.stat().st_mtime,
        choice=choice,
    )


def read_files(paths: list[str | Path], *, as_format: str | None = None) -> list[ParsedFile]:
    return [read_path(p, as_format) for p in discover(paths)]


def read_path(path: Path, as_format: str | None = None, shown: str | None = None) -> ParsedFile:
    """One unreadable file (permissions, I/O error) is noted, not the end of the run.
    ``shown``: see ``read_file``."""
    name = str(path) if shown is None else shown
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        name = name.encode("utf-8", "backslashreplace").decode("utf-8")
        problem = InputError(f"{name}: the file name is not valid UTF-8; rename it to read it")
        return ParsedFile(name, "unreadable", 0, (), notes=(str(problem),), unreadable=problem)
    try:
        return read_file(path, as_format=as_format, shown=shown)
    except (OSError, zlib.error) as err:
        return unreadable(name, err)


def unreadable(name: str, err: BaseException) -> ParsedFile:
    """The file called ``name`` could not be read (``err``): noted, not the end of the run."""
    problem = InputError(f"{name}: cannot read ({getattr(err, 'strerror', None) or err})")
    return ParsedFile(name, "unreadable", 0, (), notes=(str(problem),), unreadable=problem)
