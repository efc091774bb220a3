"""The seed incident (sample_logs/pid1-502) explained end to end, and its fixed variant."""

from datetime import UTC, datetime

import polars as pl

WORKHORSE = "gitlab-workhorse"
OLD_POD = "gitlab/gitlab-webservice-default-5d85b6854c-sbx2z"
NEW_POD = "gitlab/gitlab-webservice-default-84c68fc9c9-xcsnm"


def _critical(analysis):
    return [i for i in analysis.incidents if i.severity == "critical"]


def test_exactly_one_critical_incident_of_about_42s_on_the_old_pod(story):
    (inc,) = _critical(story)
    assert 40.0 <= inc.duration_s <= 44.0
    assert [f"{ns}/{pod}" for ns, pod in inc.frames.pods] == [OLD_POD]
    assert inc.status_counts()["502"] >= 100
    assert inc.start >= datetime(2022, 4, 5, 6, 4, 3, tzinfo=UTC)
    assert inc.end <= datetime(2022, 4, 5, 6, 4, 47, tzinfo=UTC)


def test_sigterm_ignored_names_workhorse_and_explains_the_burst(story):
    (inc,) = _critical(story)
    top = inc.findings[0]
    assert top.code == "sigterm-ignored"
    assert top.severity == "critical"
    assert top.container == WORKHORSE
    assert top.pod == OLD_POD
    assert top.explains >= 0.9
    assert "exec" in top.fix and "CMD" in top.fix
    kill, death = top.window
    assert abs((death - kill).total_seconds() - 60) < 2
    texts = [e.text for e in top.evidence]
    assert any("Killing container with a grace period" in t and WORKHORSE in t for t in texts)
    assert any("exitCode=137" in t for t in texts)
    assert any("dial tcp 127.0.0.1:8080" in t or '"status":502' in t for t in texts)


def test_readiness_lag_is_reported_with_the_probe_period(story):
    (inc,) = _critical(story)
    lag = [f for f in inc.findings if f.code == "readiness-lag"]
    assert len(lag) == 1
    assert lag[0].severity == "warning"
    assert "every 10 s" in lag[0].summary
    # Its failures are all the SIGKILL's: each failure is explained once, by the first cause.
    assert lag[0].explains == 0 and 0 < lag[0].covers < 1
    assert inc.findings[0].code == "sigterm-ignored" and inc.findings[0].explains == 1.0
    assert inc.explained == 1.0 and inc.unexplained == ()
    assert all(":" in e.file or e.line > 0 for e in lag[0].evidence)


def test_no_shutdown_message_from_workhorse_and_a_clean_one_from_puma(story):
    ep = story.correlation.episodes
    wh = ep.filter(pl.col("container") == WORKHORSE).row(0, named=True)
    puma = ep.filter(pl.col("container") == "webservice").row(0, named=True)
    assert wh["shutdown_ts"] is None and wh["exit_code"] == 137
    assert puma["shutdown_ts"] == datetime(2022, 4, 5, 6, 3, 51, tzinfo=UTC).replace(
        microsecond=puma["shutdown_ts"].microsecond
    )
    assert puma["finished_ts"].strftime("%H:%M:%S.%f")[:12] == "06:04:04.526"


def test_timeline_is_ordered_and_every_entry_cites_file_and_line(story):
    (inc,) = _critical(story)
    tl = inc.timeline
    assert tl["ts"].is_sorted()
    assert tl["offset_s"].is_sorted() and tl["offset_s"][0] == 0.0
    assert tl["file"].null_count() == 0 and tl["line"].null_count() == 0
    kinds = tl["kind"].to_list()
    for kind in (
        "pod_deleted",
        "kill",
        "probe_failed",
        "shutdown_started",
        "shutdown_finished",
        "burst_start",
        "container_died",
        "burst_end",
    ):
        assert kind in kinds, kind
    # The story's order: SIGTERM, readiness failure, Puma drains, 502s, Workhorse SIGKILLed.
    first = {k: kinds.index(k) for k in ("kill", "probe_failed", "shutdown_started", "burst_start")}
    assert first["kill"] < first["probe_failed"] < first["shutdown_started"] < first["burst_start"]
    last_death = max(i for i, k in enumerate(kinds) if k == "container_died")
    assert last_death > max(i for i, k in enumerate(kinds) if k == "burst_end")


def test_every_timeline_line_is_the_raw_line_it_cites(story):
    (inc,) = _critical(story)
    for row in inc.timeline.iter_rows(named=True):
        with open(row["file"], encoding="utf-8") as fh:
            text = fh.read().splitlines()[row["line"] - 1]
        if row["raw"] is not None:
            assert text == row["raw"]


def test_red_herring_is_info_and_not_the_cause(story):
    herring = [i for i in story.incidents if any(f.code == "startup-not-ready" for f in i.findings)]
    assert herring, "the startup-time 502s must be reported"
    for inc in herring:
        assert inc.severity == "info"
        assert all(f.severity == "info" for f in inc.findings)
        assert [f"{ns}/{pod}" for ns, pod in inc.frames.pods] == [NEW_POD]
    (critical,) = _critical(story)
    assert "startup-not-ready" not in [f.code for f in critical.findings]


def test_requests_carry_the_phase_of_their_pod_and_container(story):
    failing = story.correlation.failures
    wh = failing.filter(pl.col("target_pod") == OLD_POD.split("/")[1])
    assert set(wh["pod_phase"].drop_nulls()) <= {"terminating", "deleted", "removed"}
    assert wh["pod_phase"].null_count() == 0
    # Behind 127.0.0.1:8080 is the webservice container, shut down by then.
    behind = wh.filter(pl.col("target_container").is_not_null())
    assert set(behind["target_container"]) == {"webservice"}
    assert set(behind["container_phase"]) <= {"shut_down", "dead"}


def test_inputs_reconcile(story):
    assert story.inputs
    for t in story.inputs:
        assert t.reconciles, t
        assert t.rejected == 0, t.reject_examples
    formats = {t.format for t in story.inputs}
    assert {
        "k8s_events",
        "kubelet_klog+containerd",
        "pages_json",
        "cri+workhorse_json",
        "cri+puma_json",
    } <= formats


def test_fixed_variant_has_no_critical_incident(story_fixed):
    assert _critical(story_fixed) == []
    assert all(i.severity != "warning" for i in story_fixed.incidents)
    codes = {f.code for i in story_fixed.incidents for f in i.findings}
    assert "sigterm-ignored" not in codes and "readiness-lag" not in codes


def test_each_failure_gets_the_phase_of_every_container_in_its_pod(story):
    phases = story.failure_container_phases()
    old = phases.filter(pl.col("pod") == OLD_POD.split("/")[1])
    assert set(old["container"]) == {"webservice", WORKHORSE}
    # During the 502s Puma had shut down and died while Workhorse was still "terminating".
    at_502 = old.filter(pl.col("ts") > datetime(2022, 4, 5, 6, 4, 10, tzinfo=UTC))
    assert set(at_502.filter(pl.col("container") == "webservice")["phase"]) == {"dead"}
    assert set(at_502.filter(pl.col("container") == WORKHORSE)["phase"]) == {"terminating"}
