"""One error tree: the CLI catches ``AnalyzerError`` and prints it without a traceback."""

from __future__ import annotations

import difflib
from collections.abc import Sequence


class AnalyzerError(Exception):
    """Base for every error the analyzer reports to a user."""

    def __reduce__(self) -> tuple[object, ...]:
        # Subclasses take their parts, not the message, so the default pickle (calling the
        # class with ``args``) fails; rebuilt without ``__init__``, an error raised on a Dask
        # worker arrives as itself.
        return (_rebuilt, (type(self), self.args, self.__dict__))


def _rebuilt(cls: type[AnalyzerError], args: tuple[object, ...], state: dict) -> AnalyzerError:
    err = cls.__new__(cls)
    err.args = args
    err.__dict__.update(state)
    return err


class BadLineError(AnalyzerError):
    """A line could not be parsed (raised only in strict mode)."""

    def __init__(self, path: str, line: int, reason: str, text: str) -> None:
        shown = text if len(text) <= 200 else text[:200] + "…"
        super().__init__(f"{path}:{line}: {reason}\n  | {shown}")
        self.path, self.line, self.reason, self.text = path, line, reason, text


class UnknownFormatError(AnalyzerError):
    """No registered format matches a file."""

    def __init__(self, path: str, tried: list[str], detail: str = "") -> None:
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"{path}: no known log format{extra}; tried: {', '.join(tried)}. "
            "Pass --as FORMAT to force one (see `analyzer formats`)."
        )
        self.path, self.tried = path, tried


class FormatSpecError(AnalyzerError):
    """A format spec file is invalid (one problem: the file, the key, what is wrong)."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}")
        self.file, self.key, self.problem = file, key, problem


class FormatSpecErrors(FormatSpecError):
    """Every problem found in a set of format spec files (loading goes on after the first,
    so one run lists all of them). A ``FormatSpecError`` too: callers that catch the single
    kind keep working, and ``file``/``key``/``problem`` are those of the first problem."""

    def __init__(self, problems: Sequence[FormatSpecError]) -> None:
        assert problems, "FormatSpecErrors needs at least one problem"
        first = problems[0]
        super().__init__(first.file, first.key, first.problem)
        self.problems = tuple(problems)
        lines = [str(FormatSpecError(p.file, p.key, p.problem)) for p in self.problems]
        if len(lines) > 1:
            lines = [f"{len(lines)} problems in format specs:", *(f"  {ln}" for ln in lines)]
        self.args = ("\n".join(lines),)

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownFormatNameError(AnalyzerError):
    """A format name (``--as``, a spec's ``also``) that no loaded spec has."""

    def __init__(self, name: str, known: Sequence[str], subject: str | None = None) -> None:
        close = _close_match(name, known)
        hint = f" (did you mean {close}?)" if close else ""
        super().__init__(
            f"{subject or repr(name)}: unknown format{hint}; known: {', '.join(sorted(known))}"
        )
        self.name, self.known = name, tuple(known)


class InputError(AnalyzerError):
    """A path given by the user cannot be read."""


def _close_match(name: str, known: Sequence[str]) -> str | None:
    """The one known name that ``name`` is part of (``nginx``), else a close spelling;
    a shared ``_json`` suffix alone is not close enough (``caddy_json`` is no ``puma_json``)."""
    containing = sorted(k for k in known if name and name.lower() in k.lower())
    if 1 <= len(containing) <= 3:
        return " or ".join(containing)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.7)
    return close[0] if close else None
