"""Automatic persisted queries: Apollo's APQ protocol, resolved before the guard's checks.

A client sends `extensions: {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}`
(in a POST body, or as the JSON `extensions` parameter of a GET):
- without `query`: the text stored under the hash runs as if it had been sent; an
  unknown hash is PERSISTED_QUERY_NOT_FOUND, message "PersistedQueryNotFound" (what
  Apollo's clients look for to resend with the text), 200 and `Cache-Control:
  private, no-cache, must-revalidate` so no CDN keeps the miss;
- with `query`: the hash must be the SHA-256 hex of the exact UTF-8 text, else
  PERSISTED_QUERY_HASH_MISMATCH, 400 (as Apollo Router); the text is stored only once
  the operation has passed every check of the guard, then runs.
A version other than 1, or a malformed `persistedQuery`, is BAD_REQUEST (400). With APQ
disabled, any `persistedQuery` is PERSISTED_QUERY_NOT_SUPPORTED (200, not cached), on
which Apollo's clients stop sending hashes.

Resolution only produces the operation the client could have sent in full: `query`
filled in and `persistedQuery` dropped from `extensions`, so the guard checks it and the
executors run it exactly as that full request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from datasources.cache.apq import ApqStore
from domain.api_keys import document_hash
from domain.errors import HireGraphError

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
HTTP_STATUS = {HASH_MISMATCH: 400}  # NOT_FOUND and NOT_SUPPORTED are 200, as Apollo's
# Apollo's header on persisted-query errors: the next request (with the text) will succeed.
NO_STORE = {"Cache-Control": "private, no-cache, must-revalidate"}
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class PersistedQueryError(HireGraphError):
    """A persisted-query request refused before any check or execution."""

    def __init__(self, code: str, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.code = code
        self.extensions: dict[str, object] = {}
        self.headers = dict(headers or {})


@dataclass(frozen=True, slots=True)
class Resolved:
    operation: dict[str, Any]  # as if sent in full: `query` set, no `persistedQuery`
    register: str | None = None  # the hash to store once admitted (the text was sent)


class PersistedQueries:
    """Built once by the lifespan; `store` None means APQ is disabled."""

    def __init__(self, store: ApqStore | None) -> None:
        self.store = store

    async def resolve(self, op: Mapping[str, Any]) -> Resolved | None:
        """The operation to check and run instead of `op`, or None when `op` does not use
        APQ. Raises PersistedQueryError."""
        extensions = op.get("extensions")
        if not isinstance(extensions, Mapping) or "persistedQuery" not in extensions:
            return None
        if self.store is None:
            raise PersistedQueryError(NOT_SUPPORTED, "PersistedQueryNotSupported", NO_STORE)
        sha256_hex = _hash_of(extensions["persistedQuery"])
        operation = {k: v for k, v in op.items() if k != "extensions"}
        rest = {k: v for k, v in extensions.items() if k != "persistedQuery"}
        if rest:
            operation["extensions"] = rest
        query = op.get("query")
        if query is None:
            text = await self.store.get(sha256_hex)
            if text is None:
                raise PersistedQueryError(NOT_FOUND, "PersistedQueryNotFound", NO_STORE)
            return Resolved({**operation, "query": text})
        if not isinstance(query, str):
            return Resolved(operation)  # the guard refuses a non-string query
        if document_hash(query) != sha256_hex:
            raise PersistedQueryError(HASH_MISMATCH, "provided sha does not match query")
        return Resolved(operation, register=sha256_hex)

    async def register(self, sha256_hex: str, query: str) -> None:
        """Store an admitted operation's text (a failure is logged and skipped)."""
        if self.store is not None:
            await self.store.put(sha256_hex, query)


def _hash_of(persisted: object) -> str:
    if not isinstance(persisted, Mapping) or not isinstance(persisted.get("sha256Hash"), str):
        raise PersistedQueryError(
            "BAD_REQUEST",
            '`extensions.persistedQuery` must be {"version": 1, "sha256Hash": "<sha256 hex>"}.',
        )
    version = persisted.get("version")
    if version != 1 or isinstance(version, bool):  # True == 1 in Python, not in JSON
        raise PersistedQueryError("BAD_REQUEST", "Unsupported persisted query version")
    sha256_hex: str = persisted["sha256Hash"].lower()
    if not _SHA256_HEX.fullmatch(sha256_hex):
        raise PersistedQueryError(
            "BAD_REQUEST", "`sha256Hash` must be the 64 hex digits of a SHA-256."
        )
    return sha256_hex


__all__ = ["NO_STORE", "PersistedQueries", "PersistedQueryError", "Resolved"]
