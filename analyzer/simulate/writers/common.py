"""What every writer shares: the world's pods and containers as frames, node clocks, time
formats as polars expressions, and rendering a line frame in chunks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import polars as pl

from analyzer.simulate.world import TS, World

#: Rows formatted and encoded at a time (a file is yielded in pieces of this many lines).
CHUNK_ROWS = 500_000

#: A file's lines before they are joined: true write time (for order), then the text.
LINES = pl.Schema({"ts": TS, "order": pl.Int64, "line": pl.String})


def pods_frame(world: World) -> pl.DataFrame:
    """One row per pod: identity, node, IP, owner and the service name proxies route to."""
    rows = [
        {
            "namespace": p.namespace,
            "pod": p.name,
            "uid": p.uid,
            "node": p.node,
            "pod_ip": p.ip,
            "owner": p.owner,
            "service": service_name(p.owner or p.name),
        }
        for p in world.pods
    ]
    schema = {
        "namespace": pl.String,
        "pod": pl.String,
        "uid": pl.String,
        "node": pl.String,
        "pod_ip": pl.String,
        "owner": pl.String,
        "service": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def containers_frame(world: World) -> pl.DataFrame:
    rows = [
        {
            "namespace": p.namespace,
            "pod": p.name,
            "container": c.name,
            "cid": c.id,
            "image": c.image,
            "port": c.port,
        }
        for p in world.pods
        for c in p.containers
    ]
    schema = {
        "namespace": pl.String,
        "pod": pl.String,
        "container": pl.String,
        "cid": pl.String,
        "image": pl.String,
        "port": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema)


def service_name(owner: str) -> str:
    """``web-7d9f8c6b4`` (a ReplicaSet) -> ``web``; a StatefulSet's or bare name stays."""
    head, _, tail = owner.rpartition("-")
    if head and len(tail) >= 8 and tail.isalnum():
        return head
    return owner


def node_offsets(world: World) -> dict[str, float]:
    return {n.name: n.clock_offset_s for n in world.nodes}


def skew(ts: pl.Expr, node: pl.Expr, world: World) -> pl.Expr:
    """``ts`` as the clock of ``node`` shows it (nodes not in the world: true time)."""
    offsets = {k: int(round(v * 1e9)) for k, v in node_offsets(world).items() if v}
    if not offsets:
        return ts
    ns = node.replace_strict(offsets, default=0, return_dtype=pl.Int64)
    return ts + pl.duration(nanoseconds=ns)


def restart_id(cid: str, attempt: int) -> str:
    """The runtime id of a container's ``attempt``-th restart (the world names the first)."""
    if attempt == 0:
        return cid
    return hashlib.sha256(f"{cid}/{attempt}".encode()).hexdigest()


# -- time formats ------------------------------------------------------------------------


def rfc3339nano(ts: pl.Expr) -> pl.Expr:
    """Go ``time.RFC3339Nano`` in UTC: fraction's trailing zeros trimmed, ``Z``."""
    frac = ts.dt.strftime("%.9f").str.strip_chars_end("0").str.strip_chars_end(".")
    return pl.concat_str(ts.dt.strftime("%Y-%m-%dT%H:%M:%S"), frac, pl.lit("Z"))


def rfc3339nano_crio(ts: pl.Expr) -> pl.Expr:
    """CRI-O (conmon): always nine digits and a numeric offset."""
    return ts.dt.strftime("%Y-%m-%dT%H:%M:%S%.9f+00:00")


def rfc3339(ts: pl.Expr) -> pl.Expr:
    return ts.dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(ts: pl.Expr) -> pl.Expr:
    return ts.dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")


def iso_us(ts: pl.Expr) -> pl.Expr:
    return ts.dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")


def ms(values: pl.Expr) -> pl.Expr:
    """A float of milliseconds as a duration."""
    return pl.duration(microseconds=(values.fill_null(0) * 1000).round(0).cast(pl.Int64))


