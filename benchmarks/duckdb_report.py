"""The yardstick: the diagnosis of `analyzer report`, written as well as DuckDB allows.

    python benchmarks/duckdb_report.py BUNDLE_DIR

It finds the largest burst of proxy failures (502/503/504) on one upstream and names the pod behind
it, from a bundle like the one `gen_bundle.py` writes (CRI-wrapped ingress-nginx and Workhorse
lines, a kubelet journal). Following ../shared/docs/performance-notes.md (§4b, §4g, §5 and the last
section): each file is read once as lines (`read_csv`, one VARCHAR column, no quoting); the status
is pulled out first with cheap string functions, so only 5xx rows and kubelet lifecycle lines
(Probe failed, Killing, exit codes, SIGKILL) are parsed in full; every other request only feeds
per-second counts per upstream and status. The burst's upstream IP is mapped to a pod by an
ASOF JOIN against the probe lines that name that IP. Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb

#: A new burst starts after this long without a failure on the same upstream.
GAP_S = 10
#: klog's header time (month, day, time; no year) after the journal prefix.
KLOG_TIME = r": [IWEF](\d{4} \d\d:\d\d:\d\d\.\d{6})"
#: Lines of any one file are read as a single VARCHAR column: a delimiter that never occurs.
READ = (
    "read_csv({files}, columns={{'line': 'VARCHAR'}}, delim='\\x1f', quote='', escape='',"
    " header=false, auto_detect=false, filename=true, null_padding=false, strict_mode=false)"
)


def classify(root: Path) -> dict[str, list[str]]:
    """Files by what their first line is: CRI+ingress-nginx, CRI+JSON (Workhorse), a journal."""
    kinds: dict[str, list[str]] = {"ingress": [], "workhorse": [], "journal": []}
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        with f.open("rb") as fh:
            head = fh.readline()
        if b" stdout F " in head[:40] or b" stderr F " in head[:40]:
            kinds["workhorse" if b' F {"' in head else "ingress"].append(str(f))
        elif b" kubelet[" in head or b" containerd[" in head:
            kinds["journal"].append(str(f))
    return kinds


def _sql_list(files: list[str]) -> str:
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"


def ingress(con: duckdb.DuckDBPyConnection, files: list[str]) -> None:
    """One pass: per-second counts of every request, the 5xx lines kept whole in their group."""
    # CRI: `<RFC3339Nano> stdout F <payload>`; in the payload the status follows the request's
    # closing quote and the upstream address is the 5th field after the user agent. Grouping
    # with a filtered list() keeps the rare failing lines without materializing every row.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE ing AS
        SELECT sec, status, upstream, count(*) AS n,
               list(line) FILTER (WHERE status[1] = '5') AS failed
        FROM (
            SELECT
                left(line, 19) AS sec,
                substr(split_part(line, '"', 3), 2, 3) AS status,
                split_part(split_part(line, '"', 7), ' ', 6) AS upstream,
                line
            FROM {READ.format(files=_sql_list(files))}
        )
        GROUP BY ALL
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE ing_counts AS
        SELECT CAST(sec AS TIMESTAMP) AS sec, upstream, status, n FROM ing
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE ing_fail AS
        SELECT
            CAST(split_part(line, ' ', 1) AS TIMESTAMP_NS) AS ts,
            CAST(status AS INTEGER) AS status,
            upstream,
            split_part(upstream, ':', 1) AS ip,
            split_part(split_part(line, '"', 2), ' ', 2) AS path,
            split_part(line, ' ', 4) AS client
        FROM (SELECT status, upstream, unnest(failed) AS line FROM ing WHERE len(failed) > 0)
    """)
    con.execute("DROP TABLE ing")


