"""Parquet export of an analysis, and reading it back as fast input.

``analyzer ingest PATH... -o DIR`` writes the normalized events (and the derived frames, for
notebooks and other tools) so that a second look at GBs of logs skips parsing. ``report``
reads such a directory like any other input; no row is capped or sampled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from analyzer.diagnose.finding import Evidence, Finding, Stream
from analyzer.errors import InputError
from analyzer.ingest.tally import FileTally
from analyzer.result import Analysis
from analyzer.schema import REDUCED

MANIFEST = "analyzer-export.json"
EXPORT_VERSION = 3  # 2: ``events`` holds ``schema.REDUCED`` rows; 3: bursts carry their baseline


def is_export(path: Path) -> bool:
    return path.is_dir() and (path / MANIFEST).is_file()


def check_target(out_dir: str | Path, *, replace: bool = False) -> None:
    """Refuse to write an export where it would mix with other files.

    A new or empty directory is fine; an earlier export is replaced only when asked.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        msg = f"{out}: exists and is not a directory"
        raise InputError(msg)
    if not out.exists() or not any(out.iterdir()):
        return
    if not is_export(out):
        msg = f"{out}: directory is not empty; write the export to a new or empty directory"
        raise InputError(msg)
    if not replace:
        msg = f"{out}: holds an earlier export; pass --replace to overwrite it"
        raise InputError(msg)


