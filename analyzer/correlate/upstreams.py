"""Which pod (and container) each request hit.

The address book comes from the logs themselves (``address_book``): a probe of ``IP:port``
for a pod's container (that pod held IP then and that container listens on port); a Pod
object's ``status.podIP`` or a CNI plugin's line naming the pod and its IP; a request id a
proxy sent to ``IP:port`` that the pod's own container log holds too (its app, or its mesh
sidecar's inbound line). A proxy's ``127.0.0.1`` (or a unix socket) means its own pod: it is
a sidecar. ``target_by`` says which: ``local``, ``probe``, ``pod_object``, ``cni``,
``request_id``, ``sidecar`` or ``timing``.

When no line names an IP, the IP is matched by time: its failures began right as a pod was
killed or died, nearer that pod's end than any other's, and it never answered again. Such
requests carry ``target_by = "timing"`` so every report can say so.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from analyzer import formats
from analyzer.schema import EVENTS, LAST_TS, Kind

LOOPBACK = r"^(?:127\.\d+\.\d+\.\d+|localhost|\[::1\]|::1):"
REQUEST_KINDS = (Kind.HTTP.value, Kind.UPSTREAM_ERROR.value)
#: Lifecycle lines after which a pod's IP stops answering.
END_KINDS = (Kind.KILL.value, Kind.SIGKILL.value, Kind.CONTAINER_DIED.value)
#: The first failure to an unknown IP may come this long before / after the pod's end.
FAIL_BEFORE_END_S, FAIL_AFTER_END_S = 1.0, 3.0
#: Statuses a proxy gives when it could not get an answer from the upstream.
#: An IP that answered within this long after the pod's end was not that pod's.
SILENT_AFTER_S = (2.0, 120.0)


def _split_hostport(col: str) -> tuple[pl.Expr, pl.Expr]:
    parts = pl.col(col).str.extract_groups(r"^\[?(?P<host>[^\]]+?)\]?:(?P<port>\d+)$")
    return parts.struct.field("host"), parts.struct.field("port")


def _host_and_port(col: str) -> tuple[pl.Expr, pl.Expr]:
    """``host:port`` split, or a bare IPv4 address (a pod object's ``status.podIP``, a CNI
    plugin's assignment) with no port."""
    parts = pl.col(col).str.extract_groups(
        r"^(?:\[?(?P<host>[^\]]+?)\]?:(?P<port>\d+)|(?P<bare>\d{1,3}(?:\.\d{1,3}){3}))$"
    )
    return (
        pl.coalesce(parts.struct.field("host"), parts.struct.field("bare")),
        parts.struct.field("port"),
    )


#: ``address_book`` columns.
BOOK = pl.Schema(
    {
        "ip": pl.String,
        "port": pl.String,
        "ts": EVENTS["ts"],
        "namespace": pl.String,
        "pod": pl.String,
        "container": pl.String,
        "by": pl.String,
    }
)
#: What named a pod's address, strongest first: a same-IP tie is settled in this order.
BOOK_SOURCES = ("probe", "pod_object", "cni", "sidecar", "request_id")
_NOT_LOOPBACK = ~pl.col("ip").str.contains(r"^127\.|^::1$|^localhost$")


def address_book(events: pl.DataFrame) -> pl.DataFrame:
    """``(ip, port, ts, namespace, pod, container, by)``: each time a line says a pod held an
    address, in time order. ``by`` names the evidence (``BOOK_SOURCES``):

    * ``probe``: a kubelet probe of ``IP:port`` for the pod's container (the container
      listens on that port);
    * ``cni``/``pod_object``: a line naming the pod and its address and nothing else (a CNI
      plugin's assignment in the runtime's journal, a Pod object's ``status.podIP``);
    * ``request_id``/``sidecar``: a proxy sent request R to ``IP:port`` and R is logged in
      the pod's own container log, by its app (or a sidecar in front of it on 127.0.0.1), or
      by its sidecar's inbound line to that same ``IP:port``.

    Each source is worked out per distinct (address, pod), not per request.
    """
    parts = [_probe_targets(events), _pod_addresses(events), _request_ids(events)]
    book = pl.concat([p.select(BOOK.names()).cast(BOOK) for p in parts])  # type: ignore[arg-type]
    rank = _rank("by")
    return (
        book.filter(pl.col("ip").is_not_null() & _NOT_LOOPBACK)
        .sort("ip", "ts", rank)
        .unique(
            ["ip", "port", "namespace", "pod", "container", "by"], keep="first", maintain_order=True
        )
    )


def _rank(col: str) -> pl.Expr:
    return pl.col(col).replace_strict(
        {b: i for i, b in enumerate(BOOK_SOURCES)}, default=len(BOOK_SOURCES), return_dtype=pl.Int32
    )


def _probe_targets(events: pl.DataFrame) -> pl.DataFrame:
    host, port = _split_hostport("upstream")
    return events.filter(
        pl.col("kind").is_in([Kind.PROBE_FAILED.value, Kind.PROBE_ERRORED.value])
        & pl.col("upstream").is_not_null()
        & pl.col("pod").is_not_null()
    ).select(
        host.alias("ip"),
        port.alias("port"),
        "ts",
        "namespace",
        "pod",
        "container",
        pl.lit("probe").alias("by"),
    )


def _pod_addresses(events: pl.DataFrame) -> pl.DataFrame:
    """Plain lines that name a pod and its address (``kind`` log, ``upstream`` the address):
    a Pod object (``source`` event) or a CNI plugin line (``source`` runtime)."""
    host, port = _host_and_port("upstream")
    return events.filter(
        (pl.col("kind") == Kind.LOG.value)
        & pl.col("source").is_in(["event", "runtime"])
        & pl.col("upstream").is_not_null()
        & pl.col("pod").is_not_null()
    ).select(
        host.alias("ip"),
        port.alias("port"),
        "ts",
        "namespace",
        "pod",
        pl.lit(None, pl.String).alias("container"),
        pl.when(pl.col("source") == "event")
        .then(pl.lit("pod_object"))
        .otherwise(pl.lit("cni"))
        .alias("by"),
    )


def _valid_id() -> pl.Expr:
    return pl.col("request_id").is_not_null() & ~pl.col("request_id").is_in(["", "-"])


def _kept_whole() -> pl.Expr:
    """Rows ``normalize.reduce`` keeps one per line: not plain lines, not requests answered
    below 500."""
    kind = pl.col("kind")
    answered = (kind == Kind.HTTP.value) & (pl.col("status") < 500).fill_null(False)
    return ~((kind == Kind.LOG.value) | answered)


def _request_ids(events: pl.DataFrame) -> pl.DataFrame:
    """A request id a proxy sent to ``IP:port`` and a pod logged itself: that pod held IP.

    Both are failures (the lines a reduced read keeps whole). The pod's line is a line
    with that id in another pod's container log that names no remote upstream (its app's
    own line: ``request_id``; a sidecar's line to its app on 127.0.0.1, or with none:
    ``sidecar``) or, from a mesh sidecar, the same ``IP:port`` (its inbound line, as Istio
    >= 1.10 logs it: ``sidecar``; when two sidecars both log the request to that address,
    a gateway's and the pod's own, neither is named). The join is over the few rows that
    carry an id on both sides, then one row per (address, pod). The container is the one
    that logged the id unless that is a proxy (a sidecar forwards to the container behind
    the port).
    """
    schema = {c: BOOK[c] for c in ("ip", "port", "ts", "namespace", "pod", "container")}
    empty = pl.DataFrame(schema=schema).with_columns(pl.lit(None, pl.String).alias("by"))
    if "request_id" not in events.columns:
        return empty
    # Only the lines a reduced read keeps whole (failures, errors; not answered requests and
    # plain lines, which it counts without their ids): the book is then the same whether the
    # events were reduced or not, and the join runs over the failures, not every request.
    events = events.filter(_valid_id() & _kept_whole())
    sent = events.filter(
        pl.col("kind").is_in(REQUEST_KINDS) & pl.col("upstream").is_not_null()
    ).select(
        "request_id",
        "upstream",
        "ts",
        pl.col("namespace").alias("_sns"),
        pl.col("pod").alias("_spod"),
    )
    if sent.height == 0:
        return empty
    host, port = _split_hostport("upstream")
    split = sent.select("upstream").unique().with_columns(host.alias("ip"), port.alias("port"))
    sent = sent.join(split, on="upstream").filter(pl.col("ip").is_not_null() & _NOT_LOOPBACK)
    local = pl.col("upstream").is_null() | pl.col("upstream").str.contains(LOOPBACK).fill_null(
        False
    )
    is_proxy = (pl.col("source") == "proxy").fill_null(False)
    inbound = pl.col("format").is_in([f.name for f in formats.specs() if f.inbound_lines])
    received = (
        # a remote upstream is the pod's own address only on a mesh sidecar's inbound line
        events.filter(
            _valid_id() & pl.col("pod").is_not_null() & (local | inbound.fill_null(False))
        )
        .select(
            "request_id",
            "namespace",
            "pod",
            pl.when(is_proxy).then(None).otherwise(pl.col("container")).alias("container"),
            pl.when(local).then(None).otherwise(pl.col("upstream")).alias("_rup"),
            pl.when(is_proxy).then(pl.lit("sidecar")).otherwise(pl.lit("request_id")).alias("by"),
        )
        .unique()
    )
    other_pod = (pl.col("namespace") != pl.col("_sns")).fill_null(True) | (
        pl.col("pod") != pl.col("_spod")
    ).fill_null(True)
    same_target = pl.col("_rup").is_null() | (pl.col("_rup") == pl.col("upstream"))
    # Two sidecars logging one request to one address (a mesh gateway and the pod's own
    # sidecar) each look like the other's inbound side: such a request names neither.
    claimants = pl.struct("namespace", "pod").n_unique().over("request_id", "upstream")
    return (
        sent.join(received, on="request_id")
        .filter(other_pod & same_target)
        .filter(pl.col("_rup").is_null() | (claimants == 1))
        .group_by("ip", "port", "namespace", "pod", "by")
        .agg(pl.col("ts").min(), pl.col("container").drop_nulls().mode().first())
    )


def port_owners(book: pl.DataFrame) -> pl.DataFrame:
    """(namespace, pod, port) -> the container whose probes target that port (or, failing
    probes, whose own lines answered requests sent to that port)."""
    return (
        book.filter(pl.col("container").is_not_null() & pl.col("port").is_not_null())
        .group_by("namespace", "pod", "port")
        .agg(pl.col("container").sort_by(pl.col("by") != "probe").first())
    )


def with_pods_by_address(rows: pl.DataFrame, book: pl.DataFrame) -> pl.DataFrame:
    """``rows`` with ``namespace``/``pod`` filled, where null, from the pod that held the
    address in ``upstream`` at that time (last named before, else first named after).

    For lifecycle lines that name a target by address only (a load balancer deregistering
    ``IP:port``), so they join that pod's lifecycle. Worked out per distinct address."""
    need = pl.col("pod").is_null() & pl.col("upstream").is_not_null()
    if rows.height == 0 or book.height == 0 or not rows.select(need.any()).item():
        return rows
    host, _ = _host_and_port("upstream")
    todo = rows.with_row_index("_i").filter(need).select("_i", "ts", host.alias("ip"))
    ips = book.select("ip", "ts", pl.col("namespace").alias("_ns"), pl.col("pod").alias("_pod"))
    ips = ips.unique(["ip", "_ns", "_pod"], keep="first", maintain_order=True).sort("ip", "ts")
    todo = todo.filter(pl.col("ip").is_not_null()).sort("ip", "ts")
    back = todo.join_asof(ips, on="ts", by="ip", strategy="backward", check_sortedness=False)
    fwd = todo.join_asof(ips, on="ts", by="ip", strategy="forward", check_sortedness=False)
    found = back.join(
        fwd.select("_i", pl.col("_ns").alias("_fns"), pl.col("_pod").alias("_fpod")), on="_i"
    ).select(
        "_i",
        pl.coalesce("_ns", "_fns").alias("_ns"),
        pl.coalesce("_pod", "_fpod").alias("_pod"),
    )
    out = rows.with_row_index("_i").join(found, on="_i", how="left", maintain_order="left")
    return out.with_columns(
        pl.when(need).then(pl.col("_ns")).otherwise(pl.col("namespace")).alias("namespace"),
        pl.when(need).then(pl.col("_pod")).otherwise(pl.col("pod")).alias("pod"),
    ).drop("_i", "_ns", "_pod")


def attribute(events: pl.DataFrame) -> pl.DataFrame:
    """Request rows (access and upstream-error lines) with ``target_*`` columns.

    ``target_namespace``/``target_pod`` is the pod that failed to answer; ``target_container``
    the container behind the port, when the logs say which.
    """
    requests = events.filter(pl.col("kind").is_in(REQUEST_KINDS))
    # The targets are worked out on the few columns they depend on (a million count rows
    # are not copied through every join), then put beside the rows.
    used = ["ts", "upstream", "format", "namespace", "pod", "kind", "status", LAST_TS]
    targets = _targets(events, requests.select(c for c in used if c in requests.columns))
    out = requests.hstack(targets)
    # Events come in time order (and files, lines): sorting again would copy every column.
    return out if out["ts"].is_sorted() else out.sort("ts", "file", "line")


def _targets(events: pl.DataFrame, requests: pl.DataFrame) -> pl.DataFrame:
    """``target_namespace``, ``target_pod``, ``target_by``, ``target_container`` of each row
    of ``requests``, in its order."""
    local_formats = [s.name for s in formats.specs() if s.upstream_local]
    book = address_book(events)
    # Split once per distinct upstream (a bundle has a few hundred, not millions); a cloud
    # LB's log may name the backend's bare IP (Google's ``httpRequest.serverIp``).
    host, port = _host_and_port("upstream")
    split = (
        requests.select("upstream").unique().with_columns(host.alias("_host"), port.alias("_port"))
    )
    requests = requests.join(
        split, on="upstream", how="left", nulls_equal=True, maintain_order="left"
    )
    loopback = pl.col("upstream").str.contains(LOOPBACK) | pl.col("upstream").str.starts_with("/")
    local = loopback.fill_null(False) | (
        pl.col("upstream").is_null() & pl.col("format").is_in(local_formats)
    )
    # A sidecar's access lines do not name the port; its error lines do (127.0.0.1:8080).
    local_port = (
        requests.filter(loopback.fill_null(False) & pl.col("_port").is_not_null())
        .group_by("namespace", "pod")
        .agg(pl.col("_port").mode().first().alias("_local_port"))
    )
    requests = requests.join(local_port, on=["namespace", "pod"], how="left", maintain_order="left")
    requests = requests.with_columns(
        pl.when(local).then(pl.coalesce("_port", "_local_port")).otherwise("_port").alias("_port")
    )
    # Remote upstreams: the pod that held that IP (last seen before, else first seen after).
    remote = requests.with_row_index("_rid").filter(~local & pl.col("_host").is_not_null())
    ip_book = (
        book.select(
            pl.col("ip").alias("_host"),
            "ts",
            pl.col("namespace").alias("_r_ns"),
            pl.col("pod").alias("_r_pod"),
            pl.col("by").alias("_r_by"),
        )
        .sort("_host", "ts")
        # the first sighting's time (the widest reach), the strongest source's name
        .with_columns(
            pl.col("_r_by").sort_by(_rank("_r_by")).first().over("_host", "_r_ns", "_r_pod")
        )
        .unique(["_host", "_r_ns", "_r_pod"], keep="first", maintain_order=True)
    )
    known = ip_book.select("_r_ns", "_r_pod").unique()
    by_timing = ips_by_timing(
        events, remote.filter(~pl.col("_host").is_in(ip_book["_host"].implode())), known
    )
    unmatched = remote.filter(
        ~pl.col("_host").is_in(ip_book["_host"].implode())
        & ~pl.col("_host").is_in(by_timing["_host"].implode())
    )
    by_birth = ips_by_birth(
        events, unmatched, pl.concat([known, by_timing.select("_r_ns", "_r_pod").drop_nulls()])
    )
    ip_book = pl.concat(
        [
            ip_book,
            by_timing.with_columns(pl.lit("timing").alias("_r_by")).select(ip_book.columns),
            by_birth.with_columns(pl.lit("timing").alias("_r_by")).select(ip_book.columns),
        ]
    ).sort("_host", "ts")
    if remote.height and ip_book.height:
        remote_sorted = remote.select("_rid", "_host", "ts").sort("_host", "ts")
        back = remote_sorted.join_asof(
            ip_book, on="ts", by="_host", strategy="backward", check_sortedness=False
        )
        fwd = remote_sorted.join_asof(
            ip_book, on="ts", by="_host", strategy="forward", check_sortedness=False
        ).select(
            "_rid",
            pl.col("_r_ns").alias("_f_ns"),
            pl.col("_r_pod").alias("_f_pod"),
            pl.col("_r_by").alias("_f_by"),
        )
        resolved = back.join(fwd, on="_rid").select(
            "_rid",
            pl.coalesce("_r_ns", "_f_ns").alias("_remote_ns"),
            pl.coalesce("_r_pod", "_f_pod").alias("_remote_pod"),
            pl.when(pl.col("_r_pod").is_not_null())
            .then(pl.col("_r_by"))
            .otherwise(pl.col("_f_by"))
            .alias("_remote_by"),
        )
    else:
        resolved = pl.DataFrame(
            schema={
                "_rid": pl.UInt32,
                "_remote_ns": pl.String,
                "_remote_pod": pl.String,
                "_remote_by": pl.String,
            }
        )
    requests = requests.with_row_index("_rid").join(
        resolved, on="_rid", how="left", maintain_order="left"
    )
    requests = requests.with_columns(
        pl.when(local)
        .then(pl.col("namespace"))
        .otherwise(pl.col("_remote_ns"))
        .alias("target_namespace"),
        pl.when(local).then(pl.col("pod")).otherwise(pl.col("_remote_pod")).alias("target_pod"),
        pl.when(local)
        .then(pl.lit("local"))
        .when(pl.col("_remote_pod").is_not_null())
        .then(pl.col("_remote_by"))
        .alias("target_by"),
    )
    owners = port_owners(book).rename(
        {
            "namespace": "target_namespace",
            "pod": "target_pod",
            "port": "_port",
            "container": "target_container",
        }
    )
    requests = requests.join(
        owners, on=["target_namespace", "target_pod", "_port"], how="left", maintain_order="left"
    )
    return requests.select("target_namespace", "target_pod", "target_by", "target_container")


def ips_by_timing(events: pl.DataFrame, unknown: pl.DataFrame, known: pl.DataFrame) -> pl.DataFrame:
    """``(_host, ts, _r_ns, _r_pod)`` for IPs no line names, matched to a pod by time.

    A pod is a candidate for an IP when requests to it first failed (a 5xx or an upstream
    error) between 1 s before and 3 s after (or, when the IP last answered earlier,
    since it last answered) the kill, SIGKILL or death of that pod, whose own address is not
    known otherwise, and the IP then answered nothing for the next two minutes (or only once
    that pod's container had started again: a restart keeps the address).

    One candidate: matched. Several pods ending together are told apart by each pod's own
    ends: an IP goes to the pod whose end came nearest its first failure when that is at
    least ``TIMING_MARGIN_S`` nearer than any other candidate's, and no other IP's first
    failure is as near that pod's end (a pod has one address). Each match takes its pod (and
    IP) out of the others' candidates, and the rest are looked at again; what stays
    ambiguous stays unmatched: no guessing. The match holds until two minutes after that end
    (a row with no pod closes it): IPs are reused by later pods.
    """
    schema = {"_host": pl.String, "ts": EVENTS["ts"], "_r_ns": pl.String, "_r_pod": pl.String}
    # Any 5xx: an app that can no longer serve (its sidecar gone) answers 500 as it ends.
    proxy_failed = (pl.col("kind") == Kind.UPSTREAM_ERROR.value) | (pl.col("status") >= 500)
    is_ip = pl.col("_host").str.contains(r"^\d{1,3}(?:\.\d{1,3}){3}$|:")
    unknown = unknown.filter(is_ip)
    # A count row's answers run to its ``last_ts``: the first answer after a moment is at
    # most that second's last one.
    answered_at = pl.col(LAST_TS) if LAST_TS in unknown.columns else pl.col("ts")
    answers = (
        unknown.filter(~proxy_failed.fill_null(False) & pl.col("status").is_not_null())
        .select("_host", answered_at.alias("_answer"))
        .sort("_answer")
    )
    hosts = (
        unknown.filter(proxy_failed.fill_null(False))
        .group_by("_host")
        .agg(pl.col("ts").min().alias("_first_fail"))
        .sort("_first_fail")
    )
    if hosts.height == 0:
        return pl.DataFrame(schema=schema)
    last_ok = hosts.join_asof(
        answers.select("_host", pl.col("_answer").alias("_last_ok")),
        left_on="_first_fail",
        right_on="_last_ok",
        by="_host",
        strategy="backward",
        check_sortedness=False,
    )
    first = pl.col("_first_fail")
    since_ok = pl.max_horizontal(
        pl.col("_last_ok") - timedelta(seconds=FAIL_BEFORE_END_S),
        first - timedelta(seconds=MAX_SILENT_BEFORE_S),
    )
    hosts = last_ok.with_columns(
        # the ends that put the first failure in [end - 1 s, end + 3 s], or after the last answer
        pl.min_horizontal(first - timedelta(seconds=FAIL_AFTER_END_S), since_ok).alias("_lo"),
        (first + timedelta(seconds=FAIL_BEFORE_END_S)).alias("_hi"),
    )
    ends = (
        events.filter(pl.col("kind").is_in(END_KINDS) & pl.col("pod").is_not_null())
        .select(
            pl.col("ts").alias("_end"),
            pl.col("namespace").alias("_r_ns"),
            pl.col("pod").alias("_r_pod"),
        )
        .join(known, on=["_r_ns", "_r_pod"], how="anti")
    )
    if ends.height == 0:
        return pl.DataFrame(schema=schema)
    lo, hi = SILENT_AFTER_S
    gap = (pl.col("_end") - pl.col("_first_fail")).abs()
    pairs = (
        hosts.join_where(ends, pl.col("_end") >= pl.col("_lo"), pl.col("_end") <= pl.col("_hi"))
        .group_by("_host", "_r_ns", "_r_pod")
        .agg(pl.col("_end").min(), gap.min().alias("_gap"))
        .with_columns(
            (pl.col("_end") + timedelta(seconds=lo)).cast(EVENTS["ts"]).alias("_quiet_from")
        )
        .sort("_quiet_from")
    )
    # A container that died and came back (an OOM kill, a liveness restart, a crash) keeps
    # the pod's address: the IP may answer again once that pod's container started again.
    starts = (
        events.filter(
            (pl.col("kind") == Kind.CONTAINER_STARTED.value) & pl.col("pod").is_not_null()
        )
        .select(
            pl.col("namespace").alias("_r_ns"),
            pl.col("pod").alias("_r_pod"),
            pl.col("ts").alias("_back"),
        )
        .sort("_back")
    )
    pairs = (
        pairs.sort("_end")
        .join_asof(
            starts,
            left_on="_end",
            right_on="_back",
            by=["_r_ns", "_r_pod"],
            strategy="forward",
            check_sortedness=False,
        )
        .sort("_quiet_from")
    )
    # Silence after the end: the next answer from that IP (status below 502) comes too late,
    # or only after that pod's container was started again.
    pairs = pairs.join_asof(
        answers,
        left_on="_quiet_from",
        right_on="_answer",
        by="_host",
        strategy="forward",
        check_sortedness=False,
    ).filter(
        pl.col("_answer").is_null()
        | (pl.col("_answer") > pl.col("_end") + timedelta(seconds=hi))
        | (pl.col("_back").is_not_null() & (pl.col("_answer") >= pl.col("_back")))
    )
    matched = _assign(pairs.select("_host", "_r_ns", "_r_pod", "_end", "_gap"))
    closed = matched.select(
        "_host",
        (pl.col("_end") + timedelta(seconds=hi)).alias("ts"),
        pl.lit(None, pl.String).alias("_r_ns"),
        pl.lit(None, pl.String).alias("_r_pod"),
    )
    opened = matched.select("_host", pl.col("_end").alias("ts"), "_r_ns", "_r_pod")
    return pl.concat([opened.cast(schema), closed.cast(schema)])  # type: ignore[arg-type]


#: A new pod's first request comes this soon after it started (or became ready) at most.
BIRTH_WITHIN_S = 30.0
BIRTH_KINDS = (Kind.POD_ADDED.value, Kind.CONTAINER_STARTED.value, Kind.READY.value)


def ips_by_birth(events: pl.DataFrame, unknown: pl.DataFrame, known: pl.DataFrame) -> pl.DataFrame:
    """``(_host, ts, _r_ns, _r_pod)`` for IPs no line names that appear as a new pod starts.

    A pod is a candidate for an IP when the IP's first request of all (any status) came
    within ``BIRTH_WITHIN_S`` after that pod was added, started a container or became
    ready, and the pod's address is not known otherwise: endpoints list a pod once it
    starts (no readiness probe) or is ready. Several pods starting together are told apart
    as ends are (``_assign``): each IP to the pod whose start came nearest its first request,
    clearly nearer than any other's; the rest stays unmatched.
    """
    schema = {"_host": pl.String, "ts": EVENTS["ts"], "_r_ns": pl.String, "_r_pod": pl.String}
    is_ip = pl.col("_host").str.contains(r"^\d{1,3}(?:\.\d{1,3}){3}$|:")
    firsts = unknown.filter(is_ip).group_by("_host").agg(pl.col("ts").min().alias("_first"))
    starts = (
        events.filter(pl.col("kind").is_in(BIRTH_KINDS) & pl.col("pod").is_not_null())
        .select(
            pl.col("ts").alias("_start"),
            pl.col("namespace").alias("_r_ns"),
            pl.col("pod").alias("_r_pod"),
        )
        .join(known, on=["_r_ns", "_r_pod"], how="anti")
    )
    if firsts.height == 0 or starts.height == 0:
        return pl.DataFrame(schema=schema)
    # The IP was there before the logs began: its pod's start is not in them.
    earliest = events["ts"].min()
    firsts = firsts.filter(pl.col("_first") > earliest + timedelta(seconds=BIRTH_WITHIN_S))
    pairs = (
        firsts.join_where(
            starts,
            pl.col("_start") <= pl.col("_first") + timedelta(seconds=1),
            pl.col("_start") >= pl.col("_first") - timedelta(seconds=BIRTH_WITHIN_S),
        )
        .group_by("_host", "_r_ns", "_r_pod")
        .agg(
            pl.col("_start").min(),
            (pl.col("_first") - pl.col("_start")).abs().min().alias("_gap"),
        )
    )
    matched = _assign(
        pairs.select("_host", "_r_ns", "_r_pod", pl.col("_start").alias("_end"), "_gap")
    )
    return matched.select("_host", pl.col("_end").alias("ts"), "_r_ns", "_r_pod").cast(schema)  # type: ignore[arg-type]


#: An IP's first failure may follow its last answer by this much at most (a quiet upstream).
MAX_SILENT_BEFORE_S = 30.0
#: Between two candidate pods (or IPs), the nearer end must be this much nearer.
TIMING_MARGIN_S = 0.5


def _assign(pairs: pl.DataFrame) -> pl.DataFrame:
    """``pairs`` (one per candidate IP and pod, ``_gap`` from the pod's nearest end to the
    IP's first failure) cut down to the matches: each IP to at most one pod, each pod to at
    most one IP, only where the nearest is clearly nearest from both sides.

    A few rounds over a few rows (candidates are IPs failing as pods end), each vectorized.
    """
    margin = timedelta(seconds=TIMING_MARGIN_S)
    pod = ["_r_ns", "_r_pod"]
    done: list[pl.DataFrame] = []
    while pairs.height:
        ranked = pairs.with_columns(
            pl.col("_gap").rank("ordinal").over("_host").alias("_ip_rank"),
            pl.col("_gap").sort().get(1, null_on_oob=True).over("_host").alias("_ip_second"),
            pl.col("_gap").rank("ordinal").over(pod).alias("_pod_rank"),
            pl.col("_gap").sort().get(1, null_on_oob=True).over(pod).alias("_pod_second"),
        )
        clear = (pl.col("_ip_rank") == 1) & (pl.col("_pod_rank") == 1)
        clear &= (pl.col("_ip_second") - pl.col("_gap") >= margin).fill_null(True)
        clear &= (pl.col("_pod_second") - pl.col("_gap") >= margin).fill_null(True)
        now = ranked.filter(clear).select(pairs.columns)
        if now.height == 0:
            break
        done.append(now)
        pairs = pairs.join(now.select("_host"), on="_host", how="anti").join(
            now.select(pod), on=pod, how="anti"
        )
    if not done:
        return pairs.clear()
    return pl.concat(done)


def failing(requests: pl.DataFrame) -> pl.DataFrame:
    """Requests that failed, one row per request: 5xx responses, and upstream errors with no
    access line of their own.

    One request logged by several hops (an ingress and the proxy behind it, the client and
    server sidecars of a mesh, a proxy's error and access lines) is one failure: rows sharing
    a request id keep the one closest to the pod that failed; an error line without an id
    is dropped when its component logged a 5xx to the same upstream within ``SAME_REQUEST_S``.
    """
    http_5xx = (pl.col("kind") == Kind.HTTP.value) & (pl.col("status") >= 500)
    errors = pl.col("kind") == Kind.UPSTREAM_ERROR.value
    rows = requests.filter(http_5xx | errors)
    has_id = pl.col("request_id").is_not_null() & ~pl.col("request_id").is_in(["", "-"])
    # Attributed rows first, then those naming the container behind the port, then access
    # lines over error lines, then the earliest.
    closest = [
        pl.col("target_pod").is_null(),
        pl.col("target_container").is_null() if "target_container" in rows.columns else pl.lit(0),
        pl.col("kind") != Kind.HTTP.value,
        pl.col("ts"),
    ]
    with_id = (
        rows.filter(has_id).sort(closest).unique("request_id", keep="first", maintain_order=True)
    )
    without_id = rows.filter(~has_id)
    # An error line names no request id even where its access line does (nginx error.log).
    lone_errors = _logged_beside_an_access_line(without_id.filter(errors), rows.filter(http_5xx))
    return pl.concat([with_id, without_id.filter(http_5xx), lone_errors]).sort("ts", "file", "line")


SAME_REQUEST_S = 1.0


def _component() -> pl.Expr:
    """The component that wrote a line: its pod, else its file's directory (an nginx writes
    access.log and error.log side by side)."""
    return pl.coalesce(
        pl.format("{}/{}", pl.col("namespace"), pl.col("pod")),
        pl.col("file").str.replace(r"/[^/]*$", ""),
    )


def _logged_beside_an_access_line(errors: pl.DataFrame, access: pl.DataFrame) -> pl.DataFrame:
    """``errors`` without a 5xx access line of the same component and upstream nearby."""
    if errors.height == 0 or access.height == 0:
        return errors
    index = pl.int_range(pl.len(), dtype=pl.UInt32).alias("_i")
    left = errors.select(index, _component().alias("_c"), "upstream", "ts").drop_nulls().sort("ts")
    right = (
        access.select(_component().alias("_c"), "upstream", "ts", pl.lit(True).alias("_seen"))
        .drop_nulls()
        .sort("ts")
    )
    matched = left.join_asof(
        right,
        on="ts",
        by=["_c", "upstream"],
        strategy="nearest",
        tolerance=f"{int(SAME_REQUEST_S * 1000)}ms",
        check_sortedness=False,
    ).filter(pl.col("_seen").fill_null(False))
    keep = ~pl.int_range(pl.len(), dtype=pl.UInt32).is_in(matched["_i"].implode())
    return errors.filter(keep)
