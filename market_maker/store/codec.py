"""Exact JSON documents for what the store keeps as text: core slots and the risk state dict.

Decimals are written as strings (every digit and the scale kept), enums as their values, FIFO lots as
pairs and trade-id sets as sorted lists. Decoding checks every field's type, so a damaged document is a
:class:`StoreError`, never a slot with a wrong number in it.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, fields, is_dataclass
from decimal import Decimal, InvalidOperation
from json.encoder import encode_basestring_ascii
from typing import Any

from market_maker.core.model import Side, SlotState
from market_maker.core.slots import Slot
from market_maker.store.errors import StoreError

_SPECIAL = frozenset({"level", "state", "side", "client_id", "lots", "trade_ids"})


def _defaults(cls: Any) -> dict[str, Any]:
    """Field name -> default of a dataclass or a NamedTuple (MISSING when there is none), in order."""
    if is_dataclass(cls):
        return {f.name: f.default for f in fields(cls)}
    return {name: cls._field_defaults.get(name, MISSING) for name in cls._fields}


_SLOT_DEFAULTS = _defaults(Slot)
SLOT_FIELDS = frozenset(_SLOT_DEFAULTS)


def _by_default(kind: type) -> frozenset[str]:
    # exact type: a bool default is an int too
    return frozenset(n for n, d in _SLOT_DEFAULTS.items() if n not in _SPECIAL and type(d) is kind)


# Plain fields are typed by their defaults, so a new int/Decimal/bool Slot field needs no change here.
_INTS = _by_default(int) | {"level"}
_DECIMALS = _by_default(Decimal)
_BOOLS = _by_default(bool)
_UNCOVERED = SLOT_FIELDS - _INTS - _DECIMALS - _BOOLS - _SPECIAL
if _UNCOVERED:  # a Slot field of another type must be taught to the codec, never dropped silently
    raise ImportError(f"store codec does not know how to store Slot fields {sorted(_UNCOVERED)}")

_DECIMAL_TAG = "$decimal"


# slot_to_json is on the order path (each commit writes a slot): the document's text is built from one
# template made here, keys in sorted order, so each call only fills in the values. The text is exactly
# json.dumps(doc, separators=(",", ":"), sort_keys=True) of the document (a unit test compares them).
_KEYS = tuple(sorted(_SLOT_DEFAULTS))
_KEY_POS = tuple(Slot._fields.index(k) for k in _KEYS)


def _placeholder(name: str) -> str:
    if name in _DECIMALS:
        return '"%s"'  # a Decimal's text is digits, sign, point, exponent: nothing JSON escapes
    # an int's str is its JSON text; the other fields are filled with JSON text (see slot_to_json)
    return "%s"


_TEMPLATE = "{" + ",".join(f'"{k}":{_placeholder(k)}' for k in _KEYS) + "}"
_BOOL_AT = tuple(i for i, k in enumerate(_KEYS) if k in _BOOLS)
_STATE, _SIDE, _CLIENT_ID, _LOTS, _TRADE_IDS = (
    _KEYS.index(k) for k in ("state", "side", "client_id", "lots", "trade_ids")
)


def slot_to_json(slot: Slot) -> str:
    """The slot as one exact JSON document (keys sorted, no spaces)."""
    v = [slot[i] for i in _KEY_POS]
    for i in _BOOL_AT:
        v[i] = "true" if v[i] else "false"
    v[_STATE] = f'"{slot.state.value}"'
    v[_SIDE] = "null" if slot.side is None else f'"{slot.side.value}"'
    v[_CLIENT_ID] = encode_basestring_ascii(slot.client_id)
    v[_LOTS] = "[" + ",".join([f"[{q:d},{p:d}]" for q, p in slot.lots]) + "]"
    v[_TRADE_IDS] = "[" + ",".join([f"{t:d}" for t in sorted(slot.trade_ids)]) + "]"
    return _TEMPLATE % tuple(v)


def slot_from_json(text: str, where: str) -> Slot:
    """The slot stored as ``text``; :class:`StoreError` naming ``where`` when the document is damaged."""
    try:
        doc = json.loads(text)
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        unknown = set(doc) - SLOT_FIELDS
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}")
        return Slot(**{k: _decode_field(k, v) for k, v in doc.items()})
    except (ValueError, TypeError, InvalidOperation) as e:
        raise StoreError(f"damaged slot document in {where}: {e}") from None


def _int(name: str, v: Any) -> int:
    if type(v) is not int:
        raise ValueError(f"{name} must be an integer, got {v!r}")
    return v


def _decode_field(name: str, v: Any) -> Any:
    if name in _INTS:
        return _int(name, v)
    if name in _DECIMALS:
        if not isinstance(v, str):
            raise ValueError(f"{name} must be a decimal string, got {v!r}")
        return Decimal(v)
    if name in _BOOLS:
        if type(v) is not bool:
            raise ValueError(f"{name} must be true or false, got {v!r}")
        return v
    if name == "state":
        return SlotState(v)
    if name == "side":
        return None if v is None else Side(v)
    if name == "client_id":
        if not isinstance(v, str):
            raise ValueError(f"client_id must be a string, got {v!r}")
        return v
    if name == "lots":
        if not isinstance(v, list) or not all(isinstance(lot, list) and len(lot) == 2 for lot in v):
            raise ValueError(f"lots must be a list of [steps, price] pairs, got {v!r}")
        return tuple((_int("lot steps", q), _int("lot price", p)) for q, p in v)
    if not isinstance(v, list):
        raise ValueError(f"trade_ids must be a list, got {v!r}")
    return frozenset(_int("trade id", t) for t in v)


def _tag_decimals(obj: Any, path: str) -> Any:
    if isinstance(obj, Decimal):
        return {_DECIMAL_TAG: str(obj)}
    if isinstance(obj, float):
        raise StoreError(f"risk state {path} is a float {obj!r}: store money as Decimal")
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise StoreError(f"risk state {path} has a non-string key {k!r}")
            out[k] = _tag_decimals(v, f"{path}.{k}")
        return out
    if isinstance(obj, list | tuple):
        return [_tag_decimals(v, f"{path}[{i}]") for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, str | int | bool):
        return obj
    raise StoreError(f"risk state {path} has a {type(obj).__name__} value, which cannot be stored")


def _untag(obj: dict[str, Any]) -> Any:
    if set(obj) == {_DECIMAL_TAG}:
        return Decimal(obj[_DECIMAL_TAG])
    return obj


def dict_to_json(state: dict[str, Any]) -> str:
    """A JSON document for a dict of plain values and Decimals (kept exact; tuples become lists)."""
    return json.dumps(_tag_decimals(state, "state"), separators=(",", ":"), sort_keys=True)


def dict_from_json(text: str, where: str) -> dict[str, Any]:
    """The dict stored by :func:`dict_to_json`, Decimals restored."""
    try:
        doc = json.loads(text, object_hook=_untag)
    except (ValueError, InvalidOperation) as e:
        raise StoreError(f"damaged risk document in {where}: {e}") from None
    if not isinstance(doc, dict):
        raise StoreError(f"damaged risk document in {where}: not a JSON object")
    return doc
