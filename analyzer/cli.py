"""The command line: a thin typer layer over ``analyzer.api``."""

from __future__ import annotations

import sys
import traceback
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.exceptions

from analyzer import __version__, formats, limits
from analyzer.api import (
    Analysis,
    BurstRule,
    analyze,
    export,
    registry_for,
    sniff,
    write_timeline,
)
from analyzer.diagnose.finding import SEVERITIES
from analyzer.errors import AnalyzerError, FormatSpecErrors, InputError
from analyzer.formats.check import sniff_notes
from analyzer.report import render_json, render_markdown, render_text
from analyzer.report.safe import terminal
from analyzer.store import check_target

app = typer.Typer(
    help="Explain 5xx bursts around Kubernetes pod terminations from logs alone. "
    "Exit status: 0 ran; 1 only for --fail-on; 2 bad input or usage (or out of memory); "
    "3 an internal error (one line; --debug, before the command, shows the traceback).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


class FailOn(StrEnum):
    critical = "critical"
    warning = "warning"


Paths = Annotated[list[Path], typer.Argument(help="Log files or directories (recursive; .gz ok).")]
# Strings, not Paths: a Path would fold the // of a URL (s3://bucket -> s3:/bucket).
PathsOrUrls = Annotated[
    list[str],
    typer.Argument(help="Log files or directories (recursive; .gz ok), or fsspec URLs."),
]
AsFormat = Annotated[
    str | None,
    typer.Option("--as", help="Force this format for every file (see `analyzer formats`)."),
]
Strict = Annotated[
    bool, typer.Option("--strict", help="Stop at the first rejected line (file:line).")
]
Year = Annotated[int | None, typer.Option("--year", help="Year of yearless klog/syslog times.")]
Tz = Annotated[str, typer.Option("--tz", help="Zone of klog/syslog times (IANA name).")]
FormatsDirs = Annotated[
    list[Path] | None,
    typer.Option(
        "--formats-dir",
        help="A directory of your own format specs (*.toml; repeatable), besides "
        "$ANALYZER_FORMATS_DIR and ~/.config/k8s-502-analyzer/formats.",
    ),
]
Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Read the files on this Dask scheduler's workers (tcp://HOST:PORT); they need "
        "this analyzer version and read access to PATHS. Needs the `dask` extra.",
    ),
]
_BURSTS = "Bursts (failures that are not background)"
DEFAULT_RULE = BurstRule()
BurstGap = Annotated[
    float,
    typer.Option(
        "--burst-gap",
        help="Seconds between failures of one pod that split a burst.",
        rich_help_panel=_BURSTS,
    ),
]
BurstMinFailures = Annotated[
    int,
    typer.Option(
        "--burst-min-failures",
        help="Fewest failing requests in a burst.",
        rich_help_panel=_BURSTS,
    ),
]
BurstMinShare = Annotated[
    float,
    typer.Option(
        "--burst-min-share",
        help="Least share (0..1) of the pod's requests in the burst's span that failed.",
        rich_help_panel=_BURSTS,
    ),
]
BurstMinLift = Annotated[
    float,
    typer.Option(
        "--burst-min-lift",
        help="Least ratio of that share to the pod's failure share outside its bursts.",
        rich_help_panel=_BURSTS,
    ),
]
BurstMaxChance = Annotated[
    float,
    typer.Option(
        "--burst-max-chance",
        help="Most probability that the pod's background rate alone gives that many failures.",
        rich_help_panel=_BURSTS,
    ),
]
Workers = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        help="Read the files on a local Dask cluster of N processes (many files; "
        "not with --scheduler). Needs the `dask` extra.",
    ),
]

_LIMITS = "Resource limits"
MaxLineBytes = Annotated[
    str,
    typer.Option(
        "--max-line-bytes",
        help="Longest line read (16MiB, 512k, ...); a longer one is rejected with its size, "
        "never loaded.",
        rich_help_panel=_LIMITS,
    ),
]
MaxInflateRatio = Annotated[
    int,
    typer.Option(
        "--max-inflate-ratio",
        min=1,
        help="Stop gunzipping a file past this many times its compressed size "
        "(a decompression bomb); what inflated before is read.",
        rich_help_panel=_LIMITS,
    ),
]
MaxMemory = Annotated[
    str | None,
    typer.Option(
        "--max-memory",
        help="Stop with exit 2 and a message when the run uses more memory than this "
        "(4GiB, ...; `off`). Default: 80% of the memory available at the start, at most "
        "80% of a container's memory limit and 60% of `ulimit -v`.",
        rich_help_panel=_LIMITS,
    ),
]
DEFAULT_LIMITS = limits.Limits()


