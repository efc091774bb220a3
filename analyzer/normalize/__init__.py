"""Turn an engine's raw string fields into rows of ``schema.EVENTS``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from analyzer.formats import FormatSpec
from analyzer.ingest import ENVELOPE_NODE, PLAIN, Chunk, ParsedFile, envelope_column
from analyzer.ingest.dump import ENVELOPE_IDENTITY
from analyzer.ingest.tally import OUTCOME, FileTally, tally_from_outcomes
from analyzer.normalize.kinds import apply_extract, apply_rules
from analyzer.normalize.time import (
    YEAR0,
    Dated,
    Span,
    TimeContext,
    choose_year,
    dated_inputs,
    klog_text,
    parse_times,
    with_year,
)
from analyzer.schema import EVENTS, Kind, empty_events

_IPV4_PORT = r"^(\d{1,3}(?:\.\d{1,3}){3}):\d+$"


def map_fields(df: pl.LazyFrame, spec: FormatSpec) -> pl.LazyFrame:
    """Canonical columns from the spec's ``fields`` (first non-null alternative)."""
    have = set(df.collect_schema().names())
    exprs = []
    for column, alternatives in spec.fields:
        present = [pl.col(a) for a in alternatives if a in have]
        if present:
            exprs.append(pl.coalesce(present).alias(column))
    return df.with_columns(exprs) if exprs else df


#: What a line says about pods when its writer is not the format's own program: the pod it
#: ran in comes from where it was written instead.
_WRITER_IDENTITY = ("namespace", "pod", "pod_uid", "container", "container_id")


def _other_writer(spec: FormatSpec, have: set[str], contained: bool) -> pl.Expr | None:
    """Lines of ``spec``'s format written by a program other than its own (``programs``)."""
    if not spec.programs:
        return None
    other: pl.Expr = pl.lit(contained)
    if spec.program_field and spec.program_field in have:
        program = pl.col(spec.program_field)
        other = other | (program.is_not_null() & ~program.is_in(spec.programs))
    return other


def as_writers_own_log(df: pl.LazyFrame, spec: FormatSpec, contained: bool) -> pl.LazyFrame:
    """klog of the API server or a controller is that component's log, not the kubelet's:
    source ``app``, kind ``log``, and no pod named by the text (its path names the pod)."""
    have = set(df.collect_schema().names())
    other = _other_writer(spec, have, contained)
    if other is None:
        return df
    return df.with_columns(
        pl.when(other).then(pl.lit("app")).otherwise(pl.col("source")).alias("source"),
        pl.when(other).then(pl.lit(Kind.LOG.value)).otherwise(pl.col("kind")).alias("kind"),
        *[
            pl.when(other).then(_where_written(c, have)).otherwise(pl.col(c)).alias(c)
            for c in _WRITER_IDENTITY
            if c in have
        ],
    )


def _where_written(column: str, have: set[str]) -> pl.Expr:
    """The identity a wrapper gave the line (a dump's section marker); the log path's is
    filled in later, where the line names none."""
    envelope = ENVELOPE_IDENTITY.get(column)
    return pl.col(envelope) if envelope in have else pl.lit(None, pl.String)


def apply_numbers(df: pl.LazyFrame, spec: FormatSpec) -> pl.LazyFrame:
    """The spec's ``sum`` and ``scale``: numeric columns in the schema's units."""
    if not spec.sum and not spec.scale:
        return df
    have = set(df.collect_schema().names())

    def num(name: str) -> pl.Expr:
        return (pl.col(name) if name in have else pl.lit(None)).cast(pl.Float64, strict=False)

    sums = {}
    for column, parts in spec.sum:
        unknown = pl.any_horizontal([num(p).is_null() | (num(p) < 0) for p in parts])
        sums[column] = pl.when(unknown).then(None).otherwise(pl.sum_horizontal(map(num, parts)))
    df = df.with_columns(e.alias(c) for c, e in sums.items())
    have |= set(sums)  # a summed column may also be scaled
    # Rounded to the nanosecond: 0.007 s is 7 ms, not 7.000000000000001.
    return df.with_columns((num(c) * f).round(6).alias(c) for c, f in spec.scale)


