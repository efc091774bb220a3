"""The files' shapes: a node journal, a container's CRI log, a plain NDJSON stream.

Each collects lines with the time they happened, in any order, and renders them in file order.
"""

from __future__ import annotations

from analyzer.simulate.story.cast import CONTAINERD_PID, KUBELET_PID
from analyzer.simulate.story.clock import US, journal_prefix, klog_header, rfc3339nano, stable_int
from analyzer.simulate.story.wire import goquote


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
