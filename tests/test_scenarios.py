"""Scenarios other than the bundled story: other names, times, clusters and proxies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import analyzer
from tests.conftest import assert_same_critical_incident

POD, NS, IP, CID = "checkout-api-6f7d9c8b5-q2w3e", "shop", "10.8.3.17", "ab" * 32
UID = "5b9c8e7a-1111-4222-8333-944455556666"


def _klog(ts: datetime, body: str, node: str = "ip-10-0-1-23") -> str:
    # journald prefix + klog header, both local (UTC here) and yearless
    return (
        f"{ts:%b %d %H:%M:%S} {node} kubelet[1234]: I{ts:%m%d %H:%M:%S.%f}    1234 x.go:1] {body}"
    )


def _ingress(ts: datetime, status: int, upstream: str, i: int) -> str:
    line = (
        f'10.0.0.{i % 200} - - [{ts:%d/%b/%Y:%H:%M:%S} +0000] "GET /cart/{i} HTTP/1.1" {status} 12 "-" '
        f'"curl/8.5.0" 80 0.002 [shop-checkout-api-8080] [] {upstream} 0 0.001 {status} '
        f"{i:032x}"
    )
    return f"{ts.isoformat().replace('+00:00', 'Z')} stdout F {line}"


def _containerd(ts: datetime, msg: str, node: str = "ip-10-0-1-23") -> str:
    stamp = ts.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"
    return f'{ts:%b %d %H:%M:%S} {node} containerd[987]: time="{stamp}" level=info msg="{msg}"'


def _scenario(
    tmp_path,
    t0: datetime,
    grace: int,
    ignores_sigterm: bool,
    runtime_only=False,
    ip=IP,
    probe_fails=True,
    reborn_ip=None,
):
    host = f"[{ip}]" if ":" in ip else ip  # IPv6 hosts are bracketed before a port
    kill = t0 + timedelta(seconds=60)
    death = kill + timedelta(seconds=grace if ignores_sigterm else 1.5)
    kubelet = [
        _klog(
            t0,
            f'"Probe failed" probeType="Readiness" pod="{NS}/{POD}" podUID="{UID}" '
            f'containerName="api" probeResult="failure" output="Get \\"http://{host}:8080/ready\\": '
            'context deadline exceeded"',
        ),
        _klog(
            t0 + timedelta(seconds=1),
            f'"SyncLoop (probe)" probe="readiness" status="ready" pod="{NS}/{POD}"',
        ),
        _klog(kill, f'"SyncLoop DELETE" source="api" pods=["{NS}/{POD}"]'),
        _klog(
            kill,
            f'"Killing container with a grace period" pod="{NS}/{POD}" podUID="{UID}" '
            f'containerName="api" containerID="containerd://{CID}" gracePeriod={grace}',
        ),
        _klog(
            death,
            f'"Generic (PLEG): container finished" podID="{UID}" containerID="{CID}" '
            f"exitCode={137 if ignores_sigterm else 0}",
        ),
        _klog(
            death,
            f'"SyncLoop (PLEG): event for pod" pod="{NS}/{POD}" '
            f'event={{"ID":"{UID}","Type":"ContainerDied","Data":"{CID}"}}',
        ),
    ]
    if not probe_fails:  # a healthy app until SIGKILL: no kubelet line names its IP
        kubelet = kubelet[2:]
    if runtime_only:  # kubelet at --v=0: no kill or death lines, only the runtime's
        kubelet = kubelet[:2] + [
            _containerd(kill, f'StopContainer for \\"{CID}\\" with timeout {grace} (s)'),
            _containerd(kill, f'Stop container \\"{CID}\\" with signal terminated'),
            _containerd(death, f'Kill container \\"{CID}\\"'),
        ]
        # The app's own log, named by container ID, ties that ID to the pod and container.
        app = tmp_path / "var/log/containers" / f"{POD}_{NS}_api-{CID}.log"
        app.parent.mkdir(parents=True)
        app.write_text(f"{t0.isoformat().replace('+00:00', 'Z')} stdout F listening on :8080\n")
    ingress = []
    for i in range(0, 200):
        ts = t0 + timedelta(seconds=i * 0.6)
        if ts < death:
            ingress.append(_ingress(ts, 200, f"{host}:8080", i))
        elif ts < death + timedelta(seconds=4):
            # pooled connections to the dead pod fail, then retries go elsewhere
            ingress.append(_ingress(ts, 502, f"{host}:8080, {host}:8080, {host}:8080", i))
        else:
            ingress.append(_ingress(ts, 200, "10.8.5.2:8080", i))
    node = tmp_path / "node" / "journal.log"
    node.parent.mkdir(parents=True)
    node.write_text("\n".join(kubelet) + "\n")
    pods = (
        tmp_path / "var/log/pods/ingress-nginx_ingress-nginx-controller-7d8f9-abcde_"
        "0a0b0c0d-0000-4000-8000-000000000001/controller"
    )
    pods.mkdir(parents=True)
    (pods / "0.log").write_text("\n".join(ingress) + "\n")
    if reborn_ip:  # a StatefulSet brings the pod back under its name, on another node
        _write_rebirth(tmp_path, death, reborn_ip)
    return analyzer.analyze([tmp_path]), kill, death


def _write_rebirth(tmp_path, death: datetime, ip: str) -> None:
    uid, node = "9c8b7a6d-2222-4333-8444-a55566667777", "ip-10-0-2-45"
    at = [death + timedelta(seconds=s) for s in (8, 10, 20, 30)]
    kubelet = [
        _klog(at[0], f'"SyncLoop ADD" source="api" pods=["{NS}/{POD}"]', node),
        *(
            _klog(
                t,
                f'"Probe failed" probeType="Readiness" pod="{NS}/{POD}" podUID="{uid}" '
                f'containerName="api" probeResult="failure" output="Get \\"http://{ip}:8080/ready'
                f'\\": dial tcp {ip}:8080: connect: connection refused"',
                node,
            )
            for t in at[1:3]
        ),
        _klog(at[3], f'"SyncLoop (probe)" probe="readiness" status="ready" pod="{NS}/{POD}"', node),
    ]
    journal = tmp_path / "node2" / "journal.log"
    journal.parent.mkdir(parents=True)
    journal.write_text("\n".join(kubelet) + "\n")
    # A second ingress replica tried the new pod before it listened.
    tries = [
        _ingress(death + timedelta(seconds=s), 502, f"{ip}:8080", 900 + s) for s in (12, 14, 16)
    ]
    other = (
        tmp_path
        / "var/log/containers"
        / f"ingress-nginx-controller-7d8f9-fghij_ingress-nginx_controller-{'cd' * 32}.log"
    )
    other.parent.mkdir(parents=True, exist_ok=True)
    other.write_text("\n".join(tries) + "\n")


def test_ingress_nginx_in_front_of_a_pid1_problem_across_new_year(tmp_path):
    # Kill on 31 Dec, SIGKILL on 1 Jan: the klog year rolls over; the year comes from CRI times.
    t0 = datetime(2025, 12, 31, 23, 58, 30, tzinfo=UTC)
    result, kill, death = _scenario(tmp_path, t0, grace=45, ignores_sigterm=True)
    assert death.year == 2026
    critical = [i for i in result.incidents if i.severity == "critical"]
    assert len(critical) == 1
    (inc,) = critical
    assert inc.frames.pods == [(NS, POD)]
    top = inc.findings[0]
    assert (top.code, top.container) == ("sigterm-ignored", "api")
    assert abs((top.window[0] - kill).total_seconds()) < 0.01
    assert abs((top.window[1] - death).total_seconds()) < 0.01
    assert "grace period 45 s" in top.summary
    assert any(t.format == "cri+ingress_nginx" for t in result.inputs)


def test_ipv6_pod_addresses(tmp_path):
    t0 = datetime(2024, 9, 9, 9, 0, 0, tzinfo=UTC)
    result, kill, _ = _scenario(tmp_path, t0, grace=30, ignores_sigterm=True, ip="fd00:10:42:7::1f")
    (inc,) = [i for i in result.incidents if i.severity == "critical"]
    assert inc.frames.pods == [(NS, POD)]
    assert (inc.findings[0].code, inc.findings[0].container) == ("sigterm-ignored", "api")


def test_no_probe_ever_fails_so_the_pod_is_matched_by_time(tmp_path):
    t0 = datetime(2024, 9, 9, 9, 0, 0, tzinfo=UTC)
    result, _, _ = _scenario(tmp_path, t0, grace=30, ignores_sigterm=True, probe_fails=False)
    (inc,) = [i for i in result.incidents if i.severity == "critical"]
    assert inc.frames.pods == [(NS, POD)]
    top = inc.findings[0]
    assert (top.code, top.container) == ("sigterm-ignored", "api")
    assert "tied to it by time" in top.summary


def test_a_statefulset_pod_back_under_its_name_is_another_pod(tmp_path):
    """The same name, a new life (new UID, node, IP): its startup errors are its own
    incident, not more failures of the pod that ignored SIGTERM."""
    t0 = datetime(2024, 5, 5, 5, 0, 0, tzinfo=UTC)
    result, kill, death = _scenario(
        tmp_path, t0, grace=30, ignores_sigterm=True, reborn_ip="10.8.9.4"
    )
    (critical,) = [i for i in result.incidents if i.severity == "critical"]
    assert critical.status_counts() == {"502": 7}  # the old life's 502s only
    assert critical.end < death + timedelta(seconds=5)
    top = critical.findings[0]
    assert top.code == "sigterm-ignored" and "7 requests to the pod failed" in top.summary
    (startup,) = [i for i in result.incidents if i.severity == "info"]
    assert startup.frames.pods == [(NS, POD)]
    assert startup.start == death + timedelta(seconds=12)
    (info,) = startup.findings
    assert info.code == "startup-not-ready"
    became_ready = death + timedelta(seconds=30)  # the new life's, not the old one's
    assert f"became ready at {became_ready:%H:%M:%S}" in info.summary


def test_same_cluster_with_a_clean_shutdown_is_the_missing_prestop_delay(tmp_path):
    t0 = datetime(2024, 7, 1, 8, 0, 0, tzinfo=UTC)
    result, kill, _ = _scenario(tmp_path, t0, grace=30, ignores_sigterm=False)
    (inc,) = result.incidents
    assert not any(f.code == "sigterm-ignored" for f in inc.findings)
    # It exited at once on SIGTERM while the ingress kept sending: RC2, not RC1.
    top = inc.findings[0]
    assert (top.code, top.container, top.explains) == ("no-prestop-drain", "api", 1.0)
    assert abs((top.window[0] - kill).total_seconds()) < 0.01


def test_runtime_lines_alone_show_the_sigkill(tmp_path):
    t0 = datetime(2023, 3, 3, 3, 3, 3, tzinfo=UTC)
    result, kill, death = _scenario(tmp_path, t0, grace=20, ignores_sigterm=True, runtime_only=True)
    (inc,) = [i for i in result.incidents if i.severity == "critical"]
    top = inc.findings[0]
    assert top.code == "sigterm-ignored" and "SIGKILL logged by the runtime" in top.summary
    assert any("Kill container" in e.text for e in top.evidence)


def test_kubectl_logs_dumps_are_tied_to_their_pod_by_file_name(tmp_path):
    """The story, with Workhorse and Puma given as `kubectl logs` dumps (no runtime wrapper)."""
    import json
    import re
    import shutil

    from tests.conftest import SAMPLE

    root = tmp_path / "story"
    for src in ("nodes", "events.json", "gitlab-pages.log"):
        path = SAMPLE / src
        (shutil.copytree if path.is_dir() else shutil.copy)(path, root / src)
    for pod_dir in (SAMPLE / "var/log/pods").iterdir():
        pod = pod_dir.name.split("_")[1]
        for container in pod_dir.iterdir():
            lines = (container / "0.log").read_text().splitlines()
            payloads = [re.sub(r"^\S+ (?:stdout|stderr) [FP] ", "", ln) for ln in lines]
            # `kubectl logs` would show a joined long line; keep only whole JSON lines here.
            payloads = [p for p in payloads if p.startswith("{") and p.endswith("}")]
            assert all(json.loads(p) for p in payloads)
            (root / f"{pod}_{container.name}.log").write_text("\n".join(payloads) + "\n")
    result = analyzer.analyze([root])
    (inc,) = [i for i in result.incidents if i.severity == "critical"]
    assert inc.findings[0].code == "sigterm-ignored"
    assert inc.findings[0].container == "gitlab-workhorse"
    assert 40 <= inc.duration_s <= 44


def _logrus_text(record: dict) -> str:
    """A JSON log record as logrus's TextFormatter writes it (time, level, msg, sorted rest)."""
    import json
    import re

    def value(v) -> str:
        s = "<nil>" if v is None else str(v)
        if s and re.fullmatch(r"[A-Za-z0-9\-._/@^+]+", s):
            return s
        return json.dumps(s)  # Go's %q for these ASCII values

    rest = {k: v for k, v in record.items() if k not in ("time", "level", "msg")}
    head = [f'time="{record["time"]}"', f"level={record['level']}"]
    if record.get("msg"):
        head.append(f"msg={value(record['msg'])}")
    return " ".join(head + [f"{k}={value(v)}" for k, v in sorted(rest.items())])