def workhorse(con: duckdb.DuckDBPyConnection, files: list[str]) -> None:
    """Workhorse: 5xx access lines and badgateway errors in full, counts per pod for the rest."""
    pod = "regexp_extract(filename, '/pods/([^_/]+)_([^_/]+)_[^/]+/', ['ns', 'pod'])"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE wh AS
        SELECT sec, filename, status, count(*) AS n, list(line) FILTER (WHERE keep) AS kept
        FROM (
            SELECT
                left(line, 19) AS sec,
                filename,
                substr(line, strpos(line, '"status":') + 9, 3) AS status,
                strpos(line, '"status":5') > 0 OR strpos(line, '"error":"badgateway') > 0 AS keep,
                line
            FROM {READ.format(files=_sql_list(files))}
        )
        GROUP BY ALL
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE wh_counts AS
        SELECT CAST(sec AS TIMESTAMP) AS sec, {pod} AS p, status, n FROM wh
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE wh_fail AS
        SELECT
            CAST(split_part(line, ' ', 1) AS TIMESTAMP_NS) AS ts,
            p.ns || '/' || p.pod AS pod,
            TRY_CAST(json_extract_string(body, '$.status') AS INTEGER) AS status,
            json_extract_string(body, '$.error') AS error
        FROM (
            SELECT line, {pod} AS p, substr(line, strpos(line, ' F ') + 3) AS body
            FROM (SELECT filename, unnest(kept) AS line FROM wh WHERE len(kept) > 0)
        )
    """)
    con.execute("DROP TABLE wh")


def journal(con: duckdb.DuckDBPyConnection, files: list[str], year: int) -> None:
    """Kubelet/containerd lifecycle lines; klog times carry no year, so it comes from the data."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE life AS
        WITH kept AS (
            SELECT line FROM {READ.format(files=_sql_list(files))}
            WHERE strpos(line, '"Probe failed"') > 0
               OR strpos(line, '"Killing container') > 0
               OR strpos(line, 'exitCode=') > 0
               OR strpos(line, 'msg="Kill container') > 0
        )
        SELECT
            CASE WHEN strpos(line, ' kubelet[') > 0
                 THEN strptime('{year}' || regexp_extract(line, '{KLOG_TIME}', 1),
                               '%Y%m%d %H:%M:%S.%f')
                 ELSE CAST(regexp_extract(line, 'time="([^"]+)"', 1) AS TIMESTAMP) END AS ts,
            CASE WHEN strpos(line, '"Probe failed"') > 0 THEN 'probe_failed'
                 WHEN strpos(line, '"Killing container') > 0 THEN 'kill'
                 WHEN strpos(line, 'exitCode=') > 0 THEN 'exit'
                 ELSE 'sigkill' END AS kind,
            nullif(regexp_extract(line, ' pod="([^"]+)"', 1), '') AS pod,
            nullif(regexp_extract(line, ' pod(?:UID|ID)="([^"]+)"', 1), '') AS uid,
            nullif(regexp_extract(line, 'dial tcp ([0-9.]+):\\d+', 1), '') AS ip,
            TRY_CAST(nullif(regexp_extract(line, 'gracePeriod=(\\d+)', 1), '') AS INTEGER) AS grace,
            TRY_CAST(nullif(regexp_extract(line, 'exitCode=(\\d+)', 1), '') AS INTEGER)
                AS exit_code,
            nullif(regexp_extract(line, 'containerName="([^"]+)"', 1), '') AS container
        FROM kept
    """)


def diagnose(con: duckdb.DuckDBPyConnection) -> dict:
    """The largest failure burst on one upstream, its pod (ASOF JOIN on probes) and lifecycle."""
    burst = con.execute(f"""
        WITH f AS (
            SELECT ts, ip, upstream FROM ing_fail WHERE status IN (502, 503, 504)
        ), g AS (
            SELECT *, CASE WHEN ts - lag(ts) OVER (PARTITION BY ip ORDER BY ts)
                             <= INTERVAL {GAP_S} SECOND THEN 0 ELSE 1 END AS new
            FROM f
        ), i AS (
            SELECT *, sum(new) OVER (PARTITION BY ip ORDER BY ts) AS island FROM g
        )
        SELECT ip, any_value(upstream), min(ts), max(ts), count(*)
        FROM i GROUP BY ip, island ORDER BY count(*) DESC LIMIT 1
    """).fetchone()
    if burst is None:
        return {"burst": None}
    ip, upstream, start, end, n = burst
    con.execute(
        "CREATE OR REPLACE TEMP TABLE b AS SELECT ? AS ip, ? AS start, ? AS end_", [ip, start, end]
    )
    # The pod that held the IP: the last probe naming it at or before the burst's end
    # (else the first one after it).
    pod = con.execute("""
        SELECT coalesce(
            (SELECT p.pod FROM b ASOF JOIN (SELECT ts, ip, pod FROM life WHERE kind = 'probe_failed'
                                            AND ip IS NOT NULL) p
                ON b.ip = p.ip AND b.end_ >= p.ts),
            (SELECT pod FROM life WHERE kind = 'probe_failed' AND ip = (SELECT ip FROM b)
             ORDER BY ts LIMIT 1))
    """).fetchone()[0]
    uid = con.execute(
        "SELECT any_value(uid) FROM life WHERE pod = ? AND uid IS NOT NULL", [pod]
    ).fetchone()[0]
    kill = con.execute(
        "SELECT min(ts), any_value(grace) FROM life WHERE kind = 'kill' AND pod = ? AND ts <= ?",
        [pod, end],
    ).fetchone()
    died = con.execute(
        "SELECT max(ts), max(exit_code) FROM life WHERE kind = 'exit' AND uid = ? AND ts >= ?",
        [uid, kill[0] or start],
    ).fetchone()
    sidecar = con.execute(
        f"SELECT count(*) FILTER (WHERE status >= 500), count(*) FILTER (WHERE error IS NOT NULL)"
        f" FROM wh_fail WHERE pod = ? AND ts BETWEEN ? - INTERVAL {GAP_S} SECOND"
        f" AND ? + INTERVAL {GAP_S} SECOND",
        [pod, start, end],
    ).fetchone()
    counted = con.execute(
        "SELECT (SELECT sum(n) FROM ing_counts), (SELECT count(*) FROM ing_counts),"
        " (SELECT sum(n) FROM wh_counts),"
        " (SELECT count(*) FROM life)"
    ).fetchone()
    iso = lambda t: None if t is None else t.isoformat(timespec="milliseconds") + "Z"  # noqa: E731
    return {
        "burst_start": iso(start),
        "burst_end": iso(end),
        "failing": n,
        "failing_sidecar": sidecar[0],
        "badgateway_errors": sidecar[1],
        "upstream": upstream,
        "ip": ip,
        "pod": pod,
        "killed_at": iso(kill[0]),
        "grace_period_s": kill[1],
        "died_at": iso(died[0]),
        "exit_code": died[1],
        "proxy_requests": counted[0],
        "per_second_groups": counted[1],
        "sidecar_lines": counted[2],
        "lifecycle_rows": counted[3],
    }


def run(root: str | Path) -> dict:
    """The diagnosis of the bundle at ``root`` as a dict (for bench_report)."""
    kinds = classify(Path(root))
    con = duckdb.connect()
    ingress(con, kinds["ingress"])
    workhorse(con, kinds["workhorse"])
    year = con.execute("SELECT year(min(ts)) FROM ing_fail").fetchone()[0]
    if year is None:
        year = int(con.execute("SELECT min(sec) FROM ing_counts").fetchone()[0].year)
    journal(con, kinds["journal"], year)
    return diagnose(con)


def main() -> None:
    print(json.dumps(run(sys.argv[1]), indent=2))


if __name__ == "__main__":
    main()
