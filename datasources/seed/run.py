"""`seed_stores`: fill PostgreSQL and the Mongo candidates collection from one seed."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
from pymongo.asynchronous.database import AsyncDatabase

from datasources.seed.dataset import Dataset
from datasources.seed.mongo import has_documents, load_mongo
from datasources.seed.postgres import has_rows, load_postgres
from datasources.seed.report import EntityStats, SeedReport, progress_bars
from datasources.seed.scale import Scale


class SeedTargetNotEmpty(Exception):
    """The stores already hold data and `reset` was not asked for."""


async def ensure_empty(conn: Any, db: AsyncDatabase[dict[str, Any]]) -> None:
    """Raise `SeedTargetNotEmpty` if companies has rows or candidates has documents."""
    relational, documents = await has_rows(conn), await has_documents(db)
    if relational or documents:
        held = " and ".join(
            name for name, full in (("companies", relational), ("candidates", documents)) if full
        )
        raise SeedTargetNotEmpty(
            f"refusing to seed: {held} already hold data; pass reset=True to replace it"
        )


async def seed_stores(
    pg_dsn: str,
    mongo_db: AsyncDatabase[dict[str, Any]],
    scale: Scale,
    *,
    seed: int = 42,
    reset: bool = False,
    progress: bool = False,
    overlap: bool = True,
) -> SeedReport:
    """Generate a deterministic dataset for `seed` at `scale` and bulk-load both stores.

    `pg_dsn` is a plain asyncpg DSN for a migrated database; `mongo_db` must have been
    bootstrapped (validator, indexes). Raises `SeedTargetNotEmpty` if either store holds
    data, unless `reset`: then the three tables are truncated (RESTART IDENTITY) and the
    candidates collection is emptied first. The relational side is one transaction (a
    failure leaves it as it was); the Mongo side is not transactional. `overlap` runs the
    Postgres and Mongo pipelines concurrently (the default) instead of one after the other.
    """
    started = time.perf_counter()
    data = Dataset.build(scale, seed)
    plan_seconds = time.perf_counter() - started
    conn = await asyncpg.connect(pg_dsn)
    try:
        if not reset:
            await ensure_empty(conn, mongo_db)
        async with conn.transaction():
            stats, reset_seconds = await _load(conn, mongo_db, data, progress, overlap, reset)
    finally:
        await conn.close()
    return SeedReport(
        seed=seed,
        scale=scale,
        entities=tuple(stats),
        total_seconds=time.perf_counter() - started,
        plan_seconds=plan_seconds,
        reset_seconds=reset_seconds,
        overlapped=overlap,
    )


async def _load(
    conn: Any,
    db: AsyncDatabase[dict[str, Any]],
    data: Dataset,
    progress: bool,
    overlap: bool,
    reset: bool,
) -> tuple[list[EntityStats], float]:
    """Both pipelines (each resets its store first if asked); stats and reset seconds."""
    counts = {
        "companies": data.scale.companies,
        "jobs": data.scale.jobs,
        "applications": data.scale.applications,
        "candidates": data.scale.candidates,
    }
    with progress_bars(progress) as track:
        advance = {name: track(name, total) for name, total in counts.items()}
        relational = load_postgres(conn, data, advance, reset=reset)
        documents = load_mongo(db, data, advance["candidates"], reset=reset)
        if overlap:
            (pg_stats, pg_reset), (mongo_stats, mongo_reset) = await asyncio.gather(
                relational, documents
            )
            reset_seconds = max(pg_reset, mongo_reset)
        else:
            pg_stats, pg_reset = await relational
            mongo_stats, mongo_reset = await documents
            reset_seconds = pg_reset + mongo_reset
    return [*pg_stats, mongo_stats], reset_seconds
