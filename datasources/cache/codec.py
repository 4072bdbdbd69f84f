"""Records <-> bytes for the entity cache: orjson over positional field values.

A record is encoded as a JSON array of its field values in field order (no field names:
the key's shape digest already pins the order and types), enums as their values,
datetimes as ISO 8601 strings with their offset, tuples as arrays, nested records as
nested arrays. Decoding walks the record's type hints once per class (converters are
built when the codec is) and builds the frozen record with `domain.records.builder`.

The round trip is exact or refused: a value that JSON would change (a non-finite float,
a free-form `attributes` value that is not plain JSON, e.g. a BSON datetime or a tuple)
raises `Uncacheable` at encode time, and the caller serves the record uncached.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Generic, TypeVar, Union, get_args, get_origin, get_type_hints

import orjson

from domain.records import builder

R = TypeVar("R")
Convert = Callable[[Any], Any]


class Uncacheable(ValueError):
    """The value would not survive a JSON round trip unchanged."""


def _same(value: Any) -> Any:
    return value


def _check_float(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise Uncacheable(f"non-finite float {value!r}")
    return value


def _check_json(value: Any) -> Any:
    """Plain JSON only (str keys; no tuples, datetimes or other driver types)."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return _check_float(value)
    if type(value) is list:
        for item in value:
            _check_json(item)
        return value
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise Uncacheable(f"non-string key {key!r}")
            _check_json(item)
        return value
    raise Uncacheable(f"not plain JSON: {type(value).__name__}")


def _optional(inner: Convert) -> Convert:
    return lambda v: None if v is None else inner(v)


def _converters(hint: Any) -> tuple[Convert, Convert]:
    """(encode, decode) for one type hint; encode yields what orjson writes natively."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"unsupported union {hint!r}")
        enc, dec = _converters(args[0])
        return _optional(enc), _optional(dec)
    if origin is tuple:
        item, ellipsis = get_args(hint)
        if ellipsis is not Ellipsis:
            raise TypeError(f"only tuple[X, ...] is supported, not {hint!r}")
        enc, dec = _converters(item)
        if enc is _same and dec is _same:
            return list, tuple
        return (lambda v: [enc(x) for x in v]), (lambda v: tuple(dec(x) for x in v))
    if origin is dict or hint is Any:
        return _check_json, _same
    if is_dataclass(hint):
        return _record_converters(hint)  # type: ignore[arg-type]
    if isinstance(hint, type) and issubclass(hint, Enum):
        return (lambda v: v.value), hint
    if hint is datetime:
        return (lambda v: v.isoformat()), datetime.fromisoformat
    if hint is float:
        return _check_float, _same
    if hint in (int, str, bool):
        return _same, _same
    raise TypeError(f"unsupported field type {hint!r}")


def _record_converters(cls: type) -> tuple[Convert, Convert]:
    hints = get_type_hints(cls)
    names = [f.name for f in fields(cls)]
    pairs = [_converters(hints[name]) for name in names]
    build: Callable[..., Any] = builder(cls)
    getters = [(name, enc) for name, (enc, _) in zip(names, pairs, strict=True)]
    setters = [(name, dec) for name, (_, dec) in zip(names, pairs, strict=True)]

    def encode(record: Any) -> list[Any]:
        return [enc(getattr(record, name)) for name, enc in getters]

    def decode(values: list[Any]) -> Any:
        if len(values) != len(setters):
            raise ValueError(f"{cls.__name__}: {len(values)} values for {len(setters)} fields")
        return build(**{name: dec(v) for (name, dec), v in zip(setters, values, strict=True)})

    return encode, decode


class RecordCodec(Generic[R]):
    """Encodes and decodes one record class; build once per class (at start-up)."""

    def __init__(self, cls: type[R]) -> None:
        if not is_dataclass(cls):
            raise TypeError(f"{cls!r} is not a record")
        self.cls = cls
        self._encode, self._decode = _record_converters(cls)

    def encode(self, record: R) -> bytes:
        """Raises `Uncacheable` when the record would not come back equal."""
        try:
            return orjson.dumps(self._encode(record))
        except orjson.JSONEncodeError as error:  # e.g. an int beyond 64 bits
            raise Uncacheable(str(error)) from error

    def decode(self, data: bytes) -> R:
        """Raises ValueError (or TypeError) on bytes that are not an entry of this shape."""
        record: R = self._decode(orjson.loads(data))
        return record
