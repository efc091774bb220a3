"""Turn an engine's raw string fields into rows of ``schema.EVENTS``."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from analyzer.formats import FormatSpec
from analyzer.ingest import ENVELOPE_NODE, PLAIN, Chunk, ParsedFile, envelope_column
from analyzer.ingest.dump import ENVELOPE_IDENTITY
from analyzer.ingest.tally import OUTCOME, FileTally, tally_from_outcomes
from analyzer.normalize.kinds import apply_extract, apply_rules
from analyzer.normalize.time import TimeContext, klog_text, klog_year, parse_times
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
        ts_text.alias("_ts_text"),
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
    out = df.select(
        *[
            (pl.col(n) if n in have else pl.lit(None)).cast(t, strict=False).alias(n)
            for n, t in EVENTS.items()
        ],
        pl.col(OUTCOME),
        pl.col("_ts_text"),
        *plain,
    ).collect(engine="streaming")
    out = out.with_columns(parse_times(out["_ts_text"], ts_style, tz, layout=spec.ts_layout))
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
    ).drop("_ts_text")


PLAUSIBLE = (datetime(1990, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))


def _timestamp(chunk: Chunk, year: int) -> tuple[pl.Expr, str]:
    """The time text of each row and how to read it (``time.parse_times`` style)."""
    spec = chunk.spec
    have = set(chunk.frame.collect_schema().names())
    fields = [pl.col(f) for f in spec.ts_fields if f in have]
    none = pl.lit(None, dtype=pl.String)
    if chunk.wrapped or spec.ts_style == "envelope":
        if "_envelope_ts" not in have:  # a file nobody could read: no rows become events
            return none, "rfc3339"
        envelope = pl.col("_envelope_ts")
        if not fields or spec.ts_style != "rfc3339":
            return envelope, chunk.envelope_style
        # The app's own time is when it happened; prefer it when it is at least as fine
        # as the runtime's (Workhorse logs whole seconds, Puma milliseconds).
        own = pl.coalesce(fields)
        fine = own.str.contains(r"\d:\d\d[.,]\d").fill_null(False)
        return pl.when(fine).then(own).otherwise(envelope), "rfc3339"
    if spec.ts_style == "klog":
        local = klog_text(pl.col("mmdd"), pl.col("hms"), year)
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
        return local, "local"
    if not fields:
        return none, "rfc3339"
    return pl.coalesce(fields), spec.ts_style


def needs_year(parsed: ParsedFile) -> bool:
    return any(c.spec.ts_style == "klog" and not c.wrapped for c in parsed.chunks)


def _first_mmdd(chunks: tuple[Chunk, ...]) -> str | None:
    for c in chunks:
        if "mmdd" in c.frame.collect_schema().names():
            query = c.frame.lazy().filter(pl.col(OUTCOME).is_null()).select("mmdd").drop_nulls()
            try:
                first = query.head(1).collect()
            except pl.exceptions.ComputeError:
                if c.robust is None:
                    raise
                first = c.robust().lazy().filter(pl.col(OUTCOME).is_null()).select("mmdd")
                first = first.drop_nulls().head(1).collect()
            if first.height:
                return str(first.item())
    return None


def _collect_chunk(chunk: Chunk, ctx: TimeContext, year: int, notes: list[str]) -> pl.DataFrame:
    text, style = _timestamp(chunk, year)
    frame = chunk.frame.sort("line") if isinstance(chunk.frame, pl.DataFrame) else chunk.frame
    try:
        return canonical(frame, chunk.spec, text, style, ctx.tz, contained=chunk.contained)
    except BaseException as err:  # polars raises PanicException (a BaseException) on bad JSON
        if isinstance(err, KeyboardInterrupt | SystemExit | MemoryError) or chunk.robust is None:
            raise
        notes.append(f"read with the robust parser ({str(err).splitlines()[0][:120]})")
        return canonical(chunk.robust(), chunk.spec, text, style, ctx.tz, contained=chunk.contained)


def _label(parsed: ParsedFile, frames: list[pl.DataFrame]) -> str:
    """The file's format, plus each other format some of its lines were in (a journal's
    containerd lines, a container log's klog lines)."""
    names = parsed.format.split("+")
    # The first chunk is the file's own format, which the label already names.
    for chunk, frame in zip(parsed.chunks[1:], frames[1:], strict=True):
        if chunk.spec.name not in names and frame[OUTCOME].is_null().any():
            names.append(chunk.spec.name)
    return "+".join(names)


def normalize_file(parsed: ParsedFile, ctx: TimeContext) -> tuple[pl.DataFrame, FileTally]:
    """Canonical events of one parsed file, and the tally of all its lines."""
    notes = list(parsed.notes)
    year = ctx.year or 1970
    if needs_year(parsed):
        year, how = klog_year(_first_mmdd(parsed.chunks), ctx, parsed.mtime)
        notes.append(f"klog times have no year or zone: {how}; zone {ctx.tz} (override: --tz)")
    frames = []
    for chunk in parsed.chunks:
        if chunk.spec.ts_style == "local" and not chunk.wrapped:
            notes.append(f"{chunk.spec.name} times without a zone are read in {ctx.tz} (--tz)")
        frame = _collect_chunk(chunk, ctx, year, notes)
        if PLAIN in frame.columns:
            n_plain = int(frame[PLAIN].sum())
            if n_plain:
                notes.append(
                    f"{n_plain} payload line(s) are not {chunk.spec.name}; kept as plain log lines"
                )
            frame = frame.drop(PLAIN)
        frames.append(frame)
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
    label = _label(parsed, frames)
    tally = tally_from_outcomes(
        parsed.path, label, lines, rows.select("line", OUTCOME), tuple(dict.fromkeys(notes))
    )
    events = rows.filter(pl.col(OUTCOME).is_null()).drop(OUTCOME).sort("line")
    return events, tally
