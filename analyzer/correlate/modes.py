"""How each failing request failed, from the words its hops logged.

The mode separates the mechanisms: a closed listener refuses new connections (RC2, startup),
a connection the server closed under a reused request is reset (RC4), a request the server
never answered times out (RC7 drains, wedged apps), no endpoint at all is ``no_upstream``, and
a 5xx the app itself returned is ``app``. An access line often says only ``502``; the error
line its proxy logged beside it (same upstream, within a second) says why.
"""

from __future__ import annotations

import polars as pl

from analyzer.schema import Kind

#: mode -> pattern over the failure's detail, message and raw text (Envoy response flags,
#: nginx and Go error wordings, GCP LB statusDetails), in the order they are tried.
PATTERNS: dict[str, str] = {
    "reset": (
        r"(?i)prematurely closed|reset by peer|connection reset|\bUC\b|connection_termination"
        r"|\bEOF\b|server closed idle connection|backend_connection_closed|upstream_reset_after"
        r"|\bUR\b|broken pipe|closed connection"
    ),
    "refused": (
        r"(?i)connection refused|connect\(\) failed|\bUF\b|connection_failure|failed_to_connect"
        r"|dial tcp|dial unix|no such file or directory|delayed_connect_error"
    ),
    "timeout": r"(?i)timed out|timeout|\bUT\b",
    "no_upstream": r"(?i)\bUH\b|no healthy upstream|no live upstreams|\bNR\b",
}
MODES = (*PATTERNS, "app", "unknown")
SAME_REQUEST_S = 1.0


def _mode_of(text: pl.Expr) -> pl.Expr:
    out = pl.when(pl.lit(False)).then(pl.lit(None, pl.String))
    for mode, pattern in PATTERNS.items():
        out = out.when(text.str.contains(pattern)).then(pl.lit(mode))
    return out.otherwise(pl.lit(None, pl.String))


def _text() -> pl.Expr:
    cols = [pl.col(c).fill_null("") for c in ("detail", "message")]
    return pl.concat_str(cols, separator=" ")


def with_failure_modes(failures: pl.DataFrame, requests: pl.DataFrame) -> pl.DataFrame:
    """``failures`` with a ``mode`` column (``MODES``)."""
    if failures.height == 0:
        return failures.with_columns(pl.lit(None, pl.String).alias("mode"))
    own = _mode_of(_text())
    out = failures.with_row_index("_fi").with_columns(own.alias("mode"))
    # An access line that says only its status takes the mode of the error line its proxy
    # logged beside it (nginx error.log, Workhorse's badgateway line).
    errors = requests.filter(pl.col("kind") == Kind.UPSTREAM_ERROR.value)
    if errors.height and out["mode"].null_count():
        right = (
            errors.select(
                pl.col("upstream").fill_null(""),
                "ts",
                _mode_of(_text()).alias("_err_mode"),
                pl.coalesce(pl.col("pod"), pl.col("file").str.replace(r"/[^/]*$", "")).alias("_c"),
            )
            .drop_nulls("_err_mode")
            .sort("ts")
        )
        left = (
            out.filter(pl.col("mode").is_null())
            .select(
                "_fi",
                pl.col("upstream").fill_null(""),
                "ts",
                pl.coalesce(pl.col("pod"), pl.col("file").str.replace(r"/[^/]*$", "")).alias("_c"),
            )
            .sort("ts")
        )
        by_upstream = left.join_asof(
            right.drop("_c"),
            on="ts",
            by="upstream",
            strategy="nearest",
            tolerance=f"{int(SAME_REQUEST_S * 1000)}ms",
            check_sortedness=False,
        ).select("_fi", "_err_mode")
        out = (
            out.join(by_upstream, on="_fi", how="left")
            .with_columns(pl.coalesce("mode", "_err_mode").alias("mode"))
            .drop("_err_mode")
        )
    # One request logged by several hops (a gateway and the pod's sidecar) failed one way:
    # the hop that says how (Envoy's ``UC`` at the sidecar) speaks for the others.
    if out["mode"].null_count() and "request_id" in out.columns:
        has_id = pl.col("request_id").is_not_null() & ~pl.col("request_id").is_in(["", "-"])
        failed = (pl.col("kind") == Kind.UPSTREAM_ERROR.value) | (pl.col("status") >= 500)
        by_id = (
            requests.filter(has_id & failed.fill_null(False))
            .select("request_id", _mode_of(_text()).alias("_id_mode"))
            .drop_nulls("_id_mode")
            .unique("request_id", keep="first")
        )
        if by_id.height:
            out = (
                out.join(by_id, on="request_id", how="left")
                .with_columns(pl.coalesce("mode", "_id_mode").alias("mode"))
                .drop("_id_mode")
            )
    proxy_status = pl.col("status").is_in([502, 503, 504])
    return (
        out.with_columns(
            pl.when(pl.col("mode").is_not_null())
            .then("mode")
            .when(pl.col("status") == 504)
            .then(pl.lit("timeout"))
            .when(pl.col("status").is_not_null() & ~proxy_status)
            .then(pl.lit("app"))
            .otherwise(pl.lit("unknown"))
            .alias("mode")
        )
        .sort("_fi")
        .drop("_fi")
    )
