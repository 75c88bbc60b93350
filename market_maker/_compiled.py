"""Which build of the compiled modules runs: mypyc's, or the same sources as plain Python.

``setup.py`` compiles the pure core (``market_maker/core``) and the backtester's replay loop with mypyc
into one group (one shared library, :data:`GROUP`); compiled modules of a group call each other
directly, so the group is used all or nothing. It is used only when its shared library is at least as
new as every one of its sources: after an edit or a checkout without a reinstall, or with
``MARKET_MAKER_PURE=1``, every compiled module is imported from its ``.py`` source instead, so a stale
build can never stand in for changed rules (in a source tree: an installed wheel is trusted as a whole).
Standard library only: this runs before anything else.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

GROUP = "market_maker_core"  # mypycify's group_name in setup.py
PACKAGE = Path(__file__).resolve().parent
_BACKTEST = ("replay", "engine", "fill_model")  # the replay loop: it drives the core once per event
# core.model's value types travel by pickle (the Durable engine's workflow outputs hold OrderSnapshot):
# mypyc's frozen native classes cannot be unpickled (restoring their fields trips the frozen guard)
_NOT_COMPILED = ("__init__", "model")
# module -> source, for every module setup.py compiles
SOURCES: dict[str, Path] = {
    **{
        f"market_maker.core.{p.stem}": p
        for p in sorted((PACKAGE / "core").glob("*.py"))
        if p.stem not in _NOT_COMPILED
    },
    **{f"market_maker.backtest.{n}": PACKAGE / "backtest" / f"{n}.py" for n in _BACKTEST},
}


def _group_library() -> Path | None:
    """The group's shared library (beside the package, where setuptools puts top-level modules)."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = PACKAGE.parent / f"{GROUP}__mypyc{suffix}"
        if path.exists():
            return path
    return None


def why_source() -> str:
    """Why the compiled modules must not be used now ('' when they may, or when there are none)."""
    lib = _group_library()
    if lib is None:
        return ""
    if os.environ.get("MARKET_MAKER_PURE", "") not in ("", "0"):
        return "MARKET_MAKER_PURE is set"
    if {"site-packages", "dist-packages"} & set(PACKAGE.parts):
        return ""  # an installed wheel: its sources and build were written together and are not edited
    built = lib.stat().st_mtime
    for src in SOURCES.values():
        if src.exists() and src.stat().st_mtime > built:
            return f"{src} changed since it was compiled (reinstall to compile it)"
    return ""


class _SourceFinder(importlib.machinery.PathFinder):
    """Finds the compiled modules from their ``.py`` sources (the compiled files are ignored)."""

    @classmethod
    def find_spec(
        cls, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        src = SOURCES.get(fullname)
        return importlib.util.spec_from_file_location(fullname, src) if src is not None else None


REASON = ""  # why the sources run although a compiled build is installed ('' otherwise)


def select() -> bool:
    """Install the source finder when the compiled build must not run; True when it runs compiled.

    Silent (the outputs of every command stay the same either way); :data:`REASON` says why, and the
    benchmarks print which build they measured."""
    global REASON
    REASON = why_source()
    if REASON:
        sys.meta_path.insert(0, _SourceFinder())
        return False
    return _group_library() is not None
