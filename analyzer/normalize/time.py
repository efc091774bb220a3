"""Timestamp rules.

klog headers and syslog prefixes carry neither year nor zone (log-formats.md 1.4). The year
comes, in this order, from ``--year``; from the timestamps of the other inputs that do carry
one (the candidate year that puts the file's first line closest to them); from the file's
modification time. Within a file, a month that goes backwards (Dec -> Jan) starts the next
year. The zone is ``--tz`` (default UTC), because managed nodes mostly run UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl

TS = pl.Datetime("ns", "UTC")
_RFC3339 = ("%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f %#z", "%Y-%m-%d %H:%M:%S%.f%#z")
_NAIVE = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f")


@dataclass(frozen=True)
class TimeContext:
    """What the yearless, zoneless formats need to become absolute times."""

    year: int | None = None  # --year
    tz: str = "UTC"  # --tz, the zone of klog headers and syslog prefixes
    reference: datetime | None = None  # a time from inputs that carry a full date


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


def parse_epoch(expr: pl.Expr) -> pl.Expr:
    """Numbers since the epoch; the unit is told by magnitude (kubelet JSON ``ts`` is ms)."""
    num = expr.cast(pl.Float64, strict=False)
    mag = num.abs()
    ns = (
        pl.when(mag > 1e17)
        .then(num)
        .when(mag > 1e14)
        .then(num * 1e3)
        .when(mag > 1e11)
        .then(num * 1e6)
        .when(mag > 1e8)
        .then(num * 1e9)
        .otherwise(None)
    )
    return ns.cast(pl.Int64, strict=False).cast(TS)


def klog_year(first_mmdd: str | None, ctx: TimeContext, mtime: float | None) -> tuple[int, str]:
    """The year of a yearless file's first line, and how it was chosen."""
    if ctx.year is not None:
        return ctx.year, f"year {ctx.year} from --year"
    month, day = (int(first_mmdd[:2]), int(first_mmdd[2:])) if first_mmdd else (1, 1)

    def closest(ref: datetime) -> int:
        def distance(year: int) -> float:
            try:
                return abs((datetime(year, month, day, tzinfo=UTC) - ref).total_seconds())
            except ValueError:  # 29 Feb in a non-leap year
                return float("inf")

        return min((ref.year - 1, ref.year, ref.year + 1), key=distance)

    if ctx.reference is not None:
        year = closest(ctx.reference)
        return (
            year,
            f"year {year} inferred from the timestamps of the other inputs (override: --year)",
        )
    if mtime is not None:
        # A file is written after its lines: the latest year that is not after its mtime.
        ref = datetime.fromtimestamp(mtime, tz=UTC)
        year = ref.year
        try:
            if datetime(year, month, day, tzinfo=UTC) > ref + timedelta(days=1):
                year -= 1
        except ValueError:
            year -= 1
        return year, f"year {year} inferred from the file's modification time (override: --year)"
    year = datetime.now(tz=UTC).year
    return year, f"year {year} assumed (current year; override: --year)"


def klog_text(mmdd: pl.Expr, hms: pl.Expr, year: int) -> pl.Expr:
    """``YYYY-MM-DD hh:mm:ss.uuuuuu`` (local) from a klog header, with Dec -> Jan rollover."""
    month = mmdd.str.slice(0, 2).cast(pl.Int32, strict=False)
    prev = month.forward_fill().shift(1)
    # A month jump backwards of 6 or more (Dec -> Jan) is a new year, not disorder.
    rollover = ((prev - month) >= 6).fill_null(False).cast(pl.Int32).cum_sum()
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
        zoned = raw.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$").fill_null(False)
        if zoned.any():  # only then: the RFC 3339 chain is the slow part
            idx = zoned.arg_true()
            local = local.scatter(idx, parse_times(raw.gather(idx), "rfc3339"))
        return local
    if style == "clf":
        return raw.str.to_datetime(
            "%d/%b/%Y:%H:%M:%S %z", time_unit="ns", time_zone="UTC", strict=False
        ).alias("ts")
    if style == "epoch":
        return pl.select(parse_epoch(pl.lit(raw))).to_series().alias("ts")
    fast = raw.str.to_datetime(_RFC3339[0], time_unit="ns", time_zone="UTC", strict=False).alias(
        "ts"
    )
    missed = fast.is_null() & raw.is_not_null()
    if missed.any():
        idx = missed.arg_true()
        slow = pl.select(parse_rfc3339(pl.lit(raw.gather(idx)))).to_series()
        fast = fast.scatter(idx, slow)
    return fast
