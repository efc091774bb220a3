"""Turn an engine's raw string fields into rows of ``schema.EVENTS``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from analyzer import limits
from analyzer.errors import AnalyzerError
from analyzer.formats import FormatSpec
from analyzer.ingest import (
    ENVELOPE_NODE,
    PLAIN,
    Chunk,
    ParsedFile,
    envelope_column,
    read_path,
    unreadable,
)
from analyzer.ingest.batch import Batch
from analyzer.ingest.dump import ENVELOPE_IDENTITY
from analyzer.ingest.remote import is_url, local_copy
from analyzer.ingest.tally import MAX_EXAMPLES, OUTCOME, FileTally, tally_from_groups
from analyzer.ingest.text import counting
from analyzer.normalize.kinds import apply_extract, apply_rules
from analyzer.normalize.reduce import (
    GROUP_BY,
    as_reduced,
    counted,
    counted_lines,
    merge_outcomes,
    outcome_groups,
    owning,
    shared_constants,
)
from analyzer.normalize.time import (
    YEAR0,
    Dated,
    Span,
    TimeContext,
    choose_year,
    dated_inputs,
    fast_times,
    klog_text,
    parse_times,
    syslog_mmdd_hms,
    with_year,
)
from analyzer.schema import COUNT, EVENTS, LAST_LINE, LAST_TS, Kind, empty_events

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
    """The spec's ``join`` (text columns from several fields), ``sum`` and ``scale``
    (numeric columns in the schema's units)."""
    if not spec.sum and not spec.scale and not spec.join:
        return df
    have = set(df.collect_schema().names())
    if spec.join:
        df = df.with_columns(
            pl.concat_str(
                [(pl.col(p) if p in have else pl.lit(None)).cast(pl.String) for p in parts],
                separator=":",
            ).alias(column)
            for column, parts in spec.join
        )
        have |= {c for c, _ in spec.join}

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
#: ms to add to a row's time once read: its time is its request's start (``timestamp.start``)
START_MS = "_start_ms"
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
    plan = canonical_plan(frame, spec, ts_text, yearless, contained=contained)
    return plan.collect(engine="streaming")


def canonical_plan(
    frame: pl.DataFrame | pl.LazyFrame,
    spec: FormatSpec,
    ts_text: pl.Expr,
    yearless: pl.Expr | None = None,
    *,
    contained: bool = False,
    start: pl.Expr | None = None,
) -> pl.LazyFrame:
    """``canonical_rows`` as a lazy plan (``_plain`` kept: wrapped lines in no format).

    ``start``: the rows whose time is their request's start (``timestamp.start``): they keep
    ``_start_ms``, their ``duration_ms``, which ``timed`` (and the counting plan) add to the
    time read."""
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
    starts = []
    if start is not None:
        ms = col("duration_ms").cast(pl.Float64, strict=False)
        starts = [pl.when(start.fill_null(False)).then(ms).alias(START_MS)]
    df = df.with_columns(
        *starts,
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
        # The systemd cgroup driver writes a pod UID with `_` for `-` (the kernel's OOM line:
        # `kubepods-burstable-pod0330b2c1_a15b_...slice`); a UID never holds `_`.
        pl.coalesce(col("pod_uid"), col(envelope_column("pod_uid")))
        .str.replace_all("_", "-", literal=True)
        .alias("pod_uid"),
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
        _bad_status(status, http).alias(OUTCOME),
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
        *([pl.col(START_MS)] if starts else []),
        *plain,
    )


def _bad_status(status: pl.Expr, http: pl.Expr) -> pl.Expr:
    """A request line whose status is a number no HTTP status can be (``-502``) is a
    damaged line: rejected, not a request answered below 500. (0 is Envoy's and nginx's "no
    response", -1 HAProxy's; a status that is no number at all stays unknown.)"""
    impossible = ((status < -1) | (status > 999)).fill_null(False)
    return (
        pl.when(pl.col(OUTCOME).is_null() & http & impossible)
        .then(pl.format("reject: status {} is not an HTTP status (0-999)", status))
        .otherwise(pl.col(OUTCOME))
    )


def timed(
    out: pl.DataFrame, ts_style: str, tz: str = "UTC", *, layout: str | None = None
) -> pl.DataFrame:
    """Rows of ``canonical_rows`` with ``ts`` read from their time text (years known)."""
    out = out.with_columns(parse_times(out[TS_TEXT], ts_style, tz, layout=layout))
    if START_MS in out.columns:
        out = out.with_columns(plus_start(pl.col("ts")).alias("ts"))
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
    ).drop(TS_TEXT, YEARLESS, START_MS, strict=False)


