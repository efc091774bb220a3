"""The requests: who asks what, when, and where each one ends up.

All randomness of the request mix lives here, in two seeded streams (``traffic`` and ``ids``).
Both variants draw the same requests and only route them differently (``fate``), so they differ in
as few lines as possible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from analyzer.simulate.story.cast import (
    FIRST_502,
    FIXED_OLD_UNTIL,
    INGRESS_IP,
    LAST_502,
    OLD_200_UNTIL,
    PAGES_IP,
    X_END,
    X_START,
    Y_END,
    Y_START,
    stream_rng,
)
from analyzer.simulate.story.clock import MS, SEC, at
from analyzer.simulate.story.wire import UlidSource

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

    @property
    def failed_at(self) -> int:
        """When Workhorse logs the badgateway error, had this request failed."""
        return self.start + self.err_off

    @property
    def answered_502_at(self) -> int:
        """When Workhorse logs the 502 access line, had this request failed."""
        return self.failed_at + self.acc_off


class Traffic:
    """Draws requests from the seed's ``traffic`` and ``ids`` streams."""

    def __init__(self, seed: int) -> None:
        self.rng = stream_rng(seed, "traffic")
        self.ids = UlidSource(stream_rng(seed, "ids"))

    def arrivals(self, start: int, end: int, counts: tuple[int, ...]) -> list[int]:
        """Per second, one of ``counts`` arrivals, uniform within the second."""
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
        """About 70 % Pages domain lookups, 30 % ingress traffic."""
        return self.pages_lookup(start) if self.rng.random() < 0.7 else self.ingress(start)

    def long_uri_request(self, start: int) -> Req:
        """An API call with a >17,000-char query string (the CRI P/F split case)."""
        req = self.ingress(start, "mr_api")
        iids = "&".join(f"iids%5B%5D={n}" for n in range(21_000, 22_040))
        req.uri = f"/api/v4/projects/1042/merge_requests?{iids}&per_page=100"
        req.ok_bytes, req.dur_ms, req.ttfb_ms = 611_488, 1_482, 1_401
        return req


@dataclass(frozen=True)
class Streams:
    old: list[Req]  # clients holding connections to the old pod ("stream X"), by start
    new: list[Req]  # traffic the new pod gets once ready ("stream Y")
    cached: list[PagesUser]  # Pages requests answered from Pages' domain cache (no Workhorse)


def build_traffic(seed: int) -> Streams:
    """Draw the request streams once; both variants route the same requests differently."""
    tr = Traffic(seed)
    # No request of the old stream starts between Puma's exit and the first (hand-placed) 502,
    # nor after the last one: the first and last failure times are the story's, whatever the seed.
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
    hits = [tr.pages_user(t) for t in tr.arrivals(X_START, Y_END, (0, 1, 1, 1, 2))]
    return Streams(old=xs, new=ys, cached=hits)


Fate = Literal["old", "new", "502"]


def fate(req: Req, *, fixed: bool) -> Fate:
    """Where a request of the old stream ends up.

    Incident: Puma serves it until it exits, then Workhorse, still up, answers 502. Fixed:
    Workhorse shuts down on SIGTERM, so later requests reach the new pod and succeed.
    """
    if fixed:
        return "old" if req.start < FIXED_OLD_UNTIL else "new"
    return "old" if req.start < OLD_200_UNTIL else "502"
