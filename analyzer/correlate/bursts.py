"""5xx bursts: failing requests per target pod (or per reporting proxy) that depart from
that pod's or proxy's own baseline.

The rule, each threshold a field of ``BurstRule``:

1. A key's failures (the pod that failed to answer, else the upstream address a proxy
   could not reach, else the proxy that reported them) are split into clusters at gaps
   longer than ``gap_s``.
2. A cluster is a burst when it has at least ``min_failures`` failing requests, those are at
   least ``min_share`` of the requests the key handled within the cluster's span (successes
   counted per second, as the reduced frame keeps them), and that share is at least
   ``min_lift`` times the key's share outside the cluster (its background rate), and so many
   failures among that many requests would arise by chance at the background rate (Poisson,
   the rate floored at ``FLOOR_SHARE``) less often than ``max_chance``: three isolated 500s
   that happen to fall close together on a pod failing 0.5 % of the time are not a burst.
3. Every other failure is background: counted and reported as such, never an incident.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from analyzer.schema import COUNT, Kind


@dataclass(frozen=True)
class BurstRule:
    gap_s: float = 30.0  # failures of one key further apart than this are separate clusters
    min_failures: int = 3  # fewer failing requests are never a burst
    min_share: float = 0.2  # of the key's requests within the cluster's span
    min_lift: float = 5.0  # over the key's failure share outside the cluster
    max_chance: float = 1e-6  # of seeing this many failures at the background rate


DEFAULT_RULE = BurstRule()
#: The background share assumed for a key that failed nothing outside its bursts.
FLOOR_SHARE = 1e-3


def log_chance(k: pl.Expr, expected: pl.Expr) -> pl.Expr:
    """ln P(X >= k) for X ~ Poisson(expected), for k >= 1: the first term of the tail times
    the geometric bound on the rest, with Stirling's ln k!; 0 (certain) when expected >= k."""
    k = k.cast(pl.Float64)
    ln_fact = k * k.log() - k + 0.5 * (2 * 3.141592653589793 * k).log() + 1 / (12 * k)
    head = k * expected.log() - expected - ln_fact - (1 - expected / (k + 1)).log()
    return pl.when(expected < k).then(pl.min_horizontal(head, 0.0)).otherwise(0.0)


def reporter_key() -> pl.Expr:
    """The component that logged the failure: its format and its pod (or file)."""
    return pl.format(
        "{} {}",
        pl.col("format"),
        pl.coalesce(pl.format("{}/{}", pl.col("namespace"), pl.col("pod")), pl.col("file")),
    )


def burst_key() -> pl.Expr:
    """The pod that failed to answer, else the address the reporter could not reach (one
    backend among many behind a proxy), else the component that reported the failure.

    A routable address names one backend whichever proxy replica reached it, so its failures
    are one key across replicas; a loopback address means a different backend per reporter
    (each pod's own sidecar or Workhorse), so it stays keyed by its reporter."""
    loopback = pl.col("upstream").str.contains(r"^(?:127\.|localhost|\[?::1\]?)")
    return (
        pl.when(pl.col("target_pod").is_not_null())
        .then(pl.format("pod {}/{}", pl.col("target_namespace"), pl.col("target_pod")))
        .when(pl.col("upstream").is_not_null() & ~loopback)
        .then(pl.format("upstream {}", pl.col("upstream")))
        .when(pl.col("upstream").is_not_null())
        .then(pl.format("upstream {} via {}", pl.col("upstream"), reporter_key()))
        .otherwise(reporter_key())
    )


def status_label() -> pl.Expr:
    return pl.col("status").cast(pl.String).fill_null("upstream_error")


def answered() -> pl.Expr:
    """Requests that got an answer below 500 (the failures' counterpart)."""
    return (pl.col("kind") == Kind.HTTP.value) & (pl.col("status") < 500).fill_null(False)


