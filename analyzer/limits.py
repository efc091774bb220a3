"""Resource limits of a run: what the reader refuses to load whole, and the memory budget.

Defaults, and why:
- ``max_line_bytes`` 16 MiB. Real log lines are bytes to kilobytes; container runtimes split
  longer ones (CRI and Docker at 16 KiB, journald at 48 KiB). The longest real single lines
  are whole documents (``kubectl get events -o json | jq -c``), megabytes for thousands of
  events. A longer line is rejected with its size and never held in memory: polars would
  hold it whole, plus a regex or JSON decode over it (a 50 MB line cost 700 MB).
- ``max_inflate_ratio`` 200, past the first ``inflate_floor`` (64 MiB). gzip cannot inflate
  more than about 1032:1; real rotated logs inflate 5-30:1 and the most repetitive ones
  (probe failures differing only in time) well under 100:1. Past 200:1 the file is a
  decompression bomb or not a log; what inflated before the guard is read, and the file's
  notes say where it stopped.
- the memory budget (``MemoryBudget``): by default 80 % of the memory available when the
  run starts, at most 80 % of a container's memory limit (cgroup ``memory.max``: in a pod the
  kernel kills at that limit, whatever the host has free) and 60 % of the address-space
  limit (``ulimit -v``) when one is set (a process reserves more address space than it
  touches). A native library that fails to
  allocate aborts the process with no message; the budget is checked before that happens.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MiB = 1 << 20
GiB = 1 << 30


@dataclass(frozen=True)
class Limits:
    """What one file may cost the reader (see the module's text for the defaults)."""

    max_line_bytes: int = 16 * MiB
    max_inflate_ratio: int = 200
    inflate_floor: int = 64 * MiB  # inflated bytes always allowed, whatever the ratio


_active = Limits()


def active() -> Limits:
    return _active


@contextmanager
def using(limits: Limits) -> Iterator[None]:
    """Read with ``limits`` inside the block (a Dask task is given them, see distributed)."""
    global _active
    before, _active = _active, limits
    try:
        yield
    finally:
        _active = before


def parse_size(text: str) -> int:
    """``16MiB``, ``2GB``, ``512k``, ``1048576``: bytes (binary units: K, M, G, T = 1024^n)."""
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    scale = 1
    for unit, power in (("K", 1), ("M", 2), ("G", 3), ("T", 4)):
        if value.endswith(unit):
            value, scale = value[:-1], 1024**power
            break
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number > 0 or number * scale > 1 << 62:
        msg = f"{text!r} is not a size (examples: 16MiB, 2GB, 512k, 1048576)"
        raise ValueError(msg)
    return int(number * scale)


def size_text(n: float) -> str:
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} bytes"


# --- the memory budget --------------------------------------------------------------------

#: The file being read and collected now (set by ``reading``), for the budget's message.
_now_reading: list[str] = []


@contextmanager
def reading(name: str) -> Iterator[None]:
    _now_reading.append(name)
    try:
        yield
    finally:
        _now_reading.pop()


def _available() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


#: Where a container's memory limit is (cgroup v2, then v1): in a pod, the kernel kills the
#: process at that limit, whatever the host has free.
CGROUP_LIMITS = (
    Path("/sys/fs/cgroup/memory.max"),
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
)


def _container_limit() -> int | None:
    for path in CGROUP_LIMITS:
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:  # "max", or v1's "no limit" number
            return int(text)
    return None


def default_budget() -> int | None:
    """80 % of available memory, at most 80 % of a container's memory limit and 60 % of
    ``ulimit -v``; None if none is known."""
    limits = []
    available = _available()
    if available:
        limits.append(int(available * 0.8))
    container = _container_limit()
    if container:
        limits.append(int(container * 0.8))
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft not in (resource.RLIM_INFINITY, -1):
        limits.append(int(soft * 0.6))
    return min(limits) if limits else None


def _resident() -> int:
    """Anonymous resident memory: what the run holds. (Pages of a file it reads are counted
    in the resident size too, but the kernel drops them when memory is short.)"""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _address_space() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


class MemoryBudget:
    """Stops the process with exit 2 and a message when its memory passes ``budget`` bytes.

    A thread samples the anonymous resident size (and, under ``ulimit -v``, the address space)
    every ``interval`` seconds. A native library cannot be interrupted mid-call, and one
    that fails to allocate aborts with no message, so the budget ends the process itself,
    after the message is written: ``on_over(used, budget, file)`` writes it.
    Only for a command-line run; a notebook never gets this.
    """

    def __init__(
        self,
        budget: int,
        on_over: Callable[[int, int, str | None], None],
        interval: float = 0.05,
    ) -> None:
        self.budget = budget
        self.on_over = on_over
        self.interval = interval
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        self.address_limit = None if soft in (resource.RLIM_INFINITY, -1) else int(soft * 0.9)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="memory-budget", daemon=True)

    def __enter__(self) -> MemoryBudget:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            used = _resident()
            self.peak = max(self.peak, used)
            over = used > self.budget
            if not over and self.address_limit is not None:
                over = _address_space() > self.address_limit
            if over:
                self.on_over(used, self.budget, _now_reading[-1] if _now_reading else None)
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(2)
