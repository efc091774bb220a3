"""Simulated log bundles: a scenario's files in real formats, and the truth behind them.

``simulate(name, params)`` builds a scenario's ``Bundle``: the hand-built story scenarios
(``story.SCENARIOS``) return one directly; the world scenarios (``registry.WORLDS``) build a
``World`` that ``writers.render`` prints. ``write(bundle, out_dir)`` puts it on disk with
``truth.json`` at the root.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from pathlib import Path

from analyzer.simulate.model import Bundle, Params

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def parse_size(text: str) -> int:
    """``"10MB"`` -> 10_000_000, ``"1GB"``, ``"500k"``, ``"2048"`` (bytes); ``ValueError``
    for anything else. ``KiB``/``MiB``/``GiB`` are powers of 1024."""
    m = _SIZE.match(text)
    if not m:
        msg = f"bad size {text!r} (use e.g. 500k, 10MB, 1GB)"
        raise ValueError(msg)
    number, unit, suffix = m.groups()
    if unit and suffix.lower().startswith("i"):  # KiB, MiB, ...
        base = 1024 ** ("kmgt".index(unit.lower()) + 1)
    else:
        base = _UNITS[unit.lower()]
    size = int(float(number) * base)
    if size <= 0:
        msg = f"bad size {text!r}: must be positive"
        raise ValueError(msg)
    return size


def _worlds() -> dict[str, Callable]:
    """The world scenarios (imported on first use: numpy and the engine load only then)."""
    from analyzer.simulate.registry import WORLDS

    return dict(WORLDS)


def _stories() -> dict[str, Callable[[Params], Bundle]]:
    from analyzer.simulate.story import SCENARIOS

    return dict(SCENARIOS)


def scenario_names() -> list[str]:
    return sorted({*_stories(), *_worlds()})


def proxies_for(name: str) -> tuple[str | None, ...]:
    """The proxies scenario ``name`` is written for, the default first (``None``: the story,
    which has its own)."""
    if name in _stories():
        return (None,)
    from analyzer.simulate.registry import proxies

    return proxies(name)


def describe(name: str) -> str:
    """One line on what scenario ``name`` plants."""
    stories = _stories()
    if name in stories:
        return (stories[name].__doc__ or "").strip().splitlines()[0]
    from analyzer.simulate.registry import describe as world_description

    return world_description(name)


def simulate(name: str, params: Params | None = None) -> Bundle:
    """The bundle of scenario ``name``; ``KeyError`` (listing the names) if there is none."""
    params = params or Params()
    stories = _stories()
    if name in stories:
        return stories[name](params)
    worlds = _worlds()
    if name in worlds:
        from analyzer.simulate.writers import render

        world, truth = worlds[name](params)
        return render(world, truth)
    msg = f"unknown scenario {name!r}; known: {', '.join(scenario_names())}"
    raise KeyError(msg)


def write(bundle: Bundle, out_dir: str | Path) -> list[Path]:
    """Write every file of ``bundle`` under ``out_dir`` (``.gz`` paths gzipped) and
    ``truth.json``; returns the paths written."""
    out = Path(out_dir)
    written: list[Path] = []
    for rel, chunks in bundle.files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith(".gz"):
            with (
                open(path, "wb") as raw,
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as fh,
            ):
                for chunk in chunks():
                    fh.write(chunk)
        else:
            with open(path, "wb") as fh:
                for chunk in chunks():
                    fh.write(chunk)
        written.append(path)
    truth = out / "truth.json"
    out.mkdir(parents=True, exist_ok=True)
    truth.write_text(bundle.truth.to_json())
    written.append(truth)
    return written