def fixed(values: pl.Expr, digits: int) -> pl.Expr:
    """A float printed with exactly ``digits`` decimals (``%.3f``)."""
    scale = 10**digits
    scaled = (values * scale).round(0).cast(pl.Int64)
    whole = (scaled // scale).cast(pl.String)
    frac = (scaled % scale).cast(pl.String).str.zfill(digits)
    return pl.concat_str(whole, pl.lit("."), frac)


def go_quote(text: pl.Expr) -> pl.Expr:
    """Go ``%q`` of ASCII text: backslash, quote, newline, tab escaped, in quotes."""
    out = (
        text.str.replace_all("\\", "\\\\", literal=True)
        .str.replace_all('"', '\\"', literal=True)
        .str.replace_all("\n", "\\n", literal=True)
        .str.replace_all("\t", "\\t", literal=True)
    )
    return pl.concat_str(pl.lit('"'), out, pl.lit('"'))


def nginx_escape(text: pl.Expr) -> pl.Expr:
    """nginx's access-log escaping of ``"`` and ``\\`` (``\\x22``, ``\\x5C``)."""
    return text.str.replace_all("\\", "\\x5C", literal=True).str.replace_all(
        '"', "\\x22", literal=True
    )


def empty_lines() -> pl.DataFrame:
    return pl.DataFrame(schema=LINES)


def render_lines(frame: pl.DataFrame) -> Iterator[bytes]:
    """A ``LINES`` frame, sorted by time then order, as bytes in ``CHUNK_ROWS`` pieces."""
    # a line the world left undefined (a null it needed) is not printed rather than crash
    frame = frame.filter(pl.col("line").is_not_null()).sort(["ts", "order"], maintain_order=True)
    for start in range(0, frame.height, CHUNK_ROWS):
        part = frame["line"].slice(start, CHUNK_ROWS)
        yield ("\n".join(part.to_list()) + "\n").encode()


def hexfmt(values: pl.Expr, width: int) -> pl.Expr:
    """Non-negative integers (< 16**width) as zero-padded lowercase hex, nibble by nibble."""
    v = values.cast(pl.UInt64)
    digits = {i: "0123456789abcdef"[i] for i in range(16)}
    nibbles = [
        ((v // (16**k)) % 16).cast(pl.Int64).replace_strict(digits, return_dtype=pl.String)
        for k in reversed(range(width))
    ]
    return pl.concat_str(nibbles)


def proxy_requests(world: World, proxy: str) -> pl.DataFrame:
    """The rows ``proxy`` logged, with ``end`` (ts + duration), the upstream pod's service and
    port, and ``node``: the node whose clock the proxy's lines show (null: no node)."""
    spec = next(p for p in world.proxies if p.name == proxy)
    node = spec.pod.node if spec.pod is not None else None
    req = world.requests.filter(pl.col("proxy") == proxy)
    svc = pods_frame(world).select("namespace", "pod", "service")
    req = req.join(svc, on=["namespace", "pod"], how="left", maintain_order="left")
    host_svc = pl.col("host").str.split(".").list.first().str.replace_all(r"[^a-z0-9-]", "-")
    return req.with_columns(
        end=pl.col("ts") + ms(pl.col("duration_ms")),
        node=pl.lit(node, pl.String),
        service=pl.coalesce(pl.col("service"), host_svc),
        up_port=pl.col("upstream").str.extract(r":(\d+)$").fill_null("80"),
        user_agent=pl.col("user_agent").fill_null("-"),
        client=pl.col("client").fill_null("-"),
        bytes=pl.col("bytes").fill_null(0),
        duration_ms=pl.col("duration_ms").fill_null(0.0),
        request_id=pl.col("request_id").fill_null("-"),
        method=pl.col("method").fill_null("GET"),
        path=pl.col("path").fill_null("/"),
        host=pl.col("host").fill_null("-"),
        status=pl.col("status").fill_null(0),
    )


def upstream_failed() -> pl.Expr:
    return pl.col("error").is_in(["refused", "reset", "eof", "timeout"])
