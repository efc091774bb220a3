"""The world scenarios: what happens to a deployment, cause by cause (root-causes.md RC1-RC10).

Each function takes ``Params`` and returns the ``Scenario`` plan; ``engine.build`` turns it into
a World and its Truth. Times are seconds from the window's start, drawn from the seed within
realistic ranges (grace periods, propagation delays, probe phases), so no two seeds agree on
names, dates or timings.
"""

from __future__ import annotations

import numpy as np

from analyzer.simulate.engine import PROXIES, Cast, Failing, Planted, PodPlan, Scenario
from analyzer.simulate.model import Params

#: A probe against a wedged app; the engine fills in the pod's address.
_TIMEOUT = (
    'Get "http://{{ip}}:{{port}}/{path}": context deadline exceeded '
    "(Client.Timeout exceeded while awaiting headers)"
)


_REFUSED = 'Get "http://{ip}:{port}/ready": dial tcp {ip}:{port}: connect: connection refused'


def _deployment(
    name: str, params: Params, replicas: int, *, default_proxy: str = "ingress-nginx", **kw: object
) -> Scenario:
    rng = np.random.default_rng([_stable(name), params.seed])
    cast = Cast(rng)
    pods = [PodPlan(node=i % 3) for i in range(replicas)]
    return Scenario(
        name=name,
        cast=cast,
        params=params,
        proxy=params.proxy or default_proxy,
        pods=pods,
        generation=[0] * replicas,
        failing=[],
        planted=[],
        **kw,  # type: ignore[arg-type]
    )


def _stable(text: str) -> int:
    return sum((i + 1) * ord(ch) for i, ch in enumerate(text))


def _u(sc: Scenario, lo: float, hi: float) -> float:
    return round(float(sc.cast.rng.uniform(lo, hi)), 3)


def _propagation(sc: Scenario) -> float:
    """How long consumers keep sending new requests after the delete."""
    if sc.proxy in ("alb", "gclb"):  # cloud LBs: target deregistration / NEG detach
        return _u(sc, 12, 25)
    return _u(sc, 2.5, 6)


def _new_pod(sc: Scenario, born: float, *, node: int = 1, probe: bool = True) -> int:
    sc.pods.append(
        PodPlan(born=born, listening=born + _u(sc, 4, 9), readiness_probe=probe, node=node)
    )
    sc.generation.append(1)
    return len(sc.pods) - 1


def _line(
    sc: Scenario,
    pod: int,
    t: float,
    msg: str,
    *,
    level: str = "info",
    container: str | None = None,
    go_log: bool = False,
) -> None:
    sc.app_lines.append(
        {"pod": pod, "t": t, "msg": msg, "level": level, "container": container, "go_log": go_log}
    )


def _front_name(sc: Scenario) -> str:
    if sc.proxy == "workhorse":
        return "gitlab-workhorse"
    return sc.cast.front if sc.backend else "app"


def _backend_name(sc: Scenario) -> str:
    return sc.cast.backend if sc.backend else "app"


def _sidecar_exit(sc: Scenario, plan: PodPlan, t: float) -> None:
    if sc.proxy == "istio":
        plan.exits["istio-proxy"] = (t, 0)


def _clean_exit(sc: Scenario, k: int, t_kill: float, prestop: float) -> None:
    """A pod deleted at ``t_kill`` that drains behind a preStop sleep and exits 0."""
    plan = sc.pods[k]
    plan.deleted, plan.prestop_s = t_kill, prestop
    plan.removed_from_endpoints = t_kill + _propagation(sc)
    stop = t_kill + prestop
    for name in {_front_name(sc), _backend_name(sc)}:
        _line(sc, k, stop + 0.02, "received SIGTERM, shutting down gracefully", container=name)
        _line(sc, k, stop + 0.4, "server stopped", container=name)
        plan.exits[name] = (stop + 0.45, 0)
    _sidecar_exit(sc, plan, stop + 1.0)


