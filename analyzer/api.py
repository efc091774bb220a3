"""The public API the CLI and notebooks share: ``analyze(paths) -> Analysis``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from analyzer import formats
from analyzer.correlate import BurstRule, CorrelationFrames, assemble, correlate
from analyzer.correlate.bursts import DEFAULT_RULE
from analyzer.correlate.incidents import IncidentFrames, timeline
from analyzer.correlate.lifecycle import LIFECYCLE_KINDS
from analyzer.diagnose.finding import Finding, Stream
from analyzer.diagnose.run import diagnose
from analyzer.errors import AnalyzerError, BadLineError, InputError
from analyzer.ingest import FileTally, ParsedFile, read_files
from analyzer.ingest.batch import read_small_files
from analyzer.ingest.discover import discover_all
from analyzer.ingest.lines import copy_read, lines_at
from analyzer.ingest.remote import expand_url, is_url, local_copy
from analyzer.normalize import (
    Collected,
    collect_batch,
    finish_file,
    normalize_file,
    read_and_collect,
)
from analyzer.normalize.identity import fill_from_paths, fill_identity
from analyzer.normalize.reduce import as_reduced
from analyzer.normalize.time import TimeContext, dated_inputs
from analyzer.result import Analysis, Evidence, Incident
from analyzer.schema import EVENTS, REDUCED, empty_events
from analyzer.store import (
    exported_inputs,
    is_export,
    read_correlation,
    read_export,
    read_findings,
    read_unexplained,
    write_export,
)


def _check_tz(tz: str) -> None:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as err:
        msg = f"--tz {tz!r}: unknown time zone (use an IANA name such as UTC or Europe/Berlin)"
        raise InputError(msg) from err


def registry_for(
    formats_dirs: Sequence[str | Path] = (), registry: formats.Registry | None = None
) -> formats.Registry:
    """The formats a run reads: ``registry`` if given, else the bundled formats plus the
    user's (``$ANALYZER_FORMATS_DIR``, ``~/.config/k8s-502-analyzer/formats``) and
    ``formats_dirs``. Raises ``FormatSpecErrors`` listing every problem of those specs."""
    if registry is not None:
        if formats_dirs:
            msg = "pass formats_dirs or a registry loaded from them, not both"
            raise InputError(msg)
        return registry
    return formats.load([*formats.config_dirs(), *formats_dirs])


def load_events(
    paths: Sequence[str | Path],
    *,
    as_format: str | None = None,
    strict: bool = False,
    year: int | None = None,
    tz: str = "UTC",
    on_file: Callable[[str], None] | None = None,
    formats_dirs: Sequence[str | Path] = (),
    registry: formats.Registry | None = None,
) -> tuple[pl.DataFrame, tuple[FileTally, ...]]:
    """Ingest and normalize ``paths`` into one event frame (``schema.EVENTS``, one row per
    event) and tallies. ``load_reduced`` is the same read with the bulk counted per second.

    An export directory (``export``) holds counts, not every line: its rows come back as
    they are (``count`` > 1 rows included). ``on_file`` is called with each file's path once
    it is done (progress display). Formats: see ``registry_for``.
    """
    events, tallies = _load(
        paths, as_format, strict, year, tz, on_file, formats_dirs, registry, reduce=False
    )
    return events.select(EVENTS.names()), tallies


def load_reduced(
    paths: Sequence[str | Path],
    *,
    as_format: str | None = None,
    strict: bool = False,
    year: int | None = None,
    tz: str = "UTC",
    on_file: Callable[[str], None] | None = None,
    formats_dirs: Sequence[str | Path] = (),
    registry: formats.Registry | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> tuple[pl.DataFrame, tuple[FileTally, ...]]:
    """``load_events`` reduced while reading (``schema.REDUCED``): lifecycle, probe, runtime
    and shutdown events and failing requests one row each; successful requests and plain
    log lines as count rows (per second, per minute). This is what ``analyze`` correlates.

    ``scheduler`` (``tcp://HOST:PORT``) or ``workers`` (a local cluster of N processes):
    each file is read on a Dask worker (``analyzer.distributed``), the rest here."""
    with _collector(scheduler, workers) as collect:
        return _load(
            paths,
            as_format,
            strict,
            year,
            tz,
            on_file,
            formats_dirs,
            registry,
            reduce=True,
            collect=collect,
        )


def _collector(scheduler: str | None, workers: int | None) -> AbstractContextManager[Collector]:
    if scheduler is None and workers is None:
        return nullcontext(collect_locally)
    from analyzer.distributed import cluster_collector  # dask only when asked for

    return cluster_collector(scheduler, workers)


def _load(
    paths: Sequence[str | Path],
    as_format: str | None,
    strict: bool,
    year: int | None,
    tz: str,
    on_file: Callable[[str], None] | None,
    formats_dirs: Sequence[str | Path],
    registry: formats.Registry | None,
    *,
    reduce: bool,
    collect: Collector | None = None,
) -> tuple[pl.DataFrame, tuple[FileTally, ...]]:
    _check_tz(tz)
    reg = registry_for(formats_dirs, registry)
    if as_format:
        reg.get(as_format, subject=f"--as {as_format}")
    with formats.using(reg):
        return _load_events(
            paths, as_format, strict, year, tz, on_file, reduce, collect or collect_locally
        )


#: Reads and collects input files (``normalize.read_and_collect`` each), in input order:
#: locally (``collect_locally``) or on a cluster (``analyzer.distributed``).
Collector = Callable[
    [list["str | Path"], TimeContext, "str | None", bool, "Callable[[str], None] | None"],
    list[Collected],
]


def collect_locally(
    files: list[str | Path],
    ctx: TimeContext,
    as_format: str | None,
    reduce: bool,
    on_file: Callable[[str], None] | None,
) -> list[Collected]:
    """Each file read and collected in this process, one after the other; small files
    alike in batches (``ingest.batch``), each batch read as one."""
    out = []
    local = [f for f in files if isinstance(f, Path)]
    # Outside UTC a wall-clock hour repeats once a year; telling its two passes apart
    # follows each file's line order (``time.local_to_utc``): such runs read files alone.
    batches, alone = read_small_files(local, as_format) if ctx.tz == "UTC" else ([], local)
    for batch in batches:
        try:
            out.append(collect_batch(batch, ctx))
        except BaseException as err:  # a panic on a bad JSON line is a BaseException
            if isinstance(err, KeyboardInterrupt | SystemExit | MemoryError):
                raise
            # The robust readers isolate bad lines file by file: read these alone.
            alone = [*(f.path for f in batch.files), *alone]
            continue
        if on_file is not None:
            for name in batch.names:
                on_file(name)
    for path in [*alone, *(f for f in files if not isinstance(f, Path))]:
        out.append(read_and_collect(path, ctx, as_format=as_format, reduce=reduce))
        if on_file is not None:
            on_file(out[-1].path)
    return out


def _load_events(
    paths: Sequence[str | Path],
    as_format: str | None,
    strict: bool,
    year: int | None,
    tz: str,
    on_file: Callable[[str], None] | None,
    reduce: bool,
    collect: Collector = collect_locally,
) -> tuple[pl.DataFrame, tuple[FileTally, ...]]:
    exports = [Path(p) for p in paths if is_export(Path(p))]
    raw_paths = [p for p in paths if not is_export(Path(p))]
    files, unread = _discover(raw_paths)
    if strict and unread:
        path, why = unread[0]
        msg = f"{path}: {why} (--strict reads every path it is given)"
        raise InputError(msg)
    already = {f: e for e in exports for f in exported_inputs(e)}
    twice = [f for f in files if isinstance(f, Path) and str(f.resolve()) in already]
    if not [f for f in files if f not in twice] and not exports:
        msg = f"no input files under {', '.join(map(str, paths))}"
        raise InputError(msg)
    ctx = TimeContext(year=year, tz=tz)
    collected = collect([f for f in files if f not in twice], ctx, as_format, reduce, on_file)
    # Input order, whether a file was read alone or in a batch of small files.
    order = {str(f): i for i, f in enumerate(files)}
    results = finish_all(collected, ctx, order)
    tallies = tuple(
        sorted(
            (t for c in collected for t in results[c.path][1]),
            key=lambda t: order.get(t.path, len(order)),
        )
    )
    if strict:
        _raise_first_problem(collected, results)
    frames = [results[c.path][0] for c in collected if results[c.path][0].height]
    for export in exports:  # already normalized: read, not parsed
        events, more = read_export(export)
        frames.append(events)
        tallies += more
    tallies += tuple(
        FileTally(
            str(f),
            "already-read",
            0,
            0,
            0,
            0,
            notes=(f"its events come from the export {already[str(f.resolve())]}; not read twice",),
        )
        for f in twice
    )
    tallies += tuple(FileTally(path, "not-read", 0, 0, 0, 0, notes=(why,)) for path, why in unread)
    events = pl.concat(frames) if frames else as_reduced(empty_events())
    events, unclear = fill_from_paths(fill_identity(events))
    tallies = tuple(
        replace(t, notes=(*t.notes, unclear[t.path])) if t.path in unclear else t for t in tallies
    )
    return events.select(REDUCED.names()).sort("ts", "file", "line"), tallies


def _discover(paths: Sequence[str | Path]) -> tuple[list[str | Path], list[tuple[str, str]]]:
    """Local files (``discover_all``) and URL files (``remote.expand_url``), in input order,
    and the local paths not read with why."""
    found: list[str | Path] = []
    unread: list[tuple[str, str]] = []
    for p in paths:
        if is_url(p):
            found.extend(expand_url(p))  # type: ignore[arg-type]
            continue
        files, skipped = discover_all([p])
        found.extend(files)
        unread.extend(skipped)
    return list(dict.fromkeys(found)), unread


def finish_all(
    collected: list[Collected], ctx: TimeContext, order: dict[str, int] | None = None
) -> dict[str, tuple[pl.DataFrame, tuple[FileTally, ...]]]:
    """Every collected file finished; yearless lines dated by the closest clue
    (``choose_year``).

    Files whose every line is dated, and yearless files dated by ``--year`` or by their own
    dated lines, are the evidence for the remaining yearless files (so the result does not
    depend on the order of the inputs). ``order``: each file's place in the input, which
    the evidence follows (small files are read in batches first).
    """
    results: dict[str, tuple[pl.DataFrame, tuple[FileTally, ...]]] = {}
    later = []
    for c in collected:
        # A batch waits for the other files: its files' own clues are weighed file by file.
        if c.pending and ctx.year is None and (c.batch or not c.same_file):
            later.append(c)
        else:
            results[c.path] = finish_file(c, ctx)
    if not later:
        return results
    evidence = [d for c in collected if c.path in results for d in _evidence(c, results)]
    if order:
        evidence.sort(key=lambda d: order.get(d.label, len(order)))
    known = replace(ctx, evidence=tuple(evidence))
    nodes = {d.node for d in evidence if d.node}
    for c in later:
        results[c.path] = finish_file(c, known, lambda path: _nodes_in_path(path, nodes))
    return results


def _evidence(c: Collected, results: dict) -> list:  # type: ignore[type-arg]
    """The dated lines of a finished file, or of each file of a finished batch."""
    events = results[c.path][0]
    if not c.batch:
        return list(dated_inputs(events, c.path))
    parts = events.partition_by("file", as_dict=True)
    return [d for (name,), part in parts.items() for d in dated_inputs(part, name)]


def _nodes_in_path(path: str, nodes: set[str]) -> tuple[str, ...]:
    """Node names that are a directory or file name of ``path`` (``nodes/<node>/kubelet.log``,
    ``<node>.log``): a raw klog file names no node inside."""
    parts = Path(path).parts
    return tuple(sorted(n for n in nodes if any(p == n or Path(p).stem == n for p in parts)))


def _raise_first_problem(
    collected: list[Collected], results: dict[str, tuple[pl.DataFrame, tuple[FileTally, ...]]]
) -> None:
    for c in collected:
        if c.problem is not None:
            raise c.problem
        for tally in results[c.path][1]:
            if tally.rejected:
                line, reason = tally.reject_examples[0]
                text = _line_text(tally.path, line)
                raise BadLineError(tally.path, line, reason, text)


def _line_text(path: str, line: int) -> str:
    from analyzer.ingest.lines import read_lines

    with _readable(path) as local:
        df, _ = read_lines(local)
    return str(df.filter(pl.col("line") == line)["raw"].first() or "")


def _readable(path: str) -> AbstractContextManager[Path]:
    """A local file with ``path``'s lines as they were read: the plain copy it was read
    through (gunzipped, decoded, re-split), itself, or a URL's temporary copy."""
    copy = copy_read(path)
    if copy is not None:
        return nullcontext(copy)
    return local_copy(path) if is_url(path) else nullcontext(Path(path))


def parse_lines(
    lines: Sequence[str],
    format_name: str,
    *,
    envelope_ts: str = "2000-01-01T00:00:00Z",
    year: int = 2000,
    tz: str = "UTC",
    registry: formats.Registry | None = None,
) -> tuple[pl.DataFrame, FileTally]:
    """Parse in-memory lines as ``format_name`` (for tests, notebooks and spec samples).

    Payload-only formats (no timestamps of their own) get ``envelope_ts`` as their time.
    ``format_name`` is looked up in ``registry`` (default: the active one, see
    ``analyzer.formats.registry``).
    """
    from analyzer.formats.check import parse_lines_as

    reg = registry or formats.active()
    with formats.using(reg):
        spec = reg.get(format_name)
        return parse_lines_as(spec, lines, envelope_ts=envelope_ts, year=year, tz=tz)


@dataclass(frozen=True)
class FileSniff:
    """What ``sniff`` found in one file: the format(s) its lines are in and why."""

    path: str
    format: str  # the label: ``cri+workhorse_json``, ``kubelet_klog+containerd``
    score: float  # the chosen format's sniff score (see ``ingest.sniff``)
    runner_up: tuple[str, float] | None
    events_by_format: dict[str, int]
    tally: FileTally

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "format": self.format,
            "score": round(self.score, 3),
            "runner_up": (
                {"format": self.runner_up[0], "score": round(self.runner_up[1], 3)}
                if self.runner_up
                else None
            ),
            "events_by_format": self.events_by_format,
            **{k: v for k, v in self.tally.to_dict().items() if k not in ("path", "format")},
        }