def test_workhorse_in_text_format_inside_cri(tmp_path, story):
    """The story with `workhorse.logFormat: text`: same diagnosis from logrus text payloads."""
    import json
    import re
    import shutil

    from tests.conftest import SAMPLE

    root = tmp_path / "story"
    shutil.copytree(SAMPLE, root)
    converted = 0
    for log in root.glob("var/log/pods/*/gitlab-workhorse/0.log"):
        out = []
        for line in log.read_text().splitlines():
            m = re.match(r"^(\S+ (?:stdout|stderr) F )(\{.*\})$", line)
            if m:
                line, converted = m[1] + _logrus_text(json.loads(m[2])), converted + 1
            out.append(line)
        log.write_text("\n".join(out) + "\n")
    assert converted > 500
    result = analyzer.analyze([root])
    formats = {t.format for t in result.inputs if "gitlab-workhorse" in t.path}
    assert formats == {"cri+workhorse_text"}
    assert all(t.rejected == 0 for t in result.inputs)
    (inc,) = [i for i in result.incidents if i.severity == "critical"]
    assert (inc.findings[0].code, inc.findings[0].container) == (
        "sigterm-ignored",
        "gitlab-workhorse",
    )
    (as_json,) = [i for i in story.incidents if i.severity == "critical"]
    assert (inc.start, inc.end, inc.status_counts()) == (
        as_json.start,
        as_json.end,
        as_json.status_counts(),
    )


