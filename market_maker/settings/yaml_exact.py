"""YAML in and out without floats: numbers keep their exact text.

PyYAML's safe loader turns ``0.1`` into a binary float and ``010`` into the octal 8. Money must not pass
through either, so this loader builds a ``Decimal`` from the text of every float scalar, keeps only plain
base-10 integers as ``int`` and leaves every other number-like form (hex, octal, sexagesimal) as its
text for the validation to accept or reject. Duplicate keys are an error instead of "last one wins".
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

_PLAIN_INT = re.compile(r"^[-+]?[0-9][0-9_]*$")
_SPECIAL_FLOATS = {".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}


class ExactLoader(yaml.SafeLoader):
    """Safe loader: floats become Decimal, odd integer spellings stay text, duplicate keys fail."""


def _construct_float(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal | str:
    text = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    cleaned = _SPECIAL_FLOATS.get(text.lower(), text.replace("_", ""))
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return text  # e.g. sexagesimal "1:30.5": left for validation to reject with the text shown


def _construct_int(loader: yaml.SafeLoader, node: yaml.Node) -> int | str:
    text = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    # "010" must not silently become the octal 8; leading zeros are read as base 10 by validation.
    if _PLAIN_INT.match(text) and not re.match(r"^[-+]?0[0-9_]", text):
        try:
            return int(text.replace("_", ""))
        except ValueError:  # beyond Python's 4300-digit limit: left as text, validation rejects it
            return text
    return text


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.Node) -> dict[Any, Any]:
    assert isinstance(node, yaml.MappingNode)
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            ) from None
        if key in result:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
    return result


ExactLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
ExactLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
ExactLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def load_yaml(text: str) -> Any:
    """Parse YAML text with :class:`ExactLoader`; raises ``yaml.YAMLError`` on bad YAML (nesting deeper
    than the parser's recursion can follow included)."""
    try:
        return yaml.load(text, Loader=ExactLoader)  # ExactLoader is a SafeLoader subclass
    except RecursionError:
        raise yaml.YAMLError("nested too deeply") from None


def parse_scalar(text: str) -> Any:
    """One value written as a YAML scalar (an environment override): ``20`` -> 20, ``0.5`` -> Decimal.

    Text that is not valid YAML on its own (``a: b: c``) is returned unchanged, as a string.
    """
    try:
        value = load_yaml(text)
    except yaml.YAMLError:
        return text
    return text if value is None and text.strip() not in ("", "~", "null", "Null", "NULL") else value


class ExactDumper(yaml.SafeDumper):
    """Safe dumper that writes a Decimal as a plain number with all its digits."""


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    if not value.is_finite():
        return dumper.represent_str(str(value))
    text = format(value, "f")
    tag = "tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int"
    return dumper.represent_scalar(tag, text)


ExactDumper.add_representer(Decimal, _represent_decimal)


def dump_yaml(data: Any) -> str:
    """YAML text for plain data (dicts, lists, str, int, bool, None, Decimal), keys in given order."""
    return yaml.dump(data, Dumper=ExactDumper, sort_keys=False, default_flow_style=False, allow_unicode=True)