def sniff(
    paths: Sequence[str | Path],
    *,
    as_format: str | None = None,
    formats_dirs: Sequence[str | Path] = (),
    registry: formats.Registry | None = None,
) -> list[FileSniff]:
    """Per file: the format(s) chosen, the lines each took, and the runner-up.

    Every line is read (the counts are real, not estimated); times are not anchored across
    files, so use ``analyze`` for the events themselves.
    """
    with formats.using(registry_for(formats_dirs, registry)):
        return [_sniff_one(parsed) for parsed in read_files(list(paths), as_format=as_format)]


def _sniff_one(parsed: ParsedFile) -> FileSniff:
    events, tally = normalize_file(parsed, TimeContext())
    counts = events.group_by("format").len().sort("len", descending=True)
    choice = parsed.choice
    runner = choice.runner_up if choice is not None else None
    return FileSniff(
        path=parsed.path,
        format=tally.format,
        score=choice.score if choice is not None else 0.0,
        runner_up=(runner.spec.name, runner.score) if runner is not None else None,
        events_by_format=dict(counts.iter_rows()),
        tally=tally,
    )


def analyze(
    paths: Sequence[str | Path],
    *,
    as_format: str | None = None,
    strict: bool = False,
    year: int | None = None,
    tz: str = "UTC",
    on_file: Callable[[str], None] | None = None,
    formats_dirs: Sequence[str | Path] = (),
    registry: formats.Registry | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    burst_rule: BurstRule = DEFAULT_RULE,
) -> Analysis:
    """Ingest ``paths`` (files, directories, .gz), correlate and diagnose.

    ``formats_dirs``: directories of the user's own format specs (``*.toml``), besides
    ``$ANALYZER_FORMATS_DIR`` and ``~/.config/k8s-502-analyzer/formats``; ``registry``: an
    already loaded ``formats.load(...)`` to use instead of all of these. ``scheduler``,
    ``workers``: read the files on Dask workers (see ``load_reduced``). ``burst_rule``:
    when failures count as a burst rather than background (``correlate.BurstRule``).

    Examples
    --------
    >>> import analyzer
    >>> result = analyzer.analyze(["sample_logs/pid1-502"])  # doctest: +SKIP
    >>> [(i.id, i.severity) for i in result.incidents]  # doctest: +SKIP
    [('inc-1', 'info'), ('inc-2', 'critical')]
    """
    reg = registry_for(formats_dirs, registry)
    # An export's bursts were found with the default rule; another rule finds them again.
    stored = _stored_correlation(paths) if burst_rule == DEFAULT_RULE else None
    if stored is not None:  # one export alone: its correlation is read, not worked out
        reduced, tallies = read_export(Path(paths[0]), where=pl.col("kind").is_in(LIFECYCLE_KINDS))
    else:
        reduced, tallies = load_reduced(
            paths,
            as_format=as_format,
            strict=strict,
            year=year,
            tz=tz,
            on_file=on_file,
            registry=reg,
            scheduler=scheduler,
            workers=workers,
        )
    # An export alone also holds its findings, quoted: neither diagnosed nor read again.
    found = read_findings(Path(paths[0])) if stored is not None else None
    with formats.using(reg):  # correlate asks which formats are sidecars (upstream_local)
        corr = correlate(reduced, rule=burst_rule) if stored is None else assemble(reduced, stored)
        unexplained = read_unexplained(Path(paths[0])) if found is not None else {}
        incidents = tuple(_diagnosed(f, corr.episodes, found, unexplained) for f in corr.incidents)
        incidents = with_unrelated(incidents)
    if found is None:
        incidents = _quoted(incidents)
    return Analysis(
        inputs=tallies,
        reduced_rows=reduced if stored is None else None,
        correlation=corr,
        incidents=incidents,
        options={"as_format": as_format, "strict": strict, "year": year, "tz": tz},
        paths=tuple(str(p) for p in paths),
        registry=reg,
        read_reduced=_reread_reduced,
        read_events=_reread_events,
    )


