"""The layout shows the pipeline: imports flow one way, and the docs match what runs."""

from __future__ import annotations

import ast
import re

import pytest

from tests.conftest import ROOT

STAGES = ["ingest", "normalize", "correlate", "diagnose", "report"]
PKG = ROOT / "analyzer"


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imports(path) -> set[str]:
    """Modules imported at run time (``if TYPE_CHECKING:`` blocks are only for type hints)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            node.body = []
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            # ``from analyzer import formats`` imports the module ``analyzer.formats``
            subs = {f"{node.module}.{a.name}" for a in node.names}
            names.update(s for s in subs if _is_module(s))
            if not all(_is_module(s) for s in subs):
                names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


@pytest.mark.parametrize("stage", STAGES)
def test_stages_never_import_later_stages_or_the_cli(stage):
    later = STAGES[STAGES.index(stage) + 1 :]
    for path in (PKG / stage).rglob("*.py"):
        for name in _imports(path):
            assert not name.startswith("analyzer.cli"), f"{path} imports the CLI"
            assert not name.startswith("analyzer.api"), f"{path} imports the API"
            for other in later:
                assert not name.startswith(f"analyzer.{other}"), f"{path} imports {name}"


def _module_name(path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Each analyzer module -> the analyzer modules it imports at run time (``_imports``)."""
    paths = {_module_name(p): p for p in PKG.rglob("*.py")}
    graph = {}
    for mod, path in paths.items():
        graph[mod] = _imports(path) & paths.keys()
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle in ``graph`` (its modules in order), or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(mod: str) -> list[str] | None:
        if mod in path:
            return [*path[path.index(mod) :], mod]
        if mod in done:
            return None
        path.append(mod)
        for dep in sorted(graph[mod]):
            if (found := visit(dep)) is not None:
                return found
        path.pop()
        done.add(mod)
        return None

    return next((c for mod in sorted(graph) if (c := visit(mod)) is not None), None)


#: Circles older than this test, each broken by importing late: the spec checker imports
#: the parsers that read the specs inside its functions, ``formats`` imports its registry
#: last (the registry reads ``formats``), and ``import analyzer`` (``__version__``) in
#: ``distributed`` reaches the API that imports it inside ``load_reduced``. Remove an edge
#: here when its circle goes.
LATE_CYCLE_EDGES = {
    "analyzer.formats.check": {
        "analyzer.formats.registry",
        "analyzer.ingest",
        "analyzer.ingest.lines",
        "analyzer.ingest.sniff",
        "analyzer.ingest.text",
        "analyzer.normalize",
        "analyzer.normalize.time",
    },
    "analyzer.formats": {"analyzer.formats.registry"},
    "analyzer.api": {"analyzer.distributed"},
}


def test_no_import_cycle_among_analyzer_modules():
    graph = _import_graph()
    for mod, late in LATE_CYCLE_EDGES.items():
        assert late <= graph[mod], f"{mod} no longer imports {late - graph[mod]}"
        graph[mod] = graph[mod] - late
    cycle = _cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_what_the_api_builds_sits_below_it():
    """Reports, the store and the result model never import the API, not even for types."""
    for path in [*(PKG / "report").rglob("*.py"), PKG / "store.py", PKG / "result.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(("analyzer.api", "analyzer.cli")), path
                assert not (
                    node.module == "analyzer" and {"api", "cli"} & {a.name for a in node.names}
                ), path
            elif isinstance(node, ast.Import):
                assert not any(
                    a.name.startswith(("analyzer.api", "analyzer.cli")) for a in node.names
                ), path


def test_only_the_cli_imports_typer():
    for path in PKG.rglob("*.py"):
        if path.name != "cli.py":
            assert "typer" not in {n.split(".")[0] for n in _imports(path)}, path


def test_readme_quick_start_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)\n```", readme.split("## Quick start", 1)[1], flags=re.S)
    run_cmd, test_cmd = blocks[0].strip(), blocks[1].strip()
    assert run_cmd == "pip install . && analyzer report sample_logs/pid1-502"
    assert test_cmd in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
