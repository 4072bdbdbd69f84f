"""Opaque global IDs ("Type:key", base64url) and keyset cursors.

A cursor names its connection, order field and direction, so a cursor from another
connection or order is refused with BAD_USER_INPUT instead of returning a wrong page.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from domain.errors import InvalidInput


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise InvalidInput(f"malformed id or cursor: {value!r}") from None


def to_global_id(type_name: str, key: object) -> str:
    return _b64(f"{type_name}:{key}".encode())


def parse_global_id(value: str) -> tuple[str, str]:
    """(type name, key) of a global ID; BAD_USER_INPUT when it is not one."""
    try:
        type_name, sep, key = _unb64(value).decode().partition(":")
    except UnicodeDecodeError:
        raise InvalidInput(f"malformed id: {value!r}") from None
    if not sep or not type_name or not key:
        raise InvalidInput(f"malformed id: {value!r}")
    return type_name, key


def from_global_id(value: str, expected: str) -> str:
    type_name, key = parse_global_id(value)
    if type_name != expected:
        raise InvalidInput(f"not a {expected} id: {value!r}")
    return key


def int_key(value: str, expected: str) -> int:
    key = from_global_id(value, expected)
    if not key.isdigit() or len(key) > 18:
        raise InvalidInput(f"not a {expected} id: {value!r}")
    return int(key)


def _as_datetime(value: Any) -> datetime:
    return datetime.fromisoformat(value)


# Value types of each order's sort key, in order; the last one is the unique tie-breaker.
_DECODERS: dict[str, tuple[Callable[[Any], Any], ...]] = {
    "jobs:posted_at": (_as_datetime, int),
    "jobs:salary_max": (int, int),
    "jobs:relevance": (float, int),
    "companies:name": (str, int),
    "companies:created_at": (_as_datetime, int),
    "candidates:updated_at": (_as_datetime, str),
    "candidates:years_experience": (int, str),
    "applications:applied_at": (_as_datetime, int),
}


def encode_cursor(kind: str, key: tuple[object, ...]) -> str:
    return _b64(orjson.dumps([kind, list(key)]))


def decode_cursor(cursor: str, kind: str) -> tuple[object, ...]:
    """The sort key inside `cursor`, which must have been issued for `kind`."""
    wrong = InvalidInput("cursor does not belong to this connection and order")
    try:
        got_kind, values = orjson.loads(_unb64(cursor))
    except (orjson.JSONDecodeError, ValueError, TypeError):
        raise wrong from None
    decoders = _DECODERS.get(kind.rsplit(":", 1)[0])
    if got_kind != kind or decoders is None or len(values) != len(decoders):
        raise wrong
    try:
        return tuple(decode(v) for decode, v in zip(decoders, values, strict=True))
    except (ValueError, TypeError):
        raise wrong from None
