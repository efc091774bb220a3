"""The end-to-end benchmark of issue 8: `analyzer report` against the floor and a DuckDB script.

    python benchmarks/bench_report.py --sizes 0.25,1,4 --data /tmp/bench-data --repeat 3

For each size it generates a mixed bundle once (`gen_bundle.py`, cached in DATA/<size>), then runs
every case in a fresh subprocess (wall time of the whole process, imports included; peak RSS of
that process from `os.wait4`; best of --repeat; each capped by --timeout):

- floor: polars `scan_lines(file).select(pl.len())` over every file of the bundle;
- duckdb: `duckdb_report.py`, the same diagnosis written as well as DuckDB allows;
- report: `python -m analyzer report BUNDLE --format json`, run with cwd = this checkout;
- ingest: `python -m analyzer ingest BUNDLE -o CACHE --replace`;
- cache report: `python -m analyzer report CACHE --format json` (the report over the Parquet cache).

It checks that the analyzer's report names the pod the DuckDB script found (a MISMATCH line
otherwise) and prints a markdown table per size. A case that dies (killed, nonzero exit, timeout)
shows as such in the table. No thresholds: compare ratios from one run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

FLOOR = r"""
import sys
from pathlib import Path
import polars as pl
files = [p for p in sorted(Path(sys.argv[1]).rglob("*")) if p.is_file()]
print(sum(pl.scan_lines(f).select(pl.len()).collect().item() for f in files))
"""


@dataclass
class Result:
    seconds: float | None
    rss_mib: float | None
    stdout: str = ""
    error: str | None = None


def group_rss_mib(pgid: int) -> float:
    """Resident memory of every process in the group (a case may start workers)."""
    total = 0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            total += int((d / "statm").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_once(
    cmd: list[str], timeout: float, max_rss_mib: float | None = None, cwd: Path = REPO
) -> Result:
    """Run ``cmd`` in a fresh process; wall time and that process's own peak RSS."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        why: list[str] = []
        done = threading.Event()

        def watch() -> None:
            # On a shared machine a runaway case is stopped before the OOM killer picks a victim.
            while not done.wait(0.25):
                if time.perf_counter() - t0 > timeout:
                    why.append(f"timeout after {timeout:.0f} s")
                elif max_rss_mib and group_rss_mib(proc.pid) > max_rss_mib:
                    why.append(f"stopped above --max-rss-gb {max_rss_mib / 1024:g}")
                else:
                    continue
                os.killpg(proc.pid, signal.SIGKILL)
                return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        # wait4 gives the rusage of this child alone, not the sum over earlier cases.
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        done.set()
        watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        rss = usage.ru_maxrss / 1024
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if why:
        return Result(None, rss, error=why[0])
    if proc.returncode < 0:
        name = signal.Signals(-proc.returncode).name
        hint = " (OOM-killed?)" if name == "SIGKILL" else ""
        return Result(None, rss, error=f"killed by {name}{hint}")
    if proc.returncode != 0:
        last = stderr.strip().splitlines()[-1:] or [""]
        return Result(None, rss, error=f"exit {proc.returncode}: {last[0][:120]}")
    return Result(elapsed, rss, stdout)


def best_of(cmd: list[str], repeat: int, timeout: float, max_rss_mib: float | None) -> Result:
    best: Result | None = None
    for _ in range(repeat):
        r = run_once(cmd, timeout, max_rss_mib)
        if r.error:
            return r
        if best is None or (r.seconds or 0) < (best.seconds or 0):
            best = r
    assert best is not None
    return best


def bundle_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def ensure_bundle(data: Path, size: str, skip_generate: bool) -> tuple[Path, dict]:
    root = data / size
    marker = data / f"{size}.planted.json"
    if not marker.exists():
        if skip_generate:
            raise SystemExit(f"no bundle at {root} (run without --skip-generate)")
        print(f"generating {size} GB bundle in {root} ...", flush=True)
        out = subprocess.run(
            [sys.executable, str(HERE / "gen_bundle.py"), "--size-gb", size, "--out", str(root)],
            check=True,
            capture_output=True,
            text=True,
        )
        planted = json.loads(out.stdout.strip().splitlines()[-1].removeprefix("planted: "))
        marker.write_text(json.dumps(planted))
    return root, json.loads(marker.read_text())


def analyzer_pod(report_json: str) -> str | None:
    """The pod of the report's worst incident (critical first, then most errors)."""
    incidents = json.loads(report_json).get("incidents", [])
    rank = {"critical": 0, "warning": 1, "info": 2}
    incidents.sort(key=lambda i: (rank.get(i["severity"], 3), -i["errors"]))
    if not incidents or not incidents[0]["pods"]:
        return None
    return ",".join(incidents[0]["pods"])


