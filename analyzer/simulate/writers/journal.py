"""A node's journal (``journalctl -o short-precise``): the kubelet's klog lines and the
container runtime's (containerd, CRI-O or dockerd), from ``World.lifecycle``.

Wordings are the real ones (log-formats.md 1.5-1.7, 4.4). Lifecycle rows are few, so the lines
are built kind by kind as polars expressions over the rows of that kind.
"""

from __future__ import annotations

import polars as pl

from analyzer.simulate.world import TS, World
from analyzer.simulate.writers.common import (
    LINES,
    containers_frame,
    empty_lines,
    go_quote,
    pods_frame,
    restart_id,
    rfc3339nano,
    skew,
)

q = go_quote

# klog sources (file:line) of one kubelet build (1.29); line numbers are cosmetic.
SRC = {
    "ADD": "kubelet.go:2398",
    "REMOVE": "kubelet.go:2408",
    "DELETE": "kubelet.go:2414",
    "PLEG": "kubelet.go:2430",
    "PROBE": "kubelet.go:2493",
    "FAILED": "prober.go:107",
    "KILL": "kuberuntime_container.go:745",
    "FINISHED": "generic.go:334",
    "SYNCERR": "pod_workers.go:1300",
    "EVICTED": "eviction_manager.go:395",
}
RUNTIME_PREFIX = {"containerd": "containerd", "cri-o": "cri-o", "docker": "docker"}
RUNTIME_IDENT = {"containerd": "containerd", "cri-o": "crio", "docker": "dockerd"}
MS_NS = 1_000_000


def lifecycle_rows(world: World) -> pl.DataFrame:
    """``World.lifecycle`` with pod uid/ip, the container's runtime id of the attempt the row
    belongs to (a restart gets a new id) and its port, and the grace period a ``sigkill``
    ends (the last ``kill``'s)."""
    life = world.lifecycle.sort("ts", maintain_order=True)
    pods = pods_frame(world).select("namespace", "pod", "uid", "pod_ip")
    conts = containers_frame(world).select("namespace", "pod", "container", "cid", "port")
    life = life.join(pods, on=["namespace", "pod"], how="left")
    life = life.join(conts, on=["namespace", "pod", "container"], how="left")
    attempt = ((pl.col("kind") == "container_started").cast(pl.Int64).cum_sum() - 1).over(
        ["namespace", "pod", "container"], order_by="ts"
    )
    life = life.with_columns(attempt=attempt.clip(lower_bound=0).fill_null(0))
    # ids of restarts: few rows, computed in Python once per (container, attempt)
    pairs = life.filter(pl.col("cid").is_not_null()).select("cid", "attempt").unique()
    ids = pl.DataFrame(
        {
            "cid": pairs["cid"],
            "attempt": pairs["attempt"],
            "rid": [restart_id(c, a) for c, a in pairs.iter_rows()],
        },
        schema={"cid": pl.String, "attempt": pl.Int64, "rid": pl.String},
    )
    life = life.join(ids, on=["cid", "attempt"], how="left")
    grace = (pl.when(pl.col("kind") == "kill").then(pl.col("grace_s")).forward_fill()).over(
        ["namespace", "pod", "container"], order_by="ts"
    )
    killed = (pl.col("kind") == "kill").cast(pl.Int64).cum_sum().over(
        ["namespace", "pod", "container", "attempt"], order_by="ts"
    ) > 0
    return life.with_columns(
        killed=killed.fill_null(False),
        grace=pl.coalesce(pl.col("grace_s"), grace, pl.lit(30.0)).round(0).cast(pl.Int64),
        key=pl.format("{}/{}", "namespace", "pod"),
        port=pl.col("port").fill_null(8080),
        pod_ip=pl.col("pod_ip").fill_null("10.0.0.1"),
    )


