"""Docker json-file container logs (dockershim clusters): the line inside ``log``."""

import gzip
import json

import polars as pl

from analyzer.api import load_events
from tests.conftest import FIXTURES

DOCKER = FIXTURES / "docker_json"


def test_real_records_and_a_line_split_over_two():
    events, (t,) = load_events([DOCKER / "beats.log"])
    assert t.format.startswith("docker_json+")
    assert (t.lines, t.events, t.rejected, t.skipped) == (4, 3, 0, 1)
    assert dict(t.skip_reasons) == {"partial line joined into line 2": 1}
    events = events.sort("line")
    assert events["message"].to_list() == [
        "1:M 09 Nov 13:27:36.276 # User requested shutdown...",
        "1:M 09 Nov 13:27:36.276 # User requested shutdown...",
        "hello",
    ]
    assert events["ts"][0].isoformat() == "2017-11-09T13:27:36.277747+00:00"


def test_containers_path_names_the_pod_and_workhorse_lines_are_parsed():
    path = next((DOCKER / "var/log/containers").glob("*.log"))
    events, (t,) = load_events([path])
    assert t.format == "docker_json+workhorse_json"
    assert t.reconciles and (t.lines, t.events, t.rejected, t.skipped) == (5, 4, 0, 1)
    assert set(events["pod"]) == {"gitlab-webservice-default-5d85b6854c-sbx2z"}
    assert set(events["container"]) == {"gitlab-workhorse"}
    events = events.sort("line")
    # The access line was split around a stderr record; joined, it is the 502 it logged.
    assert events["kind"].to_list() == ["http", "log", "upstream_error", "shutdown_started"]
    access = events.row(0, named=True)
    assert (access["line"], access["status"], access["client"]) == (1, 502, "203.0.113.45")
    assert events["message"][1] == "panic: hostile <b>stderr</b> line"


def test_without_fragments_the_plan_stays_lazy_and_a_bad_inner_line_costs_only_itself(tmp_path):
    from analyzer.ingest import read_file

    record = {"log": '{"level":"info","msg":"access","status":502,"time":"2024-10-25T14:50:49Z"}\n'}
    rows = [
        {**record, "stream": "stdout", "time": f"2024-10-25T14:50:{s:02d}.5Z"} for s in range(50)
    ]
    rows[7]["log"] = '{"level":"info","msg":"access",\n'  # cut JSON inside a whole record
    path = tmp_path / "docker.log.gz"
    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    (chunk, *_) = read_file(path).chunks
    assert isinstance(chunk.frame, pl.LazyFrame)
    events, (t,) = load_events([path])
    assert (t.lines, t.events, t.rejected) == (50, 50, 0)
    assert events.filter(pl.col("line") == 8)["kind"].item() == "log"  # kept as a plain line
    assert events.filter(pl.col("status") == 502).height == 49
