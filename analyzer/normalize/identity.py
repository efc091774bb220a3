"""Fill identity the line itself lacks from other lines that name the same container or pod.

``Generic (PLEG): container finished`` names only the pod UID and container ID; the kill
line for the same container names both IDs and the pod and container names.
"""

from __future__ import annotations

import polars as pl

_NAMES = ("namespace", "pod", "container")


def fill_identity(events: pl.DataFrame) -> pl.DataFrame:
    """Events with namespace/pod/container filled by container ID, then by pod UID."""
    by_container = (
        events.filter(pl.col("container_id").is_not_null() & pl.col("pod").is_not_null())
        .group_by("container_id")
        .agg(pl.col(n).drop_nulls().first().alias(f"_c_{n}") for n in (*_NAMES, "pod_uid"))
    )
    by_uid = (
        events.filter(pl.col("pod_uid").is_not_null() & pl.col("pod").is_not_null())
        .group_by("pod_uid")
        .agg(pl.col(n).drop_nulls().first().alias(f"_u_{n}") for n in ("namespace", "pod"))
    )
    out = events.join(by_container, on="container_id", how="left", maintain_order="left")
    out = out.with_columns(pl.coalesce(n, f"_c_{n}").alias(n) for n in (*_NAMES, "pod_uid")).drop(
        [f"_c_{n}" for n in (*_NAMES, "pod_uid")]
    )
    out = out.join(by_uid, on="pod_uid", how="left", maintain_order="left")
    return out.with_columns(pl.coalesce(n, f"_u_{n}").alias(n) for n in ("namespace", "pod")).drop(
        "_u_namespace", "_u_pod"
    )
