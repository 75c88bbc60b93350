"""The functional core: pure trading logic, standard library only (see docs/architecture.md).

The same sources may also be installed compiled by mypyc (``setup.py``), several times faster. The
compiled modules are used only when every one of them is at least as new as its source: after an edit
(or a checkout) without a reinstall, or with ``MARKET_MAKER_PURE=1``, the whole core runs from source,
so a stale build can never stand in for changed rules (compiled modules call each other directly, so
it is all or nothing).
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

_HERE = Path(__file__).resolve().parent
_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)


def _compiled_modules() -> dict[str, Path]:
    """Module name -> its compiled file, for the core modules that have one next to their source."""
    found: dict[str, Path] = {}
    for path in _HERE.iterdir():
        for suffix in _SUFFIXES:
            if path.name.endswith(suffix):
                found[path.name[: -len(suffix)]] = path
    return found


def _use_source() -> str:
    """Why the core must run from source ('' when the compiled modules may be used)."""
    compiled = _compiled_modules()
    if not compiled:
        return ""
    if os.environ.get("MARKET_MAKER_PURE", "") not in ("", "0"):
        return "MARKET_MAKER_PURE is set"
    for name, so in compiled.items():
        src = _HERE / f"{name}.py"
        if src.exists() and src.stat().st_mtime > so.stat().st_mtime:
            return f"{src.name} changed since it was compiled (reinstall to compile it again)"
    return ""


class _SourceFinder(importlib.machinery.PathFinder):
    """Finds ``market_maker.core.*`` from the ``.py`` sources only (the compiled files are ignored)."""

    @classmethod
    def find_spec(
        cls, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if not fullname.startswith(__name__ + "."):
            return None
        name = fullname.rpartition(".")[2]
        src = _HERE / f"{name}.py"
        if not src.exists():
            return None
        return importlib.util.spec_from_file_location(fullname, src)


COMPILED = False  # True when the core runs compiled (see the module docstring)
_why = _use_source()
if _why:
    sys.meta_path.insert(0, _SourceFinder())
    if os.environ.get("MARKET_MAKER_PURE", "") in ("", "0"):
        print(f"market_maker: running the pure-Python core: {_why}", file=sys.stderr)
else:
    COMPILED = bool(_compiled_modules())