def test_a_dockershim_node_writes_docker_json_files(tmp_path, story):
    """The story on a Docker node: /var/log/containers files in json-file records, long
    lines split into records without a newline. Same incident, same findings."""
    import json
    import shutil

    from tests.conftest import SAMPLE

    root = tmp_path / "story"
    for src in ("nodes", "events.json", "gitlab-pages.log"):
        path = SAMPLE / src
        (shutil.copytree if path.is_dir() else shutil.copy)(path, root / src)
    split = 0
    for log in SAMPLE.glob("var/log/pods/*/*/0.log"):
        namespace, pod, uid = log.parent.parent.name.split("_")
        name = f"{pod}_{namespace}_{log.parent.name}-{uid.replace('-', '') * 2}.log"
        records = []
        for line in log.read_text().splitlines():
            ts, stream, tag, payload = line.split(" ", 3)
            split += tag == "P"
            end = "" if tag == "P" else "\n"
            records.append(json.dumps({"log": payload + end, "stream": stream, "time": ts}))
        out = root / "var/log/containers" / name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(records) + "\n")
    assert split > 0
    result = analyzer.analyze([root])
    formats = {t.format for t in result.inputs if "containers" in t.path}
    assert formats == {"docker_json+workhorse_json", "docker_json+puma_json"}
    assert all(t.reconciles for t in result.inputs)
    assert_same_critical_incident(result, story)