def _ignoring_exit(sc: Scenario, k: int, t_kill: float, incident: int) -> None:
    """RC1: the front process is not PID 1 and never sees SIGTERM; its backend does and stops,
    so requests still reaching the pod over pooled connections fail until SIGKILL."""
    plan = sc.pods[k]
    grace = float(sc.cast.rng.choice([30, 45, 60]))
    plan.deleted, plan.grace_s = t_kill, grace
    plan.removed_from_endpoints = t_kill + _propagation(sc)
    plan.sticky_until, plan.sticky_share = t_kill + grace, _u(sc, 0.25, 0.5)
    front, backend = _front_name(sc), _backend_name(sc)
    backend_exit = t_kill + _u(sc, 0.3, 0.9)
    if backend != front:
        _line(sc, k, backend_exit - 0.2, "received SIGTERM, shutting down", container=backend)
        plan.exits[backend] = (backend_exit, 0)
        # the kubelet keeps probing the backend's port until the pod is gone: refused
        probe = backend_exit + _u(sc, 0.5, 9.5)
        while probe < t_kill + grace:
            sc.lifecycle.append(
                {
                    "pod": k,
                    "t": probe,
                    "kind": "probe_failed",
                    "probe": "readiness",
                    "container": backend,
                    "detail": _REFUSED,
                }
            )
            probe += 10
    plan.sigkill_at = t_kill + grace + _u(sc, 0.01, 0.1)
    plan.exits[front] = (plan.sigkill_at + 0.02, 137)
    _sidecar_exit(sc, plan, plan.sigkill_at + 0.05)
    error = "refused" if sc.proxy == "workhorse" else None
    sc.failing.append(Failing(k, backend_exit, plan.sigkill_at, error, 502, incident=incident))


def sigterm_ignored(params: Params, name: str = "sigterm-ignored", **extras: object) -> Scenario:
    sc = _deployment(name, params, 4, backend=True, extras=dict(extras))
    t_kill = _u(sc, 220, 300)
    _new_pod(sc, t_kill - 45)
    _ignoring_exit(sc, 0, t_kill, 0)
    sc.planted.append(Planted("sigterm-ignored", "critical", "front process not PID 1"))
    return sc


def sigterm_fixed(params: Params) -> Scenario:
    sc = _deployment("sigterm-fixed", params, 4, backend=True, background_rate=0.002)
    t_kill = _u(sc, 220, 300)
    _new_pod(sc, t_kill - 45)
    _clean_exit(sc, 0, t_kill, prestop=_u(sc, 8, 12))
    return sc


def healthy_rolling_deploy(params: Params) -> Scenario:
    sc = _deployment("healthy-rolling-deploy", params, 3, background_rate=0.003)
    t = _u(sc, 120, 180)
    for k in range(3):
        _new_pod(sc, t - 30, node=(k + 1) % 3)
        _clean_exit(sc, k, t, prestop=_u(sc, 8, 15))
        t += _u(sc, 40, 90)
    return sc


def hpa_scale_down(params: Params) -> Scenario:
    sc = _deployment("hpa-scale-down", params, 6, background_rate=0.002)
    t = _u(sc, 200, 400)
    for k in (4, 5):
        _clean_exit(sc, k, t + 0.2 * k, prestop=_u(sc, 8, 15))
    return sc


def background_errors(params: Params) -> Scenario:
    return _deployment("background-errors", params, 5, background_rate=0.005, duration_s=900.0)


def istio_two_sidecars(params: Params) -> Scenario:
    """Every request logged by the mesh twice (gateway and the pod's sidecar), 0.3 % of them
    500s: each failure is one request, background, never an incident."""
    return _deployment(
        "istio-two-sidecars", params, 4, default_proxy="istio", background_rate=0.003
    )


def no_prestop_drain(params: Params, *, prestop_s: float = 0.0) -> Scenario:
    sc = _deployment("no-prestop-drain", params, 4)
    t_kill = _u(sc, 220, 300)
    _new_pod(sc, t_kill - 45)
    plan = sc.pods[0]
    plan.deleted = t_kill
    plan.removed_from_endpoints = t_kill + max(_propagation(sc), 4.0 + prestop_s)
    exit_t = t_kill + prestop_s + _u(sc, 0.2, 0.6)
    _line(sc, 0, exit_t - 0.15, "received SIGTERM, shutting down", container="app")
    _line(sc, 0, exit_t - 0.01, "server stopped", container="app")
    plan.exits["app" if sc.proxy != "workhorse" else "gitlab-workhorse"] = (
        exit_t,
        int(sc.cast.rng.choice([0, 143])),
    )
    if sc.proxy == "workhorse":
        plan.exits["app"] = (exit_t - 0.05, 0)
    _sidecar_exit(sc, plan, exit_t + 0.5)
    sc.failing.append(Failing(0, exit_t, plan.removed_from_endpoints, "refused"))
    sc.planted.append(Planted("no-prestop-drain", "critical", "no preStop sleep"))
    return sc


