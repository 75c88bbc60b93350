"""Every command names its exit codes from the one table, market_maker/exit_codes.py."""

import ast
from pathlib import Path

import market_maker.exit_codes as codes

ROOT = Path(__file__).resolve().parents[2]
# where exit codes are returned: the verbs, the command line, the start-up errors, the control verbs
FILES = [
    *sorted((ROOT / "market_maker" / "commands").glob("*.py")),
    ROOT / "market_maker" / "cli.py",
    ROOT / "actors" / "system.py",
]


def _int_literals(node: ast.AST | None) -> list[int]:
    """Integers written as the value itself: ``2``, ``0 if ok else 1``."""
    if isinstance(node, ast.IfExp):
        return _int_literals(node.body) + _int_literals(node.orelse)
    if isinstance(node, ast.Constant) and type(node.value) is int:  # bool is not an exit code
        return [node.value]
    return []


def test_no_command_returns_a_bare_exit_code() -> None:
    offenders = []
    for path in FILES:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Return) and _int_literals(node.value):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            is_start_error = isinstance(node, ast.Call) and getattr(node.func, "id", "") == "StartError"
            if is_start_error and any(_int_literals(a) for a in node.args[1:]):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name | ast.Tuple) and "EXIT_" in ast.unparse(t) for t in node.targets
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} defines its own exit codes")
    assert offenders == []


def test_one_table_of_distinct_codes() -> None:
    table = {name: value for name, value in vars(codes).items() if name.startswith("EXIT_")}
    assert table == {"EXIT_OK": 0, "EXIT_ERROR": 1, "EXIT_USAGE": 2, "EXIT_NOT_RUNNING": 3, "EXIT_UNSAFE": 4}
