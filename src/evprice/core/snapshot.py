"""Immutable values of mutable state: what ``env.snapshot()`` is made of.

:func:`freeze` turns the pieces of an environment's state (numpy arrays, dicts of them,
lists, numbers, a random generator's state dict) into a value nothing can change: arrays
become read-only copies, dicts :class:`FrozenDict`, lists tuples. :func:`thaw` turns such a
value back into fresh, writable state, so that restoring a snapshot twice gives two
independent copies and stepping after a restore never writes into the snapshot.

Both are plain recursive functions; frozen values pickle (a snapshot can be stored next to
a checkpoint).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np


class FrozenDict(Mapping):
    """A read-only, picklable mapping: the frozen form of a dict."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, Any] | None = None) -> None:
        object.__setattr__(self, "_items", dict(items or {}))

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a FrozenDict cannot be changed")

    def __repr__(self) -> str:
        return f"FrozenDict({self._items!r})"

    def __reduce__(self):
        return (type(self), (self._items,))


def freeze(value: Any) -> Any:
    """An immutable copy of ``value``: arrays read-only copies, dicts :class:`FrozenDict`,
    lists and tuples tuples (recursively); numbers, strings, None and frozen values as they are.

    Raises ``TypeError`` for anything else (a generator, an open file, an arbitrary object):
    a snapshot holds values, and a generator's state goes in as ``bit_generator.state``.
    """
    if isinstance(value, np.ndarray):
        out = value.copy()
        out.setflags(write=False)
        return out
    if isinstance(value, Mapping):
        return FrozenDict({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if value is None or isinstance(value, (bool, int, float, complex, str, np.generic)):
        return value
    raise TypeError(f"cannot freeze a {type(value).__name__} into a snapshot: only arrays, dicts, lists and numbers")


def thaw(value: Any) -> Any:
    """Fresh mutable state from a :func:`freeze` value: writable array copies, dicts, tuples."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(thaw(v) for v in value)
    return value


ARRAY_TAG = "__ndarray__"
"""Marks an encoded array in a :func:`to_plain` value."""


def to_plain(value: Any, encode_array: Any = None) -> Any:
    """``value`` (frozen or not) as plain data for a file: dicts, tuples, numbers, strings,
    None, and arrays as ``encode_array(a)`` (default: ``{ARRAY_TAG: dtype, "shape": [...],
    "data": bytes}``, exact for every dtype, inf and NaN included). :func:`from_plain` inverts it."""
    encode = encode_array or _array_to_bytes
    if isinstance(value, np.ndarray):
        return encode(value)
    if isinstance(value, Mapping):
        return {k: to_plain(v, encode) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return tuple(to_plain(v, encode) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def from_plain(value: Any, decode_array: Any = None) -> Any:
    """The frozen value a :func:`to_plain` value stands for (arrays read-only, dicts :class:`FrozenDict`)."""
    decode = decode_array or _array_from_bytes
    if isinstance(value, Mapping):
        if ARRAY_TAG in value:
            return freeze(decode(value))
        return FrozenDict({k: from_plain(v, decode) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(from_plain(v, decode) for v in value)
    return value


def _array_to_bytes(a: np.ndarray) -> dict[str, Any]:
    a = np.ascontiguousarray(a)
    return {ARRAY_TAG: a.dtype.str, "shape": list(a.shape), "data": a.tobytes()}


def _array_from_bytes(plain: Mapping[str, Any]) -> np.ndarray:
    data = plain["data"]
    raw = data if isinstance(data, bytes) else bytes(data)
    return np.frombuffer(raw, dtype=np.dtype(plain[ARRAY_TAG])).reshape(plain["shape"]).copy()
