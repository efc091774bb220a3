"""``events.json``: ``kubectl get events -A -o json`` (a core/v1 List) from the lifecycle.

Lifecycle rows are few (one per kubelet moment), so the items are plain dicts.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from analyzer.simulate.world import World
from analyzer.simulate.writers.journal import lifecycle_rows


def _rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _micro(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _uuid(*parts: object) -> str:
    h = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}"


def _aggregate(items: list[dict]) -> list[dict]:
    """The kubelet's event correlator: repeats of an event (same object, reason and message)
    become one object with ``count`` and the first and last timestamps."""
    kept: dict[tuple, dict] = {}
    out = []
    for item in sorted(items, key=lambda e: e["firstTimestamp"] or e["eventTime"] or ""):
        if item["firstTimestamp"] is None:
            out.append(item)
            continue
        obj = item["involvedObject"]
        key = (obj.get("uid"), obj.get("fieldPath"), item["reason"], item["message"])
        if key in kept:
            kept[key]["count"] += 1
            kept[key]["lastTimestamp"] = item["lastTimestamp"]
            continue
        kept[key] = item
        out.append(item)
    return out


def events_json(world: World) -> str:
    life = lifecycle_rows(world)
    images = {(p.namespace, p.name, c.name): c.image for p in world.pods for c in p.containers}
    items: list[dict] = []
    rv = iter(range(50_001_000, 99_999_999, 7))

    def pod_ref(row: dict) -> dict:
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "name": row["pod"],
            "namespace": row["namespace"],
            "resourceVersion": str(
                40_000_000 + int(hashlib.md5(row["pod"].encode()).hexdigest()[:6], 16)
            ),
            "uid": row["uid"],
        }

    def event(
        row: dict,
        t: datetime,
        reason: str,
        message: str,
        *,
        etype: str = "Normal",
        container: str | None = None,
        ref: dict | None = None,
        component: str = "kubelet",
        namespace: str | None = None,
    ) -> None:
        obj = dict(ref or pod_ref(row))
        if container:
            obj["fieldPath"] = f"spec.containers{{{container}}}"
        ns = int(t.timestamp() * 1e9)
        items.append(
            {
                "apiVersion": "v1",
                "count": 1,
                "eventTime": None,
                "firstTimestamp": _rfc3339(t),
                "involvedObject": obj,
                "kind": "Event",
                "lastTimestamp": _rfc3339(t),
                "message": message,
                "metadata": {
                    "creationTimestamp": _rfc3339(t),
                    "name": f"{obj['name']}.{ns:x}",
                    "namespace": namespace or row["namespace"],
                    "resourceVersion": str(next(rv)),
                    "uid": _uuid(obj["name"], reason, ns),
                },
                "reason": reason,
                "reportingComponent": component,
                "reportingInstance": row["node"] or "",
                "source": (
                    {"component": component, "host": row["node"]}
                    if row["node"]
                    else {"component": component}
                ),
                "type": etype,
            }
        )

    for row in life.iter_rows(named=True):
        kind, t, c = row["kind"], row["ts"], row["container"]
        if kind == "pod_added":
            s = t - timedelta(milliseconds=41)
            ns = int(s.timestamp() * 1e9)
            ref = pod_ref(row)
            items.append(
                {
                    "action": "Binding",
                    "apiVersion": "v1",
                    "eventTime": _micro(s),
                    "firstTimestamp": None,
                    "involvedObject": ref,
                    "kind": "Event",
                    "lastTimestamp": None,
                    "message": f"Successfully assigned {row['namespace']}/{row['pod']} "
                    f"to {row['node']}",
                    "metadata": {
                        "creationTimestamp": _rfc3339(s),
                        "name": f"{row['pod']}.{ns:x}",
                        "namespace": row["namespace"],
                        "resourceVersion": str(next(rv)),
                        "uid": _uuid(row["pod"], "Scheduled", ns),
                    },
                    "reason": "Scheduled",
                    "reportingComponent": "default-scheduler",
                    "reportingInstance": "default-scheduler",
                    "source": {},
                    "type": "Normal",
                }
            )
        elif kind == "container_started":
            image = images.get((row["namespace"], row["pod"], c), "")
            event(
                row,
                t - timedelta(milliseconds=640),
                "Pulled",
                f'Container image "{image}" already present on machine',
                container=c,
            )
            event(
                row,
                t - timedelta(milliseconds=420),
                "Created",
                f"Created container {c}",
                container=c,
            )
            event(row, t, "Started", f"Started container {c}", container=c)
        elif kind == "kill":
            message = row["detail"] or f"Stopping container {c}"
            event(row, t, row["reason"] or "Killing", message, container=c)
        elif kind == "probe_failed":
            probe = (row["probe"] or "readiness").capitalize()
            output = row["detail"] or (
                f'Get "http://{row["pod_ip"]}:{row["port"]}/readiness": dial tcp '
                f"{row['pod_ip']}:{row['port']}: connect: connection refused"
            )
            event(
                row, t, "Unhealthy", f"{probe} probe failed: {output}", etype="Warning", container=c
            )
        elif kind == "backoff":
            event(
                row,
                t,
                "BackOff",
                f"Back-off restarting failed container {c} in pod "
                f"{row['pod']}_{row['namespace']}({row['uid']})",
                etype="Warning",
                container=c,
            )
        elif kind == "oom":
            node_ref = {"kind": "Node", "name": row["node"], "uid": row["node"]}
            event(
                row,
                t,
                "OOMKilling",
                f"Memory cgroup out of memory: Killed process ({c}) total-vm:2097152kB, "
                "anon-rss:1048576kB, file-rss:0kB, shmem-rss:0kB",
                etype="Warning",
                ref=node_ref,
                component="kernel-monitor",
                namespace="default",
            )
        elif kind == "evicted":
            message = row["detail"] or (
                "The node was low on resource: memory. Threshold quantity: 100Mi, available: "
                f"91264Ki. Container {c or row['pod']} was using 1843200Ki, request is 0, has "
                "larger consumption of memory. "
            )
            event(row, t, row["reason"] or "Evicted", message, etype="Warning", component="kubelet")
    # controllers' events on the workload (scenario knob): ScalingReplicaSet, SuccessfulRescale
    for e in world.extras.get("deployment_events", ()):  # type: ignore[union-attr]
        t = world.start + timedelta(seconds=float(e["t"]))
        row = {"namespace": e.get("namespace") or world.pods[0].namespace, "node": None}
        api = "apps/v1" if e["kind"] == "Deployment" else "autoscaling/v2"
        ref = {
            "apiVersion": api,
            "kind": e["kind"],
            "name": e["name"],
            "namespace": row["namespace"],
            "resourceVersion": str(
                30_000_000 + int(hashlib.md5(e["name"].encode()).hexdigest()[:6], 16)
            ),
            "uid": _uuid(e["kind"], e["name"]),
        }
        event(row, t, e["reason"], e["message"], ref=ref, component=e["component"])
    items = _aggregate(items)
    items.sort(key=lambda e: (e["metadata"]["namespace"], e["metadata"]["name"]))
    doc = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
    return json.dumps(doc, indent=4, sort_keys=True) + "\n"