def cases(root: Path, cache: Path) -> list[tuple[str, list[str]]]:
    py = sys.executable
    return [
        ("polars scan_lines floor", [py, "-c", FLOOR, str(root)]),
        ("DuckDB script", [py, str(HERE / "duckdb_report.py"), str(root)]),
        ("analyzer report", [py, "-m", "analyzer", "report", str(root), "--format", "json"]),
        (
            "analyzer ingest",
            [py, "-m", "analyzer", "ingest", str(root), "-o", str(cache), "--replace"],
        ),
        ("report over the cache", [py, "-m", "analyzer", "report", str(cache), "--format", "json"]),
    ]


def fmt(x: float | None, spec: str) -> str:
    return "—" if x is None else format(x, spec)


def table(size: str, mb: float, results: dict[str, Result], prev: dict[str, Result] | None) -> str:
    floor = results["polars scan_lines floor"].seconds
    duck = results["DuckDB script"].seconds
    raw = results["analyzer report"].seconds
    rows = [
        f"### {size} GB bundle ({mb:.0f} MB)",
        "",
        "| case | s | MB/s | peak RSS MiB | × floor | × DuckDB | t / t(prev size) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        if r.error:
            rows.append(f"| {name} | **{r.error}** | | {fmt(r.rss_mib, '.0f')} | | | |")
            continue
        t = r.seconds
        grow = None
        if prev and prev.get(name) and prev[name].seconds:
            grow = t / prev[name].seconds  # type: ignore[operator]
        rows.append(
            f"| {name} | {t:.2f} | {mb / t:.0f} | {r.rss_mib:.0f} | "
            f"{fmt(t / floor if floor else None, '.1f')} | "
            f"{fmt(t / duck if duck else None, '.1f')} | "
            f"{fmt(grow, '.2f')} |"
        )
    cached = results["report over the cache"].seconds
    rows.append("")
    rows.append(
        f"report over the Parquet cache / raw report: "
        f"{fmt(cached / raw if cached and raw else None, '.2f')}"
    )
    return "\n".join(rows)


def check_pods(results: dict[str, Result], planted: dict) -> list[str]:
    lines = []
    duck = results["DuckDB script"]
    duck_pod = json.loads(duck.stdout)["pod"] if not duck.error else None
    if duck_pod != planted["pod"]:
        lines.append(f"MISMATCH: DuckDB script found {duck_pod}, planted {planted['pod']}")
    for name in ("analyzer report", "report over the cache"):
        r = results[name]
        if r.error:
            lines.append(f"{name}: no report ({r.error})")
            continue
        pod = analyzer_pod(r.stdout)
        verdict = "same pod as DuckDB" if pod == duck_pod else "MISMATCH"
        lines.append(f"{name}: worst incident on {pod}; DuckDB: {duck_pod} -> {verdict}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="0.25,1,4", help="bundle sizes in GB, comma-separated")
    ap.add_argument("--data", type=Path, default=Path("/tmp/bench-data"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument(
        "--max-rss-gb",
        type=float,
        default=None,
        help="stop a case whose processes together exceed this resident memory (shared machines)",
    )
    ap.add_argument("--skip-generate", action="store_true", help="use existing bundles only")
    args = ap.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    max_rss = args.max_rss_gb * 1024 if args.max_rss_gb else None
    head = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    print(f"checkout {REPO} at {head}, --repeat {args.repeat}\n", flush=True)
    prev: dict[str, Result] | None = None
    for size in args.sizes.split(","):
        root, planted = ensure_bundle(args.data, size, args.skip_generate)
        cache = args.data / f"{size}.cache"
        results: dict[str, Result] = {}
        for name, cmd in cases(root, cache):
            if name == "report over the cache" and results["analyzer ingest"].error:
                results[name] = Result(None, None, error="no cache (ingest failed)")
                continue
            results[name] = best_of(cmd, args.repeat, args.timeout, max_rss)
            r = results[name]
            print(
                f"  {size} GB {name}: {fmt(r.seconds, '.2f')} s, {fmt(r.rss_mib, '.0f')} MiB"
                f"{' ' + r.error if r.error else ''}",
                file=sys.stderr,
                flush=True,
            )
        print(table(size, bundle_bytes(root) / 1e6, results, prev))
        print()
        for line in check_pods(results, planted):
            print(line)
        print(flush=True)
        prev = results


if __name__ == "__main__":
    main()