BURSTS_SCHEMA = {
    "burst_key": pl.String,
    "burst": pl.UInt32,
    "attributed": pl.Boolean,
    "target_namespace": pl.String,
    "target_pod": pl.String,
    "start": pl.Datetime("ns", "UTC"),
    "end": pl.Datetime("ns", "UTC"),
    "count": pl.UInt32,
    "answered": pl.UInt32,
    "share": pl.Float64,
    "background_share": pl.Float64,
    "status_counts": pl.List(pl.Struct({"status": pl.String, "count": pl.UInt32})),
    "clients": pl.List(pl.String),
    "formats": pl.List(pl.String),
    "first_file": pl.String,
    "first_line": pl.UInt32,
    "last_file": pl.String,
    "last_line": pl.UInt32,
    "peak_per_s": pl.UInt32,
    #: a steady trickle of one failure mode (``find_trickles``), not a burst
    "trickle": pl.Boolean,
    #: a pod's few failures as it ended (``find_tails``): an incident only with its rollout's
    "tail": pl.Boolean,
}


def clustered(failures: pl.DataFrame, key: pl.Expr, gap_s: float) -> pl.DataFrame:
    """``failures`` with ``burst_key`` and ``burst`` (the cluster's number within its key)."""
    rows = failures.with_columns(key.alias("burst_key"), status_label().alias("_status")).sort(
        "burst_key", "ts"
    )
    gap = pl.col("ts").diff().over("burst_key").dt.total_nanoseconds() > int(gap_s * 1e9)
    if "pod_incarnation" in rows.columns:
        # A pod recreated under the same name (StatefulSet) is another pod: another burst.
        # Failures before the pod's first lifecycle line (no known life: null) belong to
        # whichever life follows, so only a change between two known lives splits.
        before = pl.col("pod_incarnation").shift(1).forward_fill().over("burst_key")
        gap = gap | (pl.col("pod_incarnation") != before).fill_null(False)
    rows = rows.with_columns(
        gap.fill_null(True).cast(pl.UInt32).cum_sum().over("burst_key").alias("burst")
    )
    return _trim_edges(rows)


def _trim_edges(rows: pl.DataFrame) -> pl.DataFrame:
    """Move failures at the start or end of a cluster that are likelier the key's background
    than the burst's into clusters of their own.

    Within ``gap_s`` of a real burst there are often a few failures of the background (an
    isolated 500 twenty seconds before a pod's termination): they would stretch the burst's
    interval. An edge failure ``g`` seconds from its neighbour in the cluster is cut off when
    the burst's own pace makes such a gap less likely (exponential gaps of the cluster's
    median: ``exp(-g/m)/m``) than a failure of the key's background rate (its failures outside
    the cluster per second of its failing span, at least a minute) landing there, or when it
    is of another status than most of the burst's and more than 5 s and 3 paces away. Failures
    inside stay, however sparse."""
    cluster = ["burst_key", "burst"]
    secs = pl.col("ts").diff().over(cluster).dt.total_nanoseconds() / 1e9
    gap_next = secs.shift(-1).over(cluster)
    gap = pl.min_horizontal(secs.fill_null(float("inf")), gap_next.fill_null(float("inf")))
    pace = gap_next.median().over(cluster)
    span = (pl.col("ts").max() - pl.col("ts").min()).over("burst_key").dt.total_seconds()
    others = pl.len().over("burst_key") - pl.len().over(cluster)
    background_rate = others / pl.max_horizontal(span, pl.lit(60))
    burst_density = (-gap / pace).exp() / pace
    # An edge failure of another kind than the burst's (an app's 500 beside a proxy's 502s)
    # and well apart from it is another process too, even with no other failures to go by.
    usual = pl.col("_status").mode().first().over(cluster)
    apart = gap > pl.max_horizontal(pl.lit(5.0), 3 * pace)
    lone = (burst_density < background_rate).fill_null(False) | (
        (pl.col("_status") != usual) & apart
    ).fill_null(False)
    kept = (~lone).cast(pl.UInt32)
    part = (
        pl.when(kept.cum_sum().over(cluster) == 0)
        .then(0)  # before the first failure that is the burst's
        .when(kept.cum_sum(reverse=True).over(cluster) == 0)
        .then(2)  # after the last
        .otherwise(1)
    )
    order = pl.col("burst").cast(pl.UInt64) * 3 + part.cast(pl.UInt64)
    return rows.with_columns(order.rank("dense").over("burst_key").cast(pl.UInt32).alias("burst"))


