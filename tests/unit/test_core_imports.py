"""The functional core imports only the standard library and itself (ARCHITECTURE.md §2)."""

import ast
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "market_maker" / "core"


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: inside the core by construction
                continue
            roots.add(node.module or "")
    return roots


def test_core_imports_only_stdlib_and_itself() -> None:
    files = sorted(CORE.glob("*.py"))
    assert files, "the core has no modules"
    offenders = []
    for path in files:
        for name in _imported_roots(path):
            top = name.split(".")[0]
            if name.startswith("market_maker.core") or top in sys.stdlib_module_names or top == "__future__":
                continue
            offenders.append(f"{path.name}: {name}")
    assert offenders == []
