"""PostgreSQL API keys and trusted documents.

Takes anything asyncpg-shaped (`Pool` or `Connection`): the gateway looks keys up
through its read pool; the CLI creates and revokes through a plain connection. A
presented key is found by its public id (primary key), then its secret's hash is
compared in constant time, so response timing says nothing about the stored hash.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from domain.api_keys import ApiKey, ApiKeySpec, NewKey, hash_secret, mint_key, split_key
from domain.errors import InvalidInput, NotFound
from domain.viewer import Role

_COLUMNS = (
    "id, name, role, scopes, company_id, candidate_id, rate_limit, cost_budget,"
    " trusted_documents_only, prefix, created_at, revoked_at"
)
_INSERT = (
    "INSERT INTO api_keys (id, name, role, scopes, company_id, candidate_id, rate_limit,"
    " cost_budget, trusted_documents_only, key_hash, prefix)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
)
_BY_ID = f"SELECT {_COLUMNS}, key_hash FROM api_keys WHERE id = $1"  # noqa: S608
_LIST = f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at, id"  # noqa: S608
_REVOKE = (
    "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1"
    " RETURNING revoked_at"
)
_ADD_DOC = (
    "INSERT INTO trusted_documents (key_id, sha256, name) VALUES ($1, $2, $3)"
    " ON CONFLICT (key_id, sha256) DO NOTHING"
)
_IS_TRUSTED = "SELECT EXISTS (SELECT 1 FROM trusted_documents WHERE key_id = $1 AND sha256 = $2)"
_DOCS = "SELECT sha256, name FROM trusted_documents WHERE key_id = $1 ORDER BY name, sha256"


def _key_from_row(row: asyncpg.Record) -> ApiKey:
    spec = ApiKeySpec(
        name=row["name"],
        role=Role(row["role"]),
        scopes=frozenset(row["scopes"]),
        company_id=row["company_id"],
        candidate_id=row["candidate_id"],
        rate_limit=row["rate_limit"],
        cost_budget=row["cost_budget"],
        trusted_documents_only=row["trusted_documents_only"],
    )
    return ApiKey(row["id"], row["prefix"], spec, row["created_at"], row["revoked_at"])


class PgApiKeyRepository:
    def __init__(self, db: Any) -> None:
        """`db`: an asyncpg Pool or Connection."""
        self._db = db

    async def create(self, spec: ApiKeySpec) -> tuple[ApiKey, str]:
        """Store a new key; returns it with the plaintext key, which is never stored."""
        spec.check()
        new: NewKey = mint_key()
        s = spec
        try:
            await self._db.execute(
                _INSERT, new.id, s.name, s.role.value, sorted(s.scopes), s.company_id,
                s.candidate_id, s.rate_limit, s.cost_budget, s.trusted_documents_only,
                new.secret_hash, new.prefix,
            )  # fmt: skip
        except asyncpg.ForeignKeyViolationError:
            raise InvalidInput(f"no company with id {s.company_id}") from None
        row = await self._db.fetchrow(_BY_ID, new.id)
        return _key_from_row(row), new.plaintext

    async def get(self, key_id: str) -> ApiKey | None:
        row = await self._db.fetchrow(_BY_ID, key_id)
        return None if row is None else _key_from_row(row)

    async def all(self) -> list[ApiKey]:
        return [_key_from_row(r) for r in await self._db.fetch(_LIST)]

    async def revoke(self, key_id: str) -> ApiKey:
        """Revoke (idempotent: a revoked key keeps its first revocation time)."""
        if await self._db.fetchval(_REVOKE, key_id) is None:
            raise NotFound(f"no API key with id {key_id}")
        key = await self.get(key_id)
        assert key is not None
        return key

    async def lookup(self, presented: str) -> ApiKey | None:
        """The live key for a presented `hg_...` string; None if unknown, wrong or revoked."""
        parts = split_key(presented)
        if parts is None:
            return None
        key_id, secret = parts
        row = await self._db.fetchrow(_BY_ID, key_id)
        if row is None or not hmac.compare_digest(bytes(row["key_hash"]), hash_secret(secret)):
            return None
        key = _key_from_row(row)
        return None if key.revoked else key

    async def add_documents(self, key_id: str, documents: Sequence[tuple[str, str]]) -> int:
        """Register (sha256 hex, name) pairs for a key in one transaction; returns how
        many were new. Unknown key -> NotFound, and nothing is stored."""
        async with _connection(self._db) as conn, conn.transaction():
            if await conn.fetchrow(_BY_ID, key_id) is None:
                raise NotFound(f"no API key with id {key_id}")
            before = await conn.fetchval(
                "SELECT count(*) FROM trusted_documents WHERE key_id = $1", key_id
            )
            await conn.executemany(_ADD_DOC, [(key_id, sha, name) for sha, name in documents])
            after = await conn.fetchval(
                "SELECT count(*) FROM trusted_documents WHERE key_id = $1", key_id
            )
            return int(after - before)

    async def documents(self, key_id: str) -> list[tuple[str, str]]:
        return [(r["sha256"], r["name"]) for r in await self._db.fetch(_DOCS, key_id)]

    async def is_trusted(self, key_id: str, sha256_hex: str) -> bool:
        """Whether `sha256_hex` (of the exact document text) is registered for the key."""
        return bool(await self._db.fetchval(_IS_TRUSTED, key_id, sha256_hex.lower()))


@asynccontextmanager
async def _connection(db: Any) -> AsyncIterator[Any]:
    """A pool connection (acquired, then released), or the connection itself."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            yield conn
    else:
        yield db