def _answered_within(
    clusters: pl.DataFrame, requests: pl.DataFrame | None, key: pl.Expr
) -> pl.DataFrame:
    """``clusters`` with ``answered`` (within each cluster's span, whole seconds) and
    ``answered_total`` (all of its key's), from running totals per key."""
    zero = pl.lit(0, dtype=pl.UInt64)
    if requests is None or requests.height == 0:
        return clusters.with_columns(zero.alias("answered"), zero.alias("answered_total"))
    count = pl.col(COUNT) if COUNT in requests.columns else pl.lit(1)
    keys = clusters.select("burst_key").unique()
    ok = (
        requests.filter(answered())
        .select(key.alias("burst_key"), "ts", count.cast(pl.UInt64).alias("_n"))
        .join(keys, on="burst_key", how="semi")
        .group_by("burst_key", "ts")
        .agg(pl.col("_n").sum())
        .sort("ts")
        .with_columns(pl.col("_n").cum_sum().over("burst_key").alias("_upto"))
    )
    totals = ok.group_by("burst_key").agg(pl.col("_n").sum().alias("answered_total"))

    def upto(at: pl.Expr, name: str) -> pl.DataFrame:
        probe = clusters.select("burst_key", "burst", at.alias("ts")).sort("ts")
        return probe.join_asof(
            ok.select("burst_key", "ts", "_upto"),
            on="ts",
            by="burst_key",
            strategy="backward",
            check_sortedness=False,
        ).select("burst_key", "burst", pl.col("_upto").fill_null(0).alias(name))

    before = upto(pl.col("start").dt.truncate("1s") - pl.duration(nanoseconds=1), "_before")
    until = upto(pl.col("end"), "_until")
    return (
        clusters.join(before, on=["burst_key", "burst"], how="left")
        .join(until, on=["burst_key", "burst"], how="left")
        .join(totals, on="burst_key", how="left")
        .with_columns(
            (pl.col("_until") - pl.col("_before")).alias("answered"),
            pl.col("answered_total").fill_null(0),
        )
        .drop("_before", "_until")
    )


def find_bursts(
    failures: pl.DataFrame,
    requests: pl.DataFrame | None = None,
    *,
    rule: BurstRule = DEFAULT_RULE,
    key: pl.Expr | None = None,
) -> pl.DataFrame:
    """One row per burst (``BURSTS_SCHEMA``): failures of one key that depart from its
    baseline (the module's rule). ``failures`` are attributed failing requests
    (``upstreams.failing``); ``requests`` every request, for the share that failed."""
    if failures.height == 0:
        return pl.DataFrame(schema=BURSTS_SCHEMA)
    key = burst_key() if key is None else key
    rows = clustered(failures, key, rule.gap_s)
    clusters = rows.group_by("burst_key", "burst", maintain_order=True).agg(
        pl.col("target_pod").is_not_null().any().alias("attributed"),
        pl.col("target_namespace").drop_nulls().first(),
        pl.col("target_pod").drop_nulls().first(),
        pl.col("ts").min().alias("start"),
        pl.col("ts").max().alias("end"),
        pl.len().cast(pl.UInt32).alias("count"),
        pl.col("client").drop_nulls().unique(maintain_order=True).alias("clients"),
        pl.col("format").unique(maintain_order=True).alias("formats"),
        pl.col("file").first().alias("first_file"),
        pl.col("line").first().alias("first_line"),
        pl.col("file").last().alias("last_file"),
        pl.col("line").last().alias("last_line"),
        pl.col("ts")
        .dt.truncate("1s")
        .value_counts()
        .struct.field("count")
        .max()
        .cast(pl.UInt32)
        .alias("peak_per_s"),
    )
    clusters = _answered_within(clusters, requests, key)
    share = pl.col("count") / (pl.col("count") + pl.col("answered"))
    dense = (pl.col("count") >= rule.min_failures) & (share >= rule.min_share)
    # The baseline is what the key did outside every dense cluster: bursts elsewhere in the
    # file must not raise it.
    in_dense = pl.col("_dense").cast(pl.UInt64)
    outside_failed = pl.col("failed_total") - (pl.col("count") * in_dense).sum().over("burst_key")
    outside_answered = pl.col("answered_total") - (pl.col("answered") * in_dense).sum().over(
        "burst_key"
    )
    clusters = clusters.with_columns(
        share.alias("share"),
        dense.alias("_dense"),
        pl.col("count").sum().over("burst_key").alias("failed_total"),
    )
    clusters = clusters.with_columns(
        pl.when(outside_failed + outside_answered > 0)
        .then(outside_failed / (outside_failed + outside_answered))
        .otherwise(0.0)
        .alias("background_share")
    )
    expected = (pl.col("count") + pl.col("answered")).cast(pl.Float64) * pl.max_horizontal(
        pl.col("background_share"), FLOOR_SHARE
    )
    bursts = clusters.filter(
        pl.col("_dense")
        & (pl.col("share") >= rule.min_lift * pl.col("background_share"))
        & (log_chance(pl.col("count"), expected) < math.log(rule.max_chance))
    )
    counts = (
        rows.join(bursts.select("burst_key", "burst"), on=["burst_key", "burst"], how="semi")
        .group_by("burst_key", "burst", "_status")
        .agg(pl.len().cast(pl.UInt32).alias("count"))
        .sort("_status")
        .group_by("burst_key", "burst")
        .agg(pl.struct(pl.col("_status").alias("status"), "count").alias("status_counts"))
    )
    out = bursts.join(counts, on=["burst_key", "burst"], how="left").sort("start")
    return out.with_columns(
        pl.col("answered").cast(pl.UInt32),
        pl.lit(False).alias("trickle"),
        pl.lit(False).alias("tail"),
    ).select(list(BURSTS_SCHEMA))