def lb_deregistration(params: Params) -> Scenario:
    """RC6: the pod waits in a preStop sleep long enough for the cluster's own proxies
    (4-8 s), but the cloud load balancer keeps sending to the deregistering target for
    12-25 s, so requests fail after the app has exited."""
    prestop = 4.0 + 4.0 * ((params.seed * 7919) % 100) / 100
    sc = no_prestop_drain(
        params.__class__(**{**params.__dict__, "proxy": params.proxy or "alb"}), prestop_s=prestop
    )
    sc.name = "lb-deregistration"
    lb = "the ALB" if sc.proxy == "alb" else "the Google LB (NEG)"
    sc.planted[0] = Planted("lb-deregistration", "critical", f"{lb} kept the target")
    return sc


def grace_period_exceeded(params: Params) -> Scenario:
    sc = _deployment("grace-period-exceeded", params, 4)
    t_kill = _u(sc, 220, 300)
    _new_pod(sc, t_kill - 45)
    plan = sc.pods[0]
    grace = float(sc.cast.rng.choice([30, 45, 60]))
    plan.deleted, plan.grace_s = t_kill, grace
    plan.removed_from_endpoints = t_kill + _propagation(sc)
    app = "app"
    _line(
        sc, 0, t_kill + 0.05, "Gracefully stopping, waiting for requests to finish", container=app
    )
    plan.sigkill_at = t_kill + grace + _u(sc, 0.01, 0.1)
    plan.exits[app] = (plan.sigkill_at + 0.02, 137)
    if sc.proxy == "workhorse":
        plan.exits["gitlab-workhorse"] = (t_kill + 0.5, 0)
        _line(sc, 0, t_kill + 0.3, "shutdown initiated", container="gitlab-workhorse")
    _sidecar_exit(sc, plan, plan.sigkill_at + 0.05)
    # long requests (uploads, reports) in flight when the grace period ends are cut
    sc.failing.append(
        Failing(0, t_kill - 30, t_kill + 1, "reset", share=0.3, cut_at=plan.sigkill_at)
    )
    sc.planted.append(Planted("grace-period-exceeded", "critical", "drain longer than grace"))
    return sc


def readiness_lag(params: Params) -> Scenario:
    sc = _deployment("readiness-lag", params, 4)
    k = 1
    t_fail = _u(sc, 200, 300)
    period = float(sc.cast.rng.choice([5, 10, 10, 15]))
    threshold = int(sc.cast.rng.choice([3, 3, 4]))
    first = t_fail + _u(sc, 0.5, period - 0.5)
    _not_ready_after(sc, k, _probe_run(sc, k, "readiness", first, threshold, period))
    _line(sc, k, t_fail, "database connection pool exhausted", level="error")
    sc.failing.append(Failing(k, t_fail, sc.pods[k].removed_from_endpoints, None, 503))
    note = f"{threshold} x {period:.0f} s of failing probes"
    sc.planted.append(Planted("readiness-lag", "warning", note))
    return sc


def oom_killed(params: Params) -> Scenario:
    sc = _deployment("oom-killed", params, 4)
    k = 2
    t_oom = _u(sc, 200, 300)
    _line(sc, k, t_oom - 20, "heap usage above 90%", level="warn")
    sc.lifecycle += [
        {"pod": k, "t": t_oom, "kind": "oom"},
        {"pod": k, "t": t_oom + 0.02, "kind": "container_died", "exit_code": 137},
        {"pod": k, "t": t_oom + _u(sc, 1, 2), "kind": "container_started"},
    ]
    back = t_oom + _u(sc, 6, 10)
    _line(sc, k, back, "listening on :8080")
    sc.failing.append(Failing(k, t_oom, back, "refused"))
    sc.planted.append(Planted("oom-killed", "critical", "memcg OOM, exit 137, restart"))
    return sc


