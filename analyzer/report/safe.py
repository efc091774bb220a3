"""Log text is untrusted: neutralize it for each medium it is rendered in."""

from __future__ import annotations

import re

# Every C0/C1 control (a newline in a log value must not forge report lines) and the
# bidirectional overrides that reorder text on screen.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def terminal(text: object) -> str:
    """One line, no control sequences: ESC, newlines and other controls shown as ``\\xNN``."""
    return _CONTROL.sub(_escape, str(text))


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def markdown(text: object) -> str:
    """Inline Markdown text: no markup, no raw HTML."""
    s = terminal(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", s).replace("\n", " ")


def code_fence(text: str) -> str:
    """A fence longer than any backtick run inside ``text``."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)
