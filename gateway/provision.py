"""Migrations, Mongo bootstrap and seeding as CLI steps with one-line failures.

Each step names the store it talks to; a driver error becomes "<store> at <url>: ...",
with the password hidden, and nothing is deleted on failure.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError
from sqlalchemy.exc import SQLAlchemyError

from datasources.mongo import bootstrap as mongo_bootstrap
from datasources.postgres import migrate as pg_migrate
from datasources.postgres.engine import asyncpg_dsn
from gateway.settings import Settings

T = TypeVar("T")
Fail = Callable[[str], NoReturn]


def redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@/]*@", r"//\1:***@", url)


@contextmanager
def _store_step(store: str, url: str, fail: Fail) -> Iterator[None]:
    try:
        yield
    except (OSError, SQLAlchemyError, PyMongoError, TimeoutError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        fail(f"{store} at {redact(url)}: {message}")
    except Exception as exc:
        # asyncpg raises its own hierarchy (e.g. InvalidCatalogNameError); keep it one line.
        if type(exc).__module__.startswith("asyncpg"):
            fail(f"{store} at {redact(url)}: {exc}")
        raise


def _mongo(settings: Settings) -> AsyncMongoClient[dict[str, Any]]:
    p = settings.pools
    return AsyncMongoClient(
        settings.mongo_url,
        serverSelectionTimeoutMS=p.mongo_server_selection_timeout_ms,
        connectTimeoutMS=p.mongo_connect_timeout_ms,
        tz_aware=True,
    )


def _with_mongo(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    async def run() -> T:
        client = _mongo(settings)
        try:
            return await work(client[settings.mongo_db])
        finally:
            await client.close()

    return asyncio.run(run())


def migrate_or_fail(settings: Settings, fail: Fail) -> None:
    assert settings.postgres_url
    assert settings.mongo_url
    with _store_step("postgres", settings.postgres_url, fail):
        pg_migrate.upgrade(settings.postgres_url)
    with _store_step("mongo", settings.mongo_url, fail):
        _with_mongo(settings, mongo_bootstrap.bootstrap)


def is_empty(settings: Settings) -> bool:
    import asyncpg

    assert settings.postgres_url

    async def companies() -> int:
        conn = await asyncpg.connect(asyncpg_dsn(str(settings.postgres_url)))
        try:
            count: int = await conn.fetchval("SELECT count(*) FROM companies")
            return count
        finally:
            await conn.close()

    async def candidates(db: Any) -> int:
        count: int = await db[mongo_bootstrap.CANDIDATES].estimated_document_count()
        return count

    return asyncio.run(companies()) == 0 and _with_mongo(settings, candidates) == 0


def seed_or_fail(
    settings: Settings, scale: str, seed: int, reset: bool, fail: Fail, *, progress: bool
) -> Any:
    from datasources.seed import SCALES, SeedTargetNotEmpty, seed_stores

    assert settings.postgres_url
    assert settings.mongo_url
    dsn = asyncpg_dsn(settings.postgres_url)

    async def work(db: Any) -> Any:
        return await seed_stores(dsn, db, SCALES[scale], seed=seed, reset=reset, progress=progress)

    try:
        with _store_step("postgres/mongo", settings.postgres_url, fail):
            return _with_mongo(settings, work)
    except SeedTargetNotEmpty as exc:
        fail(f"{exc} (pass --reset to replace the existing data)")
