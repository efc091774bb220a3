from analyzer.correlate.bursts import find_bursts
from analyzer.correlate.incidents import group_bursts
from analyzer.correlate.upstreams import attribute, failing
from tests.correlate.helpers import ev, frame


def _failures(offsets, pod="web-1", status=502):
    rows = [
        ev(
            0,
            "probe_failed",
            probe="readiness",
            container="app",
            upstream=f"10.0.0.{len(pod)}:80",
            namespace="ns",
            pod=pod,
        )
    ]
    rows += [
        ev(
            t,
            "http",
            source="proxy",
            format="ingress",
            status=status,
            upstream=f"10.0.0.{len(pod)}:80",
            client="1.2.3.4",
        )
        for t in offsets
    ]
    return failing(attribute(frame(rows)))


def test_gaps_split_bursts_and_counts_add_up():
    bursts = find_bursts(_failures([10, 10.5, 11, 12, 100, 101]))
    assert bursts["count"].to_list() == [4, 2]
    assert bursts["status_counts"].to_list()[0] == [{"status": "502", "count": 4}]
    assert bursts["peak_per_s"].to_list()[0] == 2


def test_overlapping_bursts_of_two_pods_are_one_incident():
    import polars as pl

    a = find_bursts(_failures([10, 11, 12], pod="web-1"))
    b = find_bursts(_failures([11.5, 13], pod="web-22"))
    c = find_bursts(_failures([200, 201], pod="web-333"))
    grouped = group_bursts(pl.concat([a, b, c]))
    assert grouped.sort("start")["incident"].to_list() == [1, 1, 2]


def test_a_lone_failure_is_not_a_burst():
    bursts = find_bursts(_failures([10, 100, 101]))
    assert bursts["count"].to_list() == [2]
