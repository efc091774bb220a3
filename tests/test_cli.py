import json

import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from tests.conftest import SAMPLE, SAMPLE_FIXED

runner = CliRunner()


def test_report_text_on_the_story():
    result = runner.invoke(app, ["report", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    assert "CRITICAL" in result.output and "sigterm-ignored" in result.output
    assert "readiness-lag" in result.output and "startup-not-ready" in result.output
    # Fits 100 columns; only a file:line reference (one token, to copy) may be longer.
    for line in result.output.splitlines():
        assert len(line) <= 100 or len(line.strip().removeprefix("@ ").split()) == 1, line


def test_report_json_contract():
    result = runner.invoke(app, ["report", str(SAMPLE), "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert set(data) >= {"inputs", "incidents", "summary", "schema_version"}
    for t in data["inputs"]:
        assert set(t) >= {"path", "format", "lines", "events", "rejected", "skipped"}
        assert t["lines"] == t["events"] + t["rejected"] + t["skipped"]
    inc = next(i for i in data["incidents"] if i["severity"] == "critical")
    assert set(inc) >= {
        "id",
        "start",
        "end",
        "duration_s",
        "severity",
        "status_counts",
        "errors",
        "pods",
        "containers",
        "clients",
        "findings",
        "timeline",
    }
    assert inc["start"].endswith("Z") and len(inc["start"]) == len("2022-04-05T06:04:04.000Z")
    f = inc["findings"][0]
    assert set(f) >= {"code", "severity", "summary", "explains", "fix", "evidence"}
    assert set(f["evidence"][0]) == {"ts", "file", "line", "text"}
    assert set(inc["timeline"][0]) >= {
        "ts",
        "offset_s",
        "source",
        "kind",
        "pod",
        "container",
        "summary",
        "file",
        "line",
    }


def test_report_markdown():
    result = runner.invoke(app, ["report", str(SAMPLE), "-f", "markdown"])
    assert result.exit_code == 0
    assert result.output.startswith("# 5xx incident report")
    assert "| inc-" in result.output and "**sigterm-ignored**" in result.output


@pytest.mark.parametrize(
    ("path", "fail_on", "code"),
    [
        (SAMPLE, "critical", 1),
        (SAMPLE_FIXED, "critical", 0),
        (SAMPLE_FIXED, "warning", 0),
        (SAMPLE, None, 0),
    ],
)
def test_fail_on(path, fail_on, code):
    args = ["report", str(path), "-f", "json"] + (["--fail-on", fail_on] if fail_on else [])
    assert runner.invoke(app, args).exit_code == code


def test_strict_names_file_and_line(write):
    path = write(
        "wh.log",
        '{"level":"info","msg":"access","status":200,"time":"2022-04-05T06:00:00Z"}\n'
        "this is not json\n",
    )
    result = runner.invoke(app, ["report", str(path), "--strict"])
    assert result.exit_code == 2
    assert f"{path}:2:" in result.output


def test_missing_path_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["report", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_bad_timezone_is_a_clear_error():
    result = runner.invoke(app, ["report", str(SAMPLE), "--tz", "Mars/Olympus"])
    assert result.exit_code == 2 and "--tz" in result.output


COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands)


def test_commands():
    assert COMMANDS == [
        "formats",
        "ingest",
        "report",
        "rules",
        "simulate",
        "sniff",
        "timeline",
        "version",
    ]


def test_rules_lists_every_cause_in_the_order_failures_are_explained():
    from analyzer.diagnose.registry import RULES

    result = runner.invoke(app, ["rules", "-v"])
    assert result.exit_code == 0
    codes = [line.split()[0] for line in result.output.splitlines() if not line.startswith(" ")]
    assert codes == list(RULES)
    assert "fix: Add a preStop hook" in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_formats_lists_the_registry():
    result = runner.invoke(app, ["formats"])
    assert "kubelet_klog" in result.output and "cri" in result.output


def test_timeline_command_writes_a_self_contained_file(tmp_path):
    out = tmp_path / "t.html"
    result = runner.invoke(app, ["timeline", str(SAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 incident(s)" in result.output
    assert out.stat().st_size > 1_000_000 and "<html>" in out.read_text()[:200]


def test_report_html_option(tmp_path):
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(SAMPLE), "--html", str(out), "--no-color"])
    assert result.exit_code == 0 and out.exists()
    assert "\x1b[" not in result.stdout


def test_ingest_then_report_gives_the_same_report(tmp_path):
    out = tmp_path / "export"
    result = runner.invoke(app, ["ingest", str(SAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "events.parquet").exists() and (out / "analyzer-export.json").exists()
    for fmt in ("json", "text", "markdown"):
        raw = runner.invoke(app, ["report", str(SAMPLE), "-f", fmt]).stdout
        fast = runner.invoke(app, ["report", str(out), "-f", fmt]).stdout
        assert raw == fast, fmt


def test_export_accounts_for_every_event():
    import polars as pl

    import analyzer

    result = analyzer.analyze([SAMPLE])
    with __import__("tempfile").TemporaryDirectory() as tmp:
        analyzer.export(result, tmp)
        events = pl.read_parquet(f"{tmp}/events.parquet")
        requests = pl.read_parquet(f"{tmp}/requests.parquet")
    # The export holds what was correlated: events kept whole and the bulk counted per
    # second; every event of the inputs is in it, as a row or inside a count.
    assert events.equals(result.reduced)
    assert events["count"].sum() == result.events.height == result.event_count
    assert events.height < result.events.height  # the successful requests were counted
    assert requests["count"].sum() == result.requests.height


def test_strict_error_quotes_the_bad_line_without_control_bytes(tmp_path):
    path = tmp_path / "app.log"
    path.write_text(
        '{"time":"2024-05-07T11:59:40Z","level":"info","msg":"a"}\nnot json \x1b[2J\x07\n'
    )
    result = runner.invoke(app, ["report", str(path), "--strict"])
    assert result.exit_code == 2
    assert f"error: {path}:2: " in result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b[2J\\x07" in result.output


def test_sniff_explains_each_file(tmp_path):
    journal = SAMPLE / "nodes" / "gke-gprd-default-pool-1a2b3c4d-x9k2" / "kubelet.log"
    result = runner.invoke(app, ["sniff", str(journal)])
    assert result.exit_code == 0, result.output
    assert "kubelet_klog+containerd" in result.output
    assert "runner-up containerd" in result.output
    assert "other program (systemd)" in result.output
    data = json.loads(runner.invoke(app, ["sniff", str(journal), "--json"]).output)
    by_format = data["events_by_format"]
    assert set(by_format) == {"kubelet_klog", "containerd"}
    assert sum(by_format.values()) == data["events"]
    assert data["lines"] == data["events"] + data["skipped"] + data["rejected"]


def test_ingest_refuses_to_mix_with_other_files(tmp_path):
    out = tmp_path / "export"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["ingest", str(SAMPLE), "-o", str(out)])
    assert result.exit_code == 2 and "not empty" in result.output
    fresh = tmp_path / "fresh"
    assert runner.invoke(app, ["ingest", str(SAMPLE), "-o", str(fresh)]).exit_code == 0
    again = runner.invoke(app, ["ingest", str(SAMPLE), "-o", str(fresh)])
    assert again.exit_code == 2 and "--replace" in again.output
    assert runner.invoke(app, ["ingest", str(SAMPLE), "-o", str(fresh), "--replace"]).exit_code == 0


def test_a_file_already_in_an_export_is_not_counted_twice(tmp_path):
    out = tmp_path / "export"
    assert runner.invoke(app, ["ingest", str(SAMPLE), "-o", str(out)]).exit_code == 0
    pages = SAMPLE / "gitlab-pages.log"
    alone = json.loads(runner.invoke(app, ["report", str(out), "-f", "json"]).stdout)
    both = json.loads(runner.invoke(app, ["report", str(out), str(pages), "-f", "json"]).stdout)
    assert both["incidents"] == alone["incidents"]
    note = next(t for t in both["inputs"] if t["format"] == "already-read")
    assert note["path"] == str(pages) and note["lines"] == 0


def test_burst_thresholds_are_options_and_the_rest_is_background():
    default = json.loads(runner.invoke(app, ["report", str(SAMPLE), "-f", "json"]).stdout)
    strict = runner.invoke(
        app, ["report", str(SAMPLE), "-f", "json", "--burst-min-failures", "1000"]
    )
    assert strict.exit_code == 0, strict.output
    data = json.loads(strict.stdout)
    assert data["incidents"] == []
    # nothing is lost: every failure the default run put in an incident is background now
    in_incidents = sum(i["errors"] + i["downstream_errors"] for i in default["incidents"])
    assert data["background"]["failures"] == in_incidents + default["background"]["failures"]


def test_simulate_writes_the_sample_bundle_and_its_truth(tmp_path):
    out = tmp_path / "pid1"
    result = runner.invoke(app, ["simulate", "pid1-502", "-o", str(out)])
    assert result.exit_code == 0, result.output
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    committed = {p.relative_to(SAMPLE).as_posix() for p in SAMPLE.rglob("*") if p.is_file()}
    assert written == committed  # truth.json included
    for rel in committed:
        assert (out / rel).read_bytes() == (SAMPLE / rel).read_bytes(), rel
    assert json.loads((out / "truth.json").read_text())["scenario"] == "pid1-502"


def test_simulate_lists_and_rejects_clearly(tmp_path):
    listed = runner.invoke(app, ["simulate", "--list"])
    assert listed.exit_code == 0 and "pid1-502-fixed" in listed.output.split()
    unknown = runner.invoke(app, ["simulate", "no-such-thing", "-o", str(tmp_path)])
    assert unknown.exit_code == 2 and "unknown scenario" in unknown.output
    bad = runner.invoke(app, ["simulate", "pid1-502", "-o", str(tmp_path), "--size", "12QB"])
    assert bad.exit_code == 2 and "--size" in bad.output
    missing = runner.invoke(app, ["simulate", "pid1-502"])
    assert missing.exit_code == 2


def _exit(argv, capsys):
    from analyzer.cli import main

    with pytest.raises(SystemExit) as stop:
        main(argv)
    return stop.value.code, capsys.readouterr().err


def test_exit_codes_mean_one_thing(capsys):
    story = str(SAMPLE)
    assert _exit(["report", story, "--format", "json"], capsys)[0] == 0
    assert _exit(["report", story, "--fail-on", "critical"], capsys)[0] == 1
    assert _exit(["report", "/no/such/path"], capsys)[0] == 2
    code, err = _exit(["report", story, "--no-such-option"], capsys)
    assert code == 2 and "No such option" in err


def test_an_internal_error_is_one_line_and_exit_3_with_the_traceback_only_on_debug(
    capsys, monkeypatch
):
    import analyzer.api as api

    def broken(paths, **options):
        options["on_file"]("logs/kubelet.log")
        raise KeyError("time\x1b[31m")  # a bug, quoting hostile text

    monkeypatch.setattr("analyzer.cli.analyze", broken)
    assert api.analyze is not broken
    code, err = _exit(["report", "some/dir"], capsys)
    assert code == 3
    assert "Traceback" not in err and "\x1b" not in err
    first = err.splitlines()[0]
    assert first.startswith("internal error while analyzing some/dir")
    assert "the last file read was logs/kubelet.log" in first and "KeyError" in first
    assert "please report it" in err
    code, err = _exit(["--debug", "report", "some/dir"], capsys)
    assert code == 3 and "Traceback" in err


def test_out_of_memory_is_exit_2_with_what_to_do(capsys, monkeypatch):
    def hungry(paths, **options):
        raise MemoryError

    monkeypatch.setattr("analyzer.cli.analyze", hungry)
    code, err = _exit(["report", "big/dir"], capsys)
    assert code == 2 and "out of memory while analyzing big/dir" in err
    assert "analyzer ingest" in err and "Traceback" not in err
