"""The formats in use: the bundled specs plus a user's own directories of specs.

``load(dirs)`` builds a ``Registry``. Where it is looked up: ``analyzer.api`` makes the run's
registry *active* for the duration of a call (``using``), and the module functions
``formats.specs()`` / ``get()`` / ``names()`` that ingest and correlate call read the active
one (the bundled formats when none is). A context variable rather than a ``registry=``
argument through every ingest function: the engines ask for specs in a dozen places several
calls deep, and the active registry is still explicit at the API edge, restored on exit, and
private to each thread or task. ``builtin()`` stays the bundled formats only.

User specs come from, in this order: ``$ANALYZER_FORMATS_DIR`` (``os.pathsep``-separated
directories), ``${XDG_CONFIG_HOME:-~/.config}/k8s-502-analyzer/formats`` when it exists,
then each ``--formats-dir``. Every ``*.toml`` in them is a spec like the bundled ones.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from analyzer.errors import FormatSpecError, FormatSpecErrors, UnknownFormatNameError
from analyzer.formats import FormatSpec, builtin, load_spec
from analyzer.formats.check import quick_problems, sample_problems

ENV_VAR = "ANALYZER_FORMATS_DIR"
CONFIG_SUBDIR = Path("k8s-502-analyzer") / "formats"


def _order(spec: FormatSpec) -> tuple[int, bool, str]:
    # Priority first, as for the bundled formats; at equal priority a built-in comes first,
    # so a user spec wins a sniffing tie only by declaring a higher priority.
    return (-spec.priority, not spec.builtin, spec.name)


@dataclass(frozen=True)
class Registry:
    """A set of format specs, highest priority first; names are unique."""

    specs: tuple[FormatSpec, ...]

    def get(self, name: str, *, subject: str | None = None) -> FormatSpec:
        """The spec called ``name``; ``subject`` names the asker in the error (``--as x``)."""
        for spec in self.specs:
            if spec.name == name:
                return spec
        raise UnknownFormatNameError(name, self.names(), subject)

    def names(self) -> list[str]:
        return [s.name for s in self.specs]

    def user(self) -> tuple[FormatSpec, ...]:
        return tuple(s for s in self.specs if not s.builtin)


@cache
def _builtin_registry() -> Registry:
    return Registry(tuple(sorted(builtin(), key=_order)))


_ACTIVE: ContextVar[Registry | None] = ContextVar("analyzer_formats", default=None)


def active() -> Registry:
    """The registry of the current ``using`` block, else the bundled formats."""
    return _ACTIVE.get() or _builtin_registry()


@contextmanager
def using(registry: Registry) -> Iterator[Registry]:
    """Make ``registry`` the one ``specs()``/``get()`` read until the block ends."""
    token = _ACTIVE.set(registry)
    try:
        yield registry
    finally:
        _ACTIVE.reset(token)


def specs() -> tuple[FormatSpec, ...]:
    """Every format of the active registry, highest priority first."""
    return active().specs


def get(name: str) -> FormatSpec:
    """The active registry's spec called ``name``."""
    return active().get(name)


def names() -> list[str]:
    return active().names()


def config_dirs(environ: dict[str, str] | None = None) -> list[Path]:
    """The user's spec directories from the environment: every ``$ANALYZER_FORMATS_DIR``
    entry (an error later if missing: it was asked for), and the config directory if it
    exists."""
    env = os.environ if environ is None else environ
    dirs = [Path(d).expanduser() for d in env.get(ENV_VAR, "").split(os.pathsep) if d]
    config_home = env.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    default = Path(config_home) / CONFIG_SUBDIR
    if default.is_dir():
        dirs.append(default)
    return dirs


def _spec_files(dirs: Iterable[str | Path]) -> tuple[list[Path], list[FormatSpecError]]:
    files: list[Path] = []
    problems: list[FormatSpecError] = []
    seen: set[Path] = set()
    for d in map(Path, dirs):
        if not d.is_dir():
            problems.append(FormatSpecError(str(d), "(directory)", "not a directory"))
            continue
        if d.resolve() in seen:  # the same directory twice (env and --formats-dir)
            continue
        seen.add(d.resolve())
        files.extend(sorted(p for p in d.glob("*.toml") if p.is_file()))
    return files, problems


def _merge(
    base: Sequence[FormatSpec], user: Sequence[FormatSpec]
) -> tuple[list[FormatSpec], list[FormatSpecError]]:
    """User specs join the base; a user spec may take a built-in's name only with
    ``override = true``, and never another user spec's."""
    by_name = {s.name: s for s in base}
    problems: list[FormatSpecError] = []
    for spec in user:
        old = by_name.get(spec.name)
        if old is not None and not old.builtin:
            problems.append(
                FormatSpecError(spec.path, "name", f"{spec.name!r} is also defined in {old.path}")
            )
            continue
        if old is not None and not spec.override:
            problems.append(
                FormatSpecError(
                    spec.path,
                    "name",
                    f"{spec.name!r} is a built-in format; rename it, or set override = true "
                    "to replace the built-in",
                )
            )
            continue
        by_name[spec.name] = spec
    return list(by_name.values()), problems


def _reference_problems(spec: FormatSpec, registry: Registry) -> list[FormatSpecError]:
    known = set(registry.names())
    return [
        FormatSpecError(spec.path, f"also[{i}]", str(UnknownFormatNameError(name, sorted(known))))
        for i, name in enumerate(spec.also)
        if name not in known
    ]


def load(
    dirs: Sequence[str | Path] = (), *, include_builtin: bool = True, samples: bool = True
) -> Registry:
    """The bundled formats (unless ``include_builtin`` is false) and every ``*.toml`` spec
    in ``dirs``, each spec's samples parsed (``samples``).

    Raises ``FormatSpecErrors`` listing every problem of every file.
    """
    files, problems = _spec_files(dirs)
    base = builtin() if include_builtin else ()
    if not files and not problems and include_builtin:
        return _builtin_registry()
    user: list[FormatSpec] = []
    for path in files:
        try:
            user.append(load_spec(path))
        except FormatSpecErrors as err:
            problems.extend(err.problems)
    merged, clashes = _merge(base, user)
    problems.extend(clashes)
    registry = Registry(tuple(sorted(merged, key=_order)))
    for spec in registry.user():
        refs = _reference_problems(spec, registry)
        problems.extend(refs)
        if samples and not refs:
            problems.extend(sample_problems(spec, registry))
            problems.extend(quick_problems(spec, registry))
    if problems:
        raise FormatSpecErrors(problems)
    return registry
