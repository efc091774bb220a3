"""The command line: a thin typer layer over ``analyzer.api``."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from analyzer import __version__, formats
from analyzer.api import analyze
from analyzer.diagnose.finding import SEVERITIES
from analyzer.errors import AnalyzerError
from analyzer.report import render_json, render_markdown, render_text

app = typer.Typer(
    help="Explain 5xx bursts around Kubernetes pod terminations from logs alone.",
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


def _fail(err: Exception) -> typer.Exit:
    typer.echo(f"error: {err}", err=True)
    return typer.Exit(code=2)


@app.command()
def report(
    paths: Annotated[
        list[Path], typer.Argument(help="Log files or directories (recursive; .gz ok).")
    ],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.text,
    as_format: Annotated[
        str | None,
        typer.Option("--as", help="Force this format for every file (see `analyzer formats`)."),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Stop at the first rejected line (file:line).")
    ] = False,
    year: Annotated[
        int | None, typer.Option("--year", help="Year of yearless klog/syslog times.")
    ] = None,
    tz: Annotated[str, typer.Option("--tz", help="Zone of klog/syslog times (IANA name).")] = "UTC",
    fail_on: Annotated[
        FailOn | None,
        typer.Option("--fail-on", help="Exit 1 if an incident is at least this severe."),
    ] = None,
) -> None:
    """Find 5xx incidents in PATHS, explain their cause, and print the report.

    Example:  analyzer report sample_logs/pid1-502 --format markdown
    """
    try:
        result = analyze(paths, as_format=as_format, strict=strict, year=year, tz=tz)
    except AnalyzerError as err:
        raise _fail(err) from err
    render = {"text": render_text, "json": render_json, "markdown": render_markdown}[
        output_format.value
    ]
    sys.stdout.write(render(result))
    worst = result.worst_severity()
    if fail_on is not None and worst is not None:
        if SEVERITIES.index(worst) <= SEVERITIES.index(fail_on.value):
            raise typer.Exit(code=1)


@app.command("formats")
def list_formats() -> None:
    """List the log formats the analyzer reads.

    Example:  analyzer formats
    """
    for spec in formats.builtin():
        where = "file" if spec.standalone else ""
        where += ("+" if where and spec.payload else "") + ("payload" if spec.payload else "")
        typer.echo(f"{spec.name:<16} {spec.source:<8} {where or '-':<13} {spec.description}")


@app.command()
def version() -> None:
    """Print the version.

    Example:  analyzer version
    """
    typer.echo(__version__)


def main() -> None:  # pragma: no cover - console entry
    app()
