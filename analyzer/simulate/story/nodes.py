"""The two node journals: kubelet, containerd and systemd, with unrelated pods as noise.

Node A runs the old pod, which is deleted; node B starts the new one. Only node A's Workhorse exit
differs between the variants: SIGKILL at the end of the grace period (incident) or its own exit on
SIGTERM (fixed).
"""

from __future__ import annotations

import json

from analyzer.simulate.story.cast import (
    CONSUL_C,
    GRACE_S,
    NAMESPACE,
    NODE_A,
    NODE_B,
    NOISE_A1,
    NOISE_A2,
    NOISE_B1,
    NOISE_B2,
    POD_A,
    POD_B,
    PROBE_503,
    PROBE_REFUSED,
    REDIS_C,
    SANDBOX_B,
    SIGKILL,
    SIGTERM,
    UID_A,
    UID_B,
    UID_BBX,
    UID_CONSUL,
    UID_PGB,
    UID_REDIS,
    WH_A,
    WH_B,
    WS_A,
    WS_B,
    pod_key,
)
from analyzer.simulate.story.clock import at
from analyzer.simulate.story.sinks import Journal
from analyzer.simulate.story.wire import goquote as q

# klog sources (file:line) of one kubelet build; line numbers are cosmetic.
SRC = {
    "ADD": "kubelet.go:2398",
    "UPDATE": "kubelet.go:2404",
    "REMOVE": "kubelet.go:2408",
    "DELETE": "kubelet.go:2414",
    "PLEG": "kubelet.go:2430",
    "PROBE": "kubelet.go:2493",
    "FAILED": "prober.go:107",
    "KILL": "kuberuntime_container.go:745",
    "FINISHED": "generic.go:334",
    "REMOVECONTAINER": "scope.go:110",
    "SYNCERR": "pod_workers.go:951",
}


def k_syncloop(j: Journal, ns: int, op: str, pod: str) -> None:
    j.klog(ns, "I", SRC[op], f"SyncLoop {op}", source=q("api"), pods=f"[{q(pod)}]")


def k_pleg(j: Journal, ns: int, pod: str, uid: str, typ: str, cid: str) -> None:
    event = json.dumps({"ID": uid, "Type": typ, "Data": cid}, separators=(",", ":"))
    j.klog(ns, "I", SRC["PLEG"], "SyncLoop (PLEG): event for pod", pod=q(pod), event=event)


def k_finished(j: Journal, ns: int, uid: str, cid: str, code: int) -> None:
    j.klog(
        ns,
        "I",
        SRC["FINISHED"],
        "Generic (PLEG): container finished",
        podID=q(uid),
        containerID=q(cid),
        exitCode=str(code),
    )


def k_probe_failed(j: Journal, ns: int, pod: str, uid: str, container: str, output: str) -> None:
    j.klog(
        ns,
        "I",
        SRC["FAILED"],
        "Probe failed",
        probeType=q("Readiness"),
        pod=q(pod),
        podUID=q(uid),
        containerName=q(container),
        probeResult=q("failure"),
        output=q(output),
    )


def k_probe_state(j: Journal, ns: int, pod: str, status: str) -> None:
    j.klog(
        ns,
        "I",
        SRC["PROBE"],
        "SyncLoop (probe)",
        probe=q("readiness"),
        status=q(status),
        pod=q(pod),
    )


def k_kill(j: Journal, ns: int, pod: str, uid: str, container: str, cid: str) -> None:
    j.klog(
        ns,
        "I",
        SRC["KILL"],
        "Killing container with a grace period",
        pod=q(pod),
        podUID=q(uid),
        containerName=q(container),
        containerID=q(f"containerd://{cid}"),
        gracePeriod=str(GRACE_S),
    )


def k_crashloop(j: Journal, ns: int, name: str, nsp: str, uid: str, container: str) -> None:
    err = (
        f'failed to "StartContainer" for "{container}" with CrashLoopBackOff: "back-off 5m0s '
        f'restarting failed container={container} pod={name}_{nsp}({uid})"'
    )
    j.klog(
        ns,
        "E",
        SRC["SYNCERR"],
        "Error syncing pod, skipping",
        err=q(err),
        pod=q(pod_key(name, nsp)),
        podUID=q(uid),
    )


def c_shim_gone(j: Journal, ns: int, cid: str) -> None:
    j.containerd(ns, "info", "shim disconnected", id=cid)
    j.containerd(
        ns + 113_402, "warning", "cleaning up after shim disconnected", id=cid, namespace="k8s.io"
    )
    j.containerd(ns + 297_160, "info", "cleaning up dead shim")


def rootfs_unit(cid: str) -> str:
    return f"run-containerd-io.containerd.runtime.v2.task-k8s.io-{cid}-rootfs.mount: Succeeded."