def canonical(
    frame: pl.DataFrame,
    spec: FormatSpec,
    ts_text: pl.Expr,
    ts_style: str,
    tz: str = "UTC",
    *,
    contained: bool = False,
) -> pl.DataFrame:
    """Rows of ``EVENTS`` (plus ``_outcome``) from parsed fields.

    ``frame`` holds ``file``, ``line``, ``raw``, ``_outcome`` and the fields the engine found;
    ``ts_text`` computes the time text from them, read as ``ts_style`` (see
    ``time.parse_times``). A row whose time cannot be read is rejected.
    """
    rows = canonical_rows(frame, spec, ts_text, contained=contained)
    return timed(rows, ts_style, tz, layout=spec.ts_layout)


TS_TEXT = "_ts_text"  # the time text of a row, until it is read
YEARLESS = "_yearless"  # the row's time text is in year ``time.YEAR0`` until its year is known


def canonical_rows(
    frame: pl.DataFrame,
    spec: FormatSpec,
    ts_text: pl.Expr,
    yearless: pl.Expr | None = None,
    *,
    contained: bool = False,
) -> pl.DataFrame:
    """``canonical`` up to the reading of times: the rows keep ``_ts_text`` (and, given
    ``yearless``, a ``_yearless`` flag), for ``timed``."""
    df = apply_numbers(map_fields(apply_rules(apply_extract(frame.lazy(), spec), spec), spec), spec)
    have = set(df.collect_schema().names())

    def col(name: str) -> pl.Expr:
        return pl.col(name) if name in have else pl.lit(None, dtype=EVENTS.get(name, pl.String))

    pod_ref = col("pod_ref") if "pod_ref" in have else pl.lit(None, dtype=pl.String)
    status = col("status").cast(pl.Int32, strict=False)
    kind = col("kind")
    http = kind == Kind.HTTP.value
    message = (
        pl.when(http)
        .then(
            pl.concat_str(
                [col("method"), col("path"), status.cast(pl.String)],
                separator=" ",
                ignore_nulls=True,
            )
        )
        .otherwise(col("message"))
    )
    # A cluster-info dump's log section names the pod of lines that name none themselves.
    line_pod = pl.coalesce(col("pod"), pod_ref.str.split_exact("/", 1).struct.field("field_1"))
    enveloped = line_pod.is_null()
    df = df.with_columns(
        ts_text.alias(TS_TEXT),
        pl.lit(spec.source).alias("source"),
        pl.lit(spec.name).alias("format"),
        pl.coalesce(
            col("namespace"),
            pod_ref.str.split_exact("/", 1).struct.field("field_0"),
            pl.when(enveloped).then(col(ENVELOPE_IDENTITY["namespace"])),
        ).alias("namespace"),
        pl.coalesce(line_pod, col(ENVELOPE_IDENTITY["pod"])).alias("pod"),
        pl.coalesce(
            col("container"), pl.when(enveloped).then(col(ENVELOPE_IDENTITY["container"]))
        ).alias("container"),
        # A wrapper's identity (journald host, log-store labels) fills what the line lacks.
        pl.coalesce(col("node"), col(ENVELOPE_NODE)).alias("node"),
        pl.coalesce(col("pod_uid"), col(envelope_column("pod_uid"))).alias("pod_uid"),
        pl.coalesce(col("container_id"), col(envelope_column("container_id")))
        .str.replace(r"^[a-z-]+://", "")
        .alias("container_id"),
        col("probe").str.to_lowercase().alias("probe"),
        status.alias("status"),
        col("client").str.replace(_IPV4_PORT, "$1").alias("client"),
        message.str.replace_all('\\"', '"', literal=True).alias("message"),
        col("detail").str.replace_all('\\"', '"', literal=True).alias("detail"),
        # Successful requests are the bulk of big logs: their raw text is not kept.
        pl.when(http & (status < 400)).then(None).otherwise(col("raw")).alias("raw"),
    )
    df = as_writers_own_log(df, spec, contained)
    have = set(df.collect_schema().names()) - {"ts"}
    plain = [pl.col(PLAIN)] if PLAIN in have else []
    if plain:
        # The wrapper read the line but its payload is in no known format: a plain log line.
        df = df.with_columns(
            pl.when(pl.col(PLAIN))
            .then(pl.lit(Kind.LOG.value))
            .otherwise(pl.col("kind"))
            .alias("kind"),
            pl.when(pl.col(PLAIN))
            .then(pl.col("text"))
            .otherwise(pl.col("message"))
            .alias("message"),
            *[
                pl.when(pl.col(PLAIN)).then(None).otherwise(pl.col(c)).alias(c)
                for c in ("status", "method", "path", "upstream", "request_id", "detail")
                if c in have
            ],
        )
    return df.select(
        *[
            (pl.col(n) if n in have else pl.lit(None)).cast(t, strict=False).alias(n)
            for n, t in EVENTS.items()
        ],
        pl.col(OUTCOME),
        pl.col(TS_TEXT),
        *([yearless.fill_null(False).alias(YEARLESS)] if yearless is not None else []),
        *plain,
    ).collect(engine="streaming")


