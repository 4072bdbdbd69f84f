"""API keys and trusted documents against a real PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import asyncpg
import pytest

from datasources.postgres.api_keys import PgApiKeyRepository
from datasources.postgres.engine import asyncpg_dsn
from datasources.postgres.reader import create_pool
from domain.api_keys import ApiKeySpec, document_hash
from domain.errors import InvalidInput, NotFound
from domain.viewer import Role, Viewer

pytestmark = pytest.mark.integration

PARTNER = ApiKeySpec(
    name="partner",
    role=Role.RECRUITER,
    scopes=frozenset({"jobs:read"}),
    company_id=1,
    rate_limit="5000/minute",
    cost_budget=2000,
    trusted_documents_only=True,
)


@pytest.fixture
async def conn(pg_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(asyncpg_dsn(pg_url))
    await conn.execute("INSERT INTO companies (id, slug, name, industry) VALUES (1,'a','A','x')")
    yield conn
    await conn.close()


async def test_create_then_lookup_maps_to_a_viewer(conn: asyncpg.Connection) -> None:
    repo = PgApiKeyRepository(conn)
    key, plaintext = await repo.create(PARTNER)
    assert plaintext.startswith(f"hg_{key.id}_")
    assert plaintext.startswith(key.prefix)
    found = await repo.lookup(plaintext)
    assert found == key
    assert found.viewer() == Viewer(
        role=Role.RECRUITER,
        company_id=1,
        scopes=frozenset({"jobs:read"}),
        api_key_id=key.id,
        cost_budget=2000,
        rate_limit="5000/minute",
        trusted_documents_only=True,
    )


async def test_only_the_hash_of_the_secret_is_stored(conn: asyncpg.Connection) -> None:
    key, plaintext = await PgApiKeyRepository(conn).create(PARTNER)
    secret = plaintext.split("_", 2)[2]
    row = await conn.fetchrow("SELECT * FROM api_keys WHERE id = $1", key.id)
    assert bytes(row["key_hash"]) == hashlib.sha256(secret.encode()).digest()
    assert all(secret not in str(value) for value in row.values())


async def test_wrong_unknown_or_malformed_keys_are_not_found(conn: asyncpg.Connection) -> None:
    repo = PgApiKeyRepository(conn)
    _, plaintext = await repo.create(PARTNER)
    wrong_secret = plaintext[:-4] + ("AAAA" if not plaintext.endswith("AAAA") else "BBBB")
    unknown_id = f"hg_{'0' * 16}_{plaintext.split('_', 2)[2]}"
    for presented in (wrong_secret, unknown_id, "hg_nope", "", plaintext + "x"):
        assert await repo.lookup(presented) is None


async def test_revoked_keys_are_not_found_and_revoke_is_idempotent(
    conn: asyncpg.Connection,
) -> None:
    repo = PgApiKeyRepository(conn)
    key, plaintext = await repo.create(PARTNER)
    revoked = await repo.revoke(key.id)
    assert revoked.revoked_at is not None
    assert await repo.lookup(plaintext) is None
    assert (await repo.revoke(key.id)).revoked_at == revoked.revoked_at
    with pytest.raises(NotFound):
        await repo.revoke("0" * 16)
    assert [k.id for k in await repo.all()] == [key.id]


async def test_bad_specs_write_nothing(conn: asyncpg.Connection) -> None:
    repo = PgApiKeyRepository(conn)
    with pytest.raises(InvalidInput, match="company-id"):
        await repo.create(ApiKeySpec(name="r", role=Role.RECRUITER))
    with pytest.raises(InvalidInput, match="no company with id 99"):
        await repo.create(ApiKeySpec(name="r", role=Role.RECRUITER, company_id=99))
    assert await repo.all() == []


async def test_database_refuses_a_recruiter_key_without_company(conn: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.CheckViolationError) as info:
        await conn.execute(
            "INSERT INTO api_keys (id, name, role, key_hash, prefix)"
            " VALUES ('0123456789abcdef', 'x', 'RECRUITER', $1, 'p')",
            b"\0" * 32,
        )
    assert info.value.constraint_name == "api_keys_recruiter_company"


async def test_trusted_documents_through_the_read_pool(
    conn: asyncpg.Connection, pg_url: str
) -> None:
    key, _ = await PgApiKeyRepository(conn).create(PARTNER)
    other, _ = await PgApiKeyRepository(conn).create(ApiKeySpec(name="o", role=Role.ANALYST))
    query = "query Board { jobs(first: 5) { edges { node { title } } } }\n"
    pool = await create_pool(
        asyncpg_dsn(pg_url), max_size=2, acquire_timeout=5, statement_timeout_ms=5000
    )
    try:
        repo = PgApiKeyRepository(pool)
        docs = [(document_hash(query), "board.graphql")]
        assert await repo.add_documents(key.id, docs) == 1
        assert await repo.add_documents(key.id, docs) == 0
        assert await repo.is_trusted(key.id, document_hash(query))
        assert not await repo.is_trusted(key.id, document_hash(query + " "))
        assert not await repo.is_trusted(other.id, document_hash(query))
        assert await repo.documents(key.id) == docs
        with pytest.raises(NotFound):
            await repo.add_documents("f" * 16, docs)
    finally:
        await pool.close()
