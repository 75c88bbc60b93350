"""Build: the package, and by default a mypyc-compiled copy of the pure core (see docs/backtesting.md).

The core (``market_maker/core``) is compiled with mypyc from the very same sources when mypyc can build
it; ``MARKET_MAKER_COMPILE=0`` (or a failed build) installs the pure-Python package, which behaves the
same and passes the same tests. One source of truth: nothing here is a second implementation.
"""

from __future__ import annotations

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
    sources = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "market_maker" / "core").glob("*.py")
        if p.name != "__init__.py"
    )
    return mypycify(sources, opt_level="3", group_name="market_maker_core")


setup(ext_modules=_ext_modules())