def timed(
    out: pl.DataFrame, ts_style: str, tz: str = "UTC", *, layout: str | None = None
) -> pl.DataFrame:
    """Rows of ``canonical_rows`` with ``ts`` read from their time text (years known)."""
    out = out.with_columns(parse_times(out[TS_TEXT], ts_style, tz, layout=layout))
    # Nanosecond times wrap outside ~1677-2262 (9999-12-31 would read as 1816): a time
    # outside the plausible range is an error in the line, not a date.
    implausible = ~pl.col("ts").is_between(*PLAUSIBLE, closed="left")
    return out.with_columns(
        pl.when(pl.col(OUTCOME).is_null() & pl.col("ts").is_null())
        .then(pl.lit("reject: timestamp missing or unreadable"))
        .when(pl.col(OUTCOME).is_null() & implausible)
        .then(pl.lit("reject: timestamp out of range (before 1990 or after 2199)"))
        .otherwise(pl.col(OUTCOME))
        .alias(OUTCOME)
    ).drop(TS_TEXT, YEARLESS, strict=False)


PLAUSIBLE = (datetime(1990, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))


def _timestamp(chunk: Chunk) -> tuple[pl.Expr, str, pl.Expr | None]:
    """The time text of each row, how to read it (``time.parse_times`` style), and which
    rows have no year (their text is in ``time.YEAR0`` until ``choose_year``; None: all
    rows are dated)."""
    spec = chunk.spec
    have = set(chunk.frame.collect_schema().names())
    fields = [pl.col(f) for f in spec.ts_fields if f in have]
    none = pl.lit(None, dtype=pl.String)
    if chunk.wrapped or spec.ts_style == "envelope":
        if "_envelope_ts" not in have:  # a file nobody could read: no rows become events
            return none, "rfc3339", None
        envelope = pl.col("_envelope_ts")
        if not fields or spec.ts_style != "rfc3339":
            return envelope, chunk.envelope_style, None
        # The app's own time is when it happened; prefer it when it is at least as fine
        # as the runtime's (Workhorse logs whole seconds, Puma milliseconds).
        own = pl.coalesce(fields)
        fine = own.str.contains(r"\d:\d\d[.,]\d").fill_null(False)
        return pl.when(fine).then(own).otherwise(envelope), "rfc3339", None
    if spec.ts_style == "klog":
        local = klog_text(pl.col("mmdd"), pl.col("hms"), YEAR0)
        yearless = pl.col("mmdd").is_not_null()
        if {"iso_ts", "iso_hms", "iso_offset"} <= have:
            # A `short-iso` journal prefix dates the line. klog adds its microseconds when
            # both clocks show the same second; otherwise (midnight between them, or
            # `journalctl --utc` on a node in another zone) the prefix's own time stands.
            same_second = pl.col("iso_hms") == pl.col("hms").str.slice(0, 8)
            precise = pl.concat_str(
                pl.col("iso_ts").str.slice(0, 11), pl.col("hms"), pl.col("iso_offset")
            )
            dated = pl.when(same_second).then(precise).otherwise(pl.col("iso_ts"))
            local = pl.when(pl.col("iso_ts").is_not_null()).then(dated).otherwise(local)
            yearless = yearless & pl.col("iso_ts").is_null()
        return local, "local", yearless
    if not fields:
        return none, "rfc3339", None
    return pl.coalesce(fields), spec.ts_style, None