def _resources(max_line_bytes: str, max_inflate_ratio: int, max_memory: str | None) -> dict:
    """The ``_analyze`` options of the resource-limit options."""
    try:
        line_cap = limits.parse_size(max_line_bytes)
        budget = (
            None
            if max_memory == "off"
            else limits.parse_size(max_memory)
            if max_memory
            else limits.default_budget()
        )
    except ValueError as err:
        raise _fail(InputError(f"{err}")) from err
    read = limits.Limits(max_line_bytes=line_cap, max_inflate_ratio=max_inflate_ratio)
    return {"read_limits": read, "budget": budget}


def _over_budget(used: int, budget: int, file: str | None) -> None:
    where = f" while reading {terminal(file)}" if file else ""
    typer.echo(
        f"error: memory use reached {limits.size_text(used)}, over the budget of "
        f"{limits.size_text(budget)} (--max-memory){where}. To go on: raise --max-memory if "
        "the machine has more free; lower --max-line-bytes if the file has very long lines; "
        "or read fewer files at once: `analyzer ingest PART -o DIR` writes a Parquet export "
        "of a part, and `analyzer report DIR...` reads the exports with little memory.",
        err=True,
    )


def _fail(err: AnalyzerError) -> typer.Exit:
    """Print ``err`` without a traceback; the caller raises the returned exit (status 2)."""
    # The message quotes the bad line: one escaped terminal line per line of the message.
    shown = "\n".join(terminal(line) for line in str(err).splitlines())
    typer.echo(f"error: {shown}", err=True)
    return typer.Exit(code=2)


#: What the running command was reading (its PATHS, then each file as it was read), for the
#: one line an internal error prints.
_reading: list[str] = []


def _read(path: str) -> None:
    _reading.append(path)


def _analyze(
    paths: list[Path] | list[str],
    read_limits: limits.Limits = DEFAULT_LIMITS,
    budget: int | None = None,
    **options: Any,
) -> Analysis:
    """Run the analysis within ``read_limits`` and the memory ``budget``, with a progress
    bar on stderr when it is a terminal."""
    with limits.using(read_limits):
        if budget is None:
            return _analyze_shown(paths, **options)
        with limits.MemoryBudget(budget, _over_budget):
            return _analyze_shown(paths, **options)


def _analyze_shown(paths: list[Path] | list[str], **options: Any) -> Analysis:
    _reading[:] = [" ".join(str(p) for p in paths)]
    try:
        if not sys.stderr.isatty():
            return analyze(paths, on_file=_read, **options)
        import rich.markup
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        with progress:
            task = progress.add_task("reading logs", total=None)

            def done(path: str) -> None:
                _read(path)
                # a file name is untrusted too: no markup, no control bytes
                name = rich.markup.escape(terminal(Path(path).name))
                progress.update(task, description=f"read {name}")

            return analyze(paths, on_file=done, **options)
    except AnalyzerError as err:
        raise _fail(err) from err


