"""The bundled sample_logs are the story scenarios' output, and their truth is what they plant."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analyzer.simulate import write
from analyzer.simulate.model import Bundle, Params
from analyzer.simulate.story import SCENARIOS

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_logs"
OLD_POD = "gitlab/gitlab-webservice-default-5d85b6854c-sbx2z"
NEW_POD = "gitlab/gitlab-webservice-default-84c68fc9c9-xcsnm"
OLD_WH = (
    "var/log/pods/gitlab_gitlab-webservice-default-5d85b6854c-sbx2z_"
    "b80a99ae-7c8d-4fc3-9433-0cddd173b894/gitlab-workhorse/0.log"
)
NEW_WH = (
    "var/log/pods/gitlab_gitlab-webservice-default-84c68fc9c9-xcsnm_"
    "5ed919e9-f43c-418f-b88e-a59db00608f1/gitlab-workhorse/0.log"
)
PUMA_EXIT = datetime(2022, 4, 5, 6, 4, 4, 611820, tzinfo=UTC)  # containerd: shim disconnected
SIGKILL = datetime(2022, 4, 5, 6, 4, 46, 105731, tzinfo=UTC)
NEW_POD_READY = datetime(2022, 4, 5, 6, 3, 40, 512318, tzinfo=UTC)


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def contents(bundle: Bundle) -> dict[str, bytes]:
    return {rel: b"".join(chunks()) for rel, chunks in bundle.files.items()}


def cri_payloads(data: bytes) -> list[dict]:
    """The JSON of every complete CRI line (the one P/F split line is a 200: not needed here)."""
    out = []
    for line in data.decode().splitlines():
        _ts, _stream, tag, payload = line.split(" ", 3)
        if tag == "F" and payload.startswith("{"):
            out.append(json.loads(payload))
    return out


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_seed_0_writes_the_committed_samples_byte_for_byte(name, tmp_path):
    bundle = SCENARIOS[name](Params())
    write(bundle, tmp_path)
    committed = SAMPLES / name
    assert "truth.json" in files_under(committed)  # the answer ships with the samples
    assert files_under(tmp_path) == files_under(committed)
    assert (tmp_path / "truth.json").read_text() == bundle.truth.to_json()
    for rel in sorted(files_under(committed)):
        assert (tmp_path / rel).read_bytes() == (committed / rel).read_bytes(), rel


def test_the_incident_truth_counts_what_the_files_hold():
    bundle = SCENARIOS["pid1-502"](Params())
    files = contents(bundle)
    startup, critical = bundle.truth.incidents
    old = cri_payloads(files[OLD_WH])
    errors = [p for p in old if p.get("level") == "error"]
    access_502 = [p for p in old if p.get("msg") == "access" and p["status"] == 502]
    geo = [p for p in errors if p["uri"] == "/api/v4/geo/proxy"]
    pages = [json.loads(line) for line in files["gitlab-pages.log"].decode().splitlines()]
    pages_502 = [p for p in pages if p.get("status") == 502]

    assert (critical.cause, critical.severity, critical.pods) == (
        "sigterm-ignored",
        "critical",
        (OLD_POD,),
    )
    # One failure per badgateway line: each client request also has a 502 access line, the
    # Geo poller's do not; Pages' 502s are the lookups again, one hop out.
    assert critical.failures == len(errors) == len(access_502) + len(geo)
    assert {e["correlation_id"] for e in errors} - {a["correlation_id"] for a in access_502} == {
        g["correlation_id"] for g in geo
    }
    assert bundle.truth.extra["workhorse_502_requests"] == len(access_502)
    assert bundle.truth.extra["pages_502_requests"] == len(pages_502)
    assert len(pages_502) == sum(a["remote_ip"] == "10.220.4.31" for a in access_502)
    assert critical.start.replace(microsecond=0) == datetime.fromisoformat(errors[0]["time"])
    assert critical.end.replace(microsecond=0) == datetime.fromisoformat(errors[-1]["time"])
    assert PUMA_EXIT < critical.start < critical.end < SIGKILL
    assert (critical.failures, len(access_502), len(pages_502)) == (132, 128, 100)

    new_errors = [p for p in cri_payloads(files[NEW_WH]) if p.get("level") == "error"]
    assert (startup.cause, startup.severity, startup.pods) == (
        "startup-not-ready",
        "info",
        (NEW_POD,),
    )
    assert startup.failures == len(new_errors) == 5
    assert startup.end < NEW_POD_READY
    assert not bundle.truth.healthy and bundle.truth.background_failures == 0


def test_the_fixed_truth_is_healthy_and_no_file_holds_a_502():
    bundle = SCENARIOS["pid1-502-fixed"](Params())
    files = contents(bundle)
    assert bundle.truth.healthy
    assert [(i.cause, i.severity) for i in bundle.truth.incidents] == [
        ("startup-not-ready", "info")
    ]
    assert all(b'"status":502' not in data for data in files.values())
    assert b"badgateway" not in files[OLD_WH]
    assert b'"msg":"shutdown initiated"' in files[OLD_WH]


def test_another_seed_redraws_the_traffic_but_keeps_the_timeline():
    base = SCENARIOS["pid1-502"](Params())
    other = SCENARIOS["pid1-502"](Params(seed=7))
    again = SCENARIOS["pid1-502"](Params(seed=7))
    assert contents(other) == contents(again)  # deterministic per seed
    assert contents(other)[OLD_WH] != contents(base)[OLD_WH]
    for mine, theirs in zip(other.truth.incidents, base.truth.incidents, strict=True):
        assert (mine.cause, mine.severity, mine.pods) == (
            theirs.cause,
            theirs.severity,
            theirs.pods,
        )
        assert abs((mine.start - theirs.start).total_seconds()) < 1
        assert abs((mine.end - theirs.end).total_seconds()) < 1
    critical = other.truth.incidents[1]
    old = cri_payloads(contents(other)[OLD_WH])
    assert critical.failures == sum(p.get("level") == "error" for p in old)
    # the node journals draw nothing: the same whatever the seed
    for rel, data in contents(base).items():
        if rel.startswith("nodes/"):
            assert contents(other)[rel] == data, rel


def test_truth_json_round_trips():
    truth = SCENARIOS["pid1-502"](Params(seed=2)).truth
    data = json.loads(truth.to_json())
    assert data["scenario"] == "pid1-502" and data["params"]["seed"] == 2
    assert [i["cause"] for i in data["incidents"]] == ["startup-not-ready", "sigterm-ignored"]
    assert data["healthy"] is False
