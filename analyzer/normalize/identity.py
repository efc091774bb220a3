"""Fill identity the line itself lacks from other lines that name the same container or pod.

``Generic (PLEG): container finished`` names only the pod UID and container ID; the kill
line for the same container names both IDs and the pod and container names.
"""

from __future__ import annotations

import polars as pl

_NAMES = ("namespace", "pod", "container")
#: Kill lines that may name a container by its runtime ID only.
_KILLS = ("kill", "sigkill")


def fill_identity(events: pl.DataFrame) -> pl.DataFrame:
    """Events with namespace/pod/container filled by container ID, then by pod UID.

    Worked out on the few columns it reads and writes, then written back: the joins do
    not copy every column of millions of rows."""
    used = ["container_id", "pod_uid", *_NAMES, "kind"]
    filled = _fill_identity(events.select(used))
    return events.with_columns(filled.select(*_NAMES, "pod_uid"))


def _fill_identity(events: pl.DataFrame) -> pl.DataFrame:
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
    out = out.with_columns(pl.coalesce(n, f"_u_{n}").alias(n) for n in ("namespace", "pod")).drop(
        "_u_namespace", "_u_pod"
    )
    # Old kubelets (<= 1.19) kill by container ID alone. With no line naming that ID, the
    # pod's only known container is it; with several (or none) its short ID names it.
    killed_unnamed = (
        out.filter(
            pl.col("kind").is_in(_KILLS)
            & pl.col("container").is_null()
            & pl.col("pod").is_not_null()
        )
        .select("container_id", "namespace", "pod")
        .drop_nulls()
        .unique()
    )
    if killed_unnamed.height == 0:
        return out
    only_name = (
        out.filter(pl.col("container").is_not_null())
        .group_by("namespace", "pod")
        .agg(pl.col("container").unique())
        .filter(pl.col("container").list.len() == 1)
        .select("namespace", "pod", pl.col("container").list.first().alias("_only"))
    )
    names = killed_unnamed.join(only_name, on=["namespace", "pod"], how="left").select(
        "container_id",
        pl.coalesce("_only", pl.col("container_id").str.slice(0, 12)).alias("_by_id"),
    )
    out = out.join(names, on="container_id", how="left", maintain_order="left")
    return out.with_columns(pl.coalesce("container", "_by_id").alias("container")).drop("_by_id")


def _delimited(name: str, text: str) -> bool:
    """``name`` occurs in ``text`` as a whole token (not inside a longer pod/container name)."""
    start = text.find(name)
    while start >= 0:
        end = start + len(name)
        before = text[start - 1] if start else "/"
        after = text[end] if end < len(text) else "/"
        if not (before.isalnum() or before == "-") and not (after.isalnum() or after == "-"):
            return True
        start = text.find(name, start + 1)
    return False


