"""The ``webservice`` containers' stdout: gitlab-logger's splice of Puma's JSON.

The same in both variants: Puma always shuts down cleanly on SIGTERM. Only Workhorse differs.
"""

from __future__ import annotations

import json

from analyzer.simulate.story.cast import stream_rng
from analyzer.simulate.story.clock import at, iso_ms
from analyzer.simulate.story.sinks import CriLog


def puma_line(ns: int, message: str, pid: int = 1) -> str:
    """gitlab-logger's splice of GitLab's Puma JSON (note the space after ``"component":``)."""
    inner = (
        f'{{"timestamp":"{iso_ms(ns)}","pid":{pid},'
        f'"message":{json.dumps(message, ensure_ascii=False)}}}'
    )
    return '{"component": "gitlab","subcomponent":"puma.stdout",' + inner[1:]


BANNER = (
    "Puma starting in cluster mode...",
    '* Puma version: 5.6.2 (ruby 2.7.5-p203) ("Birdie\'s Version")',
    "*  Min threads: 4",
    "*  Max threads: 4",
    "*  Environment: production",
    "*   Master PID: 1",
    "*      Workers: 4",
    "*     Restarts: (\u2714) hot (\u2716) phased",
    "* Preloading application",
)


def puma_logs(seed: int) -> tuple[CriLog, CriLog]:
    """The old pod's and the new pod's ``webservice/0.log``."""
    rng = stream_rng(seed, "puma")
    old, new = CriLog(), CriLog()

    def add(log: CriLog, hms: str, message: str) -> None:
        t = at(hms)
        log.add(t, puma_line(t, message), rng.randint(180_000, 2_900_000))

    # Old pod: a memory-killer restart of one worker, then the SIGTERM shutdown.
    add(
        old,
        "06:02:30.117204",
        "PumaWorkerKiller: Out of memory. 4 workers consuming total: "
        "6234.1 mb out of max: 6144.0 mb. Sending TERM to pid 49 consuming 1712.6 mb.",
    )
    add(old, "06:02:33.942518", "- Worker 2 (PID: 3318) booted in 3.79s, phase: 0")
    add(old, "06:03:51.000", "- Gracefully shutting down workers...")
    add(old, "06:03:51.912044", "- Worker 0 (PID: 41) terminating")
    add(old, "06:03:53.407711", "- Worker 1 (PID: 45) terminating")
    add(old, "06:03:58.233190", "- Worker 2 (PID: 3318) terminating")
    add(old, "06:04:04.311587", "- Worker 3 (PID: 53) terminating")
    add(old, "06:04:04.526", "=== puma shutdown: 2022-04-05 06:04:04 +0000 ===")
    add(old, "06:04:04.530", "- Goodbye!")

    # New pod: boot. Rails preload takes ~14 s between the banner and the listener.
    t = at("06:03:11.402118")
    for line in BANNER:
        new.add(t, puma_line(t, line), rng.randint(180_000, 2_900_000))
        t += rng.randint(40_000, 400_000)
    add(new, "06:03:25.318412", "* Listening on http://0.0.0.0:8080")
    add(new, "06:03:25.318977", "Use Ctrl-C to stop")
    for i, (pid, secs, hms) in enumerate(
        (
            (35, "4.71", "06:03:30.021733"),
            (39, "4.74", "06:03:30.052910"),
            (43, "4.80", "06:03:30.113562"),
            (47, "4.86", "06:03:30.170248"),
        )
    ):
        add(new, hms, f"- Worker {i} (PID: {pid}) booted in {secs}s, phase: 0")
    return old, new