def needs_year(parsed: ParsedFile) -> bool:
    """May the file hold yearless lines? (Whether it does is known once it is collected.)"""
    return any(c.spec.ts_style == "klog" and not c.wrapped for c in parsed.chunks)


def _collect_chunk(
    chunk: Chunk, text: pl.Expr, yearless: pl.Expr | None, notes: list[str]
) -> pl.DataFrame:
    frame = chunk.frame.sort("line") if isinstance(chunk.frame, pl.DataFrame) else chunk.frame
    try:
        rows = canonical_rows(frame, chunk.spec, text, yearless, contained=chunk.contained)
    except BaseException as err:  # polars raises PanicException (a BaseException) on bad JSON
        if isinstance(err, KeyboardInterrupt | SystemExit | MemoryError) or chunk.robust is None:
            raise
        notes.append(f"read with the robust parser ({str(err).splitlines()[0][:120]})")
        rows = canonical_rows(chunk.robust(), chunk.spec, text, yearless, contained=chunk.contained)
    if PLAIN in rows.columns:
        n_plain = int(rows[PLAIN].sum())
        if n_plain:
            notes.append(
                f"{n_plain} payload line(s) are not {chunk.spec.name}; kept as plain log lines"
            )
        rows = rows.drop(PLAIN)
    return rows