def _noise_node_a(j: Journal) -> None:
    redis = pod_key("redis-cache-node-2", "redis")
    for hms in ("06:02:07.881734", "06:03:09.402271", "06:04:12.655018", "06:05:15.090633"):
        k_crashloop(
            j, at(hms), "pgbouncer-exporter-6f7c9d8b5-q2lwz", "monitoring", UID_PGB, "exporter"
        )
    for hms, unit in (("06:02:17.291503", "Hc3kPq"), ("06:02:27.290877", "rT8mWd")):
        j.systemd(at(hms), f"run-containerd-runc-k8s.io-{REDIS_C}-runc.{unit}.mount: Succeeded.")
        j.klog_multiline(
            at(hms) + 21_993_104,
            "I",
            SRC["FAILED"],
            "Probe failed",
            "output",
            [
                "Could not connect to Redis at 127.0.0.1:26379: Connection refused",
                "Could not connect to Redis at 127.0.0.1:26379: Connection refused",
            ],
            probeType=q("Readiness"),
            pod=q(redis),
            podUID=q(UID_REDIS),
            containerName=q("sentinel"),
            probeResult=q("failure"),
        )
    k_probe_state(j, at("06:02:37.316842"), redis, "ready")
    j.klog(
        at("06:02:58.219874"),
        "I",
        SRC["REMOVECONTAINER"],
        "RemoveContainer",
        containerID=q(NOISE_A1),
    )
    j.klog_legacy(
        at("06:02:58.304415"),
        "W",
        "manager.go:1174",
        "Failed to process watch event {EventType:0 Name:/kubepods/burstable/"
        f"pod{UID_PGB}/{NOISE_A2} WatchSource:0}}: task {NOISE_A2} not found: "
        "not found",
    )
    j.systemd(
        at("06:05:30.114290"), f"run-containerd-runc-k8s.io-{REDIS_C}-runc.Yb2LsA.mount: Succeeded."
    )
    k_probe_state(j, at("06:05:41.883107"), pod_key("thanos-store-1", "monitoring"), "ready")


def journal_node_a(*, fixed: bool) -> Journal:
    """The old pod's node: the pod is deleted, both containers get SIGTERM."""
    j = Journal(NODE_A)
    pod = pod_key(POD_A)
    _noise_node_a(j)

    k_syncloop(j, at("06:03:46.102110"), "DELETE", pod)
    k_kill(j, at("06:03:46.103201"), pod, UID_A, "webservice", WS_A)
    j.containerd(
        at("06:03:46.103598"), "info", f'StopContainer for "{WS_A}" with timeout {GRACE_S} (s)'
    )
    k_kill(j, at("06:03:46.104107"), pod, UID_A, "gitlab-workhorse", WH_A)
    j.containerd(
        at("06:03:46.104533"), "info", f'StopContainer for "{WH_A}" with timeout {GRACE_S} (s)'
    )
    j.containerd(SIGTERM, "info", f'Stop container "{WS_A}" with signal terminated')
    j.containerd(at("06:03:46.105249"), "info", f'Stop container "{WH_A}" with signal terminated')

    # readiness of webservice: 503 during Puma's blackout, then connection refused
    for hms in ("06:03:49.213874", "06:03:59.214102"):
        k_probe_failed(j, at(hms), pod, UID_A, "webservice", PROBE_503)
    for hms in ("06:04:09.213655", "06:04:19.214390", "06:04:29.213987", "06:04:39.214211"):
        k_probe_failed(j, at(hms), pod, UID_A, "webservice", PROBE_REFUSED)
    k_probe_state(j, at("06:04:09.214032"), pod, "not ready")

    # Puma exits cleanly
    c_shim_gone(j, at("06:04:04.611820"), WS_A)
    j.systemd(at("06:04:04.619466"), rootfs_unit(WS_A))
    j.containerd(at("06:04:04.634152"), "info", f'StopContainer for "{WS_A}" returns successfully')
    k_finished(j, at("06:04:05.104228"), UID_A, WS_A, 0)
    k_pleg(j, at("06:04:05.104297"), pod, UID_A, "ContainerDied", WS_A)

    if fixed:  # Workhorse got SIGTERM, shut down and exited with the fatal log's status 1
        c_shim_gone(j, at("06:03:46.318207"), WH_A)
        j.systemd(at("06:03:46.322913"), rootfs_unit(WH_A))
        j.containerd(
            at("06:03:46.331540"), "info", f'StopContainer for "{WH_A}" returns successfully'
        )
        k_finished(j, at("06:03:46.903118"), UID_A, WH_A, 1)
        k_pleg(j, at("06:03:46.903176"), pod, UID_A, "ContainerDied", WH_A)
    else:  # grace period over: SIGKILL
        j.containerd(SIGKILL, "info", f'Kill container "{WH_A}"')
        c_shim_gone(j, at("06:04:46.107902"), WH_A)
        j.systemd(at("06:04:46.109133"), rootfs_unit(WH_A))
        j.containerd(
            at("06:04:46.109870"), "info", f'StopContainer for "{WH_A}" returns successfully'
        )
        k_finished(j, at("06:04:46.110214"), UID_A, WH_A, 137)
        k_pleg(j, at("06:04:46.110262"), pod, UID_A, "ContainerDied", WH_A)

    j.systemd(
        at("06:04:46.903311"),
        f"var-lib-kubelet-pods-{UID_A}-volumes-kubernetes.io\\x7eprojected-"
        "kube\\x2dapi\\x2daccess\\x2d8x2vq.mount: Succeeded.",
    )
    k_syncloop(j, at("06:04:47.004519"), "DELETE", pod)
    k_syncloop(j, at("06:04:47.301876"), "REMOVE", pod)
    return j