#: A trickle: failures of one mode that no burst holds, spread over minutes, that no chance
#: at the floor rate explains. Only modes that name a mechanism count (a steady 0.5 % of
#: app 500s is the app's own business, not an incident).
TRICKLE_MODES = ("reset",)
TRICKLE_MIN_FAILURES = 10
TRICKLE_MIN_SPAN_S = 120.0
TRICKLE_RULE = BurstRule(gap_s=1e9, min_failures=TRICKLE_MIN_FAILURES, min_share=0.0, min_lift=0.0)


def find_trickles(
    failures: pl.DataFrame, requests: pl.DataFrame | None, bursts: pl.DataFrame
) -> pl.DataFrame:
    """One row per key (``BURSTS_SCHEMA``, ``trickle`` true) whose failures outside every
    burst are a steady stream of one mechanism (``TRICKLE_MODES``: connections the server
    closed under reused requests, RC4b), spread over ``TRICKLE_MIN_SPAN_S`` or more."""
    if failures.height == 0 or "mode" not in failures.columns:
        return pl.DataFrame(schema=BURSTS_SCHEMA)
    rest = outside_bursts(failures, bursts).filter(pl.col("mode").is_in(TRICKLE_MODES))
    if rest.height < TRICKLE_MIN_FAILURES:
        return pl.DataFrame(schema=BURSTS_SCHEMA)
    found = find_bursts(rest, requests, rule=TRICKLE_RULE)
    long = (pl.col("end") - pl.col("start")).dt.total_seconds() >= TRICKLE_MIN_SPAN_S
    return found.filter(long).with_columns(pl.lit(True).alias("trickle"))


