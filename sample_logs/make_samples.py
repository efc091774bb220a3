#!/usr/bin/env python3
"""Generate the sample log sets for the "PID 1 / 502" incident.

Writes two directories next to this script, deleting and recreating them:

* ``pid1-502/``: the incident from the GitLab blog post (Workhorse is not PID 1, never sees
  SIGTERM, keeps accepting requests after Puma is gone and serves 502s until SIGKILL).
* ``pid1-502-fixed/``: the same deploy with Workhorse as PID 1. It logs ``shutdown initiated``
  on SIGTERM, exits with code 1, and nobody sees a 502.

Every line uses the real wire format of its source (see ``/work/shared/docs/log-formats.md``
and ``README.md`` in this directory). The script uses the standard library only, needs no
network, and is deterministic: every random choice comes from ``random.Random`` instances
seeded from ``SEED`` with string seeds, which hash the same way in every interpreter run. Two
runs therefore write byte-identical files.

Run from the repository root::

    python sample_logs/make_samples.py
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SEED = 20220405
OUT_ROOT = Path(__file__).resolve().parent
SCENARIOS = {"pid1-502": False, "pid1-502-fixed": True}  # directory -> workhorse_is_pid1

# Geo-poller errors on the *old* pod during the 502 window (the poller runs in every Workhorse,
# so it fails there too once Puma is gone). They have no access line. Set this to False to make
# every error line in the old pod's Workhorse log pair with a 502 access line.
OLD_POD_GEO_ERRORS = True

# --------------------------------------------------------------------------------------------
# Identities
# --------------------------------------------------------------------------------------------

NAMESPACE = "gitlab"
NODE_A = "gke-gprd-default-pool-1a2b3c4d-x9k2"  # old pod
NODE_B = "gke-gprd-default-pool-5e6f7a8b-m4p1"  # new pod
KUBELET_PID = {NODE_A: 2345, NODE_B: 2317}
CONTAINERD_PID = {NODE_A: 1890, NODE_B: 1877}

DEPLOYMENT = "gitlab-webservice-default"
RS_OLD = "gitlab-webservice-default-5d85b6854c"
RS_NEW = "gitlab-webservice-default-84c68fc9c9"
POD_A = "gitlab-webservice-default-5d85b6854c-sbx2z"
POD_B = "gitlab-webservice-default-84c68fc9c9-xcsnm"
UID_A = "b80a99ae-7c8d-4fc3-9433-0cddd173b894"
UID_B = "5ed919e9-f43c-418f-b88e-a59db00608f1"
UID_RS_OLD = "13aa283a-76a7-44ff-85bb-44f55a17b78b"
UID_RS_NEW = "da24e6c2-4210-49c5-ad7a-9bc13e4573b4"
UID_DEPLOY = "f8fc78b7-05b6-4f75-a066-798394132a23"
IP_A = "10.220.9.14"
IP_B = "10.220.7.23"
PAGES_IP = "10.220.4.31"
INGRESS_IP = "10.220.1.5"

# containerd container ids (64 hex). *_A = old pod on node A, *_B = new pod on node B.
WS_A = "63815bef71b2e6a1b6694d05986e7e0d91048546284080f2848580275069e8fa"
WH_A = "3de4e2c52bca6f26b1d192f2cb9a8df88edb9d0f4fccf2a7a194df68ee2a5b55"
WS_B = "05eaa05badbccea655f9315e075e4b759d7d60f4a5fc7fdd7349ef5193692200"
WH_B = "67efde0ca6e059a5208a897f991615288940acaa0d5cbec001d340ce8bf2398a"
SANDBOX_B = "75d2e509e89e78cb9809ddd2c9122075ac1db533a430a39cfee702a8b1f0b754"

# Unrelated pods that only appear as kubelet noise.
NOISE_A1 = "2d75c1c6be0515c38f92de7939da8ad69c437c0c2d6ce429920bfae370a8f4c9"
NOISE_A2 = "0bf9f9f7d4ee5cd3e715d82ab9d70c74608736637dad2503db25eaf79bb3a8de"
NOISE_B1 = "579fb95d4c6495e3f86ce706df7518931c387725ff7dd87bb08a9bf67a06f7d7"
NOISE_B2 = "ed22591da99cdf043ebb46a8de1786d384fc0301aee26c186d3be8f08be90ed9"
REDIS_C = "d6460abaff1b5ea9da1d38d57afe88870da857ff37442460fd4ca993815f6976"
CONSUL_C = "6d6f0f988e9072b6a985db5395255763715d65efe4f74c4778b53de005fae36c"
UID_REDIS = "1198701f-3a4d-4f97-a4a0-8a4dc9d26613"
UID_PGB = "05d03564-3c45-4d9e-a434-1ef264e1ba83"
UID_CONSUL = "ed493274-0c37-444c-9d8d-87379fedbb9f"
UID_BBX = "d1fa2c93-5e8d-4547-ae84-414afa285320"

IMAGE_WS = "registry.gitlab.com/gitlab-org/build/cng/gitlab-webservice-ee:v14.9.2"
IMAGE_WH = "registry.gitlab.com/gitlab-org/build/cng/gitlab-workhorse-ee:v14.9.2"

GRACE_S = 60  # terminationGracePeriodSeconds
WH_SHUTDOWN_TIMEOUT_S = 61  # Workhorse shutdown_timeout, as printed in the blog post

BADGATEWAY = (
    "badgateway: failed to receive response: dial tcp 127.0.0.1:8080: connect: connection refused"
)
PROBE_503 = "HTTP probe failed with statuscode: 503"
PROBE_REFUSED = (
    f'Get "http://{IP_A}:8080/-/readiness": dial tcp {IP_A}:8080: connect: connection refused'
)

# --------------------------------------------------------------------------------------------
# Time helpers. All times are integer nanoseconds since the Unix epoch, all in UTC.
# --------------------------------------------------------------------------------------------

SEC = 1_000_000_000
MS = 1_000_000
US = 1_000
DAY_NS = int(datetime(2022, 4, 5, tzinfo=UTC).timestamp()) * SEC
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def at(hms: str) -> int:
    """``"06:03:46.102"`` on 2022-04-05 UTC -> ns since the epoch (exact, no floats)."""
    h, m, s = hms.split(":")
    whole, _, frac = s.partition(".")
    frac_ns = int((frac + "000000000")[:9])
    return DAY_NS + ((int(h) * 60 + int(m)) * 60 + int(whole)) * SEC + frac_ns


def _split(ns: int) -> tuple[datetime, int]:
    secs, frac = divmod(ns, SEC)
    return datetime.fromtimestamp(secs, tz=UTC), frac


def rfc3339(ns: int) -> str:
    """Go ``time.RFC3339`` in UTC: seconds, ``Z`` (Workhorse, Pages, events)."""
    dt, _ = _split(ns)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339nano(ns: int) -> str:
    """Go ``time.RFC3339Nano`` in UTC: trailing zeros of the fraction trimmed (containerd)."""
    dt, frac = _split(ns)
    digits = f"{frac:09d}".rstrip("0")
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{digits}Z" if digits else f"{base}Z"


def iso_ms(ns: int) -> str:
    """Ruby ``Time#utc.iso8601(3)`` (Puma JSON formatter)."""
    dt, frac = _split(ns)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{frac // MS:03d}Z"


def iso_us(ns: int) -> str:
    """Kubernetes ``MicroTime`` (``eventTime``)."""
    dt, frac = _split(ns)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{frac // US:06d}Z"


def klog_header(sev: str, ns: int, pid: int, src: str) -> str:
    """``Lmmdd hh:mm:ss.uuuuuu PPPPPPP file.go:NNN] `` (PID right-aligned to width 7)."""
    dt, frac = _split(ns)
    return f"{sev}{dt:%m%d} {dt:%H:%M:%S}.{frac // US:06d} {pid:>7} {src}] "


def journal_prefix(ns: int, host: str, ident: str, pid: int) -> str:
    """``journalctl -o short``: ``Apr 05 06:03:49 <host> <ident>[<pid>]: ``."""
    dt, _ = _split(ns)
    return f"{MONTHS[dt.month - 1]} {dt.day:02d} {dt:%H:%M:%S} {host} {ident}[{pid}]: "


def stable_int(*parts: object) -> int:
    """A pseudo-random int derived from the content itself.

    Used for sub-microsecond jitter, so a line common to both scenarios gets the same value in
    both even when the lines around it differ.
    """
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


# --------------------------------------------------------------------------------------------
# Encoders
# --------------------------------------------------------------------------------------------


def goquote(s: str) -> str:
    """Go ``strconv.Quote`` for the ASCII strings used here (klog values, logrus text)."""
    out = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{out}"'


def gojson(obj: dict[str, object]) -> str:
    """logrus ``JSONFormatter``: Go ``encoding/json`` of a map, so keys sorted, HTML-escaped."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class UlidSource:
    """26-char ULIDs (48-bit ms time + 80 random bits, Crockford base32), unique per source."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()

    @staticmethod
    def _b32(value: int, width: int) -> str:
        chars = []
        for _ in range(width):
            chars.append(CROCKFORD[value & 31])
            value >>= 5
        return "".join(reversed(chars))

    def new(self, ns: int) -> str:
        while True:
            uid = self._b32(ns // MS, 10) + self._b32(self.rng.getrandbits(80), 16)
            if uid not in self.seen:
                self.seen.add(uid)
                return uid


# --------------------------------------------------------------------------------------------
# Output containers
# --------------------------------------------------------------------------------------------


class Journal:
    """A node's journal (kubelet + containerd + systemd), rendered as ``journalctl -o short``."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.kpid = KUBELET_PID[host]
        self.cpid = CONTAINERD_PID[host]
        self.rows: list[tuple[int, int, str]] = []

    def _add(self, ns: int, ident: str, pid: int, body: str) -> None:
        self.rows.append((ns, len(self.rows), journal_prefix(ns, self.host, ident, pid) + body))

    def klog(self, ns: int, sev: str, src: str, msg: str, **kv: str) -> None:
        """Structured klog line; values must be pre-rendered (quoted strings, bare ints)."""
        body = klog_header(sev, ns, self.kpid, src) + goquote(msg)
        body += "".join(f" {k}={v}" for k, v in kv.items())
        self._add(ns, "kubelet", self.kpid, body)

    def klog_multiline(
        self, ns: int, sev: str, src: str, msg: str, key: str, lines: list[str], **kv: str
    ) -> None:
        """``key=<`` value: every continuation line and the closing `` >`` is its own record."""
        body = klog_header(sev, ns, self.kpid, src) + goquote(msg)
        body += "".join(f" {k}={v}" for k, v in kv.items()) + f" {key}=<"
        self._add(ns, "kubelet", self.kpid, body)
        for line in lines:
            self._add(ns, "kubelet", self.kpid, "\t" + line)
        self._add(ns, "kubelet", self.kpid, " >")

    def klog_legacy(self, ns: int, sev: str, src: str, text: str) -> None:
        """Unstructured ``Infof``-style klog line (body does not start with a quote)."""
        self._add(ns, "kubelet", self.kpid, klog_header(sev, ns, self.kpid, src) + text)

    def containerd(self, ns: int, level: str, msg: str, **kv: str) -> None:
        """containerd's logrus text line: ``time="…" level=… msg="…" k=v``.

        Times given with microsecond precision get nanosecond digits, as containerd has them.
        """
        if ns % US == 0:
            ns += stable_int(ns, msg) % US
        body = f'time="{rfc3339nano(ns)}" level={level} msg={goquote(msg)}'
        body += "".join(f" {k}={v}" for k, v in kv.items())
        self._add(ns, "containerd", self.cpid, body)

    def systemd(self, ns: int, text: str) -> None:
        self._add(ns, "systemd", 1, text)

    def render(self) -> str:
        return "".join(text + "\n" for _, _, text in sorted(self.rows))


class CriLog:
    """A container's ``0.log`` as containerd writes it (``<RFC3339Nano> stdout F <line>``).

    Lines are added with the time the application logged them. The runtime timestamp is that
    time plus a small pipe/read lag, kept non-decreasing in write order, as containerd's reader
    stamps lines in the order it reads them. Lines longer than 16 KiB are split into ``P``
    fragments plus a final ``F`` fragment (containerd ``max_container_log_line_size``).
    """

    LIMIT = 16 * 1024

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, str, int, int | None]] = []

    def add(self, log_ns: int, payload: str, lag_ns: int, cri_ns: int | None = None) -> None:
        self.rows.append((log_ns, len(self.rows), payload, lag_ns, cri_ns))

    def render(self) -> str:
        out: list[str] = []
        prev = 0
        for log_ns, _, payload, lag_ns, cri_ns in sorted(self.rows):
            if cri_ns is None:
                ts = max(log_ns + lag_ns, prev + 900 + stable_int(log_ns, payload) % 9_000)
            else:
                if cri_ns <= prev:
                    raise AssertionError("forced CRI timestamp would go backwards")
                ts = cri_ns
            data = payload.encode()
            if len(data) > self.LIMIT and not payload.isascii():
                raise AssertionError("the runtime splits bytes; keep long payloads ASCII")
            chunks = [data[i : i + self.LIMIT] for i in range(0, len(data), self.LIMIT)]
            for i, chunk in enumerate(chunks):
                tag = "F" if i == len(chunks) - 1 else "P"
                out.append(f"{rfc3339nano(ts)} stdout {tag} {chunk.decode()}\n")
                prev = ts
                ts += 2_183
        return "".join(out)


class JsonLines:
    """A plain NDJSON stream (``kubectl logs`` without ``--timestamps``), ordered by log time."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, str]] = []

    def add(self, ns: int, line: str) -> None:
        self.rows.append((ns, len(self.rows), line))

    def render(self) -> str:
        return "".join(line + "\n" for _, _, line in sorted(self.rows))


# --------------------------------------------------------------------------------------------
# Traffic model
# --------------------------------------------------------------------------------------------

PAGES_API_HOST = "gitlab-webservice-default.gitlab.svc:8181"
GITLAB_HOST = "gitlab.example.com"
PAGES_DOMAINS = (
    "docs.example.gitlab.io",
    "acme.gitlab.io",
    "tooling.gitlab.io",
    "design-system.gitlab.io",
    "jdoe.gitlab.io",
    "research-lab.gitlab.io",
    "ci-templates.gitlab.io",
    "www.example.com",
    "docs.example.org",
    "status.example.net",
    "handbook.example.io",
    "kb.example.com",
)
# Size of the /api/v4/internal/pages answer per domain (number of lookup paths differs).
LOOKUP_BYTES = {d: 412 + 187 * (i % 4) for i, d in enumerate(PAGES_DOMAINS)}
# (path, content type, status weights {status: weight}, size range)
PAGE_PATHS = (
    ("/", "text/html; charset=utf-8", {200: 9, 304: 1}, (5_200, 24_000)),
    ("/index.html", "text/html; charset=utf-8", {200: 1}, (5_200, 24_000)),
    ("/getting-started/", "text/html; charset=utf-8", {200: 1}, (9_000, 31_000)),
    ("/blog/2022/03/31/release-notes/", "text/html; charset=utf-8", {200: 1}, (14_000, 42_000)),
    ("/assets/css/main.css", "text/css; charset=utf-8", {200: 2, 304: 3}, (18_000, 60_000)),
    ("/assets/js/app.js", "application/javascript", {200: 2, 304: 3}, (40_000, 180_000)),
    ("/img/logo.svg", "image/svg+xml", {200: 1, 304: 2}, (2_100, 7_800)),
    ("/favicon.ico", "image/vnd.microsoft.icon", {200: 1, 304: 1}, (1_150, 15_086)),
    ("/search/search_index.json", "application/json", {200: 1}, (90_000, 400_000)),
    ("/wp-login.php", "text/html; charset=utf-8", {404: 1}, (3_600, 3_600)),
)
PAGES_502_BYTES = 2683
BROWSERS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/100.0.4896.60 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:98.0) Gecko/20100101 Firefox/98.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/99.0.4844.84 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 15_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/15.4 Mobile/15E148 Safari/604.1",
)
PAGES_CLIENTS = tuple(
    f"{net}.{host}"
    for net in ("192.0.2", "198.51.100", "203.0.113")
    for host in (7, 19, 23, 45, 61, 88, 102, 131, 177, 214)
)
PROJECTS = (
    ("acme", "platform", 1042),
    ("acme", "website", 1057),
    ("infra", "terraform-modules", 2210),
    ("data", "pipelines", 3391),
)


@dataclass
class PagesUser:
    """A user's request to GitLab Pages (what ``gitlab-pages.log`` describes)."""

    arrival: int  # ns when the request reached Pages
    domain: str
    path: str
    client_ip: str
    client_port: int
    client_ua: str
    https: bool
    proto: str
    cid: str
    status: int  # what Pages answers when the domain lookup works
    ctype: str
    size: int
    serve_ns: int  # time Pages needs to serve the content once it knows the domain


@dataclass
class Req:
    """One HTTP request through Workhorse; for Pages lookups also the user request behind it."""

    start: int
    kind: str  # "pages" | "ingress"
    method: str
    uri: str
    host: str
    remote_ip: str
    user_agent: str
    referrer: str
    route: str
    route_id: str
    ok_status: int
    ok_ctype: str
    ok_bytes: int
    dur_ms: int
    ttfb_ms: int
    dur_rem_ns: int  # sub-millisecond part of the duration
    err_ctype: str  # what Workhorse sends with an injected 502 on this route
    err_bytes: int
    wh_cid: str
    lag1: int  # runtime lag of the first line this request writes
    lag2: int  # runtime lag of the second line (502 access line)
    err_off: int  # ns from start to the badgateway error line
    acc_off: int  # ns from the error line to the 502 access line
    user: PagesUser | None = None  # the Pages user request behind a domain lookup
    cri_override: int | None = None  # force the runtime timestamp of the access line


class Traffic:
    """Draws requests. All randomness for the request mix lives here (one seeded stream)."""

    def __init__(self) -> None:
        self.rng = random.Random(f"{SEED}:traffic")
        self.ids = UlidSource(random.Random(f"{SEED}:ids"))

    def arrivals(self, start: int, end: int, counts: tuple[int, ...]) -> list[int]:
        out = []
        sec = start
        while sec < end:
            for _ in range(self.rng.choice(counts)):
                t = sec + self.rng.randrange(SEC)
                if t < end:
                    out.append(t)
            sec += SEC
        return sorted(out)

    def _timing(self) -> dict[str, int]:
        r = self.rng
        return {
            "lag1": r.randint(14_000, 260_000),
            "lag2": r.randint(14_000, 260_000),
            "err_off": r.randint(210_000, 690_000),
            "acc_off": r.randint(38_000, 160_000),
            "dur_rem_ns": r.randrange(MS),
        }

    def page(self, path: str | None = None) -> tuple[str, str, int, int]:
        r = self.rng
        if path is None:
            entry = r.choices(PAGE_PATHS, weights=(8, 2, 3, 2, 4, 4, 3, 2, 1, 1))[0]
        else:
            entry = next(p for p in PAGE_PATHS if p[0] == path)
        p, ctype, statuses, (lo, hi) = entry
        status = r.choices(list(statuses), weights=list(statuses.values()))[0]
        size = 0 if status == 304 else r.randint(lo, hi)
        return p, ("" if status == 304 else ctype), status, size

    def pages_user(
        self, arrival: int, domain: str | None = None, path: str | None = None
    ) -> PagesUser:
        r = self.rng
        p, ctype, status, size = self.page(path)
        return PagesUser(
            arrival=arrival,
            domain=domain or r.choice(PAGES_DOMAINS),
            path=p,
            client_ip=r.choice(PAGES_CLIENTS),
            client_port=r.randint(1025, 65535),
            client_ua=r.choice(
                BROWSERS
                + ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",)
            ),
            https=r.random() < 0.92,
            proto="HTTP/2.0" if r.random() < 0.8 else "HTTP/1.1",
            cid=self.ids.new(arrival),
            status=status,
            ctype=ctype,
            size=size,
            serve_ns=r.randint(600_000, 38_000_000),
        )

    def pages_lookup(self, start: int, domain: str | None = None, path: str | None = None) -> Req:
        r = self.rng
        # The user's request reached Pages shortly before Pages asked Workhorse about the domain.
        user = self.pages_user(start - r.randint(350_000, 1_600_000), domain, path)
        dur = r.randint(4, 38)
        return Req(
            start=start,
            kind="pages",
            method="GET",
            uri=f"/api/v4/internal/pages?host={user.domain}",
            host=PAGES_API_HOST,
            remote_ip=PAGES_IP,
            user_agent="Go-http-client/1.1",
            referrer="",
            route="^/api/",
            route_id="api",
            ok_status=200,
            ok_ctype="application/json",
            ok_bytes=LOOKUP_BYTES[user.domain],
            dur_ms=dur,
            ttfb_ms=dur - r.randint(0, 2),
            err_ctype="text/plain",
            err_bytes=len("GitLab is not responding"),
            wh_cid=self.ids.new(start),
            **self._timing(),
            user=user,
        )

    def ingress(self, start: int, template: str | None = None) -> Req:
        r = self.rng
        group, project, pid = r.choice(PROJECTS)
        browser = r.choice(BROWSERS)
        web = f"https://{GITLAB_HOST}/{group}/{project}"
        kinds = (
            "mr_api",
            "pipelines_api",
            "user_api",
            "graphql",
            "mr_page",
            "issues_page",
            "blob_page",
            "missing_page",
        )
        t = template or r.choices(kinds, weights=(3, 2, 1, 3, 2, 1, 1, 1))[0]
        api = {"route": "^/api/", "route_id": "api", "err_ctype": "text/plain", "err_bytes": 24}
        html = {
            "route": "",
            "route_id": "default",
            "err_ctype": "text/html; charset=utf-8",
            "err_bytes": 2026,
        }
        tool_ua = r.choice(
            ("python-requests/2.27.1", "curl/7.79.1", "gitlab-cli/1.22.0 (linux/amd64)")
        )
        if t == "mr_api":
            f = dict(
                api,
                method="GET",
                uri=f"/api/v4/projects/{pid}/merge_requests?state=opened&per_page=20&page=1",
                user_agent=tool_ua,
                referrer="",
                status=200,
                ctype="application/json",
                size=r.randint(4_000, 42_000),
                dur=r.randint(45, 420),
            )
        elif t == "pipelines_api":
            f = dict(
                api,
                method="GET",
                uri=f"/api/v4/projects/{pid}/pipelines?ref=main&per_page=5",
                user_agent=tool_ua,
                referrer="",
                status=200,
                ctype="application/json",
                size=r.randint(1_800, 5_200),
                dur=r.randint(30, 160),
            )
        elif t == "user_api":
            f = dict(
                api,
                method="GET",
                uri="/api/v4/user",
                user_agent=tool_ua,
                referrer="",
                status=200,
                ctype="application/json",
                size=r.randint(1_200, 1_700),
                dur=r.randint(9, 31),
            )
        elif t == "graphql":
            f = dict(
                api,
                route="^/api/graphql\\z",
                route_id="api_graphql",
                method="POST",
                uri="/api/graphql",
                user_agent=browser,
                referrer=f"{web}/-/merge_requests",
                status=200,
                ctype="application/json",
                size=r.randint(300, 9_400),
                dur=r.randint(22, 260),
            )
        elif t in ("mr_page", "issues_page", "blob_page"):
            uri = {
                "mr_page": f"/{group}/{project}/-/merge_requests/{r.randint(100, 980)}",
                "issues_page": f"/{group}/{project}/-/issues?sort=created_date&state=opened",
                "blob_page": f"/{group}/{project}/-/blob/main/README.md",
            }[t]
            not_modified = r.random() < 0.15
            f = dict(
                html,
                method="GET",
                uri=uri,
                user_agent=browser,
                referrer=f"{web}",
                status=304 if not_modified else 200,
                ctype="" if not_modified else "text/html; charset=utf-8",
                size=0 if not_modified else r.randint(58_000, 190_000),
                dur=r.randint(28, 90) if not_modified else r.randint(140, 880),
            )
        else:  # missing_page
            f = dict(
                html,
                method="GET",
                uri=f"/{group}/{project}-old",
                user_agent=browser,
                referrer="",
                status=404,
                ctype="text/html; charset=utf-8",
                size=3_108,
                dur=r.randint(25, 70),
            )
        return Req(
            start=start,
            kind="ingress",
            method=f["method"],
            uri=f["uri"],
            host=GITLAB_HOST,
            remote_ip=INGRESS_IP,
            user_agent=f["user_agent"],
            referrer=f["referrer"],
            route=f["route"],
            route_id=f["route_id"],
            ok_status=f["status"],
            ok_ctype=f["ctype"],
            ok_bytes=f["size"],
            dur_ms=f["dur"],
            ttfb_ms=max(0, f["dur"] - r.randint(0, 6)),
            err_ctype=f["err_ctype"],
            err_bytes=f["err_bytes"],
            wh_cid=self.ids.new(start),
            **self._timing(),
        )

    def mixed(self, start: int) -> Req:
        return self.pages_lookup(start) if self.rng.random() < 0.7 else self.ingress(start)

    def long_uri_request(self, start: int) -> Req:
        """An API call with a >17,000-char query string (the CRI P/F split case)."""
        req = self.ingress(start, "mr_api")
        iids = "&".join(f"iids%5B%5D={n}" for n in range(21_000, 22_040))
        req.uri = f"/api/v4/projects/1042/merge_requests?{iids}&per_page=100"
        req.ok_bytes, req.dur_ms, req.ttfb_ms = 611_488, 1_482, 1_401
        return req


# --------------------------------------------------------------------------------------------
# Line builders
# --------------------------------------------------------------------------------------------


def wh_access(
    req: Req, *, status: int, ctype: str, size: int, dur: int, ttfb: int, log_ns: int
) -> str:
    return gojson(
        {
            "backend_id": "rails",
            "content_type": ctype,
            "correlation_id": req.wh_cid,
            "duration_ms": dur,
            "host": req.host,
            "level": "info",
            "method": req.method,
            "msg": "access",
            "proto": "HTTP/1.1",
            "referrer": req.referrer,
            "remote_addr": f"{req.remote_ip}:0",
            "remote_ip": req.remote_ip,
            "route": req.route,
            "route_id": req.route_id,
            "status": status,
            "system": "http",
            "time": rfc3339(log_ns),
            "ttfb_ms": ttfb,
            "uri": req.uri,
            "user_agent": req.user_agent,
            "written_bytes": size,
        }
    )


def wh_badgateway(cid: str, method: str, uri: str, log_ns: int) -> str:
    return gojson(
        {
            "correlation_id": cid,
            "duration_ms": 0,
            "error": BADGATEWAY,
            "level": "error",
            "method": method,
            "msg": "",
            "time": rfc3339(log_ns),
            "uri": uri,
        }
    )


def pages_access(user: PagesUser, *, status: int, ctype: str, size: int, log_ns: int) -> str:
    dur = (log_ns - user.arrival) // MS
    return gojson(
        {
            "content_type": ctype,
            "correlation_id": user.cid,
            "duration_ms": dur,
            "host": user.domain,
            "level": "info",
            "method": "GET",
            "msg": "access",
            "pages_host": user.domain,
            "pages_https": user.https,
            "proto": user.proto,
            "referrer": "",
            "remote_addr": f"{user.client_ip}:{user.client_port}",
            "remote_ip": user.client_ip,
            "status": status,
            "system": "http",
            "time": rfc3339(log_ns),
            "ttfb_ms": max(0, dur - (1 if size > 50_000 else 0)),
            "uri": user.path,
            "user_agent": user.client_ua,
            "written_bytes": size,
        }
    )


def puma_line(ns: int, message: str, pid: int = 1) -> str:
    """gitlab-logger's splice of GitLab's Puma JSON (note the space after ``"component":``)."""
    inner = (
        f'{{"timestamp":"{iso_ms(ns)}","pid":{pid},'
        f'"message":{json.dumps(message, ensure_ascii=False)}}}'
    )
    return '{"component": "gitlab","subcomponent":"puma.stdout",' + inner[1:]


def q(s: str) -> str:
    return goquote(s)


def pod_key(name: str, ns: str = NAMESPACE) -> str:
    return f"{ns}/{name}"


# klog sources (file:line) of one kubelet build; line numbers are cosmetic.
SRC = {
    "ADD": "kubelet.go:2398",
    "UPDATE": "kubelet.go:2404",
    "REMOVE": "kubelet.go:2408",
    "DELETE": "kubelet.go:2414",
    "PLEG": "kubelet.go:2430",
    "PROBE": "kubelet.go:2493",
    "FAILED": "prober.go:107",
    "KILL": "kuberuntime_container.go:745",
    "FINISHED": "generic.go:334",
    "REMOVECONTAINER": "scope.go:110",
    "SYNCERR": "pod_workers.go:951",
}


def k_syncloop(j: Journal, ns: int, op: str, pod: str) -> None:
    j.klog(ns, "I", SRC[op], f"SyncLoop {op}", source=q("api"), pods=f"[{q(pod)}]")


def k_pleg(j: Journal, ns: int, pod: str, uid: str, typ: str, cid: str) -> None:
    event = json.dumps({"ID": uid, "Type": typ, "Data": cid}, separators=(",", ":"))
    j.klog(ns, "I", SRC["PLEG"], "SyncLoop (PLEG): event for pod", pod=q(pod), event=event)


def k_finished(j: Journal, ns: int, uid: str, cid: str, code: int) -> None:
    j.klog(
        ns,
        "I",
        SRC["FINISHED"],
        "Generic (PLEG): container finished",
        podID=q(uid),
        containerID=q(cid),
        exitCode=str(code),
    )


def k_probe_failed(j: Journal, ns: int, pod: str, uid: str, container: str, output: str) -> None:
    j.klog(
        ns,
        "I",
        SRC["FAILED"],
        "Probe failed",
        probeType=q("Readiness"),
        pod=q(pod),
        podUID=q(uid),
        containerName=q(container),
        probeResult=q("failure"),
        output=q(output),
    )


def k_probe_state(j: Journal, ns: int, pod: str, status: str) -> None:
    j.klog(
        ns,
        "I",
        SRC["PROBE"],
        "SyncLoop (probe)",
        probe=q("readiness"),
        status=q(status),
        pod=q(pod),
    )


def k_kill(j: Journal, ns: int, pod: str, uid: str, container: str, cid: str) -> None:
    j.klog(
        ns,
        "I",
        SRC["KILL"],
        "Killing container with a grace period",
        pod=q(pod),
        podUID=q(uid),
        containerName=q(container),
        containerID=q(f"containerd://{cid}"),
        gracePeriod=str(GRACE_S),
    )


def k_crashloop(j: Journal, ns: int, name: str, nsp: str, uid: str, container: str) -> None:
    err = (
        f'failed to "StartContainer" for "{container}" with CrashLoopBackOff: "back-off 5m0s '
        f'restarting failed container={container} pod={name}_{nsp}({uid})"'
    )
    j.klog(
        ns,
        "E",
        SRC["SYNCERR"],
        "Error syncing pod, skipping",
        err=q(err),
        pod=q(pod_key(name, nsp)),
        podUID=q(uid),
    )


def c_shim_gone(j: Journal, ns: int, cid: str) -> None:
    j.containerd(ns, "info", "shim disconnected", id=cid)
    j.containerd(
        ns + 113_402, "warning", "cleaning up after shim disconnected", id=cid, namespace="k8s.io"
    )
    j.containerd(ns + 297_160, "info", "cleaning up dead shim")


def rootfs_unit(cid: str) -> str:
    return f"run-containerd-io.containerd.runtime.v2.task-k8s.io-{cid}-rootfs.mount: Succeeded."


# --------------------------------------------------------------------------------------------
# Scenario
# --------------------------------------------------------------------------------------------

# Old pod ("stream X" = the clients holding connections to it) and new pod ("stream Y").
X_START, X_END = at("06:02:00"), at("06:04:46")
Y_START, Y_END = at("06:03:41"), at("06:06:00")
OLD_200_UNTIL = at("06:04:04.300")  # requests starting later are not served by Puma any more
FIRST_502 = at("06:04:04.612345678")
LAST_502 = at("06:04:45.903456789")
SIGTERM = at("06:03:46.104817")  # containerd "Stop container … with signal terminated"
WH_SHUTDOWN = at("06:03:46.301")  # fixed variant: Workhorse logs "shutdown initiated"
FIXED_OLD_UNTIL = at("06:03:46.200")  # fixed variant: later requests go to the new pod


def build_traffic() -> tuple[list[Req], list[Req], list[PagesUser]]:
    """Draw the request streams once; both scenarios route the same requests differently."""
    tr = Traffic()
    x_times = [
        t
        for t in tr.arrivals(X_START, X_END, (2, 3, 3, 3, 4))
        if not (OLD_200_UNTIL <= t < FIRST_502 or t > LAST_502)
    ]
    xs = [tr.mixed(t) for t in x_times]
    xs.append(tr.long_uri_request(at("06:03:12.345678901")))
    exact = tr.ingress(at("06:02:29.970113"), "user_api")
    exact.dur_ms, exact.ttfb_ms, exact.dur_rem_ns = 18, 17, 412_000
    exact.cri_override = at("06:02:30")  # one runtime timestamp with an all-zero fraction
    xs.append(exact)
    xs.append(tr.pages_lookup(FIRST_502, "docs.example.gitlab.io", "/"))
    xs.append(tr.pages_lookup(LAST_502, "docs.example.gitlab.io", "/"))
    xs.sort(key=lambda r: r.start)
    ys = [tr.mixed(t) for t in tr.arrivals(Y_START, Y_END, (2, 3, 3, 3, 4))]
    # Pages requests answered from Pages' own domain cache: no Workhorse call behind them.
    hits = [tr.pages_user(t) for t in tr.arrivals(X_START, Y_END, (0, 1, 1, 1, 2))]
    return xs, ys, hits


def serve_ok(req: Req, wh: CriLog, pages: JsonLines, *, limit: int | None = None) -> None:
    dur = req.dur_ms
    if limit is not None and req.start + (dur + 1) * MS > limit:
        dur = max(1, (limit - req.start) // MS - 1)
    ttfb = min(req.ttfb_ms, dur)
    end = req.start + dur * MS + req.dur_rem_ns
    wh.add(
        end,
        wh_access(
            req,
            status=req.ok_status,
            ctype=req.ok_ctype,
            size=req.ok_bytes,
            dur=dur,
            ttfb=ttfb,
            log_ns=end,
        ),
        req.lag1,
        req.cri_override,
    )
    if req.user is not None:
        u = req.user
        done = end + 300_000 + u.serve_ns
        pages.add(done, pages_access(u, status=u.status, ctype=u.ctype, size=u.size, log_ns=done))


def serve_502(req: Req, wh: CriLog, pages: JsonLines) -> None:
    err_ns = req.start + req.err_off
    acc_ns = err_ns + req.acc_off
    wh.add(err_ns, wh_badgateway(req.wh_cid, req.method, req.uri, err_ns), req.lag1)
    wh.add(
        acc_ns,
        wh_access(
            req, status=502, ctype=req.err_ctype, size=req.err_bytes, dur=0, ttfb=0, log_ns=acc_ns
        ),
        req.lag2,
    )
    if req.user is not None:
        u = req.user
        perr = acc_ns + 310_000
        pacc = perr + 57_000
        pages.add(
            perr,
            gojson(
                {
                    "correlation_id": u.cid,
                    "error": "HTTP status: 502",
                    "host": u.domain,
                    "level": "error",
                    "msg": "could not fetch domain information from a source",
                    "path": u.path,
                    "time": rfc3339(perr),
                }
            ),
        )
        pages.add(
            pacc,
            pages_access(
                u, status=502, ctype="text/html; charset=utf-8", size=PAGES_502_BYTES, log_ns=pacc
            ),
        )


def workhorse_logs(fixed: bool) -> tuple[CriLog, CriLog, JsonLines]:
    xs, ys, hits = build_traffic()
    wh_a, wh_b, pages = CriLog(), CriLog(), JsonLines()
    rng = random.Random(f"{SEED}:workhorse-misc")
    geo = UlidSource(random.Random(f"{SEED}:geo-ids"))

    for req in xs:
        if fixed:
            if req.start < FIXED_OLD_UNTIL:
                serve_ok(req, wh_a, pages, limit=WH_SHUTDOWN - 5 * MS)
            else:
                serve_ok(req, wh_b, pages)
        elif req.start < OLD_200_UNTIL:
            serve_ok(req, wh_a, pages, limit=OLD_200_UNTIL + 150 * MS)
        else:
            serve_502(req, wh_a, pages)
    for req in ys:
        serve_ok(req, wh_b, pages)
    for u in hits:  # served from Pages' domain cache
        done = u.arrival + u.serve_ns
        pages.add(done, pages_access(u, status=u.status, ctype=u.ctype, size=u.size, log_ns=done))

    # New pod: process start and the Geo poller failing until Puma listens (the red herring).
    start = at("06:02:40.301274")
    wh_b.add(
        start,
        gojson(
            {
                "build_time": "20220401.120000",
                "level": "info",
                "msg": "Starting",
                "time": rfc3339(start),
                "version": "v14.9.2",
            }
        ),
        61_204,
    )
    for i in range(5):
        t = at("06:02:41.302") + i * 10 * SEC + rng.randint(0, 900_000)
        wh_b.add(
            t,
            wh_badgateway(geo.new(t), "GET", "/api/v4/geo/proxy", t),
            rng.randint(14_000, 200_000),
        )

    if fixed:
        t = WH_SHUTDOWN
        wh_a.add(
            t,
            gojson(
                {
                    "level": "info",
                    "msg": "shutdown initiated",
                    "shutdown_timeout_s": WH_SHUTDOWN_TIMEOUT_S,
                    "signal": "terminated",
                    "time": rfc3339(t),
                }
            ),
            48_113,
        )
        t += 1_204_553
        wh_a.add(
            t,
            gojson({"level": "info", "msg": "keywatcher: shutting down", "time": rfc3339(t)}),
            31_870,
        )
        t += 4_870_112
        wh_a.add(
            t,
            gojson({"error": None, "level": "fatal", "msg": "shutting down", "time": rfc3339(t)}),
            27_391,
        )
    elif OLD_POD_GEO_ERRORS:
        for i in range(4):
            t = at("06:04:07.718") + i * 10 * SEC + rng.randint(0, 900_000)
            wh_a.add(
                t,
                wh_badgateway(geo.new(t), "GET", "/api/v4/geo/proxy", t),
                rng.randint(14_000, 200_000),
            )
    return wh_a, wh_b, pages


def puma_logs() -> tuple[CriLog, CriLog]:
    """webservice container stdout (gitlab-logger) of the old and the new pod."""
    rng = random.Random(f"{SEED}:puma")
    old, new = CriLog(), CriLog()

    def add(log: CriLog, hms: str, message: str) -> None:
        t = at(hms)
        log.add(t, puma_line(t, message), rng.randint(180_000, 2_900_000))

    # Old pod: a memory-killer restart of one worker, then the SIGTERM shutdown.
    add(
        old,
        "06:02:30.117204",
        "PumaWorkerKiller: Out of memory. 4 workers consuming total: "
        "6234.1 mb out of max: 6144.0 mb. Sending TERM to pid 49 consuming 1712.6 mb.",
    )
    add(old, "06:02:33.942518", "- Worker 2 (PID: 3318) booted in 3.79s, phase: 0")
    add(old, "06:03:51.000", "- Gracefully shutting down workers...")
    add(old, "06:03:51.912044", "- Worker 0 (PID: 41) terminating")
    add(old, "06:03:53.407711", "- Worker 1 (PID: 45) terminating")
    add(old, "06:03:58.233190", "- Worker 2 (PID: 3318) terminating")
    add(old, "06:04:04.311587", "- Worker 3 (PID: 53) terminating")
    add(old, "06:04:04.526", "=== puma shutdown: 2022-04-05 06:04:04 +0000 ===")
    add(old, "06:04:04.530", "- Goodbye!")

    # New pod: boot. Rails preload takes ~14 s between the banner and the listener.
    banner = (
        "Puma starting in cluster mode...",
        '* Puma version: 5.6.2 (ruby 2.7.5-p203) ("Birdie\'s Version")',
        "*  Min threads: 4",
        "*  Max threads: 4",
        "*  Environment: production",
        "*   Master PID: 1",
        "*      Workers: 4",
        "*     Restarts: (\u2714) hot (\u2716) phased",
        "* Preloading application",
    )
    t = at("06:03:11.402118")
    for line in banner:
        new.add(t, puma_line(t, line), rng.randint(180_000, 2_900_000))
        t += rng.randint(40_000, 400_000)
    add(new, "06:03:25.318412", "* Listening on http://0.0.0.0:8080")
    add(new, "06:03:25.318977", "Use Ctrl-C to stop")
    for i, (pid, secs, hms) in enumerate(
        (
            (35, "4.71", "06:03:30.021733"),
            (39, "4.74", "06:03:30.052910"),
            (43, "4.80", "06:03:30.113562"),
            (47, "4.86", "06:03:30.170248"),
        )
    ):
        add(new, hms, f"- Worker {i} (PID: {pid}) booted in {secs}s, phase: 0")
    return old, new


def journal_node_a(fixed: bool) -> Journal:
    j = Journal(NODE_A)
    pod = pod_key(POD_A)
    redis = pod_key("redis-cache-node-2", "redis")
    # --- noise -------------------------------------------------------------------------------
    for hms in ("06:02:07.881734", "06:03:09.402271", "06:04:12.655018", "06:05:15.090633"):
        k_crashloop(
            j, at(hms), "pgbouncer-exporter-6f7c9d8b5-q2lwz", "monitoring", UID_PGB, "exporter"
        )
    for hms, unit in (("06:02:17.291503", "Hc3kPq"), ("06:02:27.290877", "rT8mWd")):
        j.systemd(at(hms), f"run-containerd-runc-k8s.io-{REDIS_C}-runc.{unit}.mount: Succeeded.")
        j.klog_multiline(
            at(hms) + 21_993_104,
            "I",
            SRC["FAILED"],
            "Probe failed",
            "output",
            [
                "Could not connect to Redis at 127.0.0.1:26379: Connection refused",
                "Could not connect to Redis at 127.0.0.1:26379: Connection refused",
            ],
            probeType=q("Readiness"),
            pod=q(redis),
            podUID=q(UID_REDIS),
            containerName=q("sentinel"),
            probeResult=q("failure"),
        )
    k_probe_state(j, at("06:02:37.316842"), redis, "ready")
    j.klog(
        at("06:02:58.219874"),
        "I",
        SRC["REMOVECONTAINER"],
        "RemoveContainer",
        containerID=q(NOISE_A1),
    )
    j.klog_legacy(
        at("06:02:58.304415"),
        "W",
        "manager.go:1174",
        "Failed to process watch event {EventType:0 Name:/kubepods/burstable/"
        f"pod{UID_PGB}/{NOISE_A2} WatchSource:0}}: task {NOISE_A2} not found: "
        "not found",
    )
    j.systemd(
        at("06:05:30.114290"), f"run-containerd-runc-k8s.io-{REDIS_C}-runc.Yb2LsA.mount: Succeeded."
    )
    k_probe_state(j, at("06:05:41.883107"), pod_key("thanos-store-1", "monitoring"), "ready")

    # --- the old pod is deleted --------------------------------------------------------------
    k_syncloop(j, at("06:03:46.102110"), "DELETE", pod)
    k_kill(j, at("06:03:46.103201"), pod, UID_A, "webservice", WS_A)
    j.containerd(
        at("06:03:46.103598"), "info", f'StopContainer for "{WS_A}" with timeout {GRACE_S} (s)'
    )
    k_kill(j, at("06:03:46.104107"), pod, UID_A, "gitlab-workhorse", WH_A)
    j.containerd(
        at("06:03:46.104533"), "info", f'StopContainer for "{WH_A}" with timeout {GRACE_S} (s)'
    )
    j.containerd(SIGTERM, "info", f'Stop container "{WS_A}" with signal terminated')
    j.containerd(at("06:03:46.105249"), "info", f'Stop container "{WH_A}" with signal terminated')

    # readiness of webservice: 503 during Puma's blackout, then connection refused
    for hms in ("06:03:49.213874", "06:03:59.214102"):
        k_probe_failed(j, at(hms), pod, UID_A, "webservice", PROBE_503)
    for hms in ("06:04:09.213655", "06:04:19.214390", "06:04:29.213987", "06:04:39.214211"):
        k_probe_failed(j, at(hms), pod, UID_A, "webservice", PROBE_REFUSED)
    k_probe_state(j, at("06:04:09.214032"), pod, "not ready")

    # Puma exits cleanly
    c_shim_gone(j, at("06:04:04.611820"), WS_A)
    j.systemd(at("06:04:04.619466"), rootfs_unit(WS_A))
    j.containerd(at("06:04:04.634152"), "info", f'StopContainer for "{WS_A}" returns successfully')
    k_finished(j, at("06:04:05.104228"), UID_A, WS_A, 0)
    k_pleg(j, at("06:04:05.104297"), pod, UID_A, "ContainerDied", WS_A)

    if fixed:  # Workhorse got SIGTERM, shut down and exited with the fatal log's status 1
        c_shim_gone(j, at("06:03:46.318207"), WH_A)
        j.systemd(at("06:03:46.322913"), rootfs_unit(WH_A))
        j.containerd(
            at("06:03:46.331540"), "info", f'StopContainer for "{WH_A}" returns successfully'
        )
        k_finished(j, at("06:03:46.903118"), UID_A, WH_A, 1)
        k_pleg(j, at("06:03:46.903176"), pod, UID_A, "ContainerDied", WH_A)
    else:  # grace period over: SIGKILL
        j.containerd(SIGTERM + GRACE_S * SEC + 914_207, "info", f'Kill container "{WH_A}"')
        c_shim_gone(j, at("06:04:46.107902"), WH_A)
        j.systemd(at("06:04:46.109133"), rootfs_unit(WH_A))
        j.containerd(
            at("06:04:46.109870"), "info", f'StopContainer for "{WH_A}" returns successfully'
        )
        k_finished(j, at("06:04:46.110214"), UID_A, WH_A, 137)
        k_pleg(j, at("06:04:46.110262"), pod, UID_A, "ContainerDied", WH_A)

    j.systemd(
        at("06:04:46.903311"),
        f"var-lib-kubelet-pods-{UID_A}-volumes-kubernetes.io\\x7eprojected-"
        "kube\\x2dapi\\x2daccess\\x2d8x2vq.mount: Succeeded.",
    )
    k_syncloop(j, at("06:04:47.004519"), "DELETE", pod)
    k_syncloop(j, at("06:04:47.301876"), "REMOVE", pod)
    return j


def journal_node_b() -> Journal:
    j = Journal(NODE_B)
    pod = pod_key(POD_B)
    consul = pod_key("consul-client-4hf8w", "consul")
    # --- noise -------------------------------------------------------------------------------
    for hms in ("06:02:12.507311", "06:03:14.660982", "06:04:17.021459", "06:05:19.388104"):
        k_crashloop(
            j,
            at(hms),
            "blackbox-exporter-7d9f8c6b4-kq7vx",
            "monitoring",
            UID_BBX,
            "blackbox-exporter",
        )
    for hms, unit in (("06:02:33.770214", "aQ4vZe"), ("06:02:43.769530", "Kk9TnB")):
        j.systemd(at(hms), f"run-containerd-runc-k8s.io-{CONSUL_C}-runc.{unit}.mount: Succeeded.")
        j.klog_multiline(
            at(hms) + 48_552_907,
            "I",
            SRC["FAILED"],
            "Probe failed",
            "output",
            [
                'Error retrieving members: Get "http://127.0.0.1:8500/v1/agent/members'
                '?segment=_all": dial tcp 127.0.0.1:8500: connect: connection refused'
            ],
            probeType=q("Readiness"),
            pod=q(consul),
            podUID=q(UID_CONSUL),
            containerName=q("consul"),
            probeResult=q("failure"),
        )
    k_probe_state(j, at("06:02:53.812640"), consul, "ready")
    j.klog(
        at("06:03:52.006173"),
        "I",
        SRC["REMOVECONTAINER"],
        "RemoveContainer",
        containerID=q(NOISE_B1),
    )
    j.klog_legacy(
        at("06:05:12.004417"),
        "I",
        "log.go:184",
        "http: TLS handshake error from 10.220.0.12:53522: EOF",
    )
    j.klog_legacy(
        at("06:05:27.551092"),
        "W",
        "manager.go:1174",
        "Failed to process watch event {EventType:0 Name:/kubepods/burstable/"
        f"pod{UID_BBX}/{NOISE_B2} WatchSource:0}}: task {NOISE_B2} not found: "
        "not found",
    )
    j.systemd(
        at("06:05:43.770002"),
        f"run-containerd-runc-k8s.io-{CONSUL_C}-runc.p2XeWm.mount: Succeeded.",
    )
    k_probe_state(j, at("06:05:02.441795"), pod_key("node-exporter-9sd4k", "monitoring"), "ready")

    # --- the new pod starts ------------------------------------------------------------------
    k_syncloop(j, at("06:02:38.512406"), "ADD", pod)
    meta = f"&PodSandboxMetadata{{Name:{POD_B},Uid:{UID_B},Namespace:{NAMESPACE},Attempt:0,}}"
    j.containerd(at("06:02:38.601733"), "info", f"RunPodSandbox for {meta}")
    j.containerd(
        at("06:02:39.288140"), "info", f'RunPodSandbox for {meta} returns sandbox id "{SANDBOX_B}"'
    )
    times = {
        "webservice": ("06:02:39.301559", "06:02:39.512083", "06:02:39.514226", "06:02:39.958410"),
        "gitlab-workhorse": (
            "06:02:39.521907",
            "06:02:39.703365",
            "06:02:39.705518",
            "06:02:40.047291",
        ),
    }
    for name, cid in (("webservice", WS_B), ("gitlab-workhorse", WH_B)):
        t_create, t_created, t_start, t_started = (at(x) for x in times[name])
        cmeta = f"&ContainerMetadata{{Name:{name},Attempt:0,}}"
        j.containerd(
            t_create, "info", f'CreateContainer within sandbox "{SANDBOX_B}" for container {cmeta}'
        )
        j.containerd(
            t_created,
            "info",
            f'CreateContainer within sandbox "{SANDBOX_B}" for {cmeta} '
            f'returns container id "{cid}"',
        )
        j.containerd(t_start, "info", f'StartContainer for "{cid}"')
        j.containerd(t_started, "info", f'StartContainer for "{cid}" returns successfully')
    k_pleg(j, at("06:02:40.101384"), pod, UID_B, "ContainerStarted", WS_B)
    k_pleg(j, at("06:02:40.101452"), pod, UID_B, "ContainerStarted", WH_B)
    k_probe_state(j, at("06:03:40.512318"), pod, "ready")
    return j


# --------------------------------------------------------------------------------------------
# Events (`kubectl get events -n gitlab -o json`)
# --------------------------------------------------------------------------------------------


def events_json() -> str:
    rng = random.Random(f"{SEED}:events")
    rv = iter(range(987_654_301, 987_660_000, 7))
    pod_ref_a = {
        "apiVersion": "v1",
        "kind": "Pod",
        "name": POD_A,
        "namespace": NAMESPACE,
        "resourceVersion": "987601234",
        "uid": UID_A,
    }
    pod_ref_b = {
        "apiVersion": "v1",
        "kind": "Pod",
        "name": POD_B,
        "namespace": NAMESPACE,
        "resourceVersion": "987650012",
        "uid": UID_B,
    }
    deploy_ref = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": DEPLOYMENT,
        "namespace": NAMESPACE,
        "resourceVersion": "987649981",
        "uid": UID_DEPLOY,
    }
    rs_old_ref = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": RS_OLD,
        "namespace": NAMESPACE,
        "resourceVersion": "987652210",
        "uid": UID_RS_OLD,
    }
    rs_new_ref = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": RS_NEW,
        "namespace": NAMESPACE,
        "resourceVersion": "987649990",
        "uid": UID_RS_NEW,
    }

    def uuid4() -> str:
        h = f"{rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"

    def event(
        ref: dict,
        first: str,
        reason: str,
        message: str,
        *,
        last: str | None = None,
        count: int = 1,
        etype: str = "Normal",
        container: str | None = None,
        component: str = "kubelet",
        host: str | None = None,
    ) -> dict:
        first_ns = at(first)
        last_ns = at(last) if last else first_ns
        obj = dict(ref)
        if container:
            obj["fieldPath"] = f"spec.containers{{{container}}}"
        source = {"component": component}
        if host:
            source["host"] = host
        return {
            "apiVersion": "v1",
            "count": count,
            "eventTime": None,
            "firstTimestamp": rfc3339(first_ns),
            "involvedObject": obj,
            "kind": "Event",
            "lastTimestamp": rfc3339(last_ns),
            "message": message,
            "metadata": {
                "creationTimestamp": rfc3339(first_ns),
                "name": f"{ref['name']}.{first_ns:x}",
                "namespace": NAMESPACE,
                "resourceVersion": str(next(rv)),
                "uid": uuid4(),
            },
            "reason": reason,
            "reportingComponent": component,
            "reportingInstance": host or "",
            "source": source,
            "type": etype,
        }

    items = [
        event(
            deploy_ref,
            "06:02:38.318877",
            "ScalingReplicaSet",
            f"Scaled up replica set {RS_NEW} to 1",
            component="deployment-controller",
        ),
        event(
            rs_new_ref,
            "06:02:38.352106",
            "SuccessfulCreate",
            f"Created pod: {POD_B}",
            component="replicaset-controller",
        ),
    ]
    sched_ns = at("06:02:38.471203")
    items.append(
        {  # written by the scheduler through events.k8s.io/v1, read back as core/v1
            "action": "Binding",
            "apiVersion": "v1",
            "eventTime": iso_us(sched_ns),
            "firstTimestamp": None,
            "involvedObject": dict(pod_ref_b),
            "kind": "Event",
            "lastTimestamp": None,
            "message": f"Successfully assigned {NAMESPACE}/{POD_B} to {NODE_B}",
            "metadata": {
                "creationTimestamp": rfc3339(sched_ns),
                "name": f"{POD_B}.{sched_ns:x}",
                "namespace": NAMESPACE,
                "resourceVersion": str(next(rv)),
                "uid": uuid4(),
            },
            "reason": "Scheduled",
            "reportingComponent": "default-scheduler",
            "reportingInstance": "default-scheduler-gke-gprd-3f9e21c0-master",
            "source": {},
            "type": "Normal",
        }
    )
    for container, image, pulled, created, started in (
        ("webservice", IMAGE_WS, "06:02:39.296014", "06:02:39.512511", "06:02:39.958703"),
        ("gitlab-workhorse", IMAGE_WH, "06:02:39.517620", "06:02:39.703801", "06:02:40.047610"),
    ):
        items.append(
            event(
                pod_ref_b,
                pulled,
                "Pulled",
                f'Container image "{image}" already present on machine',
                container=container,
                host=NODE_B,
            )
        )
        items.append(
            event(
                pod_ref_b,
                created,
                "Created",
                f"Created container {container}",
                container=container,
                host=NODE_B,
            )
        )
        items.append(
            event(
                pod_ref_b,
                started,
                "Started",
                f"Started container {container}",
                container=container,
                host=NODE_B,
            )
        )
    items += [
        event(
            deploy_ref,
            "06:03:45.981442",
            "ScalingReplicaSet",
            f"Scaled down replica set {RS_OLD} to 0",
            component="deployment-controller",
        ),
        event(
            rs_old_ref,
            "06:03:46.052317",
            "SuccessfulDelete",
            f"Deleted pod: {POD_A}",
            component="replicaset-controller",
        ),
        event(
            pod_ref_a,
            "06:03:46.103455",
            "Killing",
            "Stopping container webservice",
            container="webservice",
            host=NODE_A,
        ),
        event(
            pod_ref_a,
            "06:03:46.104302",
            "Killing",
            "Stopping container gitlab-workhorse",
            container="gitlab-workhorse",
            host=NODE_A,
        ),
        event(
            pod_ref_a,
            "06:03:49.214011",
            "Unhealthy",
            f"Readiness probe failed: {PROBE_503}",
            last="06:03:59.214230",
            count=2,
            etype="Warning",
            container="webservice",
            host=NODE_A,
        ),
        event(
            pod_ref_a,
            "06:04:09.213790",
            "Unhealthy",
            f"Readiness probe failed: {PROBE_REFUSED}",
            last="06:04:39.214355",
            count=4,
            etype="Warning",
            container="webservice",
            host=NODE_A,
        ),
    ]
    items.sort(key=lambda e: e["metadata"]["name"])  # the API lists objects in key (name) order
    doc = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
    return json.dumps(doc, indent=4, sort_keys=True) + "\n"


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def scenario_files(fixed: bool) -> dict[str, str]:
    wh_a, wh_b, pages = workhorse_logs(fixed)
    puma_a, puma_b = puma_logs()
    dir_a = f"var/log/pods/{NAMESPACE}_{POD_A}_{UID_A}"
    dir_b = f"var/log/pods/{NAMESPACE}_{POD_B}_{UID_B}"
    return {
        f"nodes/{NODE_A}/kubelet.log": journal_node_a(fixed).render(),
        f"nodes/{NODE_B}/kubelet.log": journal_node_b().render(),
        "events.json": events_json(),
        f"{dir_a}/gitlab-workhorse/0.log": wh_a.render(),
        f"{dir_a}/webservice/0.log": puma_a.render(),
        f"{dir_b}/gitlab-workhorse/0.log": wh_b.render(),
        f"{dir_b}/webservice/0.log": puma_b.render(),
        "gitlab-pages.log": pages.render(),
    }


def main() -> int:
    for name, fixed in SCENARIOS.items():
        root = OUT_ROOT / name
        if root.exists():
            shutil.rmtree(root)
        for rel, text in scenario_files(fixed).items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
            print(f"{name}/{rel}: {text.count(chr(10))} lines, {len(text.encode())} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
