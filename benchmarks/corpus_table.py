"""Per-file table of the real-logs corpus: what the analyzer does against what a person expects.

    python benchmarks/corpus_table.py            # markdown table on stdout
    python benchmarks/corpus_table.py --details  # plus skip reasons / reject examples
    python benchmarks/corpus_table.py --code ../other-checkout   # that tree's analyzer

The ``analyzer`` imported is this repository's, or ``--code``'s (another checkout or branch).
Verdict ``ok`` means counts, formats and the listed events all match ``tests/corpus/expected.toml``;
otherwise it names what differs (``counts``, ``format``, ``events``).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _code_from_argv() -> Path:
    """``--code DIR`` must be known before ``analyzer`` is first imported."""
    args = sys.argv[1:]
    return Path(args[args.index("--code") + 1]).resolve() if "--code" in args else ROOT


sys.path[:0] = [str(_code_from_argv()), str(ROOT / "tests")]

import test_corpus as tc  # noqa: E402  (the expectations and checks live with the test)

from analyzer.errors import AnalyzerError  # noqa: E402


def verdict(spec: dict) -> tuple[str, str]:
    """(short verdict, detail) for one corpus file."""
    problems: list[str] = []
    detail = ""
    try:
        t = tc.tally_of(spec["path"])
    except (AnalyzerError, AssertionError) as exc:
        return f"error: {exc}"[:60], ""
    for name, check in (
        ("counts", tc.test_counts),
        ("format", tc.test_formats),
        ("events", tc.test_expected_events if spec.get("expect") else None),
    ):
        if check is None:
            continue
        try:
            check(spec)
        except AssertionError as exc:
            problems.append(name)
            detail += f"{name}: {str(exc).splitlines()[0][:200]}; "
    detail += f"skips {dict(t.skip_reasons)}; rejects {list(t.reject_examples)[:3]}"
    return ("ok" if not problems else "FAIL " + ",".join(problems)), detail


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--details", action="store_true")
    ap.add_argument("--code", type=Path, help="a checkout whose analyzer to run (default: this)")
    args = ap.parse_args()
    spec = tomllib.loads((tc.CORPUS / "expected.toml").read_text())["file"]
    import analyzer

    print(f"analyzer from `{Path(analyzer.__file__).parent}`\n")
    print(
        "| file | format read | lines | events | rejected | skipped "
        "| expected (format: events/rejected/skipped) | verdict |"
    )
    print("|---|---|---|---|---|---|---|---|")
    details = []
    for s in spec:
        v, d = verdict(s)
        try:
            t = tc.tally_of(s["path"])
            got = f"{t.format} | {t.lines} | {t.events} | {t.rejected} | {t.skipped}"
        except (AnalyzerError, AssertionError):
            got = "- | - | - | - | -"
        either = f" (+{s['either']} either)" if s.get("either") else ""
        claimed = "" if s.get("claimed", True) else " (not claimed)"
        want = (
            f"{'+'.join(s['formats'])}{claimed}: "
            f"{s['events']}/{s['rejected']}/{s['skipped']}{either}"
        )
        name = s["path"] if len(s["path"]) < 70 else "…" + s["path"][-68:]
        print(f"| `{name}` | {got} | {want} | {v} |")
        details.append(f"- `{s['path']}`: {d}")
    if args.details:
        print()
        print("\n".join(details))


if __name__ == "__main__":
    main()
