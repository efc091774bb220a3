"""User-defined formats: directories of specs, load-time checks, the active registry."""

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import analyzer
from analyzer import formats
from analyzer.api import load_events, parse_lines
from analyzer.cli import app
from analyzer.errors import FormatSpecError, FormatSpecErrors, UnknownFormatNameError
from tests.conftest import FIXTURES

CADDY_DIR = FIXTURES / "formats" / "caddy"
CADDY_LOG = FIXTURES / "formats" / "caddy.log"
runner = CliRunner()

# Real lines (the Caddy fixture's sources, tests/fixtures/README.md)
SERVING = '{"level":"info","ts":1761019822.3164804,"msg":"serving initial configuration"}'
SHUTDOWN = '{"level":"info","ts":1761019831.827683,"msg":"shutdown complete","signal":"SIGTERM","exit_code":0}'

MINIMAL = """\
name = "{name}"
source = "app"
engine = "jsonl"
require = ["level", "ts", "msg"]
{extra}
[timestamp]
field = "ts"
style = "epoch"

[fields]
message = "msg"

[[rules]]
kind = "app_started"
equals = {{ msg = "serving initial configuration" }}

[[samples]]
line = '''{serving}'''
kind = "app_started"
"""


def spec_text(name: str = "mine", extra: str = "") -> str:
    return MINIMAL.format(name=name, extra=extra, serving=SERVING)