def plus_start(ts: pl.Expr) -> pl.Expr:
    """``ts`` of a row whose time is its request's start: moved to when it ended (start +
    duration, to the nanosecond); other rows (``_start_ms`` null) unchanged."""
    ns = (pl.col(START_MS) * 1e6).round().cast(pl.Int64, strict=False).fill_null(0)
    return (ts + pl.duration(nanoseconds=ns)).cast(EVENTS["ts"])


PLAUSIBLE = (datetime(1990, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))


def _start_rows(chunk: Chunk) -> pl.Expr | None:
    """The rows whose time is their request's start (``timestamp.start``): their time came
    from a start field (not from the wrapper's, nor from a later field of the list)."""
    spec = chunk.spec
    if not spec.ts_start:
        return None
    have = set(chunk.frame.collect_schema().names())
    fields = [f for f in spec.ts_fields if f in have]
    if not fields or spec.ts_style in ("envelope", "klog"):
        return None
    first: pl.Expr = pl.lit(False)
    for name in reversed(fields):
        first = (
            pl.when(pl.col(name).is_not_null()).then(pl.lit(name in spec.ts_start)).otherwise(first)
        )
    if chunk.wrapped:
        if spec.ts_style != "rfc3339" or "_envelope_ts" not in have:
            return None  # the runtime's time, written when the line was: already the end
        fine = pl.coalesce([pl.col(f) for f in fields]).str.contains(r"\d:\d\d[.,]\d")
        return first & fine.fill_null(False)
    return first


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
        mmdd, hms = pl.col("mmdd"), pl.col("hms")
        if "mmdd" not in have and "syslog_ts" in have:
            # No klog header (the kernel's lines in a journal): the syslog prefix's
            # `Mon DD hh:mm:ss[.ffffff]` is the line's yearless time.
            mmdd, hms = syslog_mmdd_hms(pl.col("syslog_ts"))
        local = klog_text(mmdd, hms, YEAR0, over="file" if chunk.files_apart else None)
        yearless = mmdd.is_not_null()
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


#: Plain log lines are counted per minute (they date a file and show that it was
#: written; nobody reads their rate), requests per second.
_LOG_LINE = pl.col("kind") == Kind.LOG.value
_FAST_TS = "_fast_ts"
_LAST_TEXT = "_last_ts_text"  # a yearless count row's last time, until its year is known


@dataclass
class ChunkRows:
    """One chunk after its plan ran: rows kept whole (times still text), count rows, and
    the skipped/rejected lines per reason (``reduce.outcome_groups``)."""

    kept: pl.DataFrame
    counts: pl.DataFrame  # dated: ``REDUCED`` rows; yearless: ``_ts_text``/``_last_ts_text``
    outcomes: pl.DataFrame


def _whole_plans(rows: pl.LazyFrame) -> list[pl.LazyFrame]:
    """Every event kept whole: the kept rows, the outcome groups, and the number of plain
    wrapped lines (if the chunk has any), run by ``pl.collect_all`` over one scan."""
    has_plain = PLAIN in rows.collect_schema().names()
    plans = [
        owning(rows.filter(pl.col(OUTCOME).is_null()).drop(PLAIN, strict=False)),
        outcome_groups(rows),
    ]
    if has_plain:
        plans.append(rows.select(pl.col(PLAIN).sum()))
    return plans