@app.command()
def report(
    paths: PathsOrUrls,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.text,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the HTML timeline here.")
    ] = None,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="Plain text even on a terminal.")
    ] = False,
    as_format: AsFormat = None,
    strict: Strict = False,
    year: Year = None,
    tz: Tz = "UTC",
    fail_on: Annotated[
        FailOn | None,
        typer.Option("--fail-on", help="Exit 1 if an incident is at least this severe."),
    ] = None,
    formats_dirs: FormatsDirs = None,
    scheduler: Scheduler = None,
    workers: Workers = None,
    burst_gap: BurstGap = DEFAULT_RULE.gap_s,
    burst_min_failures: BurstMinFailures = DEFAULT_RULE.min_failures,
    burst_min_share: BurstMinShare = DEFAULT_RULE.min_share,
    burst_min_lift: BurstMinLift = DEFAULT_RULE.min_lift,
    burst_max_chance: BurstMaxChance = DEFAULT_RULE.max_chance,
    max_line_bytes: MaxLineBytes = "16MiB",
    max_inflate_ratio: MaxInflateRatio = DEFAULT_LIMITS.max_inflate_ratio,
    max_memory: MaxMemory = None,
) -> None:
    """Find 5xx incidents in PATHS, explain their cause, and print the report.

    PATHS may also be a directory written by `analyzer ingest -o DIR`, or fsspec URLs
    (s3://bucket/prefix, gs://..., https://...; the protocol's fsspec package needed).

    Example:  analyzer report sample_logs/pid1-502 --format markdown --html timeline.html
    """
    if scheduler is not None and workers is not None:
        raise _fail(InputError("--scheduler and --workers: pass one of them, not both"))
    result = _analyze(
        paths,
        as_format=as_format,
        strict=strict,
        year=year,
        tz=tz,
        formats_dirs=formats_dirs or (),
        scheduler=scheduler,
        workers=workers,
        burst_rule=BurstRule(
            burst_gap, burst_min_failures, burst_min_share, burst_min_lift, burst_max_chance
        ),
        **_resources(max_line_bytes, max_inflate_ratio, max_memory),
    )
    if output_format is OutputFormat.text:
        color = sys.stdout.isatty() and not no_color
        sys.stdout.write(render_text(result, color=color))
    elif output_format is OutputFormat.json:
        sys.stdout.write(render_json(result))
    else:
        sys.stdout.write(render_markdown(result))
    if html is not None:
        write_timeline(result, html)
        typer.echo(f"timeline written to {html}", err=True)
    worst = result.worst_severity()
    if fail_on is not None and worst is not None:
        if SEVERITIES.index(worst) <= SEVERITIES.index(fail_on.value):
            raise typer.Exit(code=1)


@app.command()
def timeline(
    paths: Paths,
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")],
    as_format: AsFormat = None,
    year: Year = None,
    tz: Tz = "UTC",
    formats_dirs: FormatsDirs = None,
    max_line_bytes: MaxLineBytes = "16MiB",
    max_inflate_ratio: MaxInflateRatio = DEFAULT_LIMITS.max_inflate_ratio,
    max_memory: MaxMemory = None,
) -> None:
    """Write the interactive HTML timeline (one self-contained file, works offline).

    Example:  analyzer timeline sample_logs/pid1-502 -o timeline.html
    """
    result = _analyze(
        paths,
        as_format=as_format,
        year=year,
        tz=tz,
        formats_dirs=formats_dirs or (),
        **_resources(max_line_bytes, max_inflate_ratio, max_memory),
    )
    write_timeline(result, output)
    typer.echo(f"timeline written to {output} ({len(result.incidents)} incident(s))")


@app.command()
def ingest(
    paths: Paths,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Directory for the Parquet files.")
    ],
    as_format: AsFormat = None,
    strict: Strict = False,
    year: Year = None,
    tz: Tz = "UTC",
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite an earlier export in --output.")
    ] = False,
    formats_dirs: FormatsDirs = None,
    max_line_bytes: MaxLineBytes = "16MiB",
    max_inflate_ratio: MaxInflateRatio = DEFAULT_LIMITS.max_inflate_ratio,
    max_memory: MaxMemory = None,
) -> None:
    """Normalize PATHS once into Parquet; `analyzer report DIR` then reads it fast.

    The output directory must be new or empty (or an earlier export, with --replace).

    Example:  analyzer ingest logs/incident-42 -o /tmp/inc42 && analyzer report /tmp/inc42
    """
    try:
        check_target(output, replace=replace)  # before the slow part
    except AnalyzerError as err:
        typer.echo(f"error: {terminal(str(err))}", err=True)
        raise typer.Exit(code=2) from err
    result = _analyze(
        paths,
        as_format=as_format,
        strict=strict,
        year=year,
        tz=tz,
        formats_dirs=formats_dirs or (),
        **_resources(max_line_bytes, max_inflate_ratio, max_memory),
    )
    out = export(result, output, replace=replace)
    typer.echo(f"{result.event_count} events from {len(result.inputs)} file(s) written to {out}")


