"""What happened in a simulated cluster, before any format prints it: the ``World``.

A scenario (``scenarios/``) decides what happens and builds a ``World``; writers (``writers/``)
print it in real log formats. The two meet only here, so a new format is one writer and a new
scenario never touches a writer.

Every frame's ``ts`` is ``Datetime("ns", "UTC")`` on the true clock; a node's clock offset
(``Node.clock_offset_s``) is applied by the writers of that node's files, so clock skew is
something the world has, not something a scenario prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

TS = pl.Datetime("ns", "UTC")


@dataclass(frozen=True)
class Container:
    name: str
    id: str  # 64 hex digits, the runtime's id
    image: str
    port: int | None = None  # the port it serves on (None: serves nothing)
    sidecar: bool = False  # istio-proxy, cloud-sql-proxy, ...: not the app


@dataclass(frozen=True)
class Pod:
    namespace: str
    name: str
    uid: str
    node: str
    ip: str
    containers: tuple[Container, ...]
    owner: str = ""  # ReplicaSet / StatefulSet name ("" for a bare pod)


@dataclass(frozen=True)
class Node:
    name: str
    kubelet_pid: int
    runtime_pid: int
    clock_offset_s: float = 0.0  # this node's clock minus true time


@dataclass(frozen=True)
class Proxy:
    """Something that logs requests it forwards: an ingress controller pod, an Envoy sidecar,
    Workhorse, a cloud load balancer."""

    name: str  # unique in the world; ``requests.proxy`` refers to it
    kind: str  # ingress-nginx | envoy | istio | workhorse | alb
    pod: Pod | None = None  # the pod whose container log it writes to (None: alb -> a file)
    container: str = ""  # that container's name


#: Lifecycle facts, one row each; ``kind`` is one of LIFECYCLE_KINDS.
LIFECYCLE = pl.Schema(
    {
        "ts": TS,
        "node": pl.String,
        "namespace": pl.String,
        "pod": pl.String,
        "container": pl.String,  # null: the pod as a whole
        "kind": pl.String,
        "probe": pl.String,  # readiness | liveness | startup (probe kinds)
        "grace_s": pl.Float64,  # kill
        "exit_code": pl.Int32,  # container_died
        "reason": pl.String,  # event reason where it differs from the default (Evicted, ...)
        "detail": pl.String,  # probe output, eviction message, ...
    }
)

LIFECYCLE_KINDS = (
    "pod_added",  # kubelet SyncLoop ADD; events Scheduled
    "container_started",  # runtime start; kubelet ContainerStarted; events Pulled/Created/Started
    "probe_failed",  # kubelet "Probe failed"; events Unhealthy
    "ready",  # kubelet SyncLoop (probe) status="ready" (per container with a readiness probe)
    "not_ready",  # kubelet SyncLoop (probe) status="" / "unhealthy"
    "pod_deleted",  # kubelet SyncLoop DELETE (graceful deletion reached the node)
    "kill",  # kubelet "Killing container with a grace period"; events Killing; runtime stop
    "sigkill",  # grace over: runtime force-kill line (dockerd "using the force", containerd kill)
    "oom",  # kernel/runtime OOM (containerd TaskOOM); events OOMKilling
    "container_died",  # runtime exit (exit_code), kubelet ContainerDied
    "backoff",  # kubelet/events Back-off restarting failed container
    "pod_removed",  # kubelet SyncLoop REMOVE
    "evicted",  # events Evicted / node drain eviction
)

#: Requests as a proxy saw them; one row per request per proxy that logged it.
REQUESTS = pl.Schema(
    {
        "ts": TS,  # when the proxy received it
        "duration_ms": pl.Float64,  # until the proxy answered (ts + duration = when it failed)
        "proxy": pl.String,  # Proxy.name
        "request_id": pl.String,  # x-request-id / correlation id (one per client request)
        "client": pl.String,  # client IP
        "method": pl.String,
        "path": pl.String,
        "host": pl.String,  # Host header / authority
        "status": pl.Int32,  # what the proxy answered
        "bytes": pl.Int64,
        "namespace": pl.String,  # upstream pod (null: no upstream chosen)
        "pod": pl.String,
        "upstream": pl.String,  # ip:port the proxy sent to
        "upstream_status": pl.Int32,  # null: no response from upstream
        "error": pl.String,  # null | refused | reset | eof | timeout | no_upstream
        "user_agent": pl.String,
    }
)

#: Lines an app container writes itself (shutdown messages, its own access lines, errors);
#: ``fields`` is the line's JSON object without ``time`` (writers add the time in the app's
#: format) or, for text apps, the line without its time (``text``).
APP_LINES = pl.Schema(
    {
        "ts": TS,
        "namespace": pl.String,
        "pod": pl.String,
        "container": pl.String,
        "level": pl.String,
        "text": pl.String,  # a plain-text line (without time), or null
        "fields": pl.String,  # a JSON object (without time), or null
    }
)


@dataclass(frozen=True)
class World:
    start: datetime
    end: datetime
    nodes: tuple[Node, ...]
    pods: tuple[Pod, ...]  # every pod that lived in the window
    proxies: tuple[Proxy, ...]
    lifecycle: pl.DataFrame  # LIFECYCLE
    requests: pl.DataFrame  # REQUESTS
    app_lines: pl.DataFrame  # APP_LINES
    runtime: str = "containerd"  # containerd | cri-o | docker
    extras: dict[str, object] = field(default_factory=dict)  # scenario knobs writers may honour

    def pod(self, namespace: str, name: str) -> Pod:
        for p in self.pods:
            if (p.namespace, p.name) == (namespace, name):
                return p
        raise KeyError(f"{namespace}/{name}")
