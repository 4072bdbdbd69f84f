"""Seeding both real stores: counts, cross-store integrity, the real postings, safety."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from bson import ObjectId

from datasources.mongo.bootstrap import CANDIDATES
from datasources.postgres.engine import asyncpg_dsn
from datasources.seed import SCALES, Scale, SeedTargetNotEmpty, seed_stores

pytestmark = pytest.mark.integration
TINY = Scale(companies=6, jobs=40, candidates=60, applications=150)


async def _fetch(pg_url: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(asyncpg_dsn(pg_url))
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


async def test_small_seed_is_complete_and_consistent(pg_url: str, mongo_db: Any) -> None:
    report = await seed_stores(asyncpg_dsn(pg_url), mongo_db, SCALES["small"], seed=3)
    counts = await _fetch(
        pg_url,
        "SELECT (SELECT count(*) FROM companies) c, (SELECT count(*) FROM jobs) j,"
        " (SELECT count(*) FROM applications) a",
    )
    assert tuple(counts[0]) == (50, 500, 3000)
    assert await mongo_db[CANDIDATES].count_documents({}) == 1000
    assert report.rows("applications") == 3000

    # Every application points at a candidate that exists in Mongo.
    ids = {r["candidate_id"] for r in await _fetch(pg_url, "SELECT candidate_id FROM applications")}
    found = await mongo_db[CANDIDATES].count_documents({"_id": {"$in": [ObjectId(i) for i in ids]}})
    assert found == len(ids)

    # The two real postings, with the facts from their sources.
    rows = await _fetch(
        pg_url,
        "SELECT j.title, j.city, j.country, j.salary_min, j.salary_max, j.salary_currency,"
        " j.experience_min, j.status::text, c.slug FROM jobs j JOIN companies c"
        " ON c.id = j.company_id WHERE j.title IN ('Backend Engineer', 'Lead Backend Engineer')"
        " AND c.slug IN ('weekday-ai', 'undisclosed-employer') ORDER BY j.id",
    )
    assert [tuple(r) for r in rows] == [
        ("Backend Engineer", "Mumbai", "IN", 1_500_000, 2_800_000, "INR", 3, "open", "weekday-ai"),
        ("Lead Backend Engineer", "Mumbai", "IN", None, None, None, 10, "open",
         "undisclosed-employer"),
    ]  # fmt: skip

    # Identity sequences continue after the explicit ids.
    await _fetch(pg_url, "INSERT INTO companies (slug, name, industry) VALUES ('new-co', 'N', 'x')")
    (new_id,) = await _fetch(pg_url, "SELECT id FROM companies WHERE slug = 'new-co'")
    assert new_id["id"] == 51


async def test_same_seed_same_data(pg_url: str, mongo_db: Any) -> None:
    await seed_stores(asyncpg_dsn(pg_url), mongo_db, TINY, seed=11)
    first = await _fetch(pg_url, "SELECT md5(string_agg(j::text, ',' ORDER BY id)) h FROM jobs j")
    docs1 = await mongo_db[CANDIDATES].find({}).sort("_id").to_list()
    await seed_stores(asyncpg_dsn(pg_url), mongo_db, TINY, seed=11, reset=True)
    again = await _fetch(pg_url, "SELECT md5(string_agg(j::text, ',' ORDER BY id)) h FROM jobs j")
    docs2 = await mongo_db[CANDIDATES].find({}).sort("_id").to_list()
    assert first[0]["h"] == again[0]["h"]
    assert docs1 == docs2


async def test_refuses_a_non_empty_target_and_keeps_its_data(pg_url: str, mongo_db: Any) -> None:
    await seed_stores(asyncpg_dsn(pg_url), mongo_db, TINY, seed=1)
    with pytest.raises(SeedTargetNotEmpty):
        await seed_stores(asyncpg_dsn(pg_url), mongo_db, TINY, seed=2)
    (row,) = await _fetch(pg_url, "SELECT count(*) n FROM jobs")
    assert row["n"] == 40
    assert await mongo_db[CANDIDATES].count_documents({}) == 60