def _probe_run(
    sc: Scenario, k: int, probe: str, first: float, n: int = 3, period: float = 10.0
) -> float:
    for i in range(n):
        sc.lifecycle.append(
            {
                "pod": k,
                "t": first + period * i,
                "kind": "probe_failed",
                "probe": probe,
                "detail": _TIMEOUT.format(path="healthz" if probe == "liveness" else "ready"),
            }
        )
    return first + period * (n - 1)


def _not_ready_after(sc: Scenario, k: int, last_probe: float) -> None:
    """The kubelet marks pod ``k`` not ready at its last failing readiness probe; the proxies
    stop sending a moment later."""
    not_ready = last_probe + 0.01
    sc.lifecycle.append({"pod": k, "t": not_ready, "kind": "not_ready", "probe": "readiness"})
    sc.pods[k].removed_from_endpoints = not_ready + _u(sc, 0.5, 2)


def liveness_restart(params: Params) -> Scenario:
    sc = _deployment("liveness-restart", params, 4)
    k = 1
    t_hang = _u(sc, 200, 300)
    period = float(sc.cast.rng.choice([5, 10, 15]))
    threshold = int(sc.cast.rng.choice([3, 3, 5]))
    phase = _u(sc, 1, period - 1)
    last = _probe_run(sc, k, "liveness", t_hang + phase, threshold, period)
    ready_last = _probe_run(sc, k, "readiness", t_hang + phase + 0.3, 3, period)
    app = sc.cast.front if sc.backend else "app"
    sc.lifecycle += [
        {
            "pod": k,
            "t": last + 0.02,
            "kind": "kill",
            "grace_s": float(sc.cast.rng.choice([30, 30, 60])),
            # the kubelet's Killing event for a liveness restart (kuberuntime_manager.go)
            "detail": f"Container {app} failed liveness probe, will be restarted",
        },
        {"pod": k, "t": last + 0.6, "kind": "container_died", "exit_code": 143},
        {"pod": k, "t": last + 1.8, "kind": "container_started"},
    ]
    _not_ready_after(sc, k, ready_last)
    _line(sc, k, t_hang, "worker pool exhausted: all workers blocked", level="error")
    sc.failing.append(Failing(k, t_hang, sc.pods[k].removed_from_endpoints, None, 503))
    sc.planted.append(Planted("liveness-restart", "critical", "liveness probe restarted the app"))
    return sc


def crash_loop(params: Params) -> Scenario:
    sc = _deployment("crash-loop", params, 4)
    k = 3
    t = _u(sc, 200, 300)
    first = t
    backoff = 10.0
    for _ in range(3):
        _line(sc, k, t - 0.01, "panic: runtime error: invalid memory address", level="error")
        sc.lifecycle.append({"pod": k, "t": t, "kind": "container_died", "exit_code": 2})
        sc.lifecycle.append(
            {"pod": k, "t": t + 0.5, "kind": "backoff", "detail": f"{int(backoff)}s"}
        )
        sc.lifecycle.append({"pod": k, "t": t + backoff + 0.5, "kind": "container_started"})
        t += backoff + 5
        backoff *= 2
    last = _probe_run(sc, k, "readiness", first + _u(sc, 1, 9))
    _not_ready_after(sc, k, last)
    sc.failing.append(Failing(k, first, sc.pods[k].removed_from_endpoints, "refused"))
    sc.planted.append(Planted("crash-loop", "critical", "the app crashes on start"))
    return sc


def keepalive_reuse(params: Params) -> Scenario:
    sc = _deployment("keepalive-reuse", params, 3)
    t = _u(sc, 120, 180)
    for k in range(3):
        _new_pod(sc, t - 30, node=(k + 1) % 3)
        _clean_exit(sc, k, t, prestop=_u(sc, 8, 12))
        exit_t = sc.pods[k].exits["app" if sc.proxy != "workhorse" else "gitlab-workhorse"][0]
        # pooled connections the proxy keeps reusing; the server closes them as it exits
        sc.pods[k].sticky_until, sc.pods[k].sticky_share = exit_t + 2.5, 1.0
        sc.failing.append(Failing(k, exit_t - 0.3, exit_t + 2.5, "eof", share=0.9))
        t += _u(sc, 30, 60)
    sc.planted.append(Planted("keepalive-reuse", "critical", "server closed pooled connections"))
    return sc