@app.command("sniff")
def sniff_files(
    paths: Paths,
    as_format: AsFormat = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
    formats_dirs: FormatsDirs = None,
) -> None:
    """Show which format each file is read as, the lines each format took, and the runner-up.

    Example:  analyzer sniff /var/log/pods/*/*/0.log node1-journal.log
    """
    import json

    try:
        found = sniff(paths, as_format=as_format, formats_dirs=formats_dirs or ())
    except AnalyzerError as err:
        typer.echo(f"error: {terminal(str(err))}", err=True)
        raise typer.Exit(code=2) from err
    for f in found:
        if as_json:
            typer.echo(json.dumps(f.to_dict()))
            continue
        t = f.tally
        runner = f"; runner-up {f.runner_up[0]} {f.runner_up[1]:.2f}" if f.runner_up else ""
        typer.echo(terminal(f.path))
        typer.echo(f"  format   {f.format} (score {f.score:.2f}{runner})")
        per = ", ".join(f"{name} {n}" for name, n in f.events_by_format.items()) or "none"
        counts = f"{t.events} events + {t.skipped} skipped + {t.rejected} rejected"
        typer.echo(f"  lines    {t.lines} = {counts}")
        typer.echo(f"  events   {per}")
        for reason, n in t.skip_reasons:
            typer.echo(f"  skipped  {n} {terminal(reason)}")
        for line, reason in t.reject_examples:
            typer.echo(f"  rejected line {line}: {terminal(reason)}")
        for note in t.notes:
            typer.echo(f"  note     {terminal(note)}")


@app.command("formats")
def list_formats(
    formats_dirs: FormatsDirs = None,
    check: Annotated[
        list[Path] | None,
        typer.Option(
            "--check",
            help="Only validate the specs in this directory (repeatable): print every "
            "problem, exit 2 if there is one.",
        ),
    ] = None,
) -> None:
    """List the log formats the analyzer reads (yours too, marked `user` with their file).

    Example:  analyzer formats --check ~/.config/k8s-502-analyzer/formats
    """
    if check:
        _check_formats(check)
        return
    try:
        registry = registry_for(formats_dirs or ())
    except AnalyzerError as err:
        raise _fail(err) from err
    width = max(len(spec.name) for spec in registry.specs)
    for spec in registry.specs:
        where = "file" if spec.standalone else ""
        where += ("+" if where and spec.payload else "") + ("payload" if spec.payload else "")
        line = f"{spec.name:<{width}} {spec.source:<8} {where or '-':<13} {spec.description}"
        if not spec.builtin:
            mark = "user, replaces the built-in" if spec.override else "user"
            line += f"  [{mark}: {spec.path}]"
        typer.echo(terminal(line))


@app.command("rules")
def list_rules(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print what each reads and its fix.")
    ] = False,
) -> None:
    """List the causes the analyzer can name, in the order a failure is explained.

    Each failing request goes to the first rule (in this order) whose mechanism covers it.

    Example:  analyzer rules -v
    """
    from analyzer.diagnose.registry import RULES

    width = max(len(code) for code in RULES)
    for code, rule in RULES.items():
        typer.echo(f"{code:<{width}} {rule.cause or '-':<5} {rule.severity:<9} {rule.title}")
        if verbose:
            typer.echo(f"{'':<{width}} reads: {', '.join(rule.needs)}")
            typer.echo(f"{'':<{width}} fix: {rule.fix}")


def _check_formats(dirs: list[Path]) -> None:
    try:
        registry = formats.load(dirs)
    except FormatSpecErrors as err:
        for problem in err.problems:
            typer.echo(terminal(f"{problem.file}: {problem.key}: {problem.problem}"))
        typer.echo(f"{len(err.problems)} problem(s)", err=True)
        raise typer.Exit(code=2) from err
    except AnalyzerError as err:
        raise _fail(err) from err
    user = registry.user()
    for spec in user:
        for note in sniff_notes(spec, registry):
            typer.echo(terminal(f"note: {note}"))
    names = ", ".join(s.name for s in user) or "none"
    typer.echo(f"ok: {len(user)} format(s): {names}")


class SimProxy(StrEnum):
    ingress_nginx = "ingress-nginx"
    envoy = "envoy"
    istio = "istio"
    workhorse = "workhorse"
    alb = "alb"
    gclb = "gclb"


