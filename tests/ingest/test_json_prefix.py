"""kubelet --logging-format=json behind a journal/syslog prefix (spec key ``prefix``)."""

from pathlib import Path

import pytest

from analyzer.api import load_events
from analyzer.errors import FormatSpecError
from analyzer.formats import parse_spec

CORPUS = Path(__file__).parent.parent / "corpus" / "kubernetes-logs-benchmark" / "container.log"
# kubernetes/kubernetes test/integration/logs/benchmark/data/container.log (corpus/SOURCES.md)
COMMENT, PREFIXED = CORPUS.read_text().splitlines()
# siderolabs/talos kubelet log parser test (fixtures/README.md, kubelet_json/kubelet.log line 2)
BARE = (Path(__file__).parent.parent / "fixtures" / "kubelet_json" / "kubelet.log").read_text()
BARE = BARE.splitlines()[1]


def _load(path: Path):
    events, (tally,) = load_events([path])
    assert tally.reconciles
    return events, tally


def test_prefixed_kubelet_json_is_kubelet_json_on_the_syslog_host():
    events, tally = _load(CORPUS)
    assert (tally.format, tally.events, tally.rejected) == ("kubelet_json", 1, 0)
    assert dict(tally.skip_reasons) == {"comment line": 1}
    (row,) = events.to_dicts()
    assert (row["line"], row["node"], row["message"]) == (
        2,
        "kind-worker2",
        "Creating container in pod",
    )
    # The JSON's ts (ms) dates the line, not the prefix's second.
    assert row["ts"].isoformat().startswith("2021-11-19T02:13:48.968")


def test_comment_lines_do_not_outvote_the_json_when_sniffing(tmp_path):
    path = tmp_path / "kubelet.log"
    path.write_text("# collected by hand\n# from kind-worker2\n# (journal)\n" + PREFIXED + "\n")
    _, tally = _load(path)
    assert (tally.format, tally.events, tally.skipped) == ("kubelet_json", 1, 3)


def test_prefixed_bare_and_broken_lines_in_one_file(tmp_path):
    # A truncated record takes the robust (bisecting) path: only it is rejected.
    path = tmp_path / "kubelet.log"
    path.write_text(
        "\n".join(
            [PREFIXED, BARE, PREFIXED[:120], PREFIXED.replace("kind-worker2", "kind-worker3")]
        )
    )
    events, tally = _load(path)
    assert (tally.events, tally.rejected) == (3, 1)
    assert tally.reject_examples == ((3, "malformed JSON"),)
    nodes = dict(zip(events["line"].to_list(), events["node"].to_list(), strict=True))
    assert nodes == {1: "kind-worker2", 2: None, 4: "kind-worker3"}
    assert (
        events.filter(events["line"] == 2)["pod"].item()
        == "kube-controller-manager-talos-dev-qemu-master-1"
    )


def test_prefix_must_compile_in_both_regex_engines():
    base = {"name": "x", "source": "app", "engine": "jsonl"}
    with pytest.raises(FormatSpecError, match="prefix"):
        parse_spec({**base, "prefix": "(?=look)ahead "}, "x.toml")
    spec = parse_spec(
        {**base, "prefix": r"(?P<host>\S+) app: ", "fields": {"node": "host"}}, "x.toml"
    )
    assert spec.prefix == r"(?P<host>\S+) app: "
