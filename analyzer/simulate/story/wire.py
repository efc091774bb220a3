"""Encoders the story's sources share: Go quoting, logrus JSON, ULID correlation ids."""

from __future__ import annotations

import json
import random

from analyzer.simulate.story.clock import MS


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
