"""Opaque global IDs ("Type:key" base64url) and keyset cursors."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from domain.errors import InvalidInput


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64(value: str) -> str:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput(f"malformed id or cursor: {value!r}") from None


def to_global_id(type_name: str, key: object) -> str:
    return _b64(f"{type_name}:{key}")


def from_global_id(value: str, expected: str) -> str:
    """The key inside a global ID of type `expected`; BAD_USER_INPUT otherwise."""
    type_name, sep, key = _unb64(value).partition(":")
    if not sep or type_name != expected or not key:
        raise InvalidInput(f"not a {expected} id: {value!r}")
    return key


def int_key(value: str, expected: str) -> int:
    key = from_global_id(value, expected)
    if not key.isdigit():
        raise InvalidInput(f"not a {expected} id: {value!r}")
    return int(key)


def job_cursor(posted_at: datetime | None, job_id: int) -> str:
    stamp = posted_at.isoformat() if posted_at else ""
    return _b64(f"jobs.posted:{stamp}|{job_id}")


def parse_job_cursor(cursor: str) -> tuple[datetime, int]:
    kind, sep, rest = _unb64(cursor).partition(":")
    stamp, bar, key = rest.rpartition("|")
    if kind != "jobs.posted" or not sep or not bar or not key.isdigit():
        raise InvalidInput("cursor does not belong to this connection and order")
    try:
        return datetime.fromisoformat(stamp), int(key)
    except ValueError:
        raise InvalidInput("cursor does not belong to this connection and order") from None
