"""Session fixtures: real servers, a migrated template database, per-test isolation.

- PostgreSQL: the schema is migrated once into a template database; each test that
  needs Postgres gets a fresh database cloned from it (CREATE DATABASE ... TEMPLATE),
  dropped afterwards.
- MongoDB: a unique database per test, bootstrapped, dropped afterwards.
- Redis: a unique key prefix per test, its keys deleted afterwards.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from datasources.mongo.bootstrap import bootstrap
from datasources.postgres.engine import asyncpg_dsn
from datasources.postgres.migrate import upgrade_async
from tests.stores import StoreUrls, session_stores, unique_name, with_database


@pytest.fixture(scope="session")
def stores() -> Iterator[StoreUrls]:
    # Not under pytest's basetemp: another pytest run on the machine prunes all but its
    # three newest basetemps, and with them a running embedded server's data directory.
    with (
        tempfile.TemporaryDirectory(prefix="hiregraph-test-stores-") as data,
        session_stores(Path(data)) as urls,
    ):
        yield urls


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def pg_template(stores: StoreUrls) -> AsyncIterator[str]:
    name = unique_name("hg_tpl")
    await _admin(stores.postgres, f'CREATE DATABASE "{name}"')
    await upgrade_async(with_database(stores.postgres, name))
    yield name
    await _admin(stores.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def pg_url(stores: StoreUrls, pg_template: str) -> AsyncIterator[str]:
    """SQLAlchemy URL of a fresh, migrated database for this test only."""
    name = unique_name("hg_t")
    await _admin(stores.postgres, f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield with_database(stores.postgres, name)
    await _admin(stores.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def mongo_client(stores: StoreUrls) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stores.mongo, tz_aware=True)
    yield client
    await client.close()


@pytest.fixture
async def mongo_db(mongo_client: AsyncMongoClient[dict[str, Any]]) -> AsyncIterator[Any]:
    """A unique, bootstrapped Mongo database for this test only."""
    db = mongo_client[unique_name("hg_t")]
    await bootstrap(db)
    yield db
    await mongo_client.drop_database(db.name)


@pytest.fixture
async def redis_prefix(stores: StoreUrls) -> AsyncIterator[str]:
    prefix = unique_name("hg_t") + ":"
    yield prefix
    client = Redis.from_url(stores.redis)
    try:
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
