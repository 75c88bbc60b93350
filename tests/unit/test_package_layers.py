"""Imports between packages point one way (docs/architecture.md, "Layers").

Every module of ``market_maker/`` and ``actors/`` is parsed with ``ast`` (imports inside functions
and under ``TYPE_CHECKING`` count too). A unit is a package of ``market_maker`` (``core``, ``ops``,
...), a top-level module of it (``config``, ``cli``, ...) or ``actors``. Each import of another unit
must be allowed by :data:`LAYERS`, and the units' import graph has no cycle. A new unit fails here
until it has a row: decide where it sits before it grows arrows.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Set
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# unit -> the units it may import (besides itself, the standard library and third-party packages),
# bottom layer first. Only the commands, which start the bot, import the actors.
LAYERS: dict[str, frozenset[str]] = {
    "core": frozenset(),  # pure: the standard library only (tests/unit/test_core_imports.py)
    "exchange": frozenset({"core"}),
    "store": frozenset({"core"}),
    "sim": frozenset({"core"}),
    "exit_codes": frozenset(),  # the one table of process exit codes
    "settings": frozenset({"core", "sim"}),
    "config": frozenset({"core", "settings"}),
    "backtest": frozenset({"core", "settings", "config"}),
    "durable": frozenset({"core", "settings", "exchange", "store"}),
    "engines": frozenset({"core", "settings", "config", "exchange", "store", "durable"}),
    "startup": frozenset({"core", "settings", "config", "exchange"}),
    "ops": frozenset({"core", "settings", "config", "exchange", "store", "sim", "startup"}),
    "actors": frozenset(
        {"core", "settings", "config", "exchange", "store", "startup", "engines", "ops", "exit_codes"}
    ),
    "cli": frozenset({"exit_codes"}),  # finds the verbs by name (importlib), imports none of them but that
    "commands": frozenset(
        {
            "core",
            "settings",
            "config",
            "exchange",
            "store",
            "sim",
            "backtest",
            "durable",
            "engines",
            "startup",
            "ops",
            "actors",
            "cli",
            "exit_codes",
        }
    ),
    "__main__": frozenset({"cli"}),
    "_compiled": frozenset(),  # picks the compiled or the source build before anything else loads
    "__init__": frozenset({"_compiled"}),
}


def _sources() -> Iterator[Path]:
    for top in ("market_maker", "actors"):
        yield from sorted((ROOT / top).rglob("*.py"))


def _module_of(path: Path) -> tuple[list[str], bool]:
    """(dotted parts of the module, whether it is a package's ``__init__``)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        return parts[:-1], True
    return parts, False


def unit_of(module: str) -> str | None:
    """The unit a dotted module name belongs to; None outside the project."""
    parts = module.split(".")
    if parts[0] == "actors":
        return "actors"
    if parts[0] != "market_maker":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute dotted module) of every import in ``path``."""
    parts, is_package = _module_of(path)
    package = parts if is_package else parts[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            if base in ("market_maker", "") or node.module is None:
                # `from market_maker import config` / `from . import x`: the names are modules
                for alias in node.names:
                    yield node.lineno, f"{base}.{alias.name}" if base else alias.name
            else:
                yield node.lineno, base


def unit_graph() -> tuple[dict[str, set[str]], list[str]]:
    """The units' import graph, and one line per import that :data:`LAYERS` does not allow."""
    graph: dict[str, set[str]] = {}
    wrong: list[str] = []
    for path in _sources():
        source = unit_of(".".join(_module_of(path)[0]))
        assert source is not None
        graph.setdefault(source, set())
        for line, module in imports_of(path):
            target = unit_of(module)
            if target is None or target == source:
                continue
            graph[source].add(target)
            allowed = LAYERS.get(source)
            if allowed is None:
                wrong.append(f"{path.relative_to(ROOT)}: unit {source!r} has no row in LAYERS")
            elif target not in allowed:
                wrong.append(
                    f"{path.relative_to(ROOT)}:{line} imports {module}: {source} may import only "
                    f"{', '.join(sorted(allowed)) or 'the standard library'}"
                )
    return graph, wrong


def find_cycle(graph: Mapping[str, Set[str]]) -> list[str]:
    """One cycle of ``graph`` as a path ``[a, b, ..., a]``; empty when there is none."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str]:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return []
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            cycle = visit(nxt)
            if cycle:
                return cycle
        path.pop()
        done.add(node)
        return []

    for start in sorted(graph):
        cycle = visit(start)
        if cycle:
            return cycle
    return []


def test_every_import_between_units_is_allowed() -> None:
    graph, wrong = unit_graph()
    assert {"core", "actors", "commands", "ops"} <= graph.keys(), "the sources were not found"
    assert wrong == []


def test_no_cycle_between_units() -> None:
    graph, _ = unit_graph()
    assert find_cycle(graph) == []


def test_the_layers_themselves_have_no_cycle() -> None:
    """So that an import the table allows can never close a cycle."""
    assert find_cycle(LAYERS) == []
    assert {u for u, allowed in LAYERS.items() if "actors" in allowed} == {"commands"}


def test_a_cycle_is_found() -> None:
    assert find_cycle({"ops": {"store"}, "store": {"core", "ops"}, "core": set()}) == ["ops", "store", "ops"]
    assert find_cycle({"ops": {"store"}, "store": {"core"}, "core": set()}) == []
