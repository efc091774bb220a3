"""The files read on Dask workers (a 2-process LocalCluster) give the local run's report."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

import analyzer
from analyzer.api import collect_locally
from analyzer.cli import app
from analyzer.distributed import cluster, dask_collector
from analyzer.errors import UnknownFormatError, UnknownFormatNameError
from analyzer.ingest.discover import discover
from analyzer.normalize.time import TimeContext
from analyzer.report import render_json

from .conftest import FIXTURES, SAMPLE

runner = CliRunner()


@pytest.fixture(scope="module")
def client():
    with cluster(workers=2) as c:
        yield c


@pytest.fixture(scope="module")
def address(client) -> str:
    return client.scheduler.address


def test_report_on_workers_is_the_local_report(address):
    local = render_json(analyzer.analyze([SAMPLE]))
    assert render_json(analyzer.analyze([SAMPLE], scheduler=address)) == local


def test_every_file_is_read_on_a_worker_and_reported_once(client):
    files = discover([SAMPLE])
    seen: list[str] = []
    collected = dask_collector(client)(files, TimeContext(), None, True, seen.append)
    assert [c.path for c in collected] == [str(f) for f in files]  # input order
    assert sorted(seen) == sorted(map(str, files))  # progress: each once, as it completes
    ran = client.run(lambda dask_worker: len(dask_worker.state.tasks))
    assert sum(ran.values()) >= len(files)


def test_cli_json_on_workers_is_the_local_json(address):
    local = runner.invoke(app, ["report", str(SAMPLE), "-f", "json"])
    remote = runner.invoke(app, ["report", str(SAMPLE), "-f", "json", "--scheduler", address])
    assert local.exit_code == remote.exit_code == 0
    assert remote.stdout == local.stdout


def test_a_url_is_fetched_by_the_worker_and_keeps_its_name(address, tmp_path):
    copy = tmp_path / "pid1-502"
    shutil.copytree(SAMPLE, copy)  # copytree keeps mtimes: the klog year is judged by them
    local = render_json(analyzer.analyze([copy]))
    url = render_json(analyzer.analyze([f"file://{copy}"], scheduler=address))
    assert f'"path": "file://{copy}/' in url
    assert url.replace("file://", "") == local


def test_strict_unknown_format_is_the_same_error_as_locally(address, tmp_path):
    bad = tmp_path / "unknown.txt"
    shutil.copy(FIXTURES / "bad" / "unknown.txt", bad)
    with pytest.raises(UnknownFormatError) as here:
        analyzer.analyze([bad], strict=True)
    with pytest.raises(UnknownFormatError) as there:
        analyzer.analyze([bad], strict=True, scheduler=address)
    assert str(there.value) == str(here.value)
    assert there.value.tried == here.value.tried


def test_an_error_raised_on_a_worker_arrives_as_itself(client):
    files = discover([SAMPLE])[:1]
    with pytest.raises(UnknownFormatNameError) as here:
        collect_locally(files, TimeContext(), "no_such_format", True, None)
    with pytest.raises(UnknownFormatNameError) as there:
        dask_collector(client)(files, TimeContext(), "no_such_format", True, None)
    assert str(there.value) == str(here.value)


def test_scheduler_and_workers_together_is_a_clear_error():
    result = runner.invoke(
        app, ["report", str(SAMPLE), "--scheduler", "tcp://x:1", "--workers", "2"]
    )
    assert result.exit_code == 2
    assert "not both" in result.output
