"""The base of the core's small immutable values that are built once or more per order event.

A frozen dataclass would do, but the compiled build keeps a dataclass's generated ``__init__`` in
Python (it sets every field through ``object.__setattr__``): building one costs microseconds, and a
backtest builds tens of thousands of them. A plain class with ``Final`` fields compiles to a native
class built in a fraction of that, and its fields are just as read-only (mypy refuses a write; the
compiled class refuses it at run time). This base gives such classes what the dataclass gave:
equality and hashing by value (same class, same fields), and a ``repr`` naming the fields.
"""

from __future__ import annotations

from typing import ClassVar


class Value:
    """Compared, hashed and shown by its fields (:attr:`FIELDS`, in order; :meth:`_key` their values)."""

    __slots__ = ()
    FIELDS: ClassVar[tuple[str, ...]] = ()

    def _key(self) -> tuple[object, ...]:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Value)
        return self._key() == other._key()

    def __ne__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Value)
        return self._key() != other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        values = ", ".join(f"{n}={v!r}" for n, v in zip(self.FIELDS, self._key(), strict=True))
        return f"{type(self).__name__}({values})"
