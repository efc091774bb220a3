from pathlib import Path

import pytest

from analyzer import formats
from analyzer.api import parse_lines
from analyzer.errors import FormatSpecError

SPECS = [s for s in formats.builtin() if s.samples]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_spec_samples_parse_to_declared_kind(spec):
    events, tally = parse_lines([s.line for s in spec.samples], spec.name)
    assert tally.rejected == 0, tally.reject_examples
    assert events["kind"].to_list() == [s.kind for s in spec.samples]


def test_every_builtin_spec_loads_with_unique_names():
    names = [s.name for s in formats.builtin()]
    assert len(names) == len(set(names))
    assert {
        "kubelet_klog",
        "k8s_events",
        "cri",
        "workhorse_json",
        "puma_json",
        "puma_text",
        "pages_json",
        "generic_json",
    } <= set(names)


def test_unknown_key_is_an_error_naming_file_and_key():
    with pytest.raises(FormatSpecError, match=r"x.toml: bogus"):
        formats.parse_spec({"name": "x", "source": "app", "engine": "jsonl", "bogus": 1}, "x.toml")


def test_lookaround_is_rejected():
    with pytest.raises(FormatSpecError, match="look-around"):
        formats.parse_spec(
            {"name": "x", "source": "app", "engine": "text", "pattern": "(?=a)b"}, "x.toml"
        )


def test_rule_kind_must_be_in_vocabulary():
    with pytest.raises(FormatSpecError, match=r"rules\[0\].kind"):
        formats.parse_spec(
            {"name": "x", "source": "app", "engine": "jsonl", "rules": [{"kind": "nope"}]}, "x.toml"
        )


def test_adding_a_format_is_a_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        'name = "mine"\nsource = "app"\nengine = "text"\n'
        "pattern = '''^(?P<_m>)(?P<body>BOOM.*)$'''\n"
        '[fields]\nmessage = "body"\n[[rules]]\nkind = "shutdown_started"\nregex = { body = "BOOM" }\n'
    )
    spec = formats.load_spec(path)
    assert spec.rules[0].kind == "shutdown_started"


def test_readme_format_table_matches_the_registry():
    import re

    from analyzer import formats
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("| name | what |", 1)[1].split("\n\n", 1)[0]
    named = set()
    for row in table.splitlines()[2:]:
        first_cell = row.split("|")[1]
        named |= set(re.findall(r"`([a-z0-9_]+)`", first_cell))
    assert named == {s.name for s in formats.builtin()}


QUICK = [s for s in formats.builtin() if s.quick]


@pytest.mark.parametrize("spec", QUICK, ids=lambda s: s.name)
def test_quick_patterns_read_samples_as_the_full_pattern(spec):
    from analyzer.formats.check import quick_problems

    assert quick_problems(spec, formats.load([])) == []


def test_a_quick_pattern_that_reads_another_value_is_refused(tmp_path):
    from analyzer.errors import FormatSpecErrors

    spec = formats.get("ingress_nginx")
    builtin_dir = Path(formats.__file__).parent
    text = (builtin_dir / Path(spec.path).name).read_text(encoding="utf-8")
    # The duration taken from the request length: the samples show the difference.
    wrong = text.replace(r"\d+ (?P<request_time>[\d.]+) \[", r"(?P<request_time>\d+) [\d.]+ \[")
    assert wrong != text
    (tmp_path / "mine.toml").write_text(
        wrong.replace('name = "ingress_nginx"', 'name = "my_ingress"'), encoding="utf-8"
    )
    with pytest.raises(FormatSpecErrors) as exc:
        formats.load([tmp_path])
    quick = [p for p in exc.value.problems if p.key == "quick"]
    assert quick and all("duration_ms" in p.problem for p in quick), exc.value.problems