_SOLO = "_solo"  # the line of a row kept whole (or rejected): a group of its own


def _reduce_plan(
    rows: pl.LazyFrame, style: str, tz: str, layout: str | None, yearless: bool
) -> pl.LazyFrame | None:
    """One group-by over the chunk that counts what is only counted, groups skipped lines
    per reason, and names (``_solo``) each line kept whole or rejected. None: no line of this
    chunk can be counted (its times need every line: ``timed``).

    One output, not several plans over a shared scan: ``collect_all`` caches the shared
    part whole (measured: 3.7 GB for a 1.2 GB file, against 0.7 GB for this)."""
    text = pl.col(TS_TEXT)
    if yearless:
        if tz != "UTC":  # another zone's folded hour needs every neighbouring line
            return None
        # Yearless text is fixed-width (``klog_text``): its first 19 characters are its second.
        count_me = counted() & pl.col(YEARLESS)
        ts, first, last = text, TS_TEXT, _LAST_TEXT
        bucket = pl.when(_LOG_LINE).then(text.str.slice(0, 16)).otherwise(text.str.slice(0, 19))
    else:
        fast = fast_times(text, style, tz, layout=layout)
        if fast is None:
            return None
        if START_MS in rows.collect_schema().names():
            fast = plus_start(fast)
        rows = rows.with_columns(fast.alias(_FAST_TS))
        ts, first, last = pl.col(_FAST_TS), "ts", LAST_TS
        count_me = counted() & ts.is_between(*PLAUSIBLE, closed="left")
        bucket = pl.when(_LOG_LINE).then(ts.dt.truncate("1m")).otherwise(ts.dt.truncate("1s"))
    count_me = count_me.fill_null(False)
    outcome = pl.col(OUTCOME)
    solo = ~count_me & (outcome.is_null() | outcome.str.starts_with("reject: "))
    keyed = rows.with_columns(
        pl.when(count_me).then(bucket).alias("_bucket"),
        pl.when(solo).then(pl.col("line")).alias(_SOLO),
        # Lines not counted need no key beyond their reason or their own number.
        *[pl.when(count_me).then(pl.col(c)).alias(c) for c in GROUP_BY],
    )
    plain = [pl.col(PLAIN).sum().alias(PLAIN)] if PLAIN in rows.collect_schema().names() else []
    return owning(
        keyed.group_by("_bucket", _SOLO, OUTCOME, *GROUP_BY).agg(
            ts.min().alias(first),
            ts.max().alias(last),
            pl.len().cast(pl.UInt32).alias(COUNT),
            pl.col("line").min(),
            pl.col("line").max().alias(LAST_LINE),
            pl.col("duration_ms").mean(),
            pl.col("file").first(),  # one file per plan: not a key
            *plain,
        )
    )


def _split_groups(groups: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.Series, int]:
    """``_reduce_plan``'s output as count rows, outcome groups, the lines to read whole, and
    the number of plain wrapped lines."""
    n_plain = int(groups[PLAIN].sum() or 0) if PLAIN in groups.columns else 0
    is_outcome = pl.col(OUTCOME).is_not_null()
    outcomes = (
        groups.filter(is_outcome)
        .group_by("file", OUTCOME)
        .agg(
            pl.col(COUNT).sum().cast(pl.Int64).alias("n"),
            pl.col("line").cast(pl.Int64).sort().head(MAX_EXAMPLES).alias("first_lines"),
        )
    )
    whole = groups.filter(~is_outcome & pl.col(_SOLO).is_not_null())[_SOLO]
    counts = groups.filter(~is_outcome & pl.col(_SOLO).is_null()).drop(
        "_bucket", _SOLO, OUTCOME, PLAIN, strict=False
    )
    return counts, outcomes, whole, n_plain