def _accepted(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.filter(pl.col(OUTCOME).is_null())


@dataclass
class Collected:
    """A file read to its rows; the yearless ones (``pending``) wait for ``choose_year``."""

    parsed: ParsedFile
    notes: list[str]
    frames: list[pl.DataFrame]  # rows with their times read
    pending: list[tuple[pl.DataFrame, str]] = field(default_factory=list)  # rows, time style
    same_file: list[Dated] = field(default_factory=list)  # dated lines of this file
    span: Span | None = None  # of the yearless lines; None: the file has none
    nodes: tuple[str, ...] = ()  # the node(s) the yearless lines name (syslog host)

    @property
    def path(self) -> str:
        return self.parsed.path


_LIVE_YEARLESS = pl.col(OUTCOME).is_null() & pl.col(YEARLESS)


def _span(rows: pl.DataFrame, tz: str) -> Span | None:
    """First and last wall-clock time of the yearless rows (fixed-width text sorts as time)."""
    text = rows.select(pl.col(TS_TEXT).filter(_LIVE_YEARLESS)).to_series()
    # A month or day out of range is rejected when read; it must not stretch the span.
    valid = text.str.contains(r"^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01]) ")
    text = text.filter(valid.fill_null(False))
    if text.is_empty():
        return None
    return Span(str(text.min()), str(text.max()), tz)


def _yearless_nodes(rows: pl.DataFrame) -> tuple[str, ...]:
    named = rows.select(pl.col("node").filter(_LIVE_YEARLESS).drop_nulls().unique().sort())
    return tuple(named.to_series().to_list())


def collect_file(parsed: ParsedFile, ctx: TimeContext) -> Collected:
    """Read every chunk of ``parsed``; dated lines get their times, yearless ones wait."""
    out = Collected(parsed, list(parsed.notes), [])
    clues = ctx.year is None and needs_year(parsed)  # else nobody asks for this file's dates
    for chunk in parsed.chunks:
        text, style, yearless = _timestamp(chunk)
        rows = _collect_chunk(chunk, text, yearless, out.notes)
        if chunk.spec.ts_style == "local" and not chunk.wrapped and rows[OUTCOME].is_null().any():
            out.notes.append(f"{chunk.spec.name} times without a zone are read in {ctx.tz} (--tz)")
        if yearless is None or not rows[YEARLESS].any():
            rows = timed(rows, style, ctx.tz, layout=chunk.spec.ts_layout)
            out.frames.append(rows)
            if clues:
                out.same_file.extend(dated_inputs(_accepted(rows), f"{chunk.spec.name} lines"))
            continue
        out.pending.append((rows, style))
        span = _span(rows, ctx.tz)
        if span is not None:
            spans = [s for s in (out.span, span) if s is not None]
            out.span = Span(min(s.first for s in spans), max(s.last for s in spans), ctx.tz)
        out.nodes = tuple(sorted({*out.nodes, *_yearless_nodes(rows)}))
        dated = pl.col(OUTCOME).is_null() & ~pl.col(YEARLESS)
        if clues and rows.select(dated.any()).item():  # `short-iso` lines among short ones
            own = _accepted(timed(rows.filter(dated), style, ctx.tz))
            out.same_file.extend(dated_inputs(own, "short-iso prefixed lines"))
    return out


def _label(parsed: ParsedFile, rows: pl.DataFrame) -> str:
    """The file's format, plus each other format some of its lines were in (a journal's
    containerd lines, a container log's klog lines)."""
    names = parsed.format.split("+")
    found = set(rows.filter(pl.col(OUTCOME).is_null())["format"].unique().to_list())
    # The first chunk is the file's own format, which the label already names.
    for chunk in parsed.chunks[1:]:
        if chunk.spec.name not in names and chunk.spec.name in found:
            names.append(chunk.spec.name)
    return "+".join(names)


def finish_file(
    collected: Collected, ctx: TimeContext, nodes: Sequence[str] = ()
) -> tuple[pl.DataFrame, FileTally]:
    """Date the yearless rows of ``collected`` (``choose_year``; ``nodes``: more node names
    its lines may belong to, e.g. from its path) and tally all lines of the file."""
    parsed, notes, frames = collected.parsed, list(collected.notes), list(collected.frames)
    if collected.pending and collected.span is not None:
        year, how = choose_year(
            collected.span,
            ctx,
            collected.same_file,
            (*collected.nodes, *nodes),
            parsed.mtime,
        )
        # After the reader's own notes, before the chunks': the order the report had.
        notes.insert(
            len(parsed.notes),
            f"klog times have no year or zone: {how}; zone {ctx.tz} (override: --tz)",
        )
    else:
        year = ctx.year or YEAR0
    for rows, style in collected.pending:
        dated = rows.with_columns(with_year(pl.col(TS_TEXT), pl.col(YEARLESS), year))
        frames.append(timed(dated, style, ctx.tz))
    rows = (
        pl.concat(frames, how="vertical")
        if frames
        else empty_events().with_columns(pl.lit(None, dtype=pl.String).alias(OUTCOME))
    )
    fill = [
        pl.coalesce(pl.col(k), pl.lit(v)).alias(k)
        for k, v in parsed.identity.items()
        if k in EVENTS
    ]
    if fill:
        rows = rows.with_columns(fill)
    lines = parsed.lines if parsed.lines is not None else rows.height
    tally = tally_from_outcomes(
        parsed.path,
        _label(parsed, rows),
        lines,
        rows.select("line", OUTCOME),
        tuple(dict.fromkeys(notes)),
    )
    events = rows.filter(pl.col(OUTCOME).is_null()).drop(OUTCOME).sort("line")
    return events, tally


def normalize_file(parsed: ParsedFile, ctx: TimeContext) -> tuple[pl.DataFrame, FileTally]:
    """Canonical events of one parsed file, and the tally of all its lines.

    Yearless lines take their year from ``ctx`` and from the file's own dated lines
    (``load_events`` also weighs the other files: ``collect_file`` + ``finish_file``).
    """
    return finish_file(collect_file(parsed, ctx), ctx)
