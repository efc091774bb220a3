"""Load-time checks of format specs that need an engine: regexes and samples.

A spec's regexes run in polars (Rust regex) on the hot path and in Python ``re`` when
sniffing a file's head, so each must compile in both; Python ``re`` alone accepts back
references, ``\\Z``, look-around and atomic groups, which polars rejects only when the plan
runs. Samples are parsed by the real ingest path, so a spec that loads also parses.
"""

from __future__ import annotations

import re
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from analyzer.errors import FormatSpecError

if TYPE_CHECKING:
    from analyzer.formats import FormatSpec
    from analyzer.formats.registry import Registry
    from analyzer.ingest.tally import FileTally

_PROBE = pl.Series("probe", [""], dtype=pl.String)

# polars' message for a construct Python accepts -> what to write instead
_HINTS = {
    "backreference": "match the repeated text explicitly",
    "look-around": "match more and take the part you need with a group",
    "unrecognized escape": "for Python's \\Z (end of text) write $, without the m flag",
    "unrecognized flag": "(?P=name) back references and (?>...) atomic groups are Python-only",
}


def _rust_reason(err: Exception) -> str:
    """The one useful line of polars' multi-line regex error."""
    lines = str(err).splitlines()
    reason = next((ln.removeprefix("error: ") for ln in lines if ln.startswith("error: ")), "")
    return reason or (lines[0] if lines else type(err).__name__)


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a spec regex (None when polars and Python ``re`` both
    compile it, with no warning that they read it differently)."""
    try:
        _PROBE.str.contains(pattern)
    except pl.exceptions.PolarsError as err:
        reason = _rust_reason(err)
        hint = next((h for k, h in _HINTS.items() if k in reason), "")
        return f"polars (Rust regex) cannot compile it: {reason}" + (f" ({hint})" if hint else "")
    with warnings.catch_warnings():
        # FutureWarning: a construct ("[[:alpha:]]") Python will read differently one day
        warnings.simplefilter("error")
        try:
            re.compile(pattern)
        except (re.error, FutureWarning) as err:
            return f"Python re (used to sniff files) cannot compile it: {err}"
    return None


def group_names(pattern: str) -> list[str]:
    """Capture groups of a regex as polars names them (``1``, ``2`` when unnamed)."""
    dtype = _PROBE.str.extract_groups(pattern).dtype
    assert isinstance(dtype, pl.Struct)
    return [f.name for f in dtype.fields]


def group_count(pattern: str) -> int:
    """Capture groups of a regex, counted by polars (the engine that runs ``extract``)."""
    return len(group_names(pattern))


def parse_lines_as(
    spec: FormatSpec,
    lines: Sequence[str],
    *,
    envelope_ts: str = "2000-01-01T00:00:00Z",
    year: int = 2000,
    tz: str = "UTC",
) -> tuple[pl.DataFrame, FileTally]:
    """Parse in-memory lines as ``spec`` through the real ingest and normalize path.

    Payload-only formats (no timestamps of their own) get ``envelope_ts`` as their time, as
    inside a runtime wrapper. Names the spec refers to resolve in the active registry.
    """
    # Imported here: ingest and normalize import this package.
    from analyzer.ingest import Chunk, ParsedFile, parse_with, read_files
    from analyzer.ingest.lines import read_lines
    from analyzer.normalize import normalize_file
    from analyzer.normalize.time import TimeContext

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lines.log"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        if spec.standalone:
            parsed = read_files([path], as_format=spec.name)[0]
        else:
            df, _ = read_lines(path)
            df = df.with_columns(
                pl.lit(str(path)).alias("file"),
                pl.col("raw").alias("text"),
                pl.lit(None, dtype=pl.String).alias("_outcome"),
                pl.lit(envelope_ts).alias("_envelope_ts"),
            )
            parsed = ParsedFile(
                str(path), spec.name, df.height, (Chunk(spec, parse_with(df, spec), wrapped=True),)
            )
        return normalize_file(parsed, TimeContext(year=year, tz=tz))


def _kinds(spec: FormatSpec, lines: Sequence[str]) -> tuple[list[str], str | None]:
    """The kinds ``lines`` parse to, and why not all of them became events (None: all did)."""
    try:
        events, tally = parse_lines_as(spec, lines)
    except BaseException as err:  # polars raises PanicException (a BaseException) too
        if isinstance(err, KeyboardInterrupt | SystemExit | MemoryError):
            raise
        return [], f"cannot be parsed: {type(err).__name__}: {str(err).splitlines()[0][:200]}"
    kinds = [str(k) for k in events["kind"].to_list()]
    if tally.reject_examples:
        return kinds, f"rejected: {tally.reject_examples[0][1]}"
    if tally.rejected or tally.skipped:
        skipped = ", ".join(reason for reason, _ in tally.skip_reasons) or "no reason given"
        return kinds, f"not an event (skipped: {skipped})"
    return kinds, None


def sample_problems(spec: FormatSpec, registry: Registry) -> list[FormatSpecError]:
    """Each ``[[samples]]`` line must parse to its declared kind (names resolve in
    ``registry``). All samples are parsed at once; only if that fails, one by one, to name
    the failing ones."""
    from analyzer.formats.registry import using

    if not spec.samples:
        return []
    declared = [s.kind for s in spec.samples]
    with using(registry):
        kinds, why = _kinds(spec, [s.line for s in spec.samples])
        if why is None and kinds == declared:
            return []
        problems = []
        for i, sample in enumerate(spec.samples):
            one, why_one = _kinds(spec, [sample.line])
            if why_one is not None:
                problems.append(FormatSpecError(spec.path, f"samples[{i}]", why_one))
            elif one != [sample.kind]:
                got = ", ".join(one) or "no event"
                problems.append(
                    FormatSpecError(
                        spec.path, f"samples[{i}]", f"parsed as {got}, declared {sample.kind}"
                    )
                )
    if not problems:  # each alone is fine: together they interfere
        problems.append(
            FormatSpecError(
                spec.path, "samples", f"parsed together: {why or kinds}, declared {declared}"
            )
        )
    return problems


#: What a counted request keeps (``normalize.reduce``): ``quick`` must give the same.
_COUNTED_COLUMNS = ("line", "ts", "kind", "status", "upstream", "duration_ms", "namespace", "pod")


def quick_problems(spec: FormatSpec, registry: Registry) -> list[FormatSpecError]:
    """``quick`` patterns must read each sample's counted columns as ``pattern`` does."""
    from analyzer.formats.registry import using
    from analyzer.ingest.text import counting

    lines = [s.line for s in spec.samples if "\n" not in s.line]
    if not spec.quick or not lines:
        return []
    with using(registry):
        full, _ = parse_lines_as(spec, lines)
        with counting():
            quick, _ = parse_lines_as(spec, lines)
    full, quick = (f.select(_COUNTED_COLUMNS).sort("line") for f in (full, quick))
    if full.height != quick.height:
        return [FormatSpecError(spec.path, "quick", "the quick patterns lose sample lines")]
    problems = []
    for a, b in zip(full.iter_rows(named=True), quick.iter_rows(named=True), strict=True):
        differ = [c for c in _COUNTED_COLUMNS if a[c] != b[c]]
        if differ:
            where = f"sample line {a['line']}"
            what = f"reads {', '.join(differ)} differently with the quick patterns"
            problems.append(FormatSpecError(spec.path, "quick", f"{where} {what}"))
    return problems


def sniff_notes(spec: FormatSpec, registry: Registry) -> list[str]:
    """Would a file made of ``spec``'s samples be sniffed as ``spec``? (Not an error: a
    file's head mixes lines; but a spec that loses on its own samples is rarely chosen.
    ``priority`` or ``sniff_contains`` markers fix it.)"""
    from analyzer.ingest.sniff import choose

    if not spec.samples:
        return []
    head = "\n".join(s.line for s in spec.samples)
    notes = []
    for role, fits in (("a file", spec.standalone), ("a wrapped payload", spec.payload)):
        if not fits:
            continue
        pool = [s for s in registry.specs if (s.standalone if role == "a file" else s.payload)]
        choice = choose(pool, head)
        if choice.spec is not None and choice.spec.name != spec.name:
            notes.append(
                f"{spec.path}: samples: {role} of these lines is sniffed as "
                f"{choice.spec.name}, not {spec.name} (raise priority or add sniff_contains)"
            )
    return notes
