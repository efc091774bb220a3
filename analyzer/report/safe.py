"""Log text is untrusted: neutralize it for each medium it is rendered in."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def terminal(text: object) -> str:
    """No terminal control sequences: ESC and other control bytes shown as ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def markdown(text: object) -> str:
    """Inline Markdown text: no markup, no raw HTML."""
    s = terminal(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", s).replace("\n", " ")


def code_fence(text: str) -> str:
    """A fence longer than any backtick run inside ``text``."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)
