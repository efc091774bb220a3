"""What an analysis of the story's files should find, counted from what was planted."""

from __future__ import annotations

from analyzer.simulate.model import Params, Truth, TruthIncident
from analyzer.simulate.story.cast import POD_A, POD_B, SIGKILL, SIGTERM, pod_key
from analyzer.simulate.story.clock import to_datetime
from analyzer.simulate.story.traffic import Streams, fate
from analyzer.simulate.story.workhorse import Poll, pages_502_at

INCIDENT_NOTES = (
    "The GitLab 'PID 1 / 502' story (blog post 2022-05-17). gitlab-workhorse runs under "
    "/bin/sh -c, so the shell, not Workhorse, gets the SIGTERM of the old pod's deletion "
    "(06:03:46.1048). Puma shuts down cleanly and exits at 06:04:04.6; Workhorse keeps accepting "
    "requests and answers each with a 502 (badgateway: dial tcp 127.0.0.1:8080: connection "
    "refused) until the grace period (60 s) ends and it is SIGKILLed (06:04:46.1057, exit 137). "
    "There is no 'shutdown initiated' line. Failures are counted one per Workhorse badgateway "
    "error line, at that line's time: the client requests (each also has a 502 access line "
    "about 0.1 ms later) and, in the 502 window, Workhorse's own Geo poller, which has no access "
    "line. GitLab Pages logs its failed domain lookups again (an error and a 502 access line "
    "0.4 ms after Workhorse's); those are the same failures one hop out and are not counted "
    "again. The red herring: the new pod's Workhorse starts 60 s before Puma listens, so its "
    "Geo poller fails every 10 s (error lines only, no access line, no client involved); that "
    "is the separate info incident startup-not-ready, over by the time the pod is ready "
    "(06:03:40.5), 43 s before the real incident. Nothing else fails: the 404s are answers, "
    "not failures, so there are no background failures."
)

FIXED_NOTES = (
    "The same deploy with Workhorse as PID 1: it logs 'shutdown initiated' at 06:03:46.301 on "
    "SIGTERM and exits (code 1) within a second; requests that would have gone to it after "
    "06:03:46.2 reach the new pod and succeed, so no client sees a 5xx. What remains is the "
    "new pod's startup Geo-poller failures (error lines only, no access line): an info "
    "incident startup-not-ready, nothing to wake anyone for."
)


def _startup_incident(polls: list[Poll]) -> TruthIncident:
    return TruthIncident(
        start=to_datetime(polls[0].at),
        end=to_datetime(polls[-1].at),
        pods=(pod_key(POD_B),),
        cause="startup-not-ready",
        severity="info",
        failures=len(polls),
        note=(
            "the new pod's Workhorse Geo poller (GET /api/v4/geo/proxy) before Puma listens "
            "(06:03:25.3): one badgateway error line each, no access line, no client request"
        ),
    )


def incident_truth(
    name: str, params: Params, streams: Streams, new_polls: list[Poll], old_polls: list[Poll]
) -> Truth:
    failed = [r for r in streams.old if fate(r, fixed=False) == "502"]
    lookups = [r for r in failed if r.user is not None]
    failure_times = sorted([r.failed_at for r in failed] + [p.at for p in old_polls])
    pages_times = sorted(t for r in lookups for t in pages_502_at(r))
    critical = TruthIncident(
        start=to_datetime(failure_times[0]),
        end=to_datetime(failure_times[-1]),
        pods=(pod_key(POD_A),),
        cause="sigterm-ignored",
        severity="critical",
        failures=len(failure_times),
        note=(
            f"{len(failed)} client requests answered 502 by the old pod's Workhorse "
            f"({len(lookups)} Pages domain lookups, {len(failed) - len(lookups)} ingress) and "
            f"{len(old_polls)} Geo-poller requests (error line only), after Puma exited and "
            "until the SIGKILL"
        ),
    )
    return Truth(
        scenario=name,
        params=params,
        incidents=(_startup_incident(new_polls), critical),
        background_failures=0,
        notes=INCIDENT_NOTES,
        extra={
            "workhorse_502_requests": len(failed),
            "workhorse_502_pages_lookups": len(lookups),
            "workhorse_502_ingress": len(failed) - len(lookups),
            "geo_poller_errors_old_pod": len(old_polls),
            "pages_502_requests": len(lookups),
            "pages_first_502": to_datetime(pages_times[0]),
            "pages_last_502": to_datetime(pages_times[-1]),
            "sigterm": to_datetime(SIGTERM),
            "sigkill": to_datetime(SIGKILL),
        },
    )


def fixed_truth(name: str, params: Params, new_polls: list[Poll]) -> Truth:
    return Truth(
        scenario=name,
        params=params,
        incidents=(_startup_incident(new_polls),),
        background_failures=0,
        notes=FIXED_NOTES,
        extra={"workhorse_502_requests": 0, "pages_502_requests": 0},
    )