def _reread_reduced(analysis: Analysis) -> pl.DataFrame:
    """The correlated rows of an analysis of one export: its events, read again."""
    return read_export(Path(analysis.paths[0]))[0]


def _reread_events(analysis: Analysis) -> pl.DataFrame:
    """Every event of an analysis' inputs, read again as it read them."""
    events, _ = load_events(
        analysis.paths,
        as_format=analysis.options.get("as_format"),  # type: ignore[arg-type]
        year=analysis.options.get("year"),  # type: ignore[arg-type]
        tz=str(analysis.options.get("tz") or "UTC"),
        registry=analysis.registry,
    )
    return events


def _stored_correlation(paths: Sequence[str | Path]) -> CorrelationFrames | None:
    """The correlation an export stored, when that export is the only input."""
    if len(paths) != 1 or not is_export(Path(paths[0])):
        return None
    frames = read_correlation(Path(paths[0]))
    return CorrelationFrames(**frames) if frames is not None else None


def _diagnosed(
    frames: IncidentFrames,
    episodes: pl.DataFrame,
    found: dict[str, tuple[Finding, ...]] | None,
    stored_unexplained: dict[str, tuple[Stream, ...]],
) -> Incident:
    """An incident with its findings: diagnosed, or (an export's) as stored."""
    if found is not None:
        return Incident(
            frames.id,
            frames,
            found.get(frames.id, ()),
            timeline(frames),
            unexplained=stored_unexplained.get(frames.id, ()),
        )
    diagnosis = diagnose(frames, episodes)
    return Incident(
        id=frames.id,
        frames=frames,
        findings=diagnosis.findings,
        timeline=timeline(frames),
        unexplained=diagnosis.unexplained,
    )


