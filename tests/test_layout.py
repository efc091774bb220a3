"""The layout shows the pipeline: imports flow one way, and the docs match what runs."""

from __future__ import annotations

import ast
import re

import pytest

from tests.conftest import ROOT

STAGES = ["ingest", "normalize", "correlate", "diagnose", "report"]
PKG = ROOT / "analyzer"


def _imports(path) -> set[str]:
    """Modules imported at run time (``if TYPE_CHECKING:`` blocks are only for type hints)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            node.body = []
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
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
