"""One write, one call: `Invalidator.entities_changed` makes the entity cache and the
response cache serve the new row at once (they share the key prefix and its versions)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from datasources.cache.keys import CacheKeys, Invalidator
from datasources.postgres.engine import asyncpg_dsn
from gateway.app import create_app
from gateway.settings import CacheSettings, Settings
from schema.ids import to_global_id
from tests.e2e.conftest import Seeded

pytestmark = pytest.mark.e2e
DETAIL = "query($id: ID!) { job(id: $id) { title company { name } } }"


@pytest.fixture
async def http(seeded: Seeded) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    prefix = f"{seeded.cache_prefix}:inval"
    settings = Settings(
        postgres_url=seeded.postgres_url, mongo_url=seeded.mongo_url, mongo_db=seeded.mongo_db,
        redis_url=seeded.redis_url, expose_round_trips=True, gc_gen0_threshold=0,
        cache=CacheSettings(key_prefix=prefix),
    )  # fmt: skip
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hg") as client:
            yield client, prefix


async def _ask(http: httpx.AsyncClient, job_id: int) -> tuple[Any, httpx.Response]:
    response = await http.post(
        "/graphql", json={"query": DETAIL, "variables": {"id": to_global_id("Job", job_id)}}
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]["job"], response


async def test_a_write_that_calls_the_invalidator_is_seen_by_the_next_read(
    http: tuple[httpx.AsyncClient, str], seeded: Seeded
) -> None:
    client, prefix = http
    conn = await asyncpg.connect(asyncpg_dsn(seeded.postgres_url))
    redis = Redis.from_url(seeded.redis_url)
    try:
        job_id, title = await conn.fetchrow(
            "SELECT id, title FROM jobs WHERE status = 'open' ORDER BY id LIMIT 1"
        )
        before, cold = await _ask(client, job_id)
        assert before["title"] == title
        assert cold.headers["cache-control"].startswith("public, max-age=")
        await conn.execute("UPDATE jobs SET title = $2 WHERE id = $1", job_id, title + " (edited)")
        stale, _ = await _ask(client, job_id)
        assert stale == before  # the caches serve what they hold until told
        await Invalidator(redis, CacheKeys(prefix)).entities_changed("Job", [job_id])
        after, fresh = await _ask(client, job_id)
        assert after["title"] == title + " (edited)"
        assert after["company"] == before["company"]
        # Both layers were bypassed: the entity came from PostgreSQL again.
        assert fresh.json()["extensions"]["roundTrips"]["postgres"] >= 1
    finally:
        await conn.execute("UPDATE jobs SET title = $2 WHERE id = $1", job_id, title)
        await Invalidator(redis, CacheKeys(prefix)).entities_changed("Job", [job_id])
        await conn.close()
        await redis.aclose()