def fill_from_paths(events: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, str]]:
    """Pod and container named by a file's path, for files whose lines name neither.

    ``kubectl logs POD -c CONTAINER > POD_CONTAINER.log`` dumps carry no identity inside;
    when a path contains a pod name that other logs know (kubelet, events), that pod it is.
    A name known in several namespaces needs its namespace in the path too; otherwise the
    file stays unattributed and the returned notes (file -> note) say why. One pass per
    file, not per line.
    """
    anonymous = sorted(events.filter(pl.col("pod").is_null())["file"].unique().to_list())
    known = (
        events.filter(pl.col("pod").is_not_null()).select("namespace", "pod", "container").unique()
    )
    if not anonymous or known.height == 0:
        return events, {}
    pods = sorted(
        {(ns, pod) for ns, pod in known.select("namespace", "pod").iter_rows()},
        # a pod an event names without its namespace has None there
        key=lambda p: (-len(p[1]), p[0] or "", p[1]),
    )
    by_pod: dict[tuple[str, str], list[str]] = {}
    for ns, pod, container in known.drop_nulls("container").iter_rows():
        by_pod.setdefault((ns, pod), []).append(container)
    rows = []
    notes: dict[str, str] = {}
    for file in anonymous:
        match = _pod_in_path(pods, file, by_pod)
        if isinstance(match, str):
            notes[file] = match
            continue
        if match is None:
            continue
        rest = file.replace(match[1], "/")
        containers = sorted(by_pod.get(match, []), key=len, reverse=True)
        # `kubectl logs POD -c NAME > POD_NAME.log` (or POD-NAME.log, POD/NAME.log): the
        # container named in the path; else the pod's only app container (a `kubectl logs POD`
        # dump shows the default container; sidecars are not it).
        container = next(
            (c for c in containers if _delimited(c, rest) or _delimited(f"{match[1]}-{c}", file)),
            None,
        )
        if container is None:
            apps = [c for c in containers if not _sidecar(c)]
            container = apps[0] if len(apps) == 1 else None
        rows.append({"file": file, "_ns": match[0], "_pod": match[1], "_container": container})
    if not rows:
        return events, notes
    narrow = events.select("file", "namespace", "pod", "container")
    by_file = pl.DataFrame(
        rows,
        schema={"file": pl.String, "_ns": pl.String, "_pod": pl.String, "_container": pl.String},
    )
    out = narrow.join(by_file, on="file", how="left", maintain_order="left")
    anonymous_row = pl.col("pod").is_null()
    filled = out.select(
        pl.when(anonymous_row)
        .then(pl.col("_ns"))
        .otherwise(pl.col("namespace"))
        .alias("namespace"),
        pl.when(anonymous_row)
        .then(pl.coalesce("container", "_container"))
        .otherwise(pl.col("container"))
        .alias("container"),
        pl.when(anonymous_row).then(pl.col("_pod")).otherwise(pl.col("pod")).alias("pod"),
    )
    return events.with_columns(filled), notes


#: Containers injected beside the app (service meshes, agents, init steps): never the one a
#: `kubectl logs POD` dump shows by default, so never the dump's container by elimination.
SIDECARS = (
    "istio-proxy",
    "istio-init",
    "istio-validation",
    "linkerd-proxy",
    "linkerd-init",
    "linkerd-network-validator",
    "envoy",
    "envoy-sidecar",
    "vault-agent",
    "vault-agent-init",
    "cloud-sql-proxy",
    "cloudsql-proxy",
    "consul-dataplane",
    "consul-connect-inject-init",
    "kuma-sidecar",
    "aws-appmesh-envoy",
    "datadog-agent",
    "fluent-bit",
    "fluentd",
)


def _sidecar(container: str) -> bool:
    return container in SIDECARS


def _named_with_container(pod: str, containers: list[str], file: str) -> bool:
    """``file`` names ``pod`` followed by ``-CONTAINER`` (``kubectl logs POD -c C >
    POD-C.log``): the pod name is not delimited there, pod-and-container is."""
    return any(_delimited(f"{pod}-{c}", file) for c in containers)


def _pod_in_path(
    pods: list[tuple[str, str]],
    file: str,
    containers: dict[tuple[str, str], list[str]] | None = None,
) -> tuple[str, str] | str | None:
    """The one known pod ``file`` names (the longest name wins), None, or why it is unclear."""
    containers = containers or {}
    named = [
        (ns, pod)
        for ns, pod in pods
        if _delimited(pod, file) or _named_with_container(pod, containers.get((ns, pod), []), file)
    ]
    if not named:
        return None
    named = [p for p in named if len(p[1]) == len(named[0][1])]
    if len(named) > 1:  # the same name in several namespaces: the path must say which
        named = [
            (ns, pod) for ns, pod in named if ns and _delimited(ns, file.replace(pod, "/"))
        ] or named
    if len(named) > 1:
        where = ", ".join(f"{ns or '?'}/{pod}" for ns, pod in named)
        return (
            f"the file name names pod {named[0][1]}, known in several namespaces ({where}); "
            "tied to none of them: put the namespace in the path (NAMESPACE/POD_CONTAINER.log)"
        )
    return named[0]