def outside_bursts(failures: pl.DataFrame, bursts: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``failures`` (keyed by ``_burst_key``) that no burst's span holds."""
    spans = bursts.filter(~pl.col("trickle") & ~pl.col("tail")).select(
        pl.col("burst_key").alias("_burst_key"), "start", "end"
    )
    rows = failures.with_row_index("_oi")
    inside = (
        rows.select("_oi", "_burst_key", "ts")
        .join(spans, on="_burst_key")
        .filter(pl.col("ts").is_between("start", "end"))
    )
    return rows.join(inside.select("_oi"), on="_oi", how="anti").drop("_oi")


def background(
    failures: pl.DataFrame, bursts: pl.DataFrame, *, key: pl.Expr | None = None
) -> pl.DataFrame:
    """Failures in no burst, per key: the background rate (``count``, first and last)."""
    schema = {
        "burst_key": pl.String,
        "count": pl.UInt32,
        "first": pl.Datetime("ns", "UTC"),
        "last": pl.Datetime("ns", "UTC"),
        "statuses": pl.List(pl.String),
    }
    if failures.height == 0:
        return pl.DataFrame(schema=schema)
    key = burst_key() if key is None else key
    trickle = pl.col("trickle") if "trickle" in bursts.columns else pl.lit(False)
    spans = bursts.select("burst_key", "start", "end", trickle.alias("_trickle"))
    mode = pl.col("mode") if "mode" in failures.columns else pl.lit(None, pl.String)
    rows = failures.select(
        key.alias("burst_key"),
        "ts",
        status_label().alias("_status"),
        pl.int_range(pl.len()).alias("_i"),
        mode.alias("_mode"),
    )
    # A trickle holds the failures of its mode only.
    held = ~pl.col("_trickle") | pl.col("_mode").is_in(TRICKLE_MODES).fill_null(False)
    inside = rows.join(spans, on="burst_key").filter(pl.col("ts").is_between("start", "end") & held)
    rest = rows.join(inside.select("_i"), on="_i", how="anti")
    return (
        rest.group_by("burst_key")
        .agg(
            pl.len().cast(pl.UInt32).alias("count"),
            pl.col("ts").min().alias("first"),
            pl.col("ts").max().alias("last"),
            pl.col("_status").unique().sort().alias("statuses"),
        )
        .sort("count", "burst_key", descending=[True, False])
        .select(list(schema))
    )


#: A termination's tail: failures of a pod that no burst holds, from just before its
#: termination began to its grace period (``TAIL_GRACE_S`` when none is logged) plus this.
TAIL_AFTER_S = 15.0
TAIL_GRACE_S = 30.0
TAIL_RULE = BurstRule(gap_s=1e9, min_failures=1, min_share=0.0, min_lift=0.0, max_chance=1.0)
#: What a pod ending makes a proxy log (not the app's own 500s, which run at their own rate).
TAIL_MODES = ("refused", "reset", "timeout", "no_upstream", "unknown")


def find_tails(
    failures: pl.DataFrame,
    requests: pl.DataFrame | None,
    bursts: pl.DataFrame,
    terminations: pl.DataFrame,
) -> pl.DataFrame:
    """One row per pod (``BURSTS_SCHEMA``, ``tail`` true) for its proxy failures outside
    every burst while it was being terminated: too few for a burst of its own, but a rollout
    that lost one or two requests on each pod it replaced lost them all the same
    (``incidents.group_bursts`` keeps a tail only in a chain with others).

    ``terminations``: ``namespace``, ``pod``, ``ts`` (when it began), ``grace_period_s``."""
    if failures.height == 0 or "mode" not in failures.columns or terminations.height == 0:
        return pl.DataFrame(schema=BURSTS_SCHEMA)
    held = bursts.filter(pl.col("trickle"))["burst_key"]
    rest = outside_bursts(failures, bursts).filter(
        pl.col("target_pod").is_not_null()
        & pl.col("mode").is_in(TAIL_MODES)
        & ~pl.col("_burst_key").is_in(held.implode())
    )
    ends = terminations.select(
        pl.col("namespace").alias("target_namespace"),
        pl.col("pod").alias("target_pod"),
        pl.col("ts").alias("_term"),
        pl.col("grace_period_s").fill_null(TAIL_GRACE_S).alias("_grace"),
    )
    window = (pl.col("ts") >= pl.col("_term") - pl.duration(seconds=1)) & (
        pl.col("ts") <= pl.col("_term") + pl.duration(seconds=pl.col("_grace") + TAIL_AFTER_S)
    )
    tails = (
        rest.join(ends, on=["target_namespace", "target_pod"])
        .filter(window)
        .drop("_term", "_grace")
        .unique(["file", "line"], maintain_order=True)
    )
    if tails.height == 0:
        return pl.DataFrame(schema=BURSTS_SCHEMA)
    return find_bursts(tails, requests, rule=TAIL_RULE).with_columns(pl.lit(True).alias("tail"))
