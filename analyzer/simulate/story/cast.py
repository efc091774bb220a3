"""Who is in the story (names, ids, addresses) and when its fixed moments happen.

These never depend on the seed: the seed varies the request mix and the jitter, never the cast or
the timeline, so every seed tells the same incident.
"""

from __future__ import annotations

import random

from analyzer.simulate.story.clock import SEC, at

#: The base of every random stream. ``Params.seed`` is added to it, so seed 0 draws exactly the
#: streams that wrote the committed ``sample_logs/``.
SEED = 20220405


def stream_rng(seed: int, stream: str) -> random.Random:
    """One independent, named random stream.

    String seeds hash the same way in every interpreter run, and each concern (traffic, ids,
    Puma lags, events) draws from its own stream, so adding a draw to one leaves the others.
    """
    return random.Random(f"{SEED + seed}:{stream}")


NAMESPACE = "gitlab"
NODE_A = "gke-gprd-default-pool-1a2b3c4d-x9k2"  # old pod
NODE_B = "gke-gprd-default-pool-5e6f7a8b-m4p1"  # new pod
KUBELET_PID = {NODE_A: 2345, NODE_B: 2317}
CONTAINERD_PID = {NODE_A: 1890, NODE_B: 1877}

DEPLOYMENT = "gitlab-webservice-default"
RS_OLD = "gitlab-webservice-default-5d85b6854c"
RS_NEW = "gitlab-webservice-default-84c68fc9c9"
POD_A = "gitlab-webservice-default-5d85b6854c-sbx2z"
POD_B = "gitlab-webservice-default-84c68fc9c9-xcsnm"
UID_A = "b80a99ae-7c8d-4fc3-9433-0cddd173b894"
UID_B = "5ed919e9-f43c-418f-b88e-a59db00608f1"
UID_RS_OLD = "13aa283a-76a7-44ff-85bb-44f55a17b78b"
UID_RS_NEW = "da24e6c2-4210-49c5-ad7a-9bc13e4573b4"
UID_DEPLOY = "f8fc78b7-05b6-4f75-a066-798394132a23"
IP_A = "10.220.9.14"
IP_B = "10.220.7.23"
PAGES_IP = "10.220.4.31"
INGRESS_IP = "10.220.1.5"

# containerd container ids (64 hex). *_A = old pod on node A, *_B = new pod on node B.
WS_A = "63815bef71b2e6a1b6694d05986e7e0d91048546284080f2848580275069e8fa"
WH_A = "3de4e2c52bca6f26b1d192f2cb9a8df88edb9d0f4fccf2a7a194df68ee2a5b55"
WS_B = "05eaa05badbccea655f9315e075e4b759d7d60f4a5fc7fdd7349ef5193692200"
WH_B = "67efde0ca6e059a5208a897f991615288940acaa0d5cbec001d340ce8bf2398a"
SANDBOX_B = "75d2e509e89e78cb9809ddd2c9122075ac1db533a430a39cfee702a8b1f0b754"

# Unrelated pods that only appear as kubelet noise.
NOISE_A1 = "2d75c1c6be0515c38f92de7939da8ad69c437c0c2d6ce429920bfae370a8f4c9"
NOISE_A2 = "0bf9f9f7d4ee5cd3e715d82ab9d70c74608736637dad2503db25eaf79bb3a8de"
NOISE_B1 = "579fb95d4c6495e3f86ce706df7518931c387725ff7dd87bb08a9bf67a06f7d7"
NOISE_B2 = "ed22591da99cdf043ebb46a8de1786d384fc0301aee26c186d3be8f08be90ed9"
REDIS_C = "d6460abaff1b5ea9da1d38d57afe88870da857ff37442460fd4ca993815f6976"
CONSUL_C = "6d6f0f988e9072b6a985db5395255763715d65efe4f74c4778b53de005fae36c"
UID_REDIS = "1198701f-3a4d-4f97-a4a0-8a4dc9d26613"
UID_PGB = "05d03564-3c45-4d9e-a434-1ef264e1ba83"
UID_CONSUL = "ed493274-0c37-444c-9d8d-87379fedbb9f"
UID_BBX = "d1fa2c93-5e8d-4547-ae84-414afa285320"

IMAGE_WS = "registry.gitlab.com/gitlab-org/build/cng/gitlab-webservice-ee:v14.9.2"
IMAGE_WH = "registry.gitlab.com/gitlab-org/build/cng/gitlab-workhorse-ee:v14.9.2"

GRACE_S = 60  # terminationGracePeriodSeconds
WH_SHUTDOWN_TIMEOUT_S = 61  # Workhorse shutdown_timeout, as printed in the blog post

BADGATEWAY = (
    "badgateway: failed to receive response: dial tcp 127.0.0.1:8080: connect: connection refused"
)
PROBE_503 = "HTTP probe failed with statuscode: 503"
PROBE_REFUSED = (
    f'Get "http://{IP_A}:8080/-/readiness": dial tcp {IP_A}:8080: connect: connection refused'
)

DIR_A = f"var/log/pods/{NAMESPACE}_{POD_A}_{UID_A}"
DIR_B = f"var/log/pods/{NAMESPACE}_{POD_B}_{UID_B}"


def pod_key(name: str, ns: str = NAMESPACE) -> str:
    return f"{ns}/{name}"


# --- the timeline ----------------------------------------------------------------------------

# Old pod ("stream X" = the clients holding connections to it) and new pod ("stream Y").
X_START, X_END = at("06:02:00"), at("06:04:46")
Y_START, Y_END = at("06:03:41"), at("06:06:00")
OLD_200_UNTIL = at("06:04:04.300")  # requests starting later are not served by Puma any more
FIRST_502 = at("06:04:04.612345678")  # a request placed by hand: the first one to fail
LAST_502 = at("06:04:45.903456789")  # ... and the last, just before the SIGKILL
SIGTERM = at("06:03:46.104817")  # containerd "Stop container … with signal terminated"
SIGKILL = SIGTERM + GRACE_S * SEC + 914_207  # incident: containerd "Kill container"
WH_SHUTDOWN = at("06:03:46.301")  # fixed variant: Workhorse logs "shutdown initiated"
FIXED_OLD_UNTIL = at("06:03:46.200")  # fixed variant: later requests go to the new pod
NEW_POD_GEO_FROM = at("06:02:41.302")  # new pod: the Geo poller's first try, then every 10 s
OLD_POD_GEO_FROM = at("06:04:07.718")  # old pod, Puma gone: the poller fails there too