@pytest.fixture
def no_user_config(monkeypatch, tmp_path):
    """No formats from the environment of whoever runs the tests."""
    monkeypatch.delenv("ANALYZER_FORMATS_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "empty-config"))


def problems_of(excinfo: pytest.ExceptionInfo[FormatSpecErrors]) -> list[tuple[str, str]]:
    return [(Path(p.file).name, p.key) for p in excinfo.value.problems]


# --- a valid user spec is used ---------------------------------------------------------


def test_user_spec_parses_a_file_the_builtins_read_only_generically(no_user_config):
    plain = analyzer.analyze([CADDY_LOG])
    assert plain.inputs[0].format == "generic_json"
    result = analyzer.analyze([CADDY_LOG], formats_dirs=[CADDY_DIR])
    tally = result.inputs[0]
    assert (tally.format, tally.lines, tally.events, tally.rejected) == ("caddy_json", 11, 11, 0)
    ev = result.events
    assert ev["kind"].to_list().count("log") == 7
    http = ev.filter(kind="http").row(0, named=True)
    assert (http["status"], http["method"], http["path"], http["client"]) == (
        304,
        "GET",
        "/",
        "172.19.0.1",
    )
    assert http["ts"].isoformat() == "2025-10-21T04:10:28.615395+00:00"
    assert ev.filter(kind="shutdown_started")["message"].to_list() == [
        "shutting down apps, then terminating"
    ]
    assert ev.filter(kind="shutdown_finished").height == 1
    assert ev.filter(kind="app_started").height == 1
    # the run's registry is active only during the call
    assert "caddy_json" not in formats.names()


def test_load_events_takes_dirs_or_a_loaded_registry(no_user_config):
    events, tallies = load_events([CADDY_LOG], formats_dirs=[CADDY_DIR])
    assert tallies[0].format == "caddy_json" and events.height == 11
    registry = formats.load([CADDY_DIR])
    events2, tallies2 = load_events([CADDY_LOG], registry=registry, as_format="caddy_json")
    assert tallies2[0].format == "caddy_json" and events2.equals(events)
    parsed, _ = parse_lines([SHUTDOWN], "caddy_json", registry=registry)
    assert parsed["kind"].to_list() == ["shutdown_finished"]


def test_cli_report_and_formats_list_use_the_user_dir(no_user_config):
    result = runner.invoke(
        app, ["report", str(CADDY_LOG), "-f", "json", "--formats-dir", str(CADDY_DIR)]
    )
    assert result.exit_code == 0, result.output
    assert '"format": "caddy_json"' in result.stdout
    listing = runner.invoke(app, ["formats", "--formats-dir", str(CADDY_DIR)])
    assert listing.exit_code == 0
    line = next(ln for ln in listing.output.splitlines() if ln.startswith("caddy_json"))
    assert line.endswith(f"[user: {CADDY_DIR / 'caddy_json.toml'}]")
    builtin_line = next(ln for ln in listing.output.splitlines() if ln.startswith("kubelet_klog"))
    assert "[user" not in builtin_line
    # without the directory the format is unknown to --as
    forced = runner.invoke(app, ["report", str(CADDY_LOG), "--as", "caddy_json"])
    assert forced.exit_code == 2
    assert (
        "error: --as caddy_json: unknown format; known: aws_alb, aws_lb_controller, calico_cni, "
        "containerd, cri," in forced.output
    )


def test_cli_ingest_and_timeline_take_formats_dir(no_user_config, tmp_path):
    out = tmp_path / "export"
    result = runner.invoke(
        app, ["ingest", str(CADDY_LOG), "-o", str(out), "--formats-dir", str(CADDY_DIR)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("11 events from 1 file(s)")
    html = tmp_path / "t.html"
    result = runner.invoke(
        app, ["timeline", str(CADDY_LOG), "-o", str(html), "--formats-dir", str(CADDY_DIR)]
    )
    assert result.exit_code == 0, result.output


def test_formats_check_ok_and_broken(tmp_path, no_user_config):
    ok = runner.invoke(app, ["formats", "--check", str(CADDY_DIR)])
    assert ok.exit_code == 0 and "ok: 1 format(s): caddy_json" in ok.output
    (tmp_path / "a.toml").write_text(spec_text("a", 'bogus = 1\npattern = "(a)\\\\1"'))
    (tmp_path / "b.toml").write_text(spec_text("b") + "x = 1\n")  # in the last [[samples]]
    bad = runner.invoke(app, ["formats", "--check", str(tmp_path)])
    assert bad.exit_code == 2
    assert "Traceback" not in bad.output
    assert f"{tmp_path / 'a.toml'}: bogus: unknown key" in bad.output
    assert f"{tmp_path / 'a.toml'}: pattern: polars (Rust regex) cannot compile it" in bad.output
    assert f"{tmp_path / 'b.toml'}: samples[0].x: unknown key" in bad.output


def test_broken_user_dir_fails_a_report_with_exit_2_and_every_problem(tmp_path, no_user_config):
    (tmp_path / "a.toml").write_text(spec_text("a", "priority = 'high'\nstandalone = 1"))
    result = runner.invoke(app, ["report", str(CADDY_LOG), "--formats-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.output.startswith("error: 2 problems in format specs:")
    assert f"{tmp_path / 'a.toml'}: priority: expected an integer, got str" in result.output
    assert f"{tmp_path / 'a.toml'}: standalone: expected true or false, got int" in result.output


# --- names -----------------------------------------------------------------------------


def test_builtin_name_needs_override(tmp_path):
    (tmp_path / "gj.toml").write_text(spec_text("generic_json"))
    with pytest.raises(FormatSpecErrors) as exc:
        formats.load([tmp_path])
    assert problems_of(exc) == [("gj.toml", "name")]
    assert "set override = true" in str(exc.value)


def test_override_replaces_the_builtin(tmp_path, no_user_config):
    (tmp_path / "gj.toml").write_text(spec_text("generic_json", "override = true"))
    registry = formats.load([tmp_path])
    spec = registry.get("generic_json")
    assert not spec.builtin and spec.override and spec.path == str(tmp_path / "gj.toml")
    assert registry.names().count("generic_json") == 1
    assert len(registry.specs) == len(formats.builtin())
    # the replacement is what sniffing picks for plain JSON lines now
    result = analyzer.analyze([CADDY_LOG], registry=registry)
    assert result.inputs[0].format == "generic_json"
    assert result.events.filter(kind="app_started").height == 1  # only the user rule's kind
    assert result.events.filter(kind="shutdown_finished").height == 0


def test_two_user_specs_with_one_name(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    (tmp_path / "one" / "x.toml").write_text(spec_text("mine"))
    (tmp_path / "two" / "y.toml").write_text(spec_text("mine"))
    with pytest.raises(FormatSpecErrors) as exc:
        formats.load([tmp_path / "one", tmp_path / "two"])
    assert problems_of(exc) == [("y.toml", "name")]
    assert f"also defined in {tmp_path / 'one' / 'x.toml'}" in str(exc.value)


def test_the_same_directory_twice_is_read_once(tmp_path):
    (tmp_path / "x.toml").write_text(spec_text("mine"))
    registry = formats.load([tmp_path, tmp_path / "."])
    assert [s.name for s in registry.user()] == ["mine"]


def test_also_must_name_a_known_format(tmp_path):
    text = spec_text("mine").replace('engine = "jsonl"', 'engine = "jsonl"\nalso = ["containrd"]')
    (tmp_path / "x.toml").write_text(text)
    with pytest.raises(FormatSpecErrors) as exc:
        formats.load([tmp_path])
    assert problems_of(exc) == [("x.toml", "also[0]")]
    assert "did you mean containerd?" in str(exc.value)


def test_as_unknown_name_message():
    with pytest.raises(UnknownFormatNameError) as exc:
        analyzer.analyze([CADDY_LOG], as_format="kubelet")
    known = ", ".join(sorted(formats.names()))
    assert (
        str(exc.value)
        == f"--as kubelet: unknown format (did you mean kubelet_json or kubelet_klog?); known: {known}"
    )
    assert str(UnknownFormatNameError("zzz", ["a", "b"], "--as zzz")) == (
        "--as zzz: unknown format; known: a, b"
    )


def test_user_specs_rank_after_builtins_of_equal_priority(tmp_path):
    (tmp_path / "x.toml").write_text(spec_text("aaa", "priority = 20"))
    registry = formats.load([tmp_path])
    names = registry.names()
    assert names.index("aaa") == names.index("k8s_events") + 1  # builtin first at equal priority
    assert names.index("aaa") < names.index("kubelet_klog")  # priority 10


# --- regexes compiled by polars ----------------------------------------------------------

PYTHON_ONLY = {
    "backreference": r"(a)\1",
    "named backreference": r"(?P<x>a)(?P=x)",
    "end of text": r"a\Z",
    "look-ahead": r"(?=a)a",
    "look-behind": r"(?<=a)b",
    "atomic group": r"(?>a)",
}
WHERE = {
    "pattern": ("engine = \"text\"\npattern = '''{rx}'''", "pattern"),
    "skip": ("[skip]\nbanner = '''{rx}'''", "skip.banner"),
    "paths": ("paths = ['''{rx}''']", "paths[0]"),
    "extract": ("[extract]\nword = {{ from = \"msg\", regex = '''{rx}''' }}", "extract.word.regex"),
    "rule": ("[[rules]]\nkind = \"log\"\nregex = {{ msg = '''{rx}''' }}", "rules[0].regex.msg"),
}


@pytest.mark.parametrize("rx", PYTHON_ONLY.values(), ids=PYTHON_ONLY.keys())
@pytest.mark.parametrize("where", WHERE)
def test_python_only_regex_is_reported_with_file_and_key(tmp_path, rx, where):
    import re

    re.compile(rx)  # Python's re accepts every one of them
    toml, key = WHERE[where]
    body = 'name = "x"\nsource = "app"\nengine = "jsonl"\n'
    if where == "pattern":
        body = body.replace('engine = "jsonl"\n', "")
    path = tmp_path / "x.toml"
    path.write_text(body + toml.format(rx=rx) + "\n")
    with pytest.raises(FormatSpecErrors) as exc:
        formats.load([tmp_path])
    assert [(p.file, p.key) for p in exc.value.problems] == [(str(path), key)]
    assert "polars (Rust regex) cannot compile it" in exc.value.problems[0].problem


@pytest.mark.parametrize(
    ("rx", "problem"),
    [
        (r"(?<x>a)", "Python re (used to sniff files) cannot compile it"),
        (r"[[:alpha:]]", "Possible nested set"),
    ],
)
def test_polars_only_regex_is_reported_too(rx, problem):
    with pytest.raises(FormatSpecError, match=re_escape(problem)):
        formats.parse_spec(
            {"name": "x", "source": "app", "engine": "text", "pattern": rx}, "x.toml"
        )


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


@pytest.mark.parametrize(
    ("rx", "groups"), [(r"dial \S+", 0), (r"(\d+)\.(\d+)", 2), (r"(?P<a>x)|(y)", 2)]
)
def test_extract_needs_exactly_one_group_counted_by_polars(rx, groups):
    with pytest.raises(FormatSpecErrors, match=rf"x.toml: extract.c.regex: .*has {groups}$"):
        formats.parse_spec(
            {
                "name": "x",
                "source": "app",
                "engine": "jsonl",
                "extract": {"c": {"from": "msg", "regex": rx}},
            },
            "x.toml",
        )


def test_non_capturing_groups_do_not_count():
    spec = formats.parse_spec(
        {
            "name": "x",
            "source": "app",
            "engine": "jsonl",
            "extract": {"c": {"from": "msg", "regex": r"(?:dial|read) (\S+)"}},
        },
        "x.toml",
    )
    assert spec.extract == (("c", ("msg",), r"(?:dial|read) (\S+)"),)


# --- samples -------------------------------------------------------------------------------


def test_failing_samples_are_reported_with_file_and_index(tmp_path):
    text = spec_text("mine") + (
        f"\n[[samples]]\nline = '''{SHUTDOWN}'''\nkind = \"shutdown_finished\"\n"
        "\n[[samples]]\nline = '''not json at all'''\nkind = \"log\"\n"
    )
    path = tmp_path / "x.toml"
    path.write_text(text)
    with pytest.raises(FormatSpecErrors) as exc:
        formats.load([tmp_path])
    got = {(p.file, p.key): p.problem for p in exc.value.problems}
    assert set(got) == {(str(path), "samples[1]"), (str(path), "samples[2]")}
    assert got[(str(path), "samples[1]")] == "parsed as log, declared shutdown_finished"
    assert got[(str(path), "samples[2]")].startswith("rejected: ")


def test_samples_of_a_payload_only_format_get_an_envelope_time(tmp_path, no_user_config):
    # Puma's plain text has no time of its own (tests/fixtures/puma_text/puma.log, line 8).
    (tmp_path / "p.toml").write_text(
        'name = "my_puma"\nsource = "app"\nengine = "text"\nstandalone = false\npayload = true\n'
        "pattern = '''^(?P<_m>)\\[(?P<pid>\\d+)\\] (?P<body>.*)$'''\n"
        '[timestamp]\nstyle = "envelope"\n[fields]\nmessage = "body"\n'
        '[[rules]]\nkind = "shutdown_started"\nregex = { body = "^- Gracefully" }\n'
        "[[samples]]\nline = '''[2136] - Gracefully shutting down workers...'''\n"
        'kind = "shutdown_started"\n'
    )
    registry = formats.load([tmp_path])
    assert registry.get("my_puma").samples[0].kind == "shutdown_started"


@pytest.mark.parametrize(
    ("pattern", "key", "problem"),
    [
        (r"^(?P<body>.*)$", "pattern", "needs the empty group (?P<_m>) at its start"),
        (r"^(?P<_m>)(?P<msg>.*)$", "fields.message", "no group body in the pattern"),
    ],
)
def test_text_patterns_have_the_marker_and_the_groups_the_spec_reads(pattern, key, problem):
    with pytest.raises(FormatSpecErrors) as exc:
        formats.parse_spec(
            {
                "name": "x",
                "source": "app",
                "engine": "text",
                "pattern": pattern,
                "fields": {"message": "body"},
            },
            "x.toml",
        )
    assert [(p.key, p.problem) for p in exc.value.problems] == [(key, problem)]


def test_samples_can_be_left_unchecked(tmp_path):
    text = spec_text("mine").replace('kind = "app_started"\n', 'kind = "http"\n')
    (tmp_path / "x.toml").write_text(
        text.replace('kind = "http"\nequals', 'kind = "app_started"\nequals')
    )
    with pytest.raises(
        FormatSpecErrors, match=r"samples\[0\]: parsed as app_started, declared http"
    ):
        formats.load([tmp_path])
    assert formats.load([tmp_path], samples=False).get("mine")


# --- many problems at once -----------------------------------------------------------------


def test_every_problem_of_every_file_is_listed(tmp_path):
    (tmp_path / "a.toml").write_text(
        'name = "a"\nsource = "nowhere"\nengine = "jsonl"\nbogus = true\nalso = "containerd"\n'
        "[timestamp]\nfield = 'ts'\nformat = '%s'\n"
        "[fields]\nnot_a_column = 'x'\n"
        "[[rules]]\nkind = 'nope'\n"
        "[[rules]]\nkind = 'log'\nregex = { msg = '(a)\\1' }\n"
        "[[samples]]\nline = ''\nkind = 'log'\n"
    )
    (tmp_path / "b.toml").write_text("name = 'b'\nsource = \n")
    (tmp_path / "c.toml").write_text(spec_text("generic_text"))
    with pytest.raises(FormatSpecErrors) as exc:
        formats.load([tmp_path])
    assert problems_of(exc) == [
        ("a.toml", "bogus"),
        ("a.toml", "timestamp.format"),
        ("a.toml", "also"),
        ("a.toml", "source"),
        ("a.toml", "fields.not_a_column"),
        ("a.toml", "rules[0].kind"),
        ("a.toml", "rules[1].regex.msg"),
        ("a.toml", "samples[0].line"),
        ("b.toml", "(file)"),
        ("c.toml", "name"),
    ]
    message = str(exc.value)
    assert message.startswith("10 problems in format specs:\n  ")
    assert f"  {tmp_path / 'a.toml'}: also: expected a list of strings, got str" in message


def test_a_missing_directory_is_a_problem(tmp_path):
    with pytest.raises(FormatSpecErrors, match=r"nope: \(directory\): not a directory"):
        formats.load([tmp_path / "nope"])


def test_without_builtins_only_the_user_specs_load(tmp_path):
    (tmp_path / "x.toml").write_text(spec_text("mine"))
    assert formats.load([tmp_path], include_builtin=False).names() == ["mine"]


# --- discovery -----------------------------------------------------------------------------


def test_env_var_and_config_dir_are_discovered(monkeypatch, tmp_path):
    one, two, xdg = tmp_path / "one", tmp_path / "two", tmp_path / "xdg"
    (xdg / "k8s-502-analyzer" / "formats").mkdir(parents=True)
    for d, name in ((one, "from_one"), (two, "from_two")):
        d.mkdir()
        (d / f"{name}.toml").write_text(spec_text(name))
    shutil.copy(CADDY_DIR / "caddy_json.toml", xdg / "k8s-502-analyzer" / "formats")
    monkeypatch.setenv("ANALYZER_FORMATS_DIR", f"{one}{os.pathsep}{os.pathsep}{two}")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    assert formats.config_dirs() == [one, two, xdg / "k8s-502-analyzer" / "formats"]
    result = analyzer.analyze([CADDY_LOG])
    assert result.inputs[0].format == "caddy_json"
    listing = runner.invoke(app, ["formats"])
    assert {"from_one", "from_two", "caddy_json"} <= {
        ln.split()[0] for ln in listing.output.splitlines()
    }


def test_home_config_dir_without_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("ANALYZER_FORMATS_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert formats.config_dirs() == []  # nothing there: nothing to read, no error
    shutil.copytree(CADDY_DIR, tmp_path / ".config" / "k8s-502-analyzer" / "formats")
    assert formats.config_dirs() == [tmp_path / ".config" / "k8s-502-analyzer" / "formats"]
    assert analyzer.analyze([CADDY_LOG]).inputs[0].format == "caddy_json"


def test_a_missing_env_dir_is_an_error(monkeypatch, tmp_path, no_user_config):
    monkeypatch.setenv("ANALYZER_FORMATS_DIR", str(tmp_path / "gone"))
    result = runner.invoke(app, ["report", str(CADDY_LOG)])
    assert result.exit_code == 2 and "gone: (directory): not a directory" in result.output


def test_the_documented_example_is_the_fixture_and_loads(tmp_path, no_user_config):
    doc = (Path(__file__).resolve().parents[2] / "docs" / "user-formats.md").read_text()
    block = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    assert block == (CADDY_DIR / "caddy_json.toml").read_text()
    (tmp_path / "caddy_json.toml").write_text(block)
    registry = formats.load([tmp_path])
    assert [s.name for s in registry.user()] == ["caddy_json"]


def test_a_payload_user_format_is_sniffed_inside_a_cri_wrapper(tmp_path, no_user_config):
    # The fixture's lines as a container's stderr in a CRI file (the envelope is made up).
    lines = CADDY_LOG.read_text().splitlines()
    wrapped = tmp_path / "0.log"
    wrapped.write_text(
        "".join(f"2025-10-21T04:10:{20 + i:02d}.5Z stderr F {ln}\n" for i, ln in enumerate(lines))
    )
    result = analyzer.analyze([wrapped], formats_dirs=[CADDY_DIR])
    assert result.inputs[0].format == "cri+caddy_json"
    assert result.events.filter(kind="http")["status"].to_list() == [304]


def test_check_notes_a_spec_that_loses_sniffing_on_its_own_samples(tmp_path, no_user_config):
    weak = (CADDY_DIR / "caddy_json.toml").read_text()
    weak = "\n".join(
        ln.replace("priority = 7", "priority = -20")
        for ln in weak.splitlines()
        if not ln.startswith("sniff_contains")
    )
    (tmp_path / "caddy_json.toml").write_text(weak + "\n")
    result = runner.invoke(app, ["formats", "--check", str(tmp_path)])
    assert result.exit_code == 0  # a note, not an error
    assert (
        f"note: {tmp_path / 'caddy_json.toml'}: samples: a file of these lines is sniffed as "
        "generic_json, not caddy_json" in result.output
    )
    assert analyzer.analyze([CADDY_LOG], formats_dirs=[tmp_path]).inputs[0].format == "generic_json"
    strong = runner.invoke(app, ["formats", "--check", str(CADDY_DIR)])
    assert "note:" not in strong.output
