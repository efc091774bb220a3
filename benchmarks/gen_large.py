"""Write large synthetic inputs for the ingest benchmark (vectorized, seconds per GB).

    python benchmarks/gen_large.py --lines 2000000 --out benchmarks/data

Writes a CRI-wrapped Workhorse file (the bulk of real incident logs), the same in Docker
json-file records, a Workhorse NDJSON file and a journald-wrapped kubelet klog file, with a
502 burst and probe failures inside.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import polars as pl

START = np.datetime64("2022-04-05T00:00:00", "ns")


def _times(n: int, seconds: float, rng: np.random.Generator) -> np.ndarray:
    offsets = np.sort(rng.uniform(0, seconds, n))
    return START + (offsets * 1e9).astype("timedelta64[ns]")


def workhorse_frame(n: int, rng: np.random.Generator) -> pl.DataFrame:
    ts = _times(n, 6 * 3600, rng)
    status = rng.choice([200, 304, 404, 500], size=n, p=[0.9, 0.06, 0.038, 0.002])
    # One 40 s burst of 502s in the middle of the file.
    burst = (ts >= START + np.timedelta64(3 * 3600, "s")) & (
        ts < START + np.timedelta64(3 * 3600 + 40, "s")
    )
    status = np.where(burst, 502, status)
    return pl.DataFrame(
        {
            "ts": ts,
            "status": status,
            "duration": rng.integers(0, 900, n),
            "cid": rng.integers(0, 2**62, n),
            "client": rng.integers(1, 250, n),
        }
    ).with_columns(pl.col("ts").dt.replace_time_zone("UTC"))


def workhorse_json(df: pl.DataFrame) -> pl.Expr:
    return pl.concat_str(
        [
            pl.lit('{"backend_id":"rails","content_type":"application/json","correlation_id":"01G'),
            pl.col("cid").cast(pl.String),
            pl.lit('","duration_ms":'),
            pl.col("duration").cast(pl.String),
            pl.lit(
                ',"host":"gitlab.example.com","level":"info","method":"GET","msg":"access",'
                '"proto":"HTTP/1.1","referrer":"","remote_addr":"10.220.4.'
            ),
            pl.col("client").cast(pl.String),
            pl.lit(':0","remote_ip":"10.220.4.'),
            pl.col("client").cast(pl.String),
            pl.lit('","route":"","route_id":"default","status":'),
            pl.col("status").cast(pl.String),
            pl.lit(',"system":"http","time":"'),
            pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            pl.lit(
                '","ttfb_ms":1,"uri":"/api/v4/internal/pages?host=docs.example.gitlab.io\\u0026x=1",'
                '"user_agent":"gitlab-pages","written_bytes":2026}'
            ),
        ]
    )


def write(path: Path, lines: pl.Series) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"l": lines}).write_csv(
        path, include_header=False, quote_style="never", separator="\x1f"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=2_000_000)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/data"))
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    wh = workhorse_frame(args.lines, rng)
    body = wh.select(workhorse_json(wh).alias("j"), "ts")
    cri = body.select(
        pl.concat_str(
            [pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.9fZ"), pl.lit(" stdout F "), pl.col("j")]
        )
    ).to_series()
    pod_dir = (
        "var/log/pods/gitlab_gitlab-webservice-default-5d85b6854c-sbx2z_"
        "3f1c7a52-8e1d-4c3b-9a6e-2b7d5f0c1a94"
    )
    write(args.out / "cri" / pod_dir / "gitlab-workhorse" / "0.log", cri)
    write(args.out / "ndjson" / "workhorse.log", body["j"])
    # Docker json-file (dockershim nodes): the same line, JSON-escaped, inside `log`.
    escaped = pl.col("j").str.replace_all("\\", "\\\\", literal=True)
    escaped = escaped.str.replace_all('"', '\\"', literal=True)
    docker = body.select(
        pl.concat_str(
            [
                pl.lit('{"log":"'),
                escaped,
                pl.lit('\\n","stream":"stdout","time":"'),
                pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.9fZ"),
                pl.lit('"}'),
            ]
        )
    ).to_series()
    containers = "var/log/containers/gitlab-webservice-default-5d85b6854c-sbx2z_gitlab_"
    write(args.out / "docker" / f"{containers}gitlab-workhorse-{'3f1c7a52' * 8}.log", docker)
    n_k = max(1, args.lines // 4)
    kts = _times(n_k, 6 * 3600, rng)
    k = pl.DataFrame({"ts": kts, "i": rng.integers(0, 200, n_k)}).with_columns(
        pl.concat_str(
            [
                pl.col("ts").dt.strftime("%b %d %H:%M:%S"),
                pl.lit(" gke-node-1 kubelet[2345]: I"),
                pl.col("ts").dt.strftime("%m%d %H:%M:%S%.6f"),
                pl.lit(
                    '    2345 prober.go:107] "Probe failed" probeType="Readiness" pod="gitlab/web-'
                ),
                pl.col("i").cast(pl.String),
                pl.lit(
                    '" podUID="3f1c7a52-8e1d-4c3b-9a6e-2b7d5f0c1a94" containerName="webservice" '
                    'probeResult="failure" output="Get \\"http://10.0.2.'
                ),
                pl.col("i").cast(pl.String),
                pl.lit(':8080/-/readiness\\": dial tcp 10.0.2.'),
                pl.col("i").cast(pl.String),
                pl.lit(':8080: connect: connection refused"'),
            ]
        ).alias("l")
    )
    write(args.out / "kubelet" / "kubelet.log", k["l"])
    for p in sorted(args.out.rglob("*.log")):
        print(f"{p}  {p.stat().st_size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
