"""Turn an engine's raw string fields into rows of ``schema.EVENTS``."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from analyzer.formats import FormatSpec
from analyzer.ingest import PLAIN, Chunk, ParsedFile, envelope_column
from analyzer.ingest.tally import OUTCOME, FileTally, tally_from_outcomes
from analyzer.normalize.kinds import apply_extract, apply_rules
from analyzer.normalize.time import TimeContext, klog_text, klog_year, parse_times
from analyzer.schema import EVENTS, Kind, empty_events

_IPV4_PORT = r"^(\d{1,3}(?:\.\d{1,3}){3}):\d+$"


def map_fields(df: pl.LazyFrame, spec: FormatSpec) -> pl.LazyFrame:
    """Canonical columns from the spec's ``fields`` (first non-null alternative)."""
    have = set(df.collect_schema().names())
    exprs = []
    scale = dict(spec.scale)
    for column, alternatives in spec.fields:
        present = [pl.col(a) for a in alternatives if a in have]
        if present:
            value = pl.coalesce(present)
            if column in scale:
                value = value.cast(pl.Float64, strict=False) * scale[column]
            exprs.append(value.alias(column))
    return df.with_columns(exprs) if exprs else df


def canonical(
    frame: pl.DataFrame, spec: FormatSpec, ts_text: pl.Expr, ts_style: str, tz: str = "UTC"
) -> pl.DataFrame:
    """Rows of ``EVENTS`` (plus ``_outcome``) from parsed fields.

    ``frame`` holds ``file``, ``line``, ``raw``, ``_outcome`` and the fields the engine found;
    ``ts_text`` computes the time text from them, read as ``ts_style`` (see
    ``time.parse_times``). A row whose time cannot be read is rejected.
    """
    df = map_fields(apply_rules(apply_extract(frame.lazy(), spec), spec), spec)
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
    df = df.with_columns(
        ts_text.alias("_ts_text"),
        pl.lit(spec.source).alias("source"),
        pl.lit(spec.name).alias("format"),
        pl.coalesce(
            col("namespace"),
            pod_ref.str.split_exact("/", 1).struct.field("field_0"),
            col(envelope_column("namespace")),
        ).alias("namespace"),
        pl.coalesce(
            col("pod"),
            pod_ref.str.split_exact("/", 1).struct.field("field_1"),
            col(envelope_column("pod")),
        ).alias("pod"),
        # A wrapper's identity (journald host, log-store labels) fills what the line lacks.
        *[
            pl.coalesce(col(c), col(envelope_column(c))).alias(c)
            for c in ("node", "container", "pod_uid")
        ],
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
    out = out.with_columns(parse_times(out["_ts_text"], ts_style, tz))
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
        return canonical(frame, chunk.spec, text, style, ctx.tz)
    except BaseException as err:  # polars raises PanicException (a BaseException) on bad JSON
        if isinstance(err, KeyboardInterrupt | SystemExit | MemoryError) or chunk.robust is None:
            raise
        notes.append(f"read with the robust parser ({str(err).splitlines()[0][:120]})")
        return canonical(chunk.robust(), chunk.spec, text, style, ctx.tz)


def normalize_file(parsed: ParsedFile, ctx: TimeContext) -> tuple[pl.DataFrame, FileTally]:
    """Canonical events of one parsed file, and the tally of all its lines."""
    notes = list(parsed.notes)
    year = ctx.year or 1970
    if needs_year(parsed):
        year, how = klog_year(_first_mmdd(parsed.chunks), ctx, parsed.mtime)
        notes.append(f"klog times have no year or zone: {how}; zone {ctx.tz} (override: --tz)")
    frames = []
    for chunk in parsed.chunks:
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
    tally = tally_from_outcomes(
        parsed.path, parsed.format, lines, rows.select("line", OUTCOME), tuple(dict.fromkeys(notes))
    )
    events = rows.filter(pl.col(OUTCOME).is_null()).drop(OUTCOME).sort("line")
    return events, tally
