"""One error tree: the CLI catches ``AnalyzerError`` and prints it without a traceback."""

from __future__ import annotations


class AnalyzerError(Exception):
    """Base for every error the analyzer reports to a user."""


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
    """A format spec file is invalid."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}")
        self.file, self.key, self.problem = file, key, problem


class InputError(AnalyzerError):
    """A path given by the user cannot be read."""