def keepalive_idle_timeout(params: Params) -> Scenario:
    """RC4b: the app closes idle keep-alive connections sooner than the proxy's upstream pool
    does (Node 5 s, gunicorn 2 s, ... vs nginx 60 s / Envoy 1 h / ALB 60 s), so now and then
    the proxy writes a request onto a connection the app has just closed: a low trickle of
    502s (``upstream prematurely closed``, Envoy ``UC``, Go ``EOF``) with no deploy, each on
    a connection that sat idle for about the app's timeout."""
    sc = _deployment("keepalive-idle-timeout", params, 3, duration_s=900.0)
    idle = float(sc.cast.rng.choice([2, 5, 15, 30]))
    sc.extras["app_idle_timeout_s"] = idle
    # a quiet service: few requests per pooled connection, so connections do sit idle
    start = _u(sc, 20, 60)
    for k in range(3):
        sc.failing.append(
            Failing(k, start, sc.duration_s - _u(sc, 5, 30), "eof", share=_u(sc, 0.008, 0.02))
        )
    sc.planted.append(
        Planted("keepalive-reuse", "warning", f"app idle timeout {idle:.0f}s < proxy's")
    )
    return sc


def sidecar_shutdown_order(params: Params) -> Scenario:
    """RC5: a sidecar the app depends on exits on SIGTERM before its app. In a mesh
    (istio) the istio-proxy goes first and the app's outbound calls are refused; elsewhere
    a cloud-sql-proxy on 127.0.0.1:5432 exits at once (no ``--max-sigterm-delay``) while the
    app drains, so every request needing the database is answered 500/503 by the app."""
    sc = _deployment("sidecar-shutdown-order", params, 4, default_proxy="istio")
    mesh = sc.proxy == "istio"
    if not mesh:
        sc.sidecar = "cloud-sql-proxy"
    t_kill = _u(sc, 220, 300)
    _new_pod(sc, t_kill - 45)
    plan = sc.pods[0]
    plan.deleted = t_kill
    plan.grace_s = float(sc.cast.rng.choice([30, 45, 60]))
    plan.removed_from_endpoints = t_kill + max(_propagation(sc), 4.0)
    sidecar_exit = t_kill + _u(sc, 0.3, 1.5)
    drain = float(sc.cast.rng.choice([10, 15, 20]))
    app = _backend_name(sc)
    _line(sc, 0, t_kill + 0.05, f"received SIGTERM, draining for {drain:.0f}s", container=app)
    if mesh:
        plan.exits["istio-proxy"] = (sidecar_exit, 0)
        _line(
            sc,
            0,
            sidecar_exit + 0.4,
            "dial tcp 10.0.0.5:5432: connect: connection refused",
            level="error",
        )
        sc.failing.append(Failing(0, sidecar_exit, plan.removed_from_endpoints, "refused"))
        note = "istio-proxy exited first"
    else:
        # cloud-sql-proxy v2 logs this on SIGTERM (cmd/root.go) and exits 143
        _line(
            sc,
            0,
            sidecar_exit - 0.01,
            "SIGTERM signal received. Shutting down...",
            container="cloud-sql-proxy",
            go_log=True,
        )
        plan.exits["cloud-sql-proxy"] = (sidecar_exit, 143)
        status = int(sc.cast.rng.choice([500, 503]))
        # the app's pool dials the sidecar for each request it cannot serve (pgx v5 wording)
        t = sidecar_exit + _u(sc, 0.05, 0.3)
        while t < plan.removed_from_endpoints:
            _line(
                sc,
                0,
                t,
                "failed to connect to `host=127.0.0.1 user=app database=app`: dial error "
                "(dial tcp 127.0.0.1:5432: connect: connection refused)",
                level="error",
                container=app,
            )
            t += _u(sc, 0.2, 0.9)
        sc.failing.append(Failing(0, sidecar_exit, plan.removed_from_endpoints, None, status))
        note = "cloud-sql-proxy exited before its app"
    for name in {_front_name(sc), app}:
        plan.exits[name] = (t_kill + drain + 0.3, 0)
    sc.planted.append(Planted("sidecar-shutdown-order", "critical", note))
    return sc