def _collect_chunk(
    chunk: Chunk,
    text: pl.Expr,
    style: str,
    yearless: pl.Expr | None,
    tz: str,
    reduce: bool,
    notes: list[str],
) -> ChunkRows:
    frame = chunk.frame.sort("line") if isinstance(chunk.frame, pl.DataFrame) else chunk.frame
    layout = chunk.spec.ts_layout

    start = _start_rows(chunk)

    def plan(source: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
        return canonical_plan(
            source, chunk.spec, text, yearless, contained=chunk.contained, start=start
        )

    def run(source: pl.DataFrame | pl.LazyFrame) -> ChunkRows:
        rows = plan(source)
        reducing = _reduce_plan(rows, style, tz, layout, yearless is not None) if reduce else None
        if reducing is None:
            kept, outcomes, *rest = pl.collect_all(_whole_plans(rows), engine="streaming")
            n_plain = int(rest[0].item() or 0) if rest else 0
            counts = pl.DataFrame()
        else:
            groups = reducing.collect(engine="streaming")
            counts, outcomes, whole, n_plain = _split_groups(groups)
            # The few lines kept whole are parsed again, alone (the filter on the line
            # number runs first, at the scan).
            chosen = plan(source.lazy().filter(pl.col("line").is_in(whole.implode())))
            kept = owning(chosen.filter(pl.col(OUTCOME).is_null()).drop(PLAIN, strict=False))
            kept = kept.collect(engine="streaming") if whole.len() else kept.collect().clear()
        if n_plain:
            notes.append(
                f"{n_plain} payload line(s) are not {chunk.spec.name}; kept as plain log lines"
            )
        return ChunkRows(kept, counts, outcomes)

    try:
        return run(frame)
    except BaseException as err:  # polars raises PanicException (a BaseException) on bad JSON
        if isinstance(err, KeyboardInterrupt | SystemExit | MemoryError) or chunk.robust is None:
            raise
        notes.append(f"read with the robust parser ({str(err).splitlines()[0][:120]})")
        return run(chunk.robust())


def _accepted(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.filter(pl.col(OUTCOME).is_null())


@dataclass
class Collected:
    """A file read to its rows; the yearless ones (``pending``) wait for ``choose_year``.

    Holds frames and plain values only (no plans), so a worker can send it back."""

    path: str
    format: str
    lines: int | None
    identity: dict[str, str]
    mtime: float | None
    chunk_formats: tuple[str, ...]
    reader_notes: int  # how many of ``notes`` the reader wrote (the year note goes after)
    notes: list[str]
    frames: list[pl.DataFrame]  # ``REDUCED`` rows with their times read
    outcomes: list[pl.DataFrame] = field(default_factory=list)  # ``reduce.outcome_groups``
    pending: list[tuple[ChunkRows, str]] = field(default_factory=list)  # rows, time style
    same_file: list[Dated] = field(default_factory=list)  # dated lines of this file
    span: Span | None = None  # of the yearless lines; None: the file has none
    nodes: tuple[str, ...] = ()  # the node(s) the yearless lines name (syslog host)
    problem: AnalyzerError | None = None  # unreadable, or in no known format (``--strict``)
    # A batch of small files read as one (``ingest.batch``): each file and its line count.
    batch: tuple[tuple[str, int, float], ...] = ()  # (file, lines, modification time)
    same_file_by: dict[str, list[Dated]] = field(default_factory=dict)  # a batch's, per file
    # A batch's notes that hold only for some of its files: note -> those files.
    note_files: dict[str, set[str]] = field(default_factory=dict)


def read_and_collect(
    path: str | Path,
    ctx: TimeContext,
    *,
    as_format: str | None = None,
    reduce: bool = True,
    shown: str | None = None,
) -> Collected:
    """One input file read (``ingest.read_path``) and collected: the unit of work a worker
    runs. Plans live only inside this call; what it returns is frames and plain values.

    A URL (``ingest.remote``) is copied to a temporary file first, by whoever runs this.
    ``shown``: the file's name in the report, if not ``path`` (a relative path the client
    was given, read by a worker elsewhere as an absolute one)."""
    name = shown or str(path)
    if not is_url(path):
        with counting(reduce), limits.reading(name):
            parsed = read_path(Path(path), as_format, shown)
            return collect_file(parsed, ctx, reduce=reduce)
    try:
        with local_copy(str(path)) as local, limits.reading(name):
            with counting(reduce):
                parsed = read_path(local, as_format, name)
            return collect_file(parsed, ctx, reduce=reduce)
    except OSError as err:
        return collect_file(unreadable(name, err), ctx, reduce=reduce)


def collect_batch(batch: Batch, ctx: TimeContext) -> Collected:
    """A batch of small files (``ingest.batch``) collected as one: every row kept whole
    (a few lines per file), each file's lines and outcomes kept apart by ``file``."""
    with limits.reading(batch.parsed.path):
        out = collect_file(batch.parsed, ctx, reduce=False, per_file_notes=True)
    out.batch = tuple((f.shown, _line_count(f.text), f.mtime) for f in batch.files)
    out.mtime = max(f.mtime for f in batch.files)
    return out


def _line_count(text: str) -> int:
    """Lines as ``scan_lines`` counts them: a last line without its newline counts too."""
    return text.count("\n") + (0 if text.endswith("\n") else 1)


#: Yearless time text whose month and day exist: a month or day out of range is rejected when
#: read, and must not stretch a span.
VALID_DATE = r"^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01]) "


def _span(part: ChunkRows, tz: str) -> Span | None:
    """First and last wall-clock time of the yearless rows (fixed-width text sorts as time)."""
    texts = [part.kept.select(pl.col(TS_TEXT).filter(pl.col(YEARLESS))).to_series()]
    if part.counts.height:
        texts += [part.counts[TS_TEXT], part.counts[_LAST_TEXT]]
    text = pl.concat(texts)
    valid = text.str.contains(VALID_DATE)
    text = text.filter(valid.fill_null(False))
    if text.is_empty():
        return None
    return Span(str(text.min()), str(text.max()), tz)


def _yearless_nodes(part: ChunkRows) -> tuple[str, ...]:
    named = [part.kept.select(pl.col("node").filter(pl.col(YEARLESS)))]
    if part.counts.height:
        named.append(part.counts.select("node"))
    nodes = pl.concat(named).to_series().drop_nulls().unique().sort()
    return tuple(nodes.to_list())


def _timed_kept(
    kept: pl.DataFrame, style: str, tz: str, layout: str | None, outcomes: list[pl.DataFrame]
) -> pl.DataFrame:
    """Kept rows with their times read; rows whose time is unreadable become outcomes."""
    kept = timed(kept, style, tz, layout=layout)
    if kept[OUTCOME].is_not_null().any():
        outcomes.append(outcome_groups(kept).collect())
    return as_reduced(_accepted(kept).drop(OUTCOME))


def collect_file(
    parsed: ParsedFile, ctx: TimeContext, *, reduce: bool = True, per_file_notes: bool = False
) -> Collected:
    """Read every chunk of ``parsed``; dated lines get their times, yearless ones wait.

    ``reduce``: count successful requests and plain log lines per second instead of keeping
    a row each (``reduce``); otherwise every event is kept whole. ``per_file_notes``: the
    rows are several files' (a batch): say which files each note is about."""
    out = Collected(
        path=parsed.path,
        format=parsed.format,
        lines=parsed.lines,
        identity=dict(parsed.identity),
        mtime=parsed.mtime,
        chunk_formats=tuple(c.spec.name for c in parsed.chunks),
        reader_notes=len(parsed.notes),
        notes=list(parsed.notes),
        frames=[],
        problem=parsed.unreadable or parsed.unknown,
    )
    clues = ctx.year is None and needs_year(parsed)  # else nobody asks for this file's dates
    for chunk in parsed.chunks:
        text, style, yearless = _timestamp(chunk)
        part = _collect_chunk(chunk, text, style, yearless, ctx.tz, reduce, out.notes)
        out.outcomes.append(part.outcomes)
        layout = chunk.spec.ts_layout
        if (
            chunk.spec.ts_style == "local"
            and not chunk.wrapped
            and (part.kept.height or part.counts.height)
        ):
            note = f"{chunk.spec.name} times without a zone are read in {ctx.tz} (--tz)"
            out.notes.append(note)
            if per_file_notes:
                files = pl.concat([part.kept.select("file"), part.counts.select("file")])
                out.note_files.setdefault(note, set()).update(files["file"].to_list())
        if yearless is None or not (part.kept[YEARLESS].any() or part.counts.height):
            kept = part.kept.drop(YEARLESS, strict=False)
            kept = _timed_kept(kept, style, ctx.tz, layout, out.outcomes)
            counts = (
                shared_constants(as_reduced(part.counts)) if part.counts.height else part.counts
            )
            out.frames.extend(f for f in (kept, counts) if f.height)
            if clues:
                _add_clues(out, [kept, counts], f"{chunk.spec.name} lines", per_file_notes)
            continue
        out.pending.append((part, style))
        span = _span(part, ctx.tz)
        if span is not None:
            spans = [s for s in (out.span, span) if s is not None]
            out.span = Span(min(s.first for s in spans), max(s.last for s in spans), ctx.tz)
        out.nodes = tuple(sorted({*out.nodes, *_yearless_nodes(part)}))
        dated = part.kept.filter(~pl.col(YEARLESS))
        if clues and dated.height:  # `short-iso` lines among short ones
            own = _accepted(timed(dated, style, ctx.tz))
            _add_clues(out, [own], "short-iso prefixed lines", per_file_notes)
    return out


def _add_clues(out: Collected, frames: list[pl.DataFrame], label: str, per_file: bool) -> None:
    """Dated lines that may give the yearless lines of the same file their year."""
    if not per_file:
        out.same_file.extend(dated_inputs(_times_of(frames), label))
        return
    rows = [f.select("file", "node", "ts") for f in frames if f.height]
    if rows:
        for (name,), part in pl.concat(rows).partition_by("file", as_dict=True).items():
            out.same_file_by.setdefault(name, []).extend(dated_inputs(part, label))


def _times_of(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """``node``, ``ts`` of ``REDUCED`` frames (the evidence ``dated_inputs`` weighs)."""
    parts = [f.select("node", "ts") for f in frames if f.height]
    if not parts:
        return pl.DataFrame(schema={"node": pl.String, "ts": EVENTS["ts"]})
    return pl.concat(parts)


def _label(collected: Collected, frames: list[pl.DataFrame]) -> str:
    """The file's format, plus each other format some of its lines were in (a journal's
    containerd lines, a container log's klog lines)."""
    names = collected.format.split("+")
    found = {f for frame in frames for f in frame["format"].unique().to_list()}
    # The first chunk is the file's own format, which the label already names.
    for name in collected.chunk_formats[1:]:
        if name not in names and name in found:
            names.append(name)
    return "+".join(names)


def _dated_counts(
    counts: pl.DataFrame, style: str, tz: str, year: int, outcomes: list[pl.DataFrame]
) -> pl.DataFrame:
    """Yearless count rows with their first and last times read in ``year``."""
    if counts.height == 0:
        return counts
    counts = counts.sort("line")
    first = counts.select(with_year(pl.col(TS_TEXT), pl.lit(True), year)).to_series()
    last = counts.select(with_year(pl.col(_LAST_TEXT), pl.lit(True), year)).to_series()
    counts = counts.with_columns(
        parse_times(first, style, tz).alias("ts"), parse_times(last, style, tz).alias(LAST_TS)
    )
    good = pl.col("ts").is_between(*PLAUSIBLE, closed="left") & pl.col(LAST_TS).is_not_null()
    bad = counts.filter(~good.fill_null(False))
    if bad.height:  # a date that does not exist in that year (29 Feb), or out of range
        outcomes.append(
            bad.group_by(
                "file",
                pl.when(pl.col("ts").is_null())
                .then(pl.lit("reject: timestamp missing or unreadable"))
                .otherwise(pl.lit("reject: timestamp out of range (before 1990 or after 2199)"))
                .alias(OUTCOME),
            ).agg(
                pl.col(COUNT).sum().cast(pl.Int64).alias("n"),
                pl.col("line").cast(pl.Int64).sort().head(5).alias("first_lines"),
            )
        )
    return shared_constants(as_reduced(counts.filter(good.fill_null(False))))


def finish_file(
    collected: Collected,
    ctx: TimeContext,
    nodes: Sequence[str] | Callable[[str], Sequence[str]] = (),
) -> tuple[pl.DataFrame, tuple[FileTally, ...]]:
    """Date the yearless rows of ``collected`` (``choose_year``; ``nodes``: more node names
    its lines may belong to, e.g. from its path) and tally all lines of the file.

    Returns the file's ``REDUCED`` rows in line order, and its tally (a batch: each of its
    files' tallies). ``nodes`` may be a function of a file's path."""
    if collected.batch:
        return _finish_batch(collected, ctx, nodes if callable(nodes) else lambda _: nodes)
    if callable(nodes):
        nodes = nodes(collected.path)
    notes, frames = list(collected.notes), list(collected.frames)
    outcomes = list(collected.outcomes)
    if collected.pending and collected.span is not None:
        year, how = choose_year(
            collected.span,
            ctx,
            collected.same_file,
            (*collected.nodes, *nodes),
            collected.mtime,
        )
        # After the reader's own notes, before the chunks': the order the report had.
        note = f"klog times have no year or zone: {how}; zone {ctx.tz} (override: --tz)"
        notes.insert(collected.reader_notes, note)
    else:
        year = ctx.year or YEAR0
    for part, style in collected.pending:
        dated = part.kept.with_columns(with_year(pl.col(TS_TEXT), pl.col(YEARLESS), year))
        frames.append(_timed_kept(dated, style, ctx.tz, None, outcomes))
        frames.append(_dated_counts(part.counts, style, ctx.tz, year, outcomes))
    frames = [f for f in frames if f.height]
    rows = pl.concat(frames, how="vertical") if frames else as_reduced(empty_events())
    fill = [
        pl.coalesce(pl.col(k), pl.lit(v)).alias(k)
        for k, v in collected.identity.items()
        if k in EVENTS
    ]
    if fill:
        rows = rows.with_columns(fill)
    groups = merge_outcomes(outcomes)
    events = counted_lines(rows)
    lines = collected.lines if collected.lines is not None else events + int(groups["n"].sum())
    tally = tally_from_groups(
        collected.path,
        _label(collected, frames),
        lines,
        events,
        groups,
        tuple(dict.fromkeys(notes)),
    )
    return rows.sort("line", "ts"), (tally,)


def _finish_batch(
    collected: Collected, ctx: TimeContext, nodes: Callable[[str], Sequence[str]]
) -> tuple[pl.DataFrame, tuple[FileTally, ...]]:
    """``finish_file`` for a batch of small files: each file's yearless lines dated as if it
    had been read alone (its own span, nodes, dated lines and modification time), all of
    them at once; each file tallied."""
    notes, frames = list(collected.notes), list(collected.frames)
    outcomes = list(collected.outcomes)
    note_files = dict(collected.note_files)
    if collected.pending:
        years, year_notes = _batch_years(collected, ctx, nodes)
        for note, files in reversed(year_notes.items()):
            notes.insert(collected.reader_notes, note)
            note_files[note] = files
        year = pl.col("file").replace_strict(
            years, default=ctx.year or YEAR0, return_dtype=pl.Int32
        )
        for part, style in collected.pending:
            dated = part.kept.with_columns(with_year(pl.col(TS_TEXT), pl.col(YEARLESS), year))
            frames.append(_timed_kept(dated, style, ctx.tz, None, outcomes))
    frames = [f for f in frames if f.height]
    rows = pl.concat(frames, how="vertical") if frames else as_reduced(empty_events())
    groups = merge_outcomes(outcomes)
    batch = replace(collected, note_files=note_files)
    return rows.sort("file", "line", "ts"), _batch_tallies(
        batch, rows, groups, tuple(dict.fromkeys(notes))
    )


def _batch_years(
    collected: Collected, ctx: TimeContext, nodes: Callable[[str], Sequence[str]]
) -> tuple[dict[str, int], dict[str, set[str]]]:
    """Each file's year (``choose_year`` on its own clues) and the notes saying why."""
    yearless = pl.concat(
        [
            p.kept.filter(pl.col(YEARLESS)).select("file", TS_TEXT, "node")
            for p, _ in collected.pending
        ]
    )
    valid = pl.col(TS_TEXT).str.contains(VALID_DATE)
    spans = (
        yearless.filter(valid.fill_null(False))
        .group_by("file")
        .agg(pl.col(TS_TEXT).min().alias("first"), pl.col(TS_TEXT).max().alias("last"))
    )
    named = yearless.drop_nulls("node").group_by("file").agg(pl.col("node").unique().sort())
    node_names = dict(zip(named["file"], named["node"].to_list(), strict=True))
    mtimes = {name: mtime for name, _, mtime in collected.batch}
    years: dict[str, int] = {}
    notes: dict[str, set[str]] = {}
    for name, first, last in spans.iter_rows():
        year, how = choose_year(
            Span(first, last, ctx.tz),
            ctx,
            collected.same_file_by.get(name, ()),
            (*node_names.get(name, ()), *nodes(name)),
            mtimes.get(name),
        )
        years[name] = year
        note = f"klog times have no year or zone: {how}; zone {ctx.tz} (override: --tz)"
        notes.setdefault(note, set()).add(name)
    return years, notes


def _batch_tallies(
    collected: Collected, rows: pl.DataFrame, groups: pl.DataFrame, notes: tuple[str, ...]
) -> tuple[FileTally, ...]:
    """Each file of a batch tallied from its own rows and outcomes (one pass each)."""
    per_file = rows.group_by("file").agg(pl.col(COUNT).sum(), pl.col("format").unique())
    events = dict(zip(per_file["file"], per_file[COUNT], strict=True))
    found = dict(zip(per_file["file"], per_file["format"].to_list(), strict=True))
    outcomes = groups.partition_by("file", as_dict=True)
    empty = groups.clear()
    tallies = []
    for name, lines, _ in collected.batch:
        own = tuple(n for n in notes if name in collected.note_files.get(n, (name,)))
        names = collected.format.split("+")
        names += [f for f in collected.chunk_formats[1:] if f in (found.get(name) or ())]
        tallies.append(
            tally_from_groups(
                name,
                "+".join(dict.fromkeys(names)),
                lines,
                int(events.get(name) or 0),
                outcomes.get((name,), empty),
                own,
            )
        )
    return tuple(tallies)


def normalize_file(parsed: ParsedFile, ctx: TimeContext) -> tuple[pl.DataFrame, FileTally]:
    """Canonical events of one parsed file (one row per event), and the tally of all its lines.

    Yearless lines take their year from ``ctx`` and from the file's own dated lines
    (``load_events`` also weighs the other files: ``collect_file`` + ``finish_file``).
    """
    rows, (tally,) = finish_file(collect_file(parsed, ctx, reduce=False), ctx)
    return rows.select(EVENTS.names()), tally
