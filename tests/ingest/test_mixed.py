"""Mixed streams: each line goes to the format that matches it, wherever it is in the file."""

from pathlib import Path

import polars as pl

from analyzer.api import load_events
from analyzer.ingest import read_file
from tests.conftest import FIXTURES

KLOG = FIXTURES / "kubelet_klog"
# Real lines (log-formats.md: §1.6 AKS journal, §4.4 containerd, §8.2/8.3 ingress-nginx).
KUBELET_KILL = (
    "Nov 29 18:20:18 aks-np2-39852331-vmss000000 kubelet[2775]: I1129 18:20:18.242970    2775 "
    'kuberuntime_container.go:770] "Killing container with a grace period" pod="default/nginx" '
    'podUID="5da5612b-9738-493c-af51-a213072997f6" containerName="nginx" '
    'containerID="containerd://c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab" '
    "gracePeriod=30"
)
CONTAINERD_STOP = (
    "Nov 29 18:20:18 aks-np2-39852331-vmss000000 containerd[2506]: "
    'time="2024-11-29T18:20:18.243705450Z" level=info msg="Stop container '
    '\\"c65a36d4090569f70b6badb5b6127ad773ebd7e5ce18d3872b8e93ee4fb52cab\\" with signal quit"'
)
KERNEL = (
    "Nov 29 18:20:19 aks-np2-39852331-vmss000000 kernel: cni0: port 3(veth9a1b2c3d) entered "
    "disabled state"
)
# elastic/beats (Apache-2.0) filebeat/module/nginx/ingress_controller/test/test.log (tests/corpus).
NGINX_502 = (
    '2a02:cf40::4e36 - - [24/Aug/2022:18:05:41 +0000] "GET /favicon.ico HTTP/2.0" 502 552 '
    '"https://localhost:8080/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 '
    '(KHTML, like Gecko) Chrome/104.0.0.0 Safari/537.36" 27 0.000 [localhost-8080] [] '
    "[2a02:cf40::7]:5000, [2a02:cf40::4e36]:5000 0, 0 0.000, 0.000 502, 502 "
    "3db73c6c673c4256ade033a6ce08c2ab"
)
CONTROLLER_KLOG = (
    'W0618 09:14:30.725530       7 controller.go:1241] Service "default/catalog" does not have '
    "any active Endpoint."
)
APISERVER_KLOG = (
    "I0618 09:14:30.123456       1 controller.go:615] quota admission added evaluator for: "
    "leases.coordination.k8s.io"
)


def test_a_journal_sniffed_as_containerd_still_reads_its_kubelet_lines(tmp_path):
    path = tmp_path / "node.log"
    path.write_text("\n".join([CONTAINERD_STOP] * 5 + [KUBELET_KILL, KERNEL, KERNEL]) + "\n")
    for as_format in (None, "containerd"):
        events, (t,) = load_events([path], as_format=as_format, year=2024)
        assert set(t.format.split("+")) == {"containerd", "kubelet_klog"}
        assert (t.events, t.rejected, t.skipped) == (6, 0, 2)
        assert dict(t.skip_reasons) == {"other program (kernel)": 2}
        kill = events.filter(pl.col("kind") == "kill").row(0, named=True)
        assert (kill["source"], kill["pod"]) == ("kubelet", "nginx")


def test_other_daemons_of_a_kubelet_journal_are_counted_per_program(tmp_path):
    path = tmp_path / "node.log"
    dockerd = (
        'Nov 29 18:20:19 aks-np2-39852331-vmss000000 dockerd[900]: time="2024-11-29T18:20:19Z" '
        'level=info msg="ignoring event"'
    )
    systemd = "Nov 29 18:20:19 aks-np2-39852331-vmss000000 systemd[1]: Started kubelet."
    path.write_text("\n".join([KUBELET_KILL] * 3 + [KERNEL, dockerd, systemd, KERNEL]) + "\n")
    events, (t,) = load_events([path], year=2024)
    assert (t.events, t.rejected, t.skipped) == (4, 0, 3)
    assert dict(t.skip_reasons) == {"other program (kernel)": 2, "other program (systemd)": 1}
    # dockerd is the runtime of a dockershim node: its logrus lines are read like containerd's
    runtime = events.filter(pl.col("source") == "runtime").row(0, named=True)
    assert (runtime["format"], runtime["kind"]) == ("containerd", "log")


def test_klog_from_another_program_in_a_journal_is_that_programs_log(tmp_path):
    path = tmp_path / "node.log"
    proxy = KUBELET_KILL.replace("kubelet[2775]", "kube-proxy[3100]")
    path.write_text(KUBELET_KILL + "\n" + proxy + "\n")
    events, (t,) = load_events([path], year=2024)
    assert t.events == 2
    rows = events.sort("line").select("source", "kind", "pod").rows()
    assert rows == [("kubelet", "kill", "nginx"), ("app", "log", None)]


def cri(ts: str, line: str) -> str:
    return f"{ts} stdout F {line}"


def test_an_ingress_controller_log_that_starts_with_klog_keeps_its_access_lines(tmp_path):
    pod_dir = (
        tmp_path / "var/log/pods/ingress-nginx_ingress-nginx-controller-7d9f8-abcde_"
        "1b2c3d4e-0000-4000-8000-000000000001/controller"
    )
    pod_dir.mkdir(parents=True)
    lines = [cri("2020-06-18T09:14:30.0Z", CONTROLLER_KLOG)] * 30 + [
        cri("2020-06-18T09:14:35.0Z", NGINX_502)
    ] * 3
    path = pod_dir / "0.log"
    path.write_text("\n".join(lines) + "\n")
    events, (t,) = load_events([path])
    assert (t.lines, t.events, t.rejected, t.skipped) == (33, 33, 0, 0)
    assert "ingress_nginx" in t.format and "kubelet_klog" in t.format
    http = events.filter(pl.col("kind") == "http")
    assert http.height == 3 and http["status"].to_list() == [502] * 3
    klog = events.filter(pl.col("format") == "kubelet_klog")
    # the controller's klog is its own log, with the pod of its path, not the kubelet's
    assert set(klog["source"]) == {"app"} and set(klog["kind"]) == {"log"}
    assert set(klog["pod"]) == {"ingress-nginx-controller-7d9f8-abcde"}
    assert set(klog["container"]) == {"controller"}