def exported_inputs(path: Path) -> set[str]:
    """The absolute paths of the files an export was made from (to not read them twice)."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        return {str(p) for p in manifest.get("input_paths", [])}
    except (OSError, ValueError, AttributeError, TypeError):
        return set()


def write_export(analysis: Analysis, out_dir: str | Path, *, replace: bool = False) -> Path:
    """Write ``events.parquet``, the derived frames and a manifest with the input tallies."""
    check_target(out_dir, replace=replace)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    corr = analysis.correlation
    frames = {
        "events": analysis.reduced,
        "requests": corr.requests,
        "failures": corr.failures,
        "bursts": corr.bursts,
        "proxy_bursts": corr.proxy_bursts,
        "pod_phases": corr.pod_phases,
        "container_phases": corr.container_phases,
        "episodes": corr.episodes,
        "findings": analysis.findings(),
        "evidence": evidence_frame(analysis),
        "unexplained": analysis.unexplained(),
    }
    for name, frame in frames.items():
        frame.write_parquet(out / f"{name}.parquet", compression="zstd")
    manifest = {
        "analyzer_export": EXPORT_VERSION,
        "options": analysis.options,
        "inputs": [t.to_dict() for t in analysis.inputs],
        "input_paths": sorted({str(Path(t.path).resolve()) for t in analysis.inputs}),
        "frames": {name: frame.height for name, frame in frames.items()},
    }
    (out / MANIFEST).write_text(
        json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8"
    )
    return out


def read_export(
    path: Path, *, where: pl.Expr | None = None
) -> tuple[pl.DataFrame, tuple[FileTally, ...]]:
    """The events (those ``where`` selects: all by default) and input tallies of an export
    directory."""
    tallies = export_tallies(path)
    events_file = path / "events.parquet"
    try:
        scan = pl.scan_parquet(events_file, glob=False)  # [ ] in names are literal
        if scan.collect_schema() != REDUCED:
            msg = f"{events_file}: columns differ from schema.REDUCED; re-export it"
            raise InputError(msg)
        frames = _manifest(path).get("frames")
        expected = frames.get("events") if isinstance(frames, dict) else None
        if expected is not None:
            rows = scan.select(pl.len()).collect().item()
            if rows != expected:
                msg = (
                    f"{events_file}: {rows} rows, but the manifest says {expected!r}; re-export it"
                )
                raise InputError(msg)
        # Every exported event has a time (a line without one is rejected when read): a
        # missing one is a damaged file, not an event to drop unsaid.
        timeless = scan.select(pl.col("ts").null_count()).collect().item()
        if timeless:
            total = scan.select(pl.len()).collect().item()
            msg = f"{events_file}: {timeless} of {total} events have no time; re-export it"
            raise InputError(msg)
        events = (scan.filter(where) if where is not None else scan).collect()
    except (OSError, pl.exceptions.PolarsError) as err:
        msg = f"{events_file}: unreadable ({str(err).splitlines()[0]}); re-export it"
        raise InputError(msg) from err
    return events, tallies


def export_tallies(path: Path) -> tuple[FileTally, ...]:
    """The input tallies an export's manifest holds (its version checked; every count a
    whole number that reconciles, else an ``InputError`` naming the manifest)."""
    manifest = _manifest(path)
    try:
        return _tallies(manifest)
    except (KeyError, TypeError, AttributeError, ValueError) as err:
        msg = f"{path / MANIFEST}: malformed inputs entry ({err}); re-export it"
        raise InputError(msg) from err


def _manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        msg = f"{path / MANIFEST}: unreadable export manifest ({err})"
        raise InputError(msg) from err
    if not isinstance(manifest, dict):
        msg = f"{path / MANIFEST}: not an export manifest (expected a JSON object)"
        raise InputError(msg)
    if manifest.get("analyzer_export") != EXPORT_VERSION:
        msg = f"{path}: export version {manifest.get('analyzer_export')!r} is not {EXPORT_VERSION}"
        raise InputError(msg)
    return manifest


EVIDENCE = pl.Schema(
    {
        "incident": pl.String,
        "finding": pl.UInt32,  # its place among the incident's findings
        "ts": pl.Datetime("us", "UTC"),
        "file": pl.String,
        "line": pl.UInt32,
        "text": pl.String,
    }
)


def evidence_frame(analysis: Analysis) -> pl.DataFrame:
    """Every evidence line of every finding, with its text (the inputs may be gone when the
    export is read)."""
    rows = [
        (inc.id, i, e.ts, e.file, e.line, e.text)
        for inc in analysis.incidents
        for i, f in enumerate(inc.findings)
        for e in f.evidence
    ]
    return pl.DataFrame(rows, schema=EVIDENCE, orient="row")


def read_findings(path: Path) -> dict[str, tuple[Finding, ...]] | None:
    """The findings an export stored, per incident (None: not stored or unreadable; the
    caller then diagnoses the incidents again)."""
    try:
        found = pl.read_parquet(path / "findings.parquet", glob=False)
        evidence = pl.read_parquet(path / "evidence.parquet", glob=False)
    except (OSError, pl.exceptions.PolarsError):
        return None
    quoted: dict[tuple[str, int], list[Evidence]] = {}
    for inc, i, ts, file, line, text in evidence.iter_rows():
        quoted.setdefault((inc, i), []).append(Evidence(ts, file, line, text))
    out: dict[str, list[Finding]] = {}
    for row in found.iter_rows(named=True):
        i = len(out.setdefault(row["incident"], []))
        window = (row["window_start"], row["window_end"]) if row["window_start"] else None
        out[row["incident"]].append(
            Finding(
                code=row["code"],
                severity=row["severity"],
                summary=row["summary"],
                explains=row["explains"],
                fix=row["fix"],
                covers=row.get("covers"),
                part_of=row.get("part_of"),
                evidence=tuple(quoted.get((row["incident"], i), ())),
                pod=row["pod"],
                container=row["container"],
                window=window,
            )
        )
    return {k: tuple(v) for k, v in out.items()}


def read_unexplained(path: Path) -> dict[str, tuple[Stream, ...]]:
    """The unexplained failure streams an export stored, per incident (none if it has none)."""
    try:
        frame = pl.read_parquet(path / "unexplained.parquet", glob=False)
    except (OSError, pl.exceptions.PolarsError):
        return {}
    out: dict[str, list[Stream]] = {}
    for row in frame.iter_rows(named=True):
        out.setdefault(row["incident"], []).append(
            Stream(
                what=row["what"],
                failures=row["failures"],
                share=row["share"],
                start=row["start"],
                end=row["end"],
                modes=row["modes"],
            )
        )
    return {k: tuple(v) for k, v in out.items()}


#: The frames ``correlate`` worked out, stored so a report over the export need not.
CORRELATION = (
    "requests",
    "failures",
    "bursts",
    "proxy_bursts",
    "pod_phases",
    "container_phases",
    "episodes",
)


def read_correlation(path: Path) -> dict[str, pl.DataFrame] | None:
    """The stored correlation frames of an export (None: one is missing or unreadable;
    the caller then correlates the events again)."""
    frames = {}
    for name in CORRELATION:
        try:
            frames[name] = pl.read_parquet(path / f"{name}.parquet", glob=False)
        except (OSError, pl.exceptions.PolarsError):
            return None
    return frames


def _count(value: object, what: str) -> int:
    """A count as the manifest must hold it: a whole number, not negative (JSON's NaN,
    1e999, -3, 2.5, "7" and true are not)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        msg = f"{what} is {value!r}, not a count"
        raise ValueError(msg)
    return value


def _tallies(manifest: dict[str, object]) -> tuple[FileTally, ...]:
    out = []
    for t in manifest["inputs"]:  # type: ignore[attr-defined]
        where = f"input {t['path']!r}"
        n = {k: _count(t[k], f"{where}: {k}") for k in ("lines", "events", "rejected", "skipped")}
        tally = FileTally(
            path=t["path"],
            format=t["format"],
            **n,
            reject_examples=tuple((e["line"], e["reason"]) for e in t["reject_examples"]),
            skip_reasons=tuple(
                (k, _count(v, f"{where}: skip reason {k!r}"))
                for k, v in sorted(t["skip_reasons"].items())
            ),
            notes=tuple(t["notes"]),
        )
        if not tally.reconciles:
            msg = (
                f"{where}: {tally.lines} lines but {tally.events} events + {tally.rejected} "
                f"rejected + {tally.skipped} skipped"
            )
            raise ValueError(msg)
        out.append(tally)
    return tuple(out)