def _noise_node_b(j: Journal) -> None:
    consul = pod_key("consul-client-4hf8w", "consul")
    for hms in ("06:02:12.507311", "06:03:14.660982", "06:04:17.021459", "06:05:19.388104"):
        k_crashloop(
            j,
            at(hms),
            "blackbox-exporter-7d9f8c6b4-kq7vx",
            "monitoring",
            UID_BBX,
            "blackbox-exporter",
        )
    for hms, unit in (("06:02:33.770214", "aQ4vZe"), ("06:02:43.769530", "Kk9TnB")):
        j.systemd(at(hms), f"run-containerd-runc-k8s.io-{CONSUL_C}-runc.{unit}.mount: Succeeded.")
        j.klog_multiline(
            at(hms) + 48_552_907,
            "I",
            SRC["FAILED"],
            "Probe failed",
            "output",
            [
                'Error retrieving members: Get "http://127.0.0.1:8500/v1/agent/members'
                '?segment=_all": dial tcp 127.0.0.1:8500: connect: connection refused'
            ],
            probeType=q("Readiness"),
            pod=q(consul),
            podUID=q(UID_CONSUL),
            containerName=q("consul"),
            probeResult=q("failure"),
        )
    k_probe_state(j, at("06:02:53.812640"), consul, "ready")
    j.klog(
        at("06:03:52.006173"),
        "I",
        SRC["REMOVECONTAINER"],
        "RemoveContainer",
        containerID=q(NOISE_B1),
    )
    j.klog_legacy(
        at("06:05:12.004417"),
        "I",
        "log.go:184",
        "http: TLS handshake error from 10.220.0.12:53522: EOF",
    )
    j.klog_legacy(
        at("06:05:27.551092"),
        "W",
        "manager.go:1174",
        "Failed to process watch event {EventType:0 Name:/kubepods/burstable/"
        f"pod{UID_BBX}/{NOISE_B2} WatchSource:0}}: task {NOISE_B2} not found: "
        "not found",
    )
    j.systemd(
        at("06:05:43.770002"),
        f"run-containerd-runc-k8s.io-{CONSUL_C}-runc.p2XeWm.mount: Succeeded.",
    )
    k_probe_state(j, at("06:05:02.441795"), pod_key("node-exporter-9sd4k", "monitoring"), "ready")


def journal_node_b() -> Journal:
    """The new pod's node: the pod starts and becomes ready (the same in both variants)."""
    j = Journal(NODE_B)
    pod = pod_key(POD_B)
    _noise_node_b(j)

    k_syncloop(j, at("06:02:38.512406"), "ADD", pod)
    meta = f"&PodSandboxMetadata{{Name:{POD_B},Uid:{UID_B},Namespace:{NAMESPACE},Attempt:0,}}"
    j.containerd(at("06:02:38.601733"), "info", f"RunPodSandbox for {meta}")
    j.containerd(
        at("06:02:39.288140"), "info", f'RunPodSandbox for {meta} returns sandbox id "{SANDBOX_B}"'
    )
    times = {
        "webservice": ("06:02:39.301559", "06:02:39.512083", "06:02:39.514226", "06:02:39.958410"),
        "gitlab-workhorse": (
            "06:02:39.521907",
            "06:02:39.703365",
            "06:02:39.705518",
            "06:02:40.047291",
        ),
    }
    for name, cid in (("webservice", WS_B), ("gitlab-workhorse", WH_B)):
        t_create, t_created, t_start, t_started = (at(x) for x in times[name])
        cmeta = f"&ContainerMetadata{{Name:{name},Attempt:0,}}"
        j.containerd(
            t_create, "info", f'CreateContainer within sandbox "{SANDBOX_B}" for container {cmeta}'
        )
        j.containerd(
            t_created,
            "info",
            f'CreateContainer within sandbox "{SANDBOX_B}" for {cmeta} '
            f'returns container id "{cid}"',
        )
        j.containerd(t_start, "info", f'StartContainer for "{cid}"')
        j.containerd(t_started, "info", f'StartContainer for "{cid}" returns successfully')
    k_pleg(j, at("06:02:40.101384"), pod, UID_B, "ContainerStarted", WS_B)
    k_pleg(j, at("06:02:40.101452"), pod, UID_B, "ContainerStarted", WH_B)
    k_probe_state(j, at("06:03:40.512318"), pod, "ready")
    return j