def node_drain(params: Params) -> Scenario:
    sc = _deployment("node-drain", params, 6, backend=True)
    t = _u(sc, 220, 300)
    for k in (0, 3):  # both on node 0
        sc.lifecycle.append({"pod": k, "t": t - 0.5, "kind": "evicted", "reason": "Evicted"})
        _ignoring_exit(sc, k, t + 0.2 * k, 0)
    sc.planted.append(Planted("mass-termination", "critical", "node drained"))
    return sc


def scale_down_mixed(params: Params) -> Scenario:
    """RC10: the HPA scales 5 -> 2; three pods terminate together, each failing its own
    way: one exits at once with no preStop (refused until propagation), one has a front
    process that ignores SIGTERM (502s until SIGKILL), one drains cleanly."""
    sc = _deployment("scale-down-mixed", params, 5, backend=True)
    t = _u(sc, 220, 300)
    old_rs = f"{sc.cast.app}-{sc.cast.rs[0]}"
    sc.extras["deployment_events"] = [
        {
            "t": t - _u(sc, 0.3, 1.2),
            "kind": "HorizontalPodAutoscaler",
            "name": sc.cast.app,
            "component": "horizontal-pod-autoscaler",
            "reason": "SuccessfulRescale",
            "message": "New size: 2; reason: All metrics below target",
        },
        {
            "t": t - 0.2,
            "kind": "Deployment",
            "name": sc.cast.app,
            "component": "deployment-controller",
            "reason": "ScalingReplicaSet",
            "message": f"Scaled down replica set {old_rs} to 2 from 5",
        },
    ]
    victims = [int(v) for v in sc.cast.rng.permutation(5)[:3]]
    fast, ignoring, clean = victims
    # no preStop: the front and its backend exit at once
    plan = sc.pods[fast]
    plan.deleted = t + 0.01
    plan.removed_from_endpoints = plan.deleted + max(_propagation(sc), 4.0)
    exit_t = plan.deleted + _u(sc, 0.2, 0.6)
    for name in {_front_name(sc), _backend_name(sc)}:
        _line(sc, fast, exit_t - 0.1, "received SIGTERM, shutting down", container=name)
        plan.exits[name] = (exit_t, 0)
    sc.failing.append(Failing(fast, exit_t, plan.removed_from_endpoints, "refused"))
    _ignoring_exit(sc, ignoring, t + 0.03, 0)
    _clean_exit(sc, clean, t + 0.05, prestop=_u(sc, 8, 15))
    sc.planted.append(Planted("mass-termination", "critical", "scale-down 5 -> 2"))
    return sc


def startup_not_ready(params: Params) -> Scenario:
    sc = _deployment("startup-not-ready", params, 3)
    k = _new_pod(sc, _u(sc, 200, 300), probe=False)
    plan = sc.pods[k]
    plan.listening = plan.born + _u(sc, 8, 14)
    sc.failing.append(Failing(k, plan.born + 1.0, plan.listening, "refused"))
    sc.planted.append(Planted("startup-not-ready", "info", "no readiness probe"))
    return sc


def startup_red_herring(params: Params) -> Scenario:
    sc = sigterm_ignored(params, "startup-red-herring")
    sc.background_rate = 0.003
    new = len(sc.pods) - 1
    plan = sc.pods[new]
    plan.readiness_probe = False
    plan.born = sc.pods[0].deleted - 50
    plan.listening = plan.born + _u(sc, 10, 14)
    sc.failing.append(Failing(new, plan.born + 1.0, plan.listening, "refused", incident=1))
    sc.planted.append(Planted("startup-not-ready", "info", "the red herring"))
    return sc


def clock_skew(params: Params) -> Scenario:
    sc = sigterm_ignored(params, "clock-skew")
    # seconds either way: lines stamped on that node are off by as much (no skew estimation yet)
    sc.skew = {sc.pods[0].node: _u(sc, 2, 6) * float(sc.cast.rng.choice([-1, 1]))}
    return sc


def rotated_gz(params: Params) -> Scenario:
    return sigterm_ignored(params, "rotated-gz", rotate=True)


def kubectl_logs_dumps(params: Params) -> Scenario:
    return sigterm_ignored(params, "kubectl-logs-dumps", dumps=True)


