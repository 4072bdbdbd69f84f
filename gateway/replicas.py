"""Read replicas: where an operation's reads go.

Queries (and the analytics aggregates) read from `HIREGRAPH_POSTGRES_READ_URL` when it
is set, and from MongoDB with `HIREGRAPH_MONGO_READ_PREFERENCE`. Mutations and
subscriptions read from the primaries: a mutation's payload must show the row it has
just written, and a subscription's event names a write the replica may not have yet
(replication is asynchronous). `Datasources.primary` holds the same ports over the
primaries; `Context.reads_for` picks the set once the operation's type is known
(schema.operation). Writes, idempotency records, API keys and the outbox always use
the primary.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from pymongo import AsyncMongoClient, ReadPreference

from datasources.mongo.analytics import MongoAnalytics
from datasources.mongo.repositories import MongoCandidateRepository
from datasources.postgres import engine as pg_engine
from datasources.postgres import reader as pg_reader
from datasources.postgres.analytics import PgAnalytics
from datasources.postgres.applications import PgApplicationRepository
from datasources.postgres.companies import PgCompanyRepository
from datasources.postgres.jobs import PgJobRepository
from gateway.settings import AnalyticsSettings, Settings

READ_PREFERENCES: dict[str, Any] = {  # the settings' names -> pymongo's modes
    "primary": ReadPreference.PRIMARY,
    "primaryPreferred": ReadPreference.PRIMARY_PREFERRED,
    "secondary": ReadPreference.SECONDARY,
    "secondaryPreferred": ReadPreference.SECONDARY_PREFERRED,
    "nearest": ReadPreference.NEAREST,
}
REPLICA_APPLICATION_NAME = "hiregraph-replica"  # how its sessions show in pg_stat_activity


@dataclass(frozen=True)
class ReadStores:
    """What queries read from: a Postgres pool and a Mongo database handle."""

    pool: asyncpg.Pool
    db: Any
    replica_pool: asyncpg.Pool | None = None  # owned here, closed by `aclose`

    async def aclose(self) -> None:
        if self.replica_pool is not None:
            await self.replica_pool.close()


STORE_OF_PORT = {  # which store's guard (datasources.resilience) each read port goes through
    "companies": "postgres",
    "jobs": "postgres",
    "applications": "postgres",
    "candidates": "mongo",
    "job_analytics": "postgres",
    "candidate_analytics": "mongo",
}


def read_ports(
    stores: ReadStores, acquire_timeout: float, analytics: AnalyticsSettings
) -> dict[str, Any]:
    """The read ports of `Datasources` over `stores`."""
    pool = stores.pool
    staleness = analytics.rollup_max_staleness_seconds if analytics.rollup else None
    return {
        "companies": PgCompanyRepository(pool, acquire_timeout),
        "jobs": PgJobRepository(pool, acquire_timeout),
        "applications": PgApplicationRepository(pool, acquire_timeout),
        "candidates": MongoCandidateRepository(stores.db),
        "job_analytics": PgAnalytics(pool, acquire_timeout, rollup_max_staleness=staleness),
        "candidate_analytics": MongoAnalytics(
            stores.db, supply_max_age=analytics.skill_supply_max_age_seconds
        ),
    }


def primary_stores(
    settings: Settings, pool: asyncpg.Pool, mongo: AsyncMongoClient[Any]
) -> ReadStores:
    db = mongo.get_database(settings.mongo_db, read_preference=ReadPreference.PRIMARY)
    return ReadStores(pool, db)


async def open_query_stores(
    settings: Settings, primary: ReadStores, mongo: AsyncMongoClient[Any]
) -> ReadStores | None:
    """The stores queries read from, when they are not the primaries; None otherwise."""
    mode = settings.mongo_read_preference
    url = settings.postgres_read_url
    if url is None and mode == "primary":
        return None
    db = mongo.get_database(settings.mongo_db, read_preference=READ_PREFERENCES[mode])
    if url is None:
        return ReadStores(primary.pool, db)
    p = settings.pools
    pool = await pg_reader.create_pool(
        pg_engine.asyncpg_dsn(url),
        max_size=p.postgres_pool_size,
        acquire_timeout=p.postgres_pool_timeout,
        statement_timeout_ms=p.postgres_statement_timeout_ms,
        application_name=REPLICA_APPLICATION_NAME,
    )
    return ReadStores(pool, db, pool)


def replica_probe(stores: ReadStores | None) -> dict[str, Callable[[], Awaitable[None]]]:
    """A readiness probe for the replica pool, when there is one."""
    if stores is None or stores.replica_pool is None:
        return {}
    pool = stores.replica_pool
    return {"postgres_read": lambda: pg_reader.ping(pool)}