def test_klog_of_a_static_pod_names_its_own_pod_not_the_pods_it_mentions(tmp_path):
    name = "kube-apiserver-node1_kube-system_kube-apiserver-" + "0123456789abcdef" * 4 + ".log"
    path = tmp_path / "var/log/containers" / name
    path.parent.mkdir(parents=True)
    mentions = KUBELET_KILL.split("kubelet[2775]: ", 1)[1]  # a kubelet wording, from the API server
    path.write_text(
        cri("2024-11-29T18:20:18.1Z", APISERVER_KLOG)
        + "\n"
        + cri("2024-11-29T18:20:18.2Z", mentions)
        + "\n"
    )
    events, (t,) = load_events([path])
    assert t.events == 2
    assert events.select("source", "kind", "namespace", "pod", "container").unique().rows() == [
        ("app", "log", "kube-system", "kube-apiserver-node1", "kube-apiserver")
    ]


def test_a_raw_klog_file_without_the_kubelets_wordings_is_another_components_log(tmp_path):
    path = tmp_path / "coredns.log"
    path.write_text("\n".join([APISERVER_KLOG, CONTROLLER_KLOG]) + "\n")
    events, (t,) = load_events([path], year=2020)
    assert t.events == 2 and set(events["source"]) == {"app"}
    kubelet, _ = load_events([KLOG / "raw.log"], year=2024)
    assert set(kubelet["source"]) == {"kubelet"}


def test_a_banner_at_the_top_does_not_decide_the_format(tmp_path):
    # `kubectl logs` of an app that prints a long banner and init output before klog.
    banner = [f"init step {i}: loading plugin p{i} ... ok" for i in range(400)]
    body = (KLOG / "raw.log").read_text().splitlines()
    path = tmp_path / "dump.log"
    path.write_text("\n".join(banner + body * 30) + "\n")
    _, (t,) = load_events([path], year=2024)
    assert t.format == "kubelet_klog"
    assert (t.events, t.rejected) == (len(body) * 30, 400)


def test_the_sample_spans_a_large_file(tmp_path):
    # 300 KB of prose first: more than the head the sniffer reads at once.
    prose = ["this is not a log line, just text written by an init script"] * 5000
    body = (KLOG / "raw.log").read_text().splitlines()
    path = tmp_path / "big.log"
    path.write_text("\n".join(prose + body * 2000) + "\n")
    assert path.stat().st_size > 600_000
    parsed = read_file(path)
    assert parsed.format == "kubelet_klog"
    assert parsed.choice is not None and parsed.choice.spec is not None
    assert parsed.choice.spec.name == "kubelet_klog"


def test_forced_format_still_wins(tmp_path):
    path = Path(tmp_path / "a.log")
    path.write_text(APISERVER_KLOG + "\n")
    _, (t,) = load_events([path], as_format="kubelet_klog", year=2020)
    assert (t.format, t.events) == ("kubelet_klog", 1)


def test_klog_in_a_docker_json_file_is_its_containers_log(tmp_path):
    import json

    name = "kube-scheduler-node1_kube-system_kube-scheduler-" + "0123456789abcdef" * 4 + ".log"
    path = tmp_path / "var/log/containers" / name
    path.parent.mkdir(parents=True)
    records = [
        {"log": line + "\n", "stream": "stderr", "time": f"2020-06-18T09:14:3{i}.0Z"}
        for i, line in enumerate([APISERVER_KLOG, CONTROLLER_KLOG])
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    events, (t,) = load_events([path])
    assert (t.format, t.events, t.rejected) == ("docker_json+kubelet_klog", 2, 0)
    rows = events.select("source", "kind", "namespace", "pod", "container").unique().rows()
    assert rows == [("app", "log", "kube-system", "kube-scheduler-node1", "kube-scheduler")]


def test_a_kubelet_running_in_a_container_is_still_the_kubelet(tmp_path):
    # RKE1 runs the kubelet as a Docker container; Docker's own path names no container.
    import json

    cid = "0123456789abcdef" * 4
    path = tmp_path / "var/lib/docker/containers" / cid / f"{cid}-json.log"
    path.parent.mkdir(parents=True)
    kill = KUBELET_KILL.split("kubelet[2775]: ", 1)[1]
    record = {"log": kill + "\n", "stream": "stderr", "time": "2024-11-29T18:20:18.2Z"}
    path.write_text(json.dumps(record) + "\n")
    events, (t,) = load_events([path])
    assert events.select("source", "kind", "pod").rows() == [("kubelet", "kill", "nginx")]
    # a pod's container named kubelet (kubelet in a container, as RKE names it) too
    pods = tmp_path / "var/log/pods" / ("kube-system_kubelet-node1_" + "a" * 32) / "kubelet"
    pods.mkdir(parents=True)
    (pods / "0.log").write_text(cri("2024-11-29T18:20:18.2Z", kill) + "\n")
    events, _ = load_events([pods / "0.log"])
    assert events.select("source", "kind", "pod").rows() == [("kubelet", "kill", "nginx")]