def _jitter(modulo_ns: int) -> pl.Expr:
    """A sub-``modulo_ns`` delay that is a function of the row (deterministic)."""
    h = pl.struct("ts", "kind", "pod", "container").hash(seed=7)
    return (h % modulo_ns).cast(pl.Int64)


class _Node:
    def __init__(self, world: World, node: str) -> None:
        self.world = world
        self.node = node
        spec = next(n for n in world.nodes if n.name == node)
        self.kpid = spec.kubelet_pid
        self.rpid = spec.runtime_pid
        self.runtime = world.runtime
        self.parts: list[pl.DataFrame] = []

    def _add(
        self,
        df: pl.DataFrame,
        delay_ns: pl.Expr | int,
        ident: str,
        pid: int | None,
        body: pl.Expr,
        order: int,
    ) -> None:
        if df.height == 0:
            return
        delay = delay_ns if isinstance(delay_ns, pl.Expr) else pl.lit(delay_ns, pl.Int64)
        t = pl.col("ts") + pl.duration(nanoseconds=delay)
        shown = skew(t, pl.lit(self.node), self.world)
        tag = f"{ident}[{pid}]: " if pid is not None else f"{ident}: "
        prefix = pl.concat_str(
            shown.dt.strftime("%b %d %H:%M:%S%.6f"), pl.lit(f" {self.node} {tag}")
        )
        out = df.select(
            ts=t.cast(TS),
            order=pl.lit(order, pl.Int64),
            line=pl.concat_str(prefix, body),
            _shown=shown,
        )
        self.parts.append(out.select(LINES.names()))

    def klog(
        self,
        df: pl.DataFrame,
        delay: pl.Expr | int,
        sev: str,
        src: str,
        msg: str,
        kv: list[tuple[str, pl.Expr]],
        order: int,
    ) -> None:
        t = pl.col("ts") + pl.duration(
            nanoseconds=delay if isinstance(delay, pl.Expr) else pl.lit(delay, pl.Int64)
        )
        shown = skew(t, pl.lit(self.node), self.world)
        header = pl.concat_str(
            pl.lit(sev),
            shown.dt.strftime("%m%d %H:%M:%S%.6f"),
            pl.lit(f" {self.kpid:>7} {src}] "),
            pl.lit(q_lit(msg)),
            *[pl.concat_str(pl.lit(f" {k}="), v) for k, v in kv],
        )
        self._add(df, delay, "kubelet", self.kpid, header, order)

    def runtime_line(
        self,
        df: pl.DataFrame,
        delay: pl.Expr | int,
        level: str,
        msg: pl.Expr,
        kv: list[tuple[str, pl.Expr]] = (),
        order: int = 1,
    ) -> None:
        t = pl.col("ts") + pl.duration(
            nanoseconds=delay if isinstance(delay, pl.Expr) else pl.lit(delay, pl.Int64)
        )
        shown = skew(t, pl.lit(self.node), self.world)
        time = rfc3339nano(shown)
        if self.runtime == "cri-o":
            time = shown.dt.strftime("%Y-%m-%d %H:%M:%S%.9f Z")
        body = pl.concat_str(
            pl.lit('time="'),
            time,
            pl.lit(f'" level={level} msg='),
            q(msg),
            *[pl.concat_str(pl.lit(f" {k}="), v) for k, v in kv],
        )
        ident = RUNTIME_IDENT[self.runtime]
        self._add(df, delay, ident, self.rpid, body, order)

    def calico(self, df: pl.DataFrame, delay: int) -> None:
        """The Calico CNI plugin's line naming the new pod's address, as it writes it through
        the runtime's stderr (projectcalico/calico ``cni-plugin/pkg/k8s/k8s.go``): the node's
        local time in ms, then the logger's keys (calico_cni.toml)."""
        t = pl.col("ts") + pl.duration(nanoseconds=pl.lit(delay, pl.Int64))
        shown = skew(t, pl.lit(self.node), self.world)
        sandbox = pl.col("uid").str.replace_all("-", "")
        body = pl.concat_str(
            shown.dt.strftime("%Y-%m-%d %H:%M:%S%.3f"),
            pl.lit(f" [INFO][{self.rpid + 4211}] k8s.go 383: Calico CNI using IPs: ["),
            pl.col("pod_ip"),
            pl.lit('/32] ContainerID="'),
            sandbox,
            sandbox,
            pl.lit('" Namespace="'),
            pl.col("namespace"),
            pl.lit('" Pod="'),
            pl.col("pod"),
            pl.lit(f'" WorkloadEndpoint="{self.node}-k8s-'),
            pl.col("pod").str.replace_all("-", "--"),
            pl.lit('-eth0"'),
        )
        self._add(df, delay, RUNTIME_IDENT[self.runtime], self.rpid, body, 1)