#: Proxies where the failures are logged inside the pod (a mesh sidecar, Workhorse), so the
#: pod is known without any line naming its address.
_IN_POD_FIRST = ("workhorse", "istio", "ingress-nginx", "envoy", "alb")

#: name -> (plan, one-line description, the proxies it is written for). The accuracy suite
#: holds the analyzer to the first two; ``benchmarks/accuracy.py`` runs them all and shows
#: where the rest fall short (a front proxy's failures tied to no pod: issue 10).
SCENARIOS = {
    "sigterm-ignored": (
        sigterm_ignored,
        "RC1: a front process not PID 1 ignores SIGTERM; 502s until SIGKILL",
        PROXIES,
    ),
    "sigterm-fixed": (
        sigterm_fixed,
        "RC1 fixed: every process drains behind a preStop sleep (healthy)",
        PROXIES,
    ),
    "healthy-rolling-deploy": (
        healthy_rolling_deploy,
        "a rollout with preStop and a few background 500s (healthy)",
        PROXIES,
    ),
    "hpa-scale-down": (hpa_scale_down, "two pods scaled down cleanly (healthy)", PROXIES),
    "background-errors": (
        background_errors,
        "a steady 0.5 % of isolated 500s on every pod (healthy)",
        PROXIES,
    ),
    "istio-two-sidecars": (
        istio_two_sidecars,
        "each request logged by two Istio sidecars, a few 500s among them (healthy)",
        ("istio",),
    ),
    "no-prestop-drain": (
        no_prestop_drain,
        "RC2: exits at once on SIGTERM while proxies still send",
        PROXIES,
    ),
    "readiness-lag": (readiness_lag, "RC3: failing for 3 probe periods before not ready", PROXIES),
    "keepalive-reuse": (
        keepalive_reuse,
        "RC4: pooled connections closed under the proxy in a rollout",
        ("ingress-nginx", "envoy", "workhorse", "istio", "alb"),
    ),
    "sidecar-shutdown-order": (
        sidecar_shutdown_order,
        "RC5: a sidecar (istio-proxy; cloud-sql-proxy elsewhere) exits before its app",
        ("istio", "ingress-nginx", "envoy", "workhorse", "alb"),
    ),
    "keepalive-idle-timeout": (
        keepalive_idle_timeout,
        "RC4b: app idle timeout shorter than the proxy's: a trickle of 502s, no deploy",
        ("ingress-nginx", "envoy", "workhorse", "istio", "alb"),
    ),
    "scale-down-mixed": (
        scale_down_mixed,
        "RC10: an HPA scale-down 5 -> 2, each pod failing its own way",
        _IN_POD_FIRST,
    ),
    "lb-deregistration": (
        lb_deregistration,
        "RC6: the cloud LB (ALB; GKE NEG) keeps sending to a deregistered target",
        ("alb", "gclb"),
    ),
    "grace-period-exceeded": (
        grace_period_exceeded,
        "RC7: long requests cut by SIGKILL mid-drain",
        PROXIES,
    ),
    "oom-killed": (oom_killed, "RC8: memcg OOM kill (exit 137, TaskOOM) and restart", PROXIES),
    "startup-not-ready": (
        startup_not_ready,
        "RC9: a pod with no readiness probe gets traffic early",
        _IN_POD_FIRST,
    ),
    "node-drain": (
        node_drain,
        "RC10: a drain evicts two pods at once, both ignore SIGTERM",
        _IN_POD_FIRST,
    ),
    "liveness-restart": (liveness_restart, "a wedged app restarted by its liveness probe", PROXIES),
    "crash-loop": (crash_loop, "a container crashing in a back-off loop", PROXIES),
    "startup-red-herring": (
        startup_red_herring,
        "RC1 with a concurrent startup stream on the new pod",
        _IN_POD_FIRST,
    ),
    "clock-skew": (
        clock_skew,
        "RC1 with the node's clock seconds off",
        ("ingress-nginx", "envoy", "alb", "istio", "workhorse"),
    ),
    "rotated-gz": (rotated_gz, "RC1 with container logs rotated to .gz", PROXIES),
    "kubectl-logs-dumps": (
        kubectl_logs_dumps,
        "RC1 with container logs as kubectl logs dumps",
        PROXIES,
    ),
}