class SimRuntime(StrEnum):
    containerd = "containerd"
    cri_o = "cri-o"
    docker = "docker"


@app.command()
def simulate(
    scenario: Annotated[
        str | None, typer.Argument(help="Scenario name (see --list).", show_default=False)
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Directory to write the bundle to.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the scenario.")] = 0,
    proxy: Annotated[
        SimProxy | None, typer.Option("--proxy", help="Proxy in front of the pods.")
    ] = None,
    runtime: Annotated[
        SimRuntime | None, typer.Option("--runtime", help="Container runtime of the nodes.")
    ] = None,
    size: Annotated[
        str | None, typer.Option("--size", help="About this much log in all (500k, 10MB, 1GB).")
    ] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the scenarios and exit.")] = False,
) -> None:
    """Write a simulated log bundle (real formats) and its truth.json.

    Example:  analyzer simulate pid1-502 -o /tmp/pid1 && analyzer report /tmp/pid1
    """
    from analyzer.simulate import describe, parse_size, proxies_for, scenario_names, write
    from analyzer.simulate import simulate as build
    from analyzer.simulate.model import Params

    names = scenario_names()
    if list_:
        for name in names:
            proxies = ",".join(p for p in proxies_for(name) if p) or "(its own)"
            typer.echo(f"{name:24} {describe(name)}  [{proxies}]")
        return
    if scenario is None or output is None:
        typer.echo("error: give a SCENARIO and -o DIR (or --list)", err=True)
        raise typer.Exit(code=2)
    if scenario not in names:
        typer.echo(f"error: unknown scenario {scenario!r}; known: {', '.join(names)}", err=True)
        raise typer.Exit(code=2)
    try:
        size_bytes = parse_size(size) if size is not None else None
    except ValueError as err:
        typer.echo(f"error: --size: {err}", err=True)
        raise typer.Exit(code=2) from err
    params = Params(
        seed=seed,
        proxy=proxy.value if proxy else None,
        runtime=runtime.value if runtime else None,
        size_bytes=size_bytes,
    )
    written = write(build(scenario, params), output)
    total = sum(p.stat().st_size for p in written)
    typer.echo(f"{len(written)} file(s), {total} bytes written to {output}")


@app.command()
def version() -> None:
    """Print the version.

    Example:  analyzer version
    """
    typer.echo(__version__)


BUG_REPORT = (
    "This is a bug in the analyzer, not in your logs: please report it with this message and, "
    "if you can, the file (rerun as `analyzer --debug ...` for the traceback)."
)


def main(argv: list[str] | None = None) -> None:
    """The ``analyzer`` command: exit codes that mean one thing, and no traceback unless
    ``--debug`` (given before the command) asks for it."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args[:1] or "--debug" in args
    args = [a for a in args if a != "--debug"]
    code: object = 0
    try:
        code = app(args=args, prog_name="analyzer", standalone_mode=False)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        code = 130
    except typer.exceptions.TyperException as err:  # usage: a bad option or argument
        if type(err).__name__ == "Abort":  # the prompt's Ctrl-C
            typer.echo("interrupted", err=True)
            code = 130
        else:
            err.show()  # type: ignore[attr-defined]
            code = getattr(err, "exit_code", 2)
    except MemoryError:
        if debug:
            traceback.print_exc()
        typer.echo(
            f"error: out of memory{_while()}: read fewer files at once, or write a Parquet "
            "export first (`analyzer ingest PATHS -o DIR`) and report over it",
            err=True,
        )
        code = 2
    except BaseException as err:  # a panic in a native library is a BaseException too
        if isinstance(err, SystemExit):
            raise
        if debug:
            traceback.print_exc()
        text = terminal(" ".join(str(err).split()))[:300]
        typer.echo(f"internal error{_while()}: {type(err).__name__}: {text}", err=True)
        typer.echo(BUG_REPORT, err=True)
        code = 3
    sys.exit(code if isinstance(code, int) else 0)


def _while() -> str:
    if not _reading:
        return ""
    given, *read = _reading
    last = f"; the last file read was {terminal(read[-1])}" if read else ""
    return f" while analyzing {terminal(given)}{last}"
