"""The seed story: GitLab's "PID 1 / 502" incident and its fix, as the bundled ``sample_logs/``.

``SCENARIOS["pid1-502"]`` and ``SCENARIOS["pid1-502-fixed"]`` build the two bundles. With
``Params.seed == 0`` (the default) they are, byte for byte, ``sample_logs/pid1-502`` and
``sample_logs/pid1-502-fixed`` (a test checks it). Another seed redraws the request mix, the
correlation ids, the users and the sub-second jitter, but keeps the cast, every fixed moment of the
timeline (deploy, SIGTERM, Puma's exit, the first and last 502, the SIGKILL) and so the truth's
intervals; the failure counts follow the draw and the truth counts them. The story is one
recorded incident on GKE with containerd, Workhorse and GitLab Pages: ``Params.proxy``,
``Params.runtime`` and ``Params.size_bytes`` are ignored.

Modules: ``cast`` (names, ids, the timeline), ``traffic`` (the requests and where each ends up),
``workhorse`` (Workhorse and Pages logs), ``puma``, ``nodes`` (kubelet/containerd journals),
``events``, ``truth``; ``clock``, ``wire`` and ``sinks`` are how each source prints.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from analyzer.simulate.model import Bundle, Chunks, Params
from analyzer.simulate.story.cast import DIR_A, DIR_B, NODE_A, NODE_B
from analyzer.simulate.story.events import events_json
from analyzer.simulate.story.nodes import journal_node_a, journal_node_b
from analyzer.simulate.story.puma import puma_logs
from analyzer.simulate.story.traffic import Streams, build_traffic
from analyzer.simulate.story.truth import fixed_truth, incident_truth
from analyzer.simulate.story.workhorse import Poll, geo_polls, workhorse_logs


def _render(
    streams: Streams, polls: tuple[list[Poll], list[Poll]], seed: int, *, fixed: bool
) -> dict[str, str]:
    wh_a, wh_b, pages = workhorse_logs(streams, polls, fixed=fixed)
    puma_a, puma_b = puma_logs(seed)
    return {
        f"nodes/{NODE_A}/kubelet.log": journal_node_a(fixed=fixed).render(),
        f"nodes/{NODE_B}/kubelet.log": journal_node_b().render(),
        "events.json": events_json(seed),
        f"{DIR_A}/gitlab-workhorse/0.log": wh_a.render(),
        f"{DIR_A}/webservice/0.log": puma_a.render(),
        f"{DIR_B}/gitlab-workhorse/0.log": wh_b.render(),
        f"{DIR_B}/webservice/0.log": puma_b.render(),
        "gitlab-pages.log": pages.render(),
    }


#: Every file the story writes, relative to the scenario directory (the same in both variants).
PATHS = (
    f"nodes/{NODE_A}/kubelet.log",
    f"nodes/{NODE_B}/kubelet.log",
    "events.json",
    f"{DIR_A}/gitlab-workhorse/0.log",
    f"{DIR_A}/webservice/0.log",
    f"{DIR_B}/gitlab-workhorse/0.log",
    f"{DIR_B}/webservice/0.log",
    "gitlab-pages.log",
)


def _bundle(name: str, params: Params, *, fixed: bool) -> Bundle:
    streams = build_traffic(params.seed)
    polls = geo_polls(params.seed)

    # The files are rendered together (one request writes to three of them) and only when a
    # writer first asks, so building a Bundle for its truth costs only the traffic draw.
    @cache
    def rendered() -> dict[str, str]:
        return _render(streams, polls, params.seed, fixed=fixed)

    def chunks(rel: str) -> Chunks:
        return lambda: (rendered()[rel].encode(),)

    if fixed:
        truth = fixed_truth(name, params, polls[0])
    else:
        truth = incident_truth(name, params, streams, *polls)
    return Bundle(files={rel: chunks(rel) for rel in PATHS}, truth=truth)


def pid1_502(params: Params) -> Bundle:
    """The incident: Workhorse is not PID 1, ignores SIGTERM, answers 502s until SIGKILL."""
    return _bundle("pid1-502", params, fixed=False)


def pid1_502_fixed(params: Params) -> Bundle:
    """The fix: Workhorse is PID 1, shuts down on SIGTERM, nobody sees a 502."""
    return _bundle("pid1-502-fixed", params, fixed=True)


SCENARIOS: dict[str, Callable[[Params], Bundle]] = {
    "pid1-502": pid1_502,
    "pid1-502-fixed": pid1_502_fixed,
}
