"""The bad-input corpus, generated: every kind of broken, hostile or unlucky input the analyzer
must take without a traceback, without losing a line unsaid, and without rendering what a log
says as markup. Built from real lines (``tests/fixtures``, public sources: see its README)
damaged the way real files are damaged, plus the pitfalls of ``docs/log-formats.md``.

``python -m tests.badinput DIR`` writes every case to DIR/<case>/ for a manual run
(``analyzer report DIR/<case>``); ``tests/test_bad_input_corpus.py`` runs them all.
"""

from __future__ import annotations

import gzip
import json
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from analyzer.limits import Limits

FIXTURES = Path(__file__).parent / "fixtures"
_CONTAINERS = "var/log/containers"
_WH = (
    "gitlab-webservice-default-5d85b6854c-sbx2z_gitlab_gitlab-workhorse-"
    "3de4e2c52bca0f6f3c1c0ab1b8ad7e7b3d0ac1e1c2b1f1a8e7d6c5b4a3928172.log"
)
_POD_DIR = "var/log/pods/gitlab_gitlab-webservice-default-5d85b6854c-sbx2z_3f1c7a52-8e1d-4c3b-9a6e-2b7d5f0c1a94/gitlab-workhorse"


def _fixture(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


KLOG = _fixture("kubelet_klog/raw.log")  # real kubelet lines, one format
CRI = _fixture(f"cri/{_CONTAINERS}/{_WH}")  # real CRI-wrapped Workhorse lines
DOCKER = _fixture(f"docker_json/{_CONTAINERS}/{_WH}")
EVENTS_JSON = _fixture("k8s_events/list.json")
EVENTS_YAML = _fixture("k8s_events/list.yaml")
JOURNAL = _fixture("journald_json/journal.json")
ALB = _fixture("aws_alb/app.my-loadbalancer.log")
TRAEFIK = _fixture("traefik_json/access.log")

#: What a hostile log writes to get rendered: a terminal escape (clear screen, a hyperlink,
#: a title) and markup for Markdown and HTML.
INJECTED = (
    "\x1b[2J\x1b]0;owned\x07\x1b]8;;http://evil.example/\x07click\x1b]8;;\x07"
    "<script>alert(1)</script><img src=x onerror=alert(2)>[x](javascript:alert(3))"
)

#: Limits small enough that the corpus's "huge" cases stay small files.
SMALL = Limits(max_line_bytes=64 * 1024, max_inflate_ratio=20, inflate_floor=1 << 20)


@dataclass(frozen=True)
class Case:
    """``files``: relative path -> bytes (a directory made of them is the input); ``check``:
    what must hold of the ``Analysis`` beyond the corpus-wide checks; ``error``: the run
    must instead end with our error, whose message holds this."""

    name: str
    files: dict[str, bytes]
    check: Callable[[object], None] = field(default=lambda a: None, compare=False)
    error: str | None = None
    why: str = ""


def _lines(data: bytes) -> list[bytes]:
    return data.rstrip(b"\n").split(b"\n")


def _tally(analysis, suffix: str):  # type: ignore[no-untyped-def]
    found = [t for t in analysis.inputs if t.path.endswith(suffix)]
    assert len(found) == 1, [t.path for t in analysis.inputs]
    return found[0]


def _note(suffix: str, text: str) -> Callable[[object], None]:
    def check(analysis) -> None:  # type: ignore[no-untyped-def]
        notes = _tally(analysis, suffix).notes
        assert any(text in n for n in notes), notes

    return check


def _counts(suffix: str, **want: int) -> Callable[[object], None]:
    def check(analysis) -> None:  # type: ignore[no-untyped-def]
        t = _tally(analysis, suffix)
        got = {k: getattr(t, k) for k in want}
        assert got == want, (got, t.reject_examples, t.notes)

    return check


def _all(*checks: Callable[[object], None]) -> Callable[[object], None]:
    def check(analysis) -> None:  # type: ignore[no-untyped-def]
        for c in checks:
            c(analysis)

    return check


def _reason(suffix: str, text: str) -> Callable[[object], None]:
    def check(analysis) -> None:  # type: ignore[no-untyped-def]
        t = _tally(analysis, suffix)
        reasons = [r for _, r in t.reject_examples] + list(t.skip_reasons)
        assert any(text in r for r in reasons), reasons

    return check


def _bomb(before: bytes, megabytes: int, after: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [c.compress(before)]
    out += [c.compress(b"a" * (1 << 20)) for _ in range(megabytes)]
    return b"".join([*out, c.compress(b"\n" + after), c.flush()])


def _deep_json(depth: int) -> bytes:
    return b'{"time":"2024-01-01T00:00:00Z","msg":' + b"[" * depth + b"]" * depth + b"}\n"


def _yaml_bomb() -> bytes:
    # "billion laughs": aliases that expand to 10^9 strings if expanded naively
    rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        rows.append(f"{name}: &{name} [{','.join(['*' + prev] * 9)}]")
    return ("kind: EventList\napiVersion: v1\n" + "\n".join(rows) + "\nitems: []\n").encode()


def _numbered_klog(n: int) -> bytes:
    """``n`` real kubelet lines, each with its own time: a stream that compresses as a log."""
    first = _lines(KLOG)[0]
    return b"".join(
        first[:9] + f"{i // 60 % 60:02d}:{i % 60:02d}".encode() + first[14:] + b"\n"
        for i in range(n)
    )


def _damaged(packed: bytes) -> bytes:
    """Bytes flipped two thirds in: what inflated before is readable, nothing after."""
    at = len(packed) * 2 // 3
    return packed[:at] + bytes(b ^ 0x5A for b in packed[at : at + 64]) + packed[at + 64 :]


def cases() -> list[Case]:
    klog = _lines(KLOG)
    cri = _lines(CRI)
    packed = gzip.compress(KLOG * 40)
    out = [
        # --- compression -----------------------------------------------------------------
        Case(
            "gzip-truncated",
            {"kubelet.log.gz": packed[: len(packed) // 2]},
            _all(_note("kubelet.log.gz", "truncated")),
            why="the issue's first traceback: a lazy re-read of a cut gzip",
        ),
        Case(
            "gzip-trailing-garbage",
            {"kubelet.log.gz": gzip.compress(KLOG) + b"GARBAGE\x00\x01"},
            _all(
                _counts("kubelet.log.gz", lines=len(klog)),
                _note("kubelet.log.gz", "after the end of the gzip stream"),
            ),
        ),
        Case(
            "gzip-members",
            {"kubelet.log.gz": gzip.compress(KLOG) + gzip.compress(KLOG)},
            _counts("kubelet.log.gz", lines=2 * len(klog)),
            why="logrotate's copytruncate + cat: concatenated members",
        ),
        Case(
            "gzip-header-only",
            {"kubelet.log.gz": gzip.compress(KLOG)[:10]},
            _counts("kubelet.log.gz", lines=0),
        ),
        Case(
            "gzip-corrupt-block",
            {"kubelet.log.gz": _damaged(gzip.compress(_numbered_klog(3000)))},
            _note("kubelet.log.gz", "damaged"),
        ),
        Case(
            "gzip-bomb",
            {"bomb.log.gz": _bomb(klog[0] + b"\n", 40, klog[1])},
            _all(
                _note("bomb.log.gz", "decompression stopped"),
                _reason("bomb.log.gz", "over --max-line-bytes"),
            ),
            why="a 40 MB line from 40 KB, under a 20:1 guard past 1 MiB",
        ),
        # --- encodings and line endings --------------------------------------------------
        Case(
            "utf16-le-bom",
            {"kubelet.log": KLOG.decode().encode("utf-16")},
            _all(_counts("kubelet.log", lines=len(klog)), _note("kubelet.log", "UTF-16")),
        ),
        Case(
            "utf16-be-bom",
            {"kubelet.log": b"\xfe\xff" + KLOG.decode().encode("utf-16-be")},
            _all(_counts("kubelet.log", lines=len(klog)), _note("kubelet.log", "UTF-16")),
        ),
        Case(
            "utf32-bom",
            {"kubelet.log": KLOG.decode().encode("utf-32")},
            _all(_counts("kubelet.log", lines=len(klog)), _note("kubelet.log", "UTF-32")),
        ),
        Case(
            "cr-only",
            {"kubelet.log": KLOG.replace(b"\n", b"\r")},
            _counts("kubelet.log", lines=len(klog)),
            why="old Mac line ends: was one line, its requests gone",
        ),
        Case(
            "mixed-cr-lf-crlf",
            {
                "kubelet.log": b"\r".join(klog[:3])
                + b"\r\n"
                + b"\n".join(klog[3:6])
                + b"\r\n"
                + b"\r\n".join(klog[6:])
                + b"\n"
            },
            _counts("kubelet.log", lines=len(klog)),
        ),
        Case(
            "bom-crlf",
            {"kubelet.log": b"\xef\xbb\xbf" + KLOG.replace(b"\n", b"\r\n")},
            _counts("kubelet.log", lines=len(klog), rejected=0),
        ),
        Case(
            "bom-only",
            {"kubelet.log": b"\xef\xbb\xbf"},
            lambda a: None,
        ),
        Case(
            "invalid-utf8",
            {"kubelet.log": b"\n".join([*klog[:4], b"I0516 \xff\xfe\xc3\x28 broken", *klog[4:]])},
            _all(
                _counts("kubelet.log", lines=len(klog) + 1),
                _note("kubelet.log", "invalid utf8"),
            ),
        ),
        Case(
            "latin1-payload",
            {"ingress.log": b"\n".join(cri).replace(b"GET", "G\u00c9T".encode("latin-1"))},
            lambda a: None,
            why="a Windows-1252 byte inside a CRI line",
        ),
        Case(
            "binary",
            {"core.log": bytes(range(256)) * 64},
            lambda a: None,
        ),
        Case("empty", {"empty.log": b"", "blank.log": b"\n\n \t\n"}, lambda a: None),
        # --- sizes -----------------------------------------------------------------------
        Case(
            "line-over-cap",
            {"kubelet.log": klog[0] + b"\n" + klog[1][:40] + b"x" * 200_000 + b"\n" + klog[2]},
            _all(
                _counts("kubelet.log", lines=3, rejected=1),
                _reason("kubelet.log", "line of 200040 bytes"),
            ),
        ),
        Case(
            "json-line-over-cap-in-cri",
            {
                f"{_CONTAINERS}/{_WH}": cri[0]
                + b"\n"
                + cri[1][:60]
                + b"y" * 100_000
                + b'"}\n'
                + cri[2]
            },
            _reason(_WH, "over --max-line-bytes"),
        ),
        Case(
            "deep-json",
            {"app.log": _deep_json(50_000) + _deep_json(3)},
            lambda a: None,
            why="recursion: a JSON decoder must not overflow the stack",
        ),
        Case("yaml-billion-laughs", {"events.yaml": _yaml_bomb()}, lambda a: None),
        Case(
            "many-keys-json",
            {
                "app.log": json.dumps(
                    {"time": "2024-01-01T00:00:00Z", **{f"k{i}": i for i in range(20_000)}}
                ).encode()
                + b"\n"
            },
            lambda a: None,
        ),
        # --- wrappers ----------------------------------------------------------------------
        Case(
            "cri-damaged-json-payload",
            {
                f"{_CONTAINERS}/{_WH}": b"\n".join(
                    [cri[0], cri[1].replace(b'"status"', b'"sta\x00tus', 1)[:-5], cri[2]]
                )
                + b"\n"
            },
            _counts(_WH, lines=3),
            why="the issue's second traceback: no time column in the robust frame",
        ),
        Case(
            "cri-timeless-payload",
            {
                f"{_CONTAINERS}/{_WH}": b"\n".join(
                    [cri[0], cri[1][:31] + b'{"msg":"no time here","status":502}', cri[2]]
                )
                + b"\n"
            },
            _counts(_WH, lines=3),
        ),
        Case(
            "cri-partial-never-ended",
            {
                f"{_POD_DIR}/0.log": cri[0]
                + b"\n"
                + cri[1].replace(b" stdout F ", b" stdout P ", 1)
                + b"\n"
            },
            lambda a: None,
            why="a P fragment whose F never came (the container died)",
        ),
        Case(
            "cri-bad-stream-and-tag",
            {
                f"{_POD_DIR}/0.log": cri[0].replace(b" stdout F ", b" stdwhat Q ", 1)
                + b"\n"
                + cri[1]
                + b"\n"
            },
            _counts("0.log", lines=2),
        ),
        Case(
            "docker-truncated-record",
            {f"{_CONTAINERS}/{_WH}": DOCKER[: len(DOCKER) - 40]},
            _reason(_WH, ""),
        ),
        Case(
            "journald-microseconds",
            {
                "journal.json": json.dumps(
                    {
                        "__REALTIME_TIMESTAMP": "1649152800123457",
                        "_HOSTNAME": "node-1",
                        "SYSLOG_IDENTIFIER": "containerd",
                        "MESSAGE": "plain message without a time of its own",
                    }
                ).encode()
                + b"\n"
                + JOURNAL
            },
            lambda a: None,
            why="integer µs must not go through float64 (+32 ns)",
        ),
        # --- values --------------------------------------------------------------------------
        Case(
            "impossible-status",
            {
                f"{_CONTAINERS}/{_WH}": b"\n".join(
                    [cri[0].replace(b'"status":', b'"status":-', 1), cri[1], cri[2]]
                )
                + b"\n"
            },
            _reason(_WH, "is not an HTTP status"),
        ),
        Case(
            "times-out-of-range",
            {
                "app.log": b'{"time":"9999-12-31T23:59:59Z","msg":"x"}\n'
                b'{"time":"1970-01-01T00:00:00Z","msg":"x"}\n'
                b'{"time":"2024-02-30T00:00:00Z","msg":"x"}\n'
                b'{"time":"2024-01-01T00:00:00Z","msg":"x"}\n'
            },
            _counts("app.log", events=1, rejected=3),
        ),
        Case(
            "numbers-not-numbers",
            {
                "app.log": b'{"time":"2024-01-01T00:00:00Z","status":1e400,"duration_ms":NaN}\n'
                b'{"time":"2024-01-01T00:00:01Z","status":502.7,"duration_ms":-1}\n'
                b'{"time":"2024-01-01T00:00:02Z","status":99999999999999999999}\n'
            },
            lambda a: None,
        ),
        # --- Kubernetes objects ------------------------------------------------------------
        Case(
            "events-timeless",
            {
                "events.json": EVENTS_JSON.replace(b'"lastTimestamp"', b'"lastTimestampX"')
                .replace(b'"firstTimestamp"', b'"firstTimestampX"')
                .replace(b'"eventTime"', b'"eventTimeX"')
                .replace(b'"creationTimestamp"', b'"creationTimestampX"')
            },
            lambda a: None,
        ),
        Case(
            "events-yaml-cut",
            {"events.yaml": EVENTS_YAML[: len(EVENTS_YAML) * 2 // 3]},
            lambda a: None,
        ),
        Case(
            "events-json-one-line-cut",
            {"events.json": json.dumps(json.loads(EVENTS_JSON)).encode()[:-30]},
            lambda a: None,
        ),
        # --- log-formats.md pitfalls -------------------------------------------------------
        Case(
            "klog-multiline-value-unclosed",
            {
                "kubelet.log": klog[0]
                + b"\n"
                + klog[1][:60]
                + b" output=<\n\tline one\n\tline two\n"
                + klog[2]
                + b"\n"
            },
            lambda a: None,
            why="key=< ... > whose closing > never came (1.8)",
        ),
        Case(
            "klog-newest-first",
            {"kubelet.log": b"\n".join(reversed(klog)) + b"\n"},
            _counts("kubelet.log", lines=len(klog)),
            why="Loki logcli's default BACKWARD direction (1.8)",
        ),
        Case(
            "klog-duplicated-lines",
            {"kubelet.log": b"\n".join(k for line in klog for k in (line, line)) + b"\n"},
            _counts("kubelet.log", lines=2 * len(klog)),
            why="the same kubelet line logged twice (1.8)",
        ),
        Case(
            "alb-dash-target",
            {"alb.log": ALB.replace(b"10.0.", b"-", 1)},
            lambda a: None,
            why="an ALB line whose target is '-' (10.x)",
        ),
        Case(
            "traefik-origin-zero",
            {"traefik.log": TRAEFIK.replace(b'"OriginStatus":', b'"OriginStatus":0,"x":', 1)},
            lambda a: None,
            why="Traefik's OriginStatus 0 on the 502s it made itself (10.1)",
        ),
        # --- hostile content ---------------------------------------------------------------
        Case(
            "markup-and-escapes",
            {
                f"{_CONTAINERS}/{_WH}": b"\n".join(
                    [
                        cri[0],
                        cri[1].replace(
                            b'"uri":"', b'"uri":"' + json.dumps(INJECTED)[1:-1].encode(), 1
                        ),
                        cri[2],
                    ]
                )
                + b"\n",
                f"evil{INJECTED[:9]}name.log".replace("/", "_"): klog[0] + b"\n",
            },
            lambda a: None,
        ),
        Case(
            "glob-characters-in-names",
            {"[kube]*?let.log": KLOG},
            _counts("[kube]*?let.log", lines=len(klog)),
        ),
    ]
    return out


def write(case: Case, root: Path) -> Path:
    for rel, data in case.files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "badinput")
    for c in cases():
        write(c, target / c.name)
    print(f"{len(cases())} cases written to {target}/")