@pytest.mark.parametrize(
    ("app_log", "sidecar", "named"),
    [(True, True, "api"), (False, False, "api"), (False, True, CID[:12])],
)
def test_a_kubernetes_1_19_node_with_unstructured_kubelet_lines(tmp_path, app_log, sidecar, named):
    """Legacy `Infof` kubelet lines: pod as name_namespace(uid), kill by container ID only.

    The app's /var/log/containers file names that ID; else the pod's only known container;
    else (two containers known) the short ID.
    """
    t0 = datetime(2020, 4, 12, 10, 20, 0, tzinfo=UTC)
    kill, grace = t0 + timedelta(seconds=60), 30
    death = kill + timedelta(seconds=grace)
    ref = f"{POD}_{NS}({UID})"

    def klog(ts: datetime, body: str) -> str:
        return f"I{ts:%m%d %H:%M:%S.%f}    1234 x.go:1] {body}"

    kubelet = [
        klog(
            t0,
            f'Readiness probe for "{ref}:api" failed (failure): Get http://{IP}:8080/ready: '
            "net/http: request canceled (Client.Timeout exceeded while awaiting headers)",
        ),
        klog(kill, f'SyncLoop (DELETE, "api"): "{ref}"'),
        klog(kill, f'Killing container "docker://{CID}" with {grace} second grace period'),
        klog(
            death,
            f'SyncLoop (PLEG): "{ref}", event: &pleg.PodLifecycleEvent{{ID:"{UID}", '
            f'Type:"ContainerDied", Data:"{CID}"}}',
        ),
    ]
    if sidecar:
        kubelet.insert(1, klog(t0, f'Liveness probe for "{ref}:proxy" failed (failure): EOF'))
    (tmp_path / "kubelet.log").write_text("\n".join(kubelet) + "\n")
    if app_log:
        app = tmp_path / "var/log/containers" / f"{POD}_{NS}_api-{CID}.log"
        app.parent.mkdir(parents=True)
        app.write_text(f"{t0.isoformat().replace('+00:00', 'Z')} stdout F listening on :8080\n")
    ingress = [
        _ingress(t0 + timedelta(seconds=i), 200 if i < 90 else 502, f"{IP}:8080", i)
        for i in range(95)
    ]
    pods = tmp_path / "var/log/pods/ingress-nginx_ctrl-abcde_0a0b0c0d-0000-4000-8000-000000000001/c"
    pods.mkdir(parents=True)
    (pods / "0.log").write_text("\n".join(ingress) + "\n")
    result = analyzer.analyze([tmp_path])
    (inc,) = [i for i in result.incidents if i.severity == "critical"]
    assert inc.frames.pods == [(NS, POD)]
    top = inc.findings[0]
    assert (top.code, top.container) == ("sigterm-ignored", named)
    assert f"grace period {grace} s" in top.summary
