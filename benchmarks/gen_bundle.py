"""Write a realistic log bundle of a given size with one planted incident: the simulator's.

    python benchmarks/gen_bundle.py --size-gb 0.25 --out /tmp/bundle [--seed 7]
        [--scenario sigterm-ignored] [--proxy ingress-nginx] [--runtime containerd]

A thin wrapper over ``analyzer simulate`` (``analyzer/simulate/``), kept for the benchmarks'
command lines: by default the ``sigterm-ignored`` scenario behind ingress-nginx, its steady
traffic scaled to about the size asked (ingress-nginx access lines in CRI wrappers of two
controller pods, the nodes' kubelet and containerd journals, ``events.json``, the app
containers' own lines), and ``truth.json`` with the planted incident. Prints the files' sizes,
the time it took and, last, ``planted: {json}`` (the worst planted incident, for bench_report.py).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from analyzer.simulate import simulate, write
from analyzer.simulate.model import Params


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-gb", type=float, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scenario", default="sigterm-ignored")
    ap.add_argument("--proxy", default="ingress-nginx")
    ap.add_argument("--runtime", default="containerd")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    params = Params(
        seed=args.seed,
        proxy=args.proxy,
        runtime=args.runtime,
        size_bytes=int(args.size_gb * 1e9),
    )
    bundle = simulate(args.scenario, params)
    written = write(bundle, args.out)
    elapsed = time.perf_counter() - t0
    total = 0
    for path in sorted(written):
        size = path.stat().st_size
        total += size
        if size > 1e6:
            print(f"{size / 1e6:10.1f} MB  {path.relative_to(args.out)}")
    print(f"{total / 1e9:.3f} GB in {len(written)} files, written in {elapsed:.1f} s")
    # the last line is what bench_report.py reads: the planted incident's pod and interval
    worst = max(bundle.truth.incidents, key=lambda i: (i.severity == "critical", i.failures))
    planted = {
        "scenario": args.scenario,
        "cause": worst.cause,
        "pod": ",".join(worst.pods),
        "start": worst.start.isoformat(),
        "end": worst.end.isoformat(),
        "failures": worst.failures,
    }
    print("planted: " + json.dumps(planted))


if __name__ == "__main__":
    main()