def with_unrelated(incidents: tuple[Incident, ...]) -> tuple[Incident, ...]:
    """Each incident with the ones around it that none of its findings explains: other pods
    failing around the same time for another reason (the story's startup poller beside its
    SIGTERM incident). Shown so nobody takes one for the other's cause or evidence."""
    out = []
    for inc in incidents:
        mine = {f"{ns}/{pod}" for ns, pod in inc.frames.pods}
        unrelated = []
        for other in incidents:
            # Around the same time: within the lifecycle context the incident was read in.
            near = other.start <= inc.frames.window_end and other.end >= inc.frames.window_start  # type: ignore[operator]
            theirs = {f"{ns}/{pod}" for ns, pod in other.frames.pods}
            if other.id == inc.id or not near or not theirs or mine & theirs:
                continue
            top = other.findings[0].code if other.findings else None
            unrelated.append(
                Stream(
                    what=other.id,
                    failures=other.frames.failures.height,
                    share=other.explained,
                    start=other.start,  # type: ignore[arg-type]
                    end=other.end,  # type: ignore[arg-type]
                    cause=top,
                )
            )
        out.append(replace(inc, unrelated=tuple(unrelated)))
    return tuple(out)


def _quoted(incidents: tuple[Incident, ...]) -> tuple[Incident, ...]:
    """Evidence of a counted line (no text kept) quotes the line, read back from its file."""
    missing: dict[str, set[int]] = {}
    for inc in incidents:
        for f in inc.findings:
            for e in f.evidence:
                if not e.text:
                    missing.setdefault(e.file, set()).add(e.line)
    if not missing:
        return incidents
    texts = {}
    for file, numbers in missing.items():
        try:
            with _readable(file) as local:
                texts[file] = lines_at(local, numbers)
        except OSError:  # gone since it was read: the evidence keeps its file:line
            texts[file] = {}

    def quote(e: Evidence) -> Evidence:
        return replace(e, text=texts.get(e.file, {}).get(e.line, "")) if not e.text else e

    return tuple(
        replace(
            inc,
            findings=tuple(
                replace(f, evidence=tuple(quote(e) for e in f.evidence)) for f in inc.findings
            ),
        )
        for inc in incidents
    )


def export(analysis: Analysis, out_dir: str | Path, *, replace: bool = False) -> Path:
    """Write ``analysis`` as Parquet (see ``analyzer.store``); ``analyze(out_dir)`` reads it.

    ``out_dir`` must be new or empty, or an earlier export with ``replace=True``.
    """
    return write_export(analysis, out_dir, replace=replace)


def timeline_figure(analysis: Analysis):  # type: ignore[no-untyped-def]
    """The interactive timeline as a plotly Figure (plotly is imported only here)."""
    from analyzer.report.html import timeline_figure as figure

    return figure(analysis)


def write_timeline(analysis: Analysis, path: str | Path) -> Path:
    """Write the self-contained HTML timeline of ``analysis`` to ``path``."""
    from analyzer.report.html import write_timeline as write

    return write(analysis, path)


__all__ = [
    "Analysis",
    "AnalyzerError",
    "BurstRule",
    "Incident",
    "analyze",
    "FileSniff",
    "export",
    "load_events",
    "load_reduced",
    "sniff",
    "parse_lines",
    "registry_for",
    "timeline_figure",
    "write_timeline",
]
