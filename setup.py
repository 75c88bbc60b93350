"""Build: the package, and by default a mypyc-compiled copy of the pure core (see docs/backtesting.md).

The core (``market_maker/core``) is compiled with mypyc from the very same sources when mypyc can build
it; ``MARKET_MAKER_COMPILE=0`` (or no mypyc in the build environment) installs the pure-Python package,
which behaves the same and passes the same tests. A compiler error fails the install (it says so).
One source of truth: nothing here is a second implementation.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent


def _ext_modules() -> list:
    if os.environ.get("MARKET_MAKER_COMPILE", "1") == "0":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("market_maker: mypyc not available: installing the pure-Python core", file=sys.stderr)
        return []
    # the core, and the backtester's replay loop (it drives the core once per event: hot path too);
    # market_maker/_compiled.py lists the same modules and decides at import which build runs
    spec = importlib.util.spec_from_file_location("_compiled", ROOT / "market_maker" / "_compiled.py")
    assert spec is not None and spec.loader is not None
    compiled = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compiled)  # alone: importing the package would pick a build already
    sources = [str(p.relative_to(ROOT)) for p in compiled.SOURCES.values()]
    # The build environment has no type stubs (types-PyYAML...), so a `type: ignore` that the stubs make
    # necessary looks unused there; the project's own type check (tox -e type) is the strict one.
    flags = ["--no-warn-unused-ignores"]
    return mypycify(flags + sources, opt_level="3", group_name=compiled.GROUP)


setup(ext_modules=_ext_modules())
