"""``kubectl get events -n gitlab -o json``: the rollout, the new pod's start, the old pod's end.

The same in both variants (the events say nothing about how Workhorse exited).
"""

from __future__ import annotations

import json

from analyzer.simulate.story.cast import (
    DEPLOYMENT,
    IMAGE_WH,
    IMAGE_WS,
    NAMESPACE,
    NODE_A,
    NODE_B,
    POD_A,
    POD_B,
    PROBE_503,
    PROBE_REFUSED,
    RS_NEW,
    RS_OLD,
    UID_A,
    UID_B,
    UID_DEPLOY,
    UID_RS_NEW,
    UID_RS_OLD,
    stream_rng,
)
from analyzer.simulate.story.clock import at, iso_us, rfc3339


def _ref(api: str, kind: str, name: str, rv: str, uid: str) -> dict:
    return {
        "apiVersion": api,
        "kind": kind,
        "name": name,
        "namespace": NAMESPACE,
        "resourceVersion": rv,
        "uid": uid,
    }


POD_REF_A = _ref("v1", "Pod", POD_A, "987601234", UID_A)
POD_REF_B = _ref("v1", "Pod", POD_B, "987650012", UID_B)
DEPLOY_REF = _ref("apps/v1", "Deployment", DEPLOYMENT, "987649981", UID_DEPLOY)
RS_OLD_REF = _ref("apps/v1", "ReplicaSet", RS_OLD, "987652210", UID_RS_OLD)
RS_NEW_REF = _ref("apps/v1", "ReplicaSet", RS_NEW, "987649990", UID_RS_NEW)


def events_json(seed: int) -> str:
    rng = stream_rng(seed, "events")
    rv = iter(range(987_654_301, 987_660_000, 7))

    def uuid4() -> str:
        h = f"{rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"

    def event(
        ref: dict,
        first: str,
        reason: str,
        message: str,
        *,
        last: str | None = None,
        count: int = 1,
        etype: str = "Normal",
        container: str | None = None,
        component: str = "kubelet",
        host: str | None = None,
    ) -> dict:
        first_ns = at(first)
        last_ns = at(last) if last else first_ns
        obj = dict(ref)
        if container:
            obj["fieldPath"] = f"spec.containers{{{container}}}"
        source = {"component": component}
        if host:
            source["host"] = host
        return {
            "apiVersion": "v1",
            "count": count,
            "eventTime": None,
            "firstTimestamp": rfc3339(first_ns),
            "involvedObject": obj,
            "kind": "Event",
            "lastTimestamp": rfc3339(last_ns),
            "message": message,
            "metadata": {
                "creationTimestamp": rfc3339(first_ns),
                "name": f"{ref['name']}.{first_ns:x}",
                "namespace": NAMESPACE,
                "resourceVersion": str(next(rv)),
                "uid": uuid4(),
            },
            "reason": reason,
            "reportingComponent": component,
            "reportingInstance": host or "",
            "source": source,
            "type": etype,
        }

    items = [
        event(
            DEPLOY_REF,
            "06:02:38.318877",
            "ScalingReplicaSet",
            f"Scaled up replica set {RS_NEW} to 1",
            component="deployment-controller",
        ),
        event(
            RS_NEW_REF,
            "06:02:38.352106",
            "SuccessfulCreate",
            f"Created pod: {POD_B}",
            component="replicaset-controller",
        ),
    ]
    sched_ns = at("06:02:38.471203")
    items.append(
        {  # written by the scheduler through events.k8s.io/v1, read back as core/v1
            "action": "Binding",
            "apiVersion": "v1",
            "eventTime": iso_us(sched_ns),
            "firstTimestamp": None,
            "involvedObject": dict(POD_REF_B),
            "kind": "Event",
            "lastTimestamp": None,
            "message": f"Successfully assigned {NAMESPACE}/{POD_B} to {NODE_B}",
            "metadata": {
                "creationTimestamp": rfc3339(sched_ns),
                "name": f"{POD_B}.{sched_ns:x}",
                "namespace": NAMESPACE,
                "resourceVersion": str(next(rv)),
                "uid": uuid4(),
            },
            "reason": "Scheduled",
            "reportingComponent": "default-scheduler",
            "reportingInstance": "default-scheduler-gke-gprd-3f9e21c0-master",
            "source": {},
            "type": "Normal",
        }
    )
    for container, image, pulled, created, started in (
        ("webservice", IMAGE_WS, "06:02:39.296014", "06:02:39.512511", "06:02:39.958703"),
        ("gitlab-workhorse", IMAGE_WH, "06:02:39.517620", "06:02:39.703801", "06:02:40.047610"),
    ):
        for first, reason, message in (
            (pulled, "Pulled", f'Container image "{image}" already present on machine'),
            (created, "Created", f"Created container {container}"),
            (started, "Started", f"Started container {container}"),
        ):
            items.append(event(POD_REF_B, first, reason, message, container=container, host=NODE_B))
    items += [
        event(
            DEPLOY_REF,
            "06:03:45.981442",
            "ScalingReplicaSet",
            f"Scaled down replica set {RS_OLD} to 0",
            component="deployment-controller",
        ),
        event(
            RS_OLD_REF,
            "06:03:46.052317",
            "SuccessfulDelete",
            f"Deleted pod: {POD_A}",
            component="replicaset-controller",
        ),
        event(
            POD_REF_A,
            "06:03:46.103455",
            "Killing",
            "Stopping container webservice",
            container="webservice",
            host=NODE_A,
        ),
        event(
            POD_REF_A,
            "06:03:46.104302",
            "Killing",
            "Stopping container gitlab-workhorse",
            container="gitlab-workhorse",
            host=NODE_A,
        ),
        event(
            POD_REF_A,
            "06:03:49.214011",
            "Unhealthy",
            f"Readiness probe failed: {PROBE_503}",
            last="06:03:59.214230",
            count=2,
            etype="Warning",
            container="webservice",
            host=NODE_A,
        ),
        event(
            POD_REF_A,
            "06:04:09.213790",
            "Unhealthy",
            f"Readiness probe failed: {PROBE_REFUSED}",
            last="06:04:39.214355",
            count=4,
            etype="Warning",
            container="webservice",
            host=NODE_A,
        ),
    ]
    items.sort(key=lambda e: e["metadata"]["name"])  # the API lists objects in key (name) order
    doc = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
    return json.dumps(doc, indent=4, sort_keys=True) + "\n"
