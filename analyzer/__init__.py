"""Explain 5xx bursts around Kubernetes pod terminations from logs alone.

>>> import analyzer
>>> result = analyzer.analyze(["sample_logs/pid1-502"])  # doctest: +SKIP
"""

from analyzer.api import (
    Analysis,
    BurstRule,
    Incident,
    analyze,
    export,
    load_events,
    load_reduced,
    parse_lines,
    timeline_figure,
    write_timeline,
)
from analyzer.diagnose.finding import Evidence, Finding
from analyzer.errors import AnalyzerError, BadLineError, UnknownFormatError

__version__ = "0.1.0"

__all__ = [
    "Analysis",
    "BurstRule",
    "AnalyzerError",
    "BadLineError",
    "Evidence",
    "Finding",
    "Incident",
    "UnknownFormatError",
    "__version__",
    "analyze",
    "export",
    "load_events",
    "load_reduced",
    "parse_lines",
    "timeline_figure",
    "write_timeline",
]
