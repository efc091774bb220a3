"""``kubectl cluster-info dump``: the container log sections between (or instead of) its Lists.

kubectl (``pkg/cmd/clusterinfo/clusterinfo_dump.go``) writes each container's log between
``==== START logs for container C of pod NS/POD ====`` and ``==== END logs for container C of
pod NS/POD ====`` lines: to stdout between the pretty-printed Lists, or with
``--output-directory`` to ``DIR/NS/POD/logs.txt`` (init containers first). The log is fetched
without ``timestamps``, so a section's lines carry only the time their program wrote: each
section is sniffed among the formats that have their own time (klog for coredns or
kube-apiserver, JSON logs) and parsed by it; the marker names its pod and container. A
section in no such format is skipped with a reason naming the pod.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from analyzer import formats
from analyzer.formats import FormatSpec
from analyzer.ingest.jsonl import parse_jsonl_robust
from analyzer.ingest.sniff import choose
from analyzer.ingest.tally import OUTCOME
from analyzer.ingest.text import parse_text

# END may also end a log line that had no final newline (kubectl writes the END marker
# right after the log bytes), so END is found at the end of a line; START opens one.
MARKER = r"(^==== START|==== END) logs for container (\S+) of pod ([^/\s]+)/(\S+) ====$"
_MARKER = re.compile(MARKER)
MARKER_SKIP = "skip: cluster-info dump log section marker"
# What kubectl writes in a section instead of the log when it cannot fetch it.
FETCH_ERROR = r"^(?:Create log request error|Request log error): "
FETCH_SKIP = "skip: kubectl could not fetch this container's log (cluster-info dump)"
SAMPLE = 200
TAKEN = "skip: parsed as a container log"  # never counted: those rows are dropped

# Identity of a section's lines, used by normalize where the line names no pod itself.
ENVELOPE_IDENTITY = {
    "namespace": "_envelope_namespace",
    "pod": "_envelope_pod",
    "container": "_envelope_container",
}


@dataclass(frozen=True)
class Section:
    """One container's log: marker lines ``start`` and ``end`` (1-based), body between."""

    start: int
    end: int  # the END marker's line, or the last line of a file cut short
    container: str
    namespace: str
    pod: str
    closed: bool

    @property
    def body(self) -> tuple[int, int]:
        return self.start + 1, self.end - 1 if self.closed else self.end


def find_sections(lines: pl.DataFrame) -> list[Section]:
    """The log sections of a file (``line``, ``raw``); one vectorized scan for the markers."""
    hits = lines.filter(pl.col("raw").str.contains(MARKER)).select("line", "raw").rows()
    sections: list[Section] = []
    open_: tuple[int, str, str, str] | None = None
    last = lines.height
    for line, raw in hits:
        m = _MARKER.search(raw)
        if m is None:  # polars' regex and Python's differ at the edges (\x1c-\x1f are \s here)
            continue
        what, container, ns, pod = m.groups()
        if what.endswith("START"):
            if open_ is not None:  # no END (a dump cut short): ends before the next START
                sections.append(Section(open_[0], line - 1, *open_[1:], closed=False))
            open_ = (line, container, ns, pod)
        elif open_ is not None and open_[1:] == (container, ns, pod):
            sections.append(Section(open_[0], line, container, ns, pod, closed=True))
            open_ = None
    if open_ is not None:
        sections.append(Section(open_[0], last, *open_[1:], closed=False))
    return sections


def _section_spec(sample: list[str]) -> FormatSpec | None:
    """A format with times of its own that reads the section, or None."""
    usable = [
        s
        for s in formats.specs()
        if s.standalone and s.engine in ("text", "jsonl") and not s.payload_field
    ]
    return choose(usable, "\n".join(sample)).spec


def no_time_reason(s: Section) -> str:
    return (
        f"skip: container log section in a cluster-info dump (container {s.container} of pod "
        f"{s.namespace}/{s.pod}; no format with timestamps of its own)"
    )


def section_chunks(
    df: pl.DataFrame, sections: list[Section]
) -> tuple[list[tuple[FormatSpec, pl.DataFrame]], list[tuple[int, int, str]]]:
    """Parsed frames of the sections' lines, one per format found, with each line's pod;
    and the (first, last, outcome) spans of every section for the document reader (which
    keeps the markers and the sections no format reads, and drops the ``TAKEN`` lines)."""
    raw = df["raw"]
    spans: list[tuple[int, int, str]] = []
    by_spec: dict[str, tuple[FormatSpec, list[tuple[Section, int, int]]]] = {}
    for s in sections:
        spans.append((s.start, s.start, MARKER_SKIP))
        if s.closed:
            spans.append((s.end, s.end, MARKER_SKIP))
        first, last = s.body
        if last < first:
            continue
        sample = [
            x
            for x in raw.slice(first - 1, min(last - first + 1, SAMPLE * 2)).to_list()
            if x.strip()
        ]
        spec = _section_spec(sample[:SAMPLE]) if sample else None
        if spec is None:
            spans.append((first, last, no_time_reason(s)))
            continue
        spans.append((first, last, TAKEN))  # not a document: the log chunk holds these lines
        by_spec.setdefault(spec.name, (spec, []))[1].append((s, first, last))
    errors = df.filter(pl.col("raw").str.contains(FETCH_ERROR))["line"].to_list()
    in_body = [ln for ln in errors if any(a < ln <= b for a, b in _bodies(sections))]
    spans.extend((ln, ln, FETCH_SKIP) for ln in in_body)  # after the bodies: these win
    out = []
    for spec, parts in by_spec.values():
        ranges = pl.DataFrame(
            {
                "line": [pl.int_range(a, b + 1, eager=True).cast(pl.UInt32) for _, a, b in parts],
                ENVELOPE_IDENTITY["namespace"]: [s.namespace for s, _, _ in parts],
                ENVELOPE_IDENTITY["pod"]: [s.pod for s, _, _ in parts],
                ENVELOPE_IDENTITY["container"]: [s.container for s, _, _ in parts],
            }
        ).explode("line")
        rows = df.join(ranges, on="line", how="inner").sort("line")
        rows = rows.filter(~pl.col("line").is_in(in_body))
        parsed = parse_text(rows, spec) if spec.engine == "text" else parse_jsonl_robust(rows, spec)
        out.append((spec, parsed.with_columns(_untimed_output_skipped())))
    return out, spans


UNTIMED = "skip: container output without a time of its own (in a cluster-info dump section)"


def _untimed_output_skipped() -> pl.Expr:
    """kubectl adds no timestamps: a section's line in no format (an app's startup banner)
    cannot be dated, which is not the line's fault. A line of the format with a bad time
    is still rejected."""
    outcome = pl.col(OUTCOME)
    unformatted = outcome.str.starts_with("reject: line does not match") | (
        outcome == "reject: not a JSON object"
    )
    return pl.when(unformatted).then(pl.lit(UNTIMED)).otherwise(outcome).alias(OUTCOME)


def _bodies(sections: list[Section]) -> list[tuple[int, int]]:
    return [(s.start, s.body[1]) for s in sections]


def taken_lines(chunks: list[tuple[FormatSpec, pl.DataFrame]]) -> pl.Series:
    return pl.concat([f["line"] for _, f in chunks]) if chunks else pl.Series("line", [], pl.UInt32)
