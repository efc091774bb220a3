"""Instants of the story and how each source prints them.

All times are integer nanoseconds since the Unix epoch, in UTC: exact, so a line common to both
variants renders identically, and sub-microsecond digits survive for the runtimes that print them.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

SEC = 1_000_000_000
MS = 1_000_000
US = 1_000
DAY_NS = int(datetime(2022, 4, 5, tzinfo=UTC).timestamp()) * SEC
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def at(hms: str) -> int:
    """``"06:03:46.102"`` on 2022-04-05 UTC -> ns since the epoch (exact, no floats)."""
    h, m, s = hms.split(":")
    whole, _, frac = s.partition(".")
    frac_ns = int((frac + "000000000")[:9])
    return DAY_NS + ((int(h) * 60 + int(m)) * 60 + int(whole)) * SEC + frac_ns


def _split(ns: int) -> tuple[datetime, int]:
    secs, frac = divmod(ns, SEC)
    return datetime.fromtimestamp(secs, tz=UTC), frac


def to_datetime(ns: int) -> datetime:
    """The instant as an aware datetime (microseconds: what ``datetime`` holds)."""
    dt, frac = _split(ns)
    return dt + timedelta(microseconds=frac // US)


def rfc3339(ns: int) -> str:
    """Go ``time.RFC3339`` in UTC: seconds, ``Z`` (Workhorse, Pages, events)."""
    dt, _ = _split(ns)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339nano(ns: int) -> str:
    """Go ``time.RFC3339Nano`` in UTC: trailing zeros of the fraction trimmed (containerd)."""
    dt, frac = _split(ns)
    digits = f"{frac:09d}".rstrip("0")
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{digits}Z" if digits else f"{base}Z"


def iso_ms(ns: int) -> str:
    """Ruby ``Time#utc.iso8601(3)`` (Puma JSON formatter)."""
    dt, frac = _split(ns)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{frac // MS:03d}Z"


def iso_us(ns: int) -> str:
    """Kubernetes ``MicroTime`` (``eventTime``)."""
    dt, frac = _split(ns)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{frac // US:06d}Z"


def klog_header(sev: str, ns: int, pid: int, src: str) -> str:
    """``Lmmdd hh:mm:ss.uuuuuu PPPPPPP file.go:NNN] `` (PID right-aligned to width 7)."""
    dt, frac = _split(ns)
    return f"{sev}{dt:%m%d} {dt:%H:%M:%S}.{frac // US:06d} {pid:>7} {src}] "


def journal_prefix(ns: int, host: str, ident: str, pid: int) -> str:
    """``journalctl -o short``: ``Apr 05 06:03:49 <host> <ident>[<pid>]: ``."""
    dt, _ = _split(ns)
    return f"{MONTHS[dt.month - 1]} {dt.day:02d} {dt:%H:%M:%S} {host} {ident}[{pid}]: "


def stable_int(*parts: object) -> int:
    """A pseudo-random int derived from the content itself, not from a seeded stream.

    Used for sub-microsecond jitter, so a line common to both variants gets the same value in
    both even when the lines around it differ.
    """
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")
