"""Timestamp rules.

klog headers and syslog prefixes carry neither year nor zone (log-formats.md 1.4). A
yearless line takes its year from the closest clue (``choose_year``): ``--year``; dated lines
of the same file (containerd's ``time=`` in a journal beside the kubelet's); dated inputs of
the same node; dated inputs whose times overlap or lie near the file's span in some year;
the file's modification time; the current year. Within a file, a month that goes backwards
(Dec -> Jan) starts the next year. The zone is ``--tz`` (default UTC), because managed
nodes mostly run UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

TS = pl.Datetime("ns", "UTC")
_RFC3339 = ("%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f %#z", "%Y-%m-%d %H:%M:%S%.f%#z")
_NAIVE = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f")


#: The year yearless text is written in until its real year is known: a leap year, so that
#: 29 February reads and the span of a file can be taken before its year is chosen.
YEAR0 = 2000
#: Dated inputs further than this from a yearless file's span, in every candidate year, are
#: of another era (old fixtures beside today's logs): they do not date it.
NEAR = timedelta(days=31)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Dated:
    """The times of one dated input (a file, or some lines of one), as evidence for a year."""

    label: str  # how the year note names it
    ns: pl.Series = field(compare=False)  # Int64 ns since the epoch, sorted, no nulls
    years: tuple[int, ...] = ()
    node: str | None = None

    def gap(self, start: int, end: int) -> int:
        """ns from ``[start, end]`` to the nearest of these times; 0 when one is inside."""
        n = len(self.ns)
        i = self.ns.search_sorted(start, side="left")
        if i < n and self.ns[i] <= end:
            return 0
        after = self.ns[i] - end if i < n else None
        before = start - self.ns[i - 1] if i > 0 else None
        return min(g for g in (after, before) if g is not None)

    def count(self, start: int, end: int) -> int:
        return int(
            self.ns.search_sorted(end, side="right") - self.ns.search_sorted(start, side="left")
        )


def dated_inputs(events: pl.DataFrame, label: str) -> tuple[Dated, ...]:
    """Evidence from ``events`` (``ts``, ``node``): one ``Dated`` for all of them (``node``
    None), then one per node they name."""
    frame = (
        events.select("node", pl.col("ts").dt.epoch("ns").alias("ns"), pl.col("ts").dt.year())
        .drop_nulls("ns")
        .sort("ns")
    )
    if frame.height == 0:
        return ()

    def dated(part: pl.DataFrame, node: str | None) -> Dated:
        return Dated(label, part["ns"], tuple(part["ts"].unique().sort().to_list()), node)

    named = frame.drop_nulls("node").partition_by("node", maintain_order=True, as_dict=True)
    return (dated(frame, None), *(dated(named[k], k[0]) for k in sorted(named)))


@dataclass(frozen=True)
class Span:
    """The wall-clock range of a file's yearless lines, written in year ``YEAR0`` (plus the
    Dec -> Jan rollovers inside the file), in zone ``tz``."""

    first: str  # "2000-05-07 11:59:34.518822"
    last: str
    tz: str = "UTC"

    @property
    def rollovers(self) -> int:
        return int(self.last[:4]) - YEAR0

    def in_year(self, year: int) -> tuple[int, int] | None:
        """UTC ns of the first and last line if the first is in ``year``; None if a date
        does not exist then (29 February)."""
        zone = ZoneInfo(self.tz)
        out = []
        for text in (self.first, self.last):
            try:
                local = datetime.fromisoformat(f"{int(text[:4]) - YEAR0 + year}{text[4:]}")
            except ValueError:
                return None
            out.append(_ns(local.replace(tzinfo=zone)))
        return out[0], out[1]


@dataclass(frozen=True)
class TimeContext:
    """What the yearless, zoneless formats need to become absolute times."""

    year: int | None = None  # --year
    tz: str = "UTC"  # --tz, the zone of klog headers and syslog prefixes
    # Dated inputs (other files) that may give a yearless file its year.
    evidence: tuple[Dated, ...] = field(default=(), compare=False)


def parse_rfc3339(expr: pl.Expr) -> pl.Expr:
    """RFC 3339 / ISO 8601 with or without fraction and offset; naive values are UTC."""
    zoned = [
        expr.str.to_datetime(fmt, time_unit="ns", time_zone="UTC", strict=False) for fmt in _RFC3339
    ]
    naive = [
        expr.str.to_datetime(fmt, time_unit="ns", strict=False).dt.replace_time_zone("UTC")
        for fmt in _NAIVE
    ]
    return pl.coalesce([*zoned, *naive, parse_epoch(expr)])


#: Magnitude -> unit (digits of ns per unit), as (exclusive lower bound, exponent): ns above
#: 1e17, µs above 1e14 (journald), ms above 1e11 (kubelet JSON ``ts``), s above 1e8.
_EPOCH_UNITS = ((10**17, 0), (10**14, 3), (10**11, 6), (10**8, 9))
_INT64_MAX = 2**63 - 1


def parse_epoch(expr: pl.Expr) -> pl.Expr:
    """Numbers since the epoch; the unit is told by magnitude (kubelet JSON ``ts`` is ms).

    Decimal text is read exactly: the integer part as Int64, the fraction as digits (a
    Float64 has 53 bits; µs since the epoch are 51 and ns 61, so floats lose the last
    digits). Only exponent notation (``1.6e9``) goes through a float.
    """
    text = expr.cast(pl.String, strict=False).str.strip_chars()
    parts = text.str.extract_groups(r"^([+-]?)(\d+)(?:\.(\d*))?$")
    whole = parts.struct.field("2").cast(pl.Int64, strict=False)
    ns = _scaled(whole, parts.struct.field("3").fill_null(""))
    ns = pl.when(parts.struct.field("1") == "-").then(-ns).otherwise(ns)
    return pl.coalesce(ns, _float_epoch(expr)).cast(TS)


def _integer_epoch(raw: pl.Series) -> pl.Series:
    """``parse_epoch`` for integer text only (journald's µs): one cast, no regex."""
    return raw.to_frame("t").select(integer_epoch(pl.col("t"))).to_series()


def integer_epoch(text: pl.Expr) -> pl.Expr:
    """Integer epoch text (s, ms, µs or ns, told by magnitude) -> ``TS``; null otherwise."""
    whole = text.cast(pl.Int64, strict=False)
    mag = whole.abs()
    scale = pl.lit(None, dtype=pl.Int64)
    limit = pl.lit(None, dtype=pl.Int64)
    for bound, exponent in reversed(_EPOCH_UNITS):
        scale = pl.when(mag > bound).then(10**exponent).otherwise(scale)
        limit = pl.when(mag > bound).then(_INT64_MAX // 10**exponent).otherwise(limit)
    # Beyond the Int64 ns range (after 2262) the product would wrap: no time.
    return pl.when(mag <= limit).then(whole * scale).cast(TS)


def _scaled(whole: pl.Expr, fraction: pl.Expr) -> pl.Expr:
    """ns from a non-negative integer part and the fraction's digits, unit by magnitude."""
    ns: pl.Expr = pl.lit(None, dtype=pl.Int64)
    for bound, exponent in reversed(_EPOCH_UNITS):  # the largest bound is tested first
        above = (whole > bound) | ((whole == bound) & fraction.str.contains("[1-9]"))
        digits = fraction.str.slice(0, exponent).str.pad_end(exponent, "0").cast(pl.Int64)
        digits = digits if exponent else pl.lit(0, dtype=pl.Int64)
        # Beyond the Int64 ns range (after 2262) the product would wrap: no time.
        fits = whole <= (pl.lit(_INT64_MAX, dtype=pl.Int64) - digits) // 10**exponent
        value = pl.when(fits).then(whole * 10**exponent + digits)
        ns = pl.when(above).then(value).otherwise(ns)
    return ns


def _float_epoch(expr: pl.Expr) -> pl.Expr:
    """Exponent notation, which no integer split reads (rare: JSON writers print decimals)."""
    num = expr.cast(pl.String, strict=False).str.strip_chars().cast(pl.Float64, strict=False)
    num = pl.when(expr.cast(pl.String, strict=False).str.contains("[eE]")).then(num)
    mag = num.abs()
    ns = pl.lit(None, dtype=pl.Float64)
    for bound, exponent in reversed(_EPOCH_UNITS):
        ns = pl.when(mag > bound).then(num * 10**exponent).otherwise(ns)
    return ns.cast(pl.Int64, strict=False)


@dataclass(frozen=True)
class _Pick:
    year: int
    gap: int  # ns from the span in that year to the nearest dated time; 0: they overlap
    named: tuple[str, ...]  # the inputs that decided (within NEAR of the span, or the nearest)


def _ns(t: datetime) -> int:
    return (t - _EPOCH) // timedelta(microseconds=1) * 1000


def _closest_year(span: Span, items: Sequence[Dated], latest: int | None = None) -> _Pick | None:
    """The year whose span overlaps or lies closest to ``items``; a tie goes to the year
    with more dated times within ``NEAR`` of the span, then to the later year. A year in
    which the span would end after ``latest`` (ns) is not a candidate."""
    near = _ns(_EPOCH + NEAR)
    candidates = {
        y for d in items for seen in d.years for y in range(seen - span.rollovers - 1, seen + 2)
    }
    best: tuple[tuple[int, int, int], _Pick] | None = None
    for year in sorted(candidates):
        interval = span.in_year(year)
        if interval is None:
            continue
        start, end = interval
        if latest is not None and end > latest:
            continue
        gaps = [(d.gap(start, end), d) for d in items]
        gap = min(g for g, _ in gaps)
        dense = sum(d.count(start - near, end + near) for d in items)
        named = [d.label for g, d in gaps if g <= max(gap, near)]
        key = (gap, -dense, -year)
        if best is None or key < best[0]:
            best = (key, _Pick(year, gap, tuple(dict.fromkeys(named))))
    return best[1] if best else None


def same_node(a: str, b: str) -> bool:
    """One node under two spellings: syslog writes the short host name (``ip-10-0-1-2``)
    where Kubernetes may use the FQDN (``ip-10-0-1-2.eu-west-1.compute.internal``)."""
    a, b = a.lower(), b.lower()
    if "." in a and "." in b:
        return a == b
    return a.split(".", 1)[0] == b.split(".", 1)[0]


def _names(labels: Sequence[str], most: int = 3) -> str:
    shown = ", ".join(labels[:most])
    return f"{shown} and {len(labels) - most} more" if len(labels) > most else shown


def _days(ns: int) -> str:
    return f"{ns / 86_400e9:.0f} days"


def choose_year(
    span: Span | None,
    ctx: TimeContext,
    same_file: Sequence[Dated] = (),
    nodes: Sequence[str] = (),
    mtime: float | None = None,
) -> tuple[int, str]:
    """The year of a yearless file's first line, and which clue decided it (for its note).

    In order: ``--year``; dated lines of the same file; dated inputs of the same node; any
    dated input near its span (within ``NEAR`` in some candidate year); its modification
    time; the current year.
    """
    if ctx.year is not None:
        return ctx.year, f"year {ctx.year} from --year"
    if span is None:  # no yearless line has a valid date: the year changes nothing
        year = datetime.now(tz=UTC).year
        return year, f"year {year} assumed (current year; override: --year)"
    override = " (override: --year)"
    whole = [d for d in ctx.evidence if d.node is None]  # per node: only for the node rule
    pick = _closest_year(span, [d for d in same_file if d.node is None])
    if pick is not None:
        return pick.year, f"year {pick.year} from dated {_names(pick.named)} of the same file" + (
            override
        )
    near = _ns(_EPOCH + NEAR)
    # Lines are written before their file's modification time: no year after it (unless
    # the time is implausible, as in archives that zero it).
    written = _written(mtime)
    own = [
        d for d in ctx.evidence if d.node is not None and any(same_node(d.node, n) for n in nodes)
    ]
    pick = _closest_year(span, own, written)
    if pick is not None and pick.gap <= near:
        node = _names(sorted({d.node for d in own if d.node}))
        return pick.year, (
            f"year {pick.year} from dated files of node {node}: {_names(pick.named)}{override}"
        )
    pick = _closest_year(span, whole, written)
    if pick is not None and pick.gap <= near:
        where = "overlapping its span" if pick.gap == 0 else f"within {_days(near)} of its span"
        return pick.year, f"year {pick.year} from inputs {where}: {_names(pick.named)}{override}"
    if not whole:
        why = "no input carries a full date"
    elif pick is None:
        why = "no dated input overlaps its span before the file was last written"
    else:
        why = (
            f"no dated input overlaps its span (the nearest, {_names(pick.named, 1)}, is "
            f"{_days(pick.gap)} from it in every year)"
        )
    if mtime is not None:
        year = _year_by_mtime(span, mtime)
        return year, f"year {year} from the file's modification time; {why}{override}"
    year = datetime.now(tz=UTC).year
    return year, f"year {year} assumed (current year; {why}){override}"


def _written(mtime: float | None) -> int | None:
    """The latest ns a file's lines can have: its modification time, plus a day for zones."""
    if mtime is None or mtime < _MTIME_PLAUSIBLE:
        return None
    return _ns(datetime.fromtimestamp(mtime, tz=UTC) + timedelta(days=1))


_MTIME_PLAUSIBLE = datetime(1990, 1, 1, tzinfo=UTC).timestamp()


def _year_by_mtime(span: Span, mtime: float) -> int:
    """A file is written after its lines: the latest year whose span ends before its
    modification time (a day of slack for zones)."""
    written = datetime.fromtimestamp(mtime, tz=UTC)
    limit = _ns(written + timedelta(days=1))
    for year in range(written.year, written.year - span.rollovers - 3, -1):
        interval = span.in_year(year)
        if interval is not None and interval[1] <= limit:
            return year
    return written.year - span.rollovers - 1


def with_year(text: pl.Expr, yearless: pl.Expr, year: int | pl.Expr) -> pl.Expr:
    """Yearless time text written in ``YEAR0`` (see ``klog_text``) moved to ``year`` (a
    column: each row's own)."""
    shifted = pl.concat_str(
        (text.str.slice(0, 4).cast(pl.Int32, strict=False) + (year - YEAR0)).cast(pl.String),
        text.str.slice(4),
    )
    return pl.when(yearless).then(shifted).otherwise(text)


_MONTHS = {
    m: f"{i:02d}"
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}


def syslog_mmdd_hms(stamp: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """klog's ``mmdd`` and ``hh:mm:ss.uuuuuu`` from a syslog / journalctl ``short`` or
    ``short-precise`` time (``Aug 30 06:58:55.050705``, ``Jan  5 02:12:02``), for
    ``klog_text``."""
    month = stamp.str.slice(0, 3).replace_strict(_MONTHS, default=None, return_dtype=pl.String)
    day = stamp.str.slice(4, 2).str.strip_chars().str.zfill(2)
    clock = stamp.str.slice(7)
    hms = pl.when(clock.str.contains(".", literal=True)).then(clock).otherwise(clock + ".000000")
    return pl.concat_str(month, day), hms


def klog_text(mmdd: pl.Expr, hms: pl.Expr, year: int, over: str | None = None) -> pl.Expr:
    """``YYYY-MM-DD hh:mm:ss.uuuuuu`` (local) from a klog header, with Dec -> Jan rollover.
    ``over``: the column that tells files apart when the rows are several files'."""

    def in_file(expr: pl.Expr) -> pl.Expr:
        return expr if over is None else expr.over(over)

    month = mmdd.str.slice(0, 2).cast(pl.Int32, strict=False)
    prev = in_file(month.forward_fill().shift(1))
    # A month jump backwards of 6 or more (Dec -> Jan) is a new year, not disorder.
    rollover = in_file(((prev - month) >= 6).fill_null(False).cast(pl.Int32).cum_sum())
    return pl.concat_str(
        [
            (rollover + year).cast(pl.String),
            pl.lit("-"),
            mmdd.str.slice(0, 2),
            pl.lit("-"),
            mmdd.str.slice(2, 2),
            pl.lit(" "),
            hms,
        ]
    )


#: Inside the repeated hour, a wall clock going back by more than this is the end of summer
#: time (klog lines are out of order by milliseconds at most).
FOLD_BACK = timedelta(minutes=1)


def _wall_clock(text: pl.Expr) -> pl.Expr:
    return text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="ns", strict=False)


def _folded(text: pl.Expr, tz: str) -> pl.Expr:
    """Local times that happen twice in ``tz`` (the hour repeated when summer time ends)."""
    local = _wall_clock(text)
    early = local.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    late = local.dt.replace_time_zone(tz, ambiguous="latest", non_existent="null")
    return (early != late).fill_null(False)


def local_to_utc(text: pl.Expr, tz: str, *, maybe_folded: bool = True) -> pl.Expr:
    """Local wall-clock text (in file order) -> UTC.

    When summer time ends an hour repeats. A line in that hour is read in its first pass
    unless, within the same run of such lines, the clock already went back: then it is in
    the second pass. (A file that holds only the second pass cannot tell; first pass.)
    """
    local = _wall_clock(text)
    early = local.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    if tz == "UTC" or not maybe_folded:  # (``maybe_folded=False``: the caller checked)
        return early.dt.convert_time_zone("UTC")
    late = local.dt.replace_time_zone(tz, ambiguous="latest", non_existent="null")
    # Lines with no time (other programs, rejects) neither end a run nor hide the step back.
    seen = local.forward_fill()
    ambiguous = (
        seen.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
        != seen.dt.replace_time_zone(tz, ambiguous="latest", non_existent="null")
    ).fill_null(False)
    went_back = (seen < seen.shift(1) - FOLD_BACK).fill_null(False)
    run = (ambiguous != ambiguous.shift(1)).fill_null(True).cum_sum()
    second_pass = ambiguous & ((ambiguous & went_back).cum_sum().over(run) > 0)
    return pl.when(second_pass).then(late).otherwise(early).dt.convert_time_zone("UTC")


def klog_ts(mmdd: pl.Expr, hms: pl.Expr, year: int, tz: str) -> pl.Expr:
    """``MMDD`` + ``hh:mm:ss.uuuuuu`` in zone ``tz`` -> UTC, with Dec -> Jan rollover."""
    return local_to_utc(klog_text(mmdd, hms, year), tz)


_ZONED = r"(?:Z|[+-]\d\d:?\d\d)$"


def fast_times(
    text: pl.Expr, style: str, tz: str = "UTC", *, layout: str | None = None
) -> pl.Expr | None:
    """The first step of ``parse_times`` as one expression, for a lazy plan: the time of
    each row it reads (the same as ``parse_times`` gives), null where the full chain is
    needed. None for the styles whose first step depends on other rows."""
    if style == "rfc3339":
        return text.str.to_datetime(_RFC3339[0], time_unit="ns", time_zone="UTC", strict=False)
    if style == "clf":
        return text.str.to_datetime(
            "%d/%b/%Y:%H:%M:%S %z", time_unit="ns", time_zone="UTC", strict=False
        )
    if style == "epoch":
        return integer_epoch(text)
    if style == "local" and tz == "UTC" and layout is None:
        # Summer-time folds need the neighbouring lines; UTC has none.
        return pl.when(~text.str.contains(_ZONED).fill_null(True)).then(
            local_to_utc(text, tz, maybe_folded=False)
        )
    return None


def parse_times(
    raw: pl.Series, style: str, tz: str = "UTC", *, layout: str | None = None
) -> pl.Series:
    """Time strings -> Datetime(ns, UTC), ``style`` one of rfc3339 / epoch / local.

    ``layout`` (local only): the wall clock's strftime layout, when not the ISO one.

    RFC 3339 runs one format over the column and the full fallback chain only over the rows
    it missed: one pass instead of six for the usual file whose times all look alike.
    """
    if style == "local" and layout:
        wall = raw.str.to_datetime(layout, time_unit="ns", strict=False)
        raw = wall.dt.strftime("%Y-%m-%d %H:%M:%S%.f").fill_null(raw)
    if style == "local":  # zone ``tz``, except values that carry their own offset
        frame = raw.to_frame("t")
        local = frame.select(local_to_utc(pl.col("t"), tz, maybe_folded=False)).to_series()
        if tz != "UTC" and frame.select(_folded(pl.col("t"), tz).any()).item():
            local = frame.select(local_to_utc(pl.col("t"), tz)).to_series()
        local = local.alias("ts")
        zoned = raw.str.contains(_ZONED).fill_null(False)
        if zoned.any():  # only then: the RFC 3339 chain is the slow part
            idx = zoned.arg_true()
            local = local.scatter(idx, parse_times(raw.gather(idx), "rfc3339"))
        return local
    if style == "clf":
        return raw.str.to_datetime(
            "%d/%b/%Y:%H:%M:%S %z", time_unit="ns", time_zone="UTC", strict=False
        ).alias("ts")
    if style == "epoch":
        # Integers (journald) in one cast; the regex path only for what that missed.
        ts = _integer_epoch(raw).alias("ts")
        missed = ts.is_null() & raw.is_not_null()
        if missed.any():
            idx = missed.arg_true()
            ts = ts.scatter(idx, pl.select(parse_epoch(pl.lit(raw.gather(idx)))).to_series())
        missed = ts.is_null() & raw.is_not_null()
        if missed.any():  # a logger that moved from epoch to RFC 3339 (zap's ISO 8601 encoder)
            idx = missed.arg_true()
            ts = ts.scatter(idx, parse_times(raw.gather(idx), "rfc3339"))
        return ts
    fast = raw.str.to_datetime(_RFC3339[0], time_unit="ns", time_zone="UTC", strict=False).alias(
        "ts"
    )
    missed = fast.is_null() & raw.is_not_null()
    if missed.any():
        idx = missed.arg_true()
        slow = pl.select(parse_rfc3339(pl.lit(raw.gather(idx)))).to_series()
        fast = fast.scatter(idx, slow)
    return fast
