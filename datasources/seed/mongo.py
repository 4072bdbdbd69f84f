"""Bulk-load candidate documents with unordered `insert_many` batches."""

from __future__ import annotations

import time
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from datasources.mongo.bootstrap import CANDIDATES, bootstrap
from datasources.seed.dataset import Dataset
from datasources.seed.pipeline import write_batches
from datasources.seed.report import Advance, EntityStats

_BATCH = 2_000


async def has_documents(db: AsyncDatabase[dict[str, Any]]) -> bool:
    return await db[CANDIDATES].find_one({}, projection={"_id": 1}) is not None


async def clear(db: AsyncDatabase[dict[str, Any]]) -> float:
    """Remove every candidate; return the seconds it took.

    Dropping the collection and re-running the bootstrap (validator, indexes) leaves the
    same empty, validated collection as `delete_many({})`, and on SecantusDB takes half
    the time (50,000 candidates: about 15 s instead of 28 s).
    """
    started = time.perf_counter()
    await db.drop_collection(CANDIDATES)
    await bootstrap(db)
    return time.perf_counter() - started


async def load_mongo(
    db: AsyncDatabase[dict[str, Any]], data: Dataset, advance: Advance, *, reset: bool
) -> tuple[EntityStats, float]:
    """(candidates written, seconds spent clearing the collection first)."""
    reset_seconds = await clear(db) if reset else 0.0
    collection = db[CANDIDATES]

    async def write(batch: list[dict[str, Any]]) -> None:
        await collection.insert_many(batch, ordered=False)

    stats = await write_batches(
        CANDIDATES, "mongo", data.candidate_documents(), _BATCH, write, advance
    )
    return stats, reset_seconds