def q_lit(text: str) -> str:
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{out}"'


def journal_lines(world: World, node: str, life: pl.DataFrame | None = None) -> pl.DataFrame:
    """Every journal line of ``node`` as a ``LINES`` frame (true time order, skewed text)."""
    if life is None:
        life = lifecycle_rows(world)
    # container moments need the container; pod moments (ADD, DELETE, ...) do not
    pod_kinds = ["pod_added", "pod_deleted", "pod_removed", "evicted", "ready", "not_ready"]
    life = life.filter(
        (pl.col("node") == node) & (pl.col("kind").is_in(pod_kinds) | pl.col("rid").is_not_null())
    )
    j = _Node(world, node)
    rt = world.runtime
    prefix = RUNTIME_PREFIX[rt]
    kind = pl.col("kind")
    pod = q(pl.col("key"))
    pods_list = pl.concat_str(pl.lit("["), pod, pl.lit("]"))
    uid = q(pl.col("uid"))
    cname = q(pl.col("container"))
    rid = pl.col("rid")
    qrid = pl.concat_str(pl.lit('"'), rid, pl.lit('"'))
    api = [("source", pl.lit('"api"')), ("pods", pods_list)]

    for k, op in (("pod_added", "ADD"), ("pod_deleted", "DELETE"), ("pod_removed", "REMOVE")):
        j.klog(life.filter(kind == k), 0, "I", SRC[op], f"SyncLoop {op}", api, 0)

    # the kubelet logs DELETE again when the API object is updated as the pod finishes
    deleted = life.filter(kind == "pod_deleted").select("namespace", "pod").unique()
    again = life.filter(kind == "pod_removed").join(deleted, on=["namespace", "pod"], how="semi")
    j.klog(again, -297 * MS_NS, "I", SRC["DELETE"], "SyncLoop DELETE", api, 0)

    sandbox = pl.format(
        "RunPodSandbox for &PodSandboxMetadata{{Name:{},Uid:{},Namespace:{},Attempt:0,}}",
        "pod",
        "uid",
        "namespace",
    )
    added = life.filter(kind == "pod_added")
    if rt == "containerd":
        j.runtime_line(added, 89 * MS_NS, "info", sandbox)
        j.calico(added, 412 * MS_NS)
    elif rt == "cri-o":
        j.runtime_line(
            added,
            89 * MS_NS,
            "info",
            pl.format("Running pod sandbox: {}/POD", "key"),
            [
                ("id", q(pl.col("uid"))),
                ("name", pl.lit("/runtime.v1.RuntimeService/RunPodSandbox")),
            ],
        )

    started = life.filter(kind == "container_started")
    if rt == "containerd":
        j.runtime_line(started, -190 * MS_NS, "info", pl.format('StartContainer for "{}"', "rid"))
        j.runtime_line(
            started, 0, "info", pl.format('StartContainer for "{}" returns successfully', "rid")
        )
    elif rt == "cri-o":
        j.runtime_line(
            started,
            0,
            "info",
            pl.lit("Started container"),
            [
                ("PodSandboxID", pl.col("uid").str.replace_all("-", "")),
                ("containerID", rid),
                ("description", pl.format("{}/{}", "key", "container")),
                ("id", pl.col("uid")),
                ("name", pl.lit("/runtime.v1.RuntimeService/StartContainer")),
            ],
        )
    pleg_started = pl.format('{{"ID":"{}","Type":"ContainerStarted","Data":"{}"}}', "uid", "rid")
    j.klog(
        started,
        61 * MS_NS + _jitter(MS_NS),
        "I",
        SRC["PLEG"],
        "SyncLoop (PLEG): event for pod",
        [("pod", pod), ("event", pleg_started)],
        2,
    )

    failed = life.filter(kind == "probe_failed")
    probe_type = pl.col("probe").fill_null("readiness").str.to_titlecase()
    default_output = pl.format(
        'Get "http://{}:{}/readiness": dial tcp {}:{}: connect: connection refused',
        "pod_ip",
        "port",
        "pod_ip",
        "port",
    )
    j.klog(
        failed,
        0,
        "I",
        SRC["FAILED"],
        "Probe failed",
        [
            ("probeType", q(probe_type)),
            ("pod", pod),
            ("podUID", uid),
            ("containerName", cname),
            ("probeResult", pl.lit('"failure"')),
            ("output", q(pl.coalesce(pl.col("detail"), default_output))),
        ],
        0,
    )
    probe = q(pl.col("probe").fill_null("readiness").str.to_lowercase())
    j.klog(
        life.filter(kind == "ready"),
        0,
        "I",
        SRC["PROBE"],
        "SyncLoop (probe)",
        [("probe", probe), ("status", pl.lit('"ready"')), ("pod", pod)],
        0,
    )
    not_ready_status = (
        pl.when(pl.col("probe").fill_null("readiness").str.to_lowercase() == "readiness")
        .then(pl.lit('""'))
        .otherwise(pl.lit('"unhealthy"'))
    )
    j.klog(
        life.filter(kind == "not_ready"),
        0,
        "I",
        SRC["PROBE"],
        "SyncLoop (probe)",
        [("probe", probe), ("status", not_ready_status), ("pod", pod)],
        0,
    )

    kills = life.filter(kind == "kill")
    j.klog(
        kills,
        0,
        "I",
        SRC["KILL"],
        "Killing container with a grace period",
        [
            ("pod", pod),
            ("podUID", uid),
            ("containerName", cname),
            ("containerID", q(pl.concat_str(pl.lit(f"{prefix}://"), rid))),
            ("gracePeriod", pl.col("grace").cast(pl.String)),
        ],
        0,
    )
    if rt == "containerd":
        j.runtime_line(
            kills,
            412_000,
            "info",
            pl.format('StopContainer for "{}" with timeout {} (s)', "rid", "grace"),
        )
        j.runtime_line(
            kills, 903_000, "info", pl.format('Stop container "{}" with signal terminated', "rid")
        )
    elif rt == "cri-o":
        j.runtime_line(
            kills,
            412_000,
            "info",
            pl.format("Stopping container: {} (timeout: {}s)", "rid", "grace"),
            [("id", pl.col("uid")), ("name", pl.lit("/runtime.v1.RuntimeService/StopContainer"))],
        )

    sigkills = life.filter(kind == "sigkill")
    if rt == "containerd":
        j.runtime_line(sigkills, 0, "info", pl.format('Kill container "{}"', "rid"))
    elif rt == "docker":
        j.runtime_line(
            sigkills,
            0,
            "info",
            pl.format(
                "Container failed to exit within {}s of signal 15 - using the force", "grace"
            ),
            [("container", rid)],
        )
    else:
        j.runtime_line(
            sigkills,
            0,
            "warning",
            pl.format(
                "Stopping container {} with stop signal timed out: timeout reached after {} "
                "seconds waiting for container process to exit",
                "rid",
                "grace",
            ),
            [("id", pl.col("uid")), ("name", pl.lit("/runtime.v1.RuntimeService/StopContainer"))],
        )

    ooms = life.filter(kind == "oom")
    oom_pid = (pl.struct("ts", "pod").hash(seed=3) % 60000 + 2000).cast(pl.String)
    j._add(
        ooms,
        -3 * MS_NS,
        "kernel",
        None,
        pl.format(
            "Memory cgroup out of memory: Killed process {} ({}) total-vm:2097152kB, "
            "anon-rss:1048576kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:2200kB "
            "oom_score_adj:999",
            oom_pid,
            pl.col("container").str.slice(0, 15),
        ),
        0,
    )
    if rt == "containerd":
        j.runtime_line(ooms, 0, "info", pl.format('TaskOOM event container_id:"{}"', "rid"))

    died = life.filter(kind == "container_died")
    code = pl.col("exit_code").fill_null(0)
    if rt == "containerd":
        secs = pl.col("ts").dt.epoch("s")
        nanos = pl.col("ts").dt.epoch("ns") % 1_000_000_000
        exit_msg = pl.format(
            'TaskExit event container_id:"{}" id:"{}" pid:{} exit_status:{} '
            "exited_at:{{seconds:{} nanos:{}}}",
            "rid",
            "rid",
            oom_pid,
            code,
            secs,
            nanos,
        )
        j.runtime_line(died, 0, "info", exit_msg)
        j.runtime_line(
            died,
            1_500_000,
            "info",
            pl.lit("shim disconnected"),
            [("id", rid), ("namespace", pl.lit("k8s.io"))],
        )
        j.runtime_line(
            died.filter(pl.col("killed")),
            9_700_000,
            "info",
            pl.format('StopContainer for "{}" returns successfully', "rid"),
        )
    elif rt == "docker":
        j.runtime_line(
            died,
            1_100_000,
            "info",
            pl.lit("ignoring event"),
            [
                ("container", rid),
                ("module", pl.lit("libcontainerd")),
                ("namespace", pl.lit("moby")),
                ("topic", pl.lit("/tasks/delete")),
                ("type", pl.lit('"*events.TaskDelete"')),
            ],
        )
    else:
        j.runtime_line(
            died,
            2_000_000,
            "info",
            pl.format("Stopped container {}: {}/{}", "rid", "key", "container"),
            [("id", pl.col("uid")), ("name", pl.lit("/runtime.v1.RuntimeService/StopContainer"))],
        )
    lag = 350 * MS_NS + _jitter(200 * MS_NS)
    j.klog(
        died,
        lag,
        "I",
        SRC["FINISHED"],
        "Generic (PLEG): container finished",
        [("podID", uid), ("containerID", qrid), ("exitCode", code.cast(pl.String))],
        2,
    )
    pleg_died = pl.format('{{"ID":"{}","Type":"ContainerDied","Data":"{}"}}', "uid", "rid")
    j.klog(
        died,
        lag + 41_000,
        "I",
        SRC["PLEG"],
        "SyncLoop (PLEG): event for pod",
        [("pod", pod), ("event", pleg_died)],
        3,
    )

    backoff = life.filter(kind == "backoff")
    err = pl.format(
        'failed to "StartContainer" for "{}" with CrashLoopBackOff: "back-off {} restarting '
        'failed container={} pod={}_{}({})"',
        "container",
        pl.coalesce(pl.col("detail"), pl.lit("10s")),
        "container",
        "pod",
        "namespace",
        "uid",
    )
    j.klog(
        backoff,
        0,
        "E",
        SRC["SYNCERR"],
        "Error syncing pod, skipping",
        [("err", q(err)), ("pod", pod), ("podUID", uid)],
        0,
    )

    evicted = life.filter(kind == "evicted")
    j.klog(
        evicted,
        0,
        "I",
        SRC["EVICTED"],
        "Eviction manager: pod is evicted successfully",
        [("pod", pod)],
        0,
    )

    if not j.parts:
        return empty_lines()
    return pl.concat(j.parts, how="vertical")
