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
from domain.viewer import Role, Viewer
from gateway.app import create_app
from gateway.settings import AuthSettings, CacheSettings, ResponseCacheSettings, Settings
from schema.ids import to_global_id
from tests.e2e.conftest import Seeded
from tests.e2e.test_authz import SECRET, token_for

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


BOARD = """query { jobs(first: 20, orderBy: POSTED_AT_DESC) { edges { cursor node { id title
    company { name } applications { totalCount } } } pageInfo { hasNextPage endCursor } } }"""


async def _board(http: httpx.AsyncClient) -> tuple[bytes, dict[str, int]]:
    """The board as an admin (who sees applicant counts); the response cache is off."""
    admin = {"authorization": f"Bearer {token_for(Viewer(Role.ADMIN, user_id='admin'))}"}
    response = await http.post("/graphql", json={"query": BOARD}, headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    trips: dict[str, int] = body.pop("extensions")["roundTrips"]
    return httpx.Response(200, json=body).content, trips


async def test_a_warm_board_reads_no_store_and_a_write_reaches_it_at_once(
    seeded: Seeded,
) -> None:
    """The page of ids and the applicant counts come from the result cache, the jobs and
    companies from the entity cache: zero Postgres and Mongo round trips. A job written
    and invalidated is on the next board; an application invalidated changes its count."""
    prefix = f"{seeded.cache_prefix}:board"
    settings = Settings(
        postgres_url=seeded.postgres_url, mongo_url=seeded.mongo_url, mongo_db=seeded.mongo_db,
        redis_url=seeded.redis_url, expose_round_trips=True, gc_gen0_threshold=0,
        auth=AuthSettings(jwt_secret=SECRET),
        cache=CacheSettings(key_prefix=prefix, redis_timeout_seconds=2),
        response_cache=ResponseCacheSettings(enabled=False),
    )  # fmt: skip
    await seeded.drop_entity_cache(prefix)
    app = create_app(settings)
    conn = await asyncpg.connect(asyncpg_dsn(seeded.postgres_url))
    redis = Redis.from_url(seeded.redis_url)
    invalidate = Invalidator(redis, CacheKeys(prefix)).entities_changed
    job_id, title = await conn.fetchrow(
        "SELECT id, title FROM jobs WHERE status = 'open' ORDER BY posted_at DESC, id DESC LIMIT 1"
    )
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hg") as http:
                cold, cold_trips = await _board(http)
                # The cold board read only the columns it shows (records that are never
                # cached); the first cached page reads its jobs whole, by id, once.
                await _board(http)
                warm, warm_trips = await _board(http)
                assert warm == cold  # byte-identical
                assert cold_trips["postgres"] >= 3
                assert (warm_trips["postgres"], warm_trips["mongo"]) == (0, 0), warm_trips
                await conn.execute("UPDATE jobs SET title = $2 WHERE id = $1", job_id, "Renamed")
                await invalidate("Job", [job_id])
                renamed, trips = await _board(http)
                assert trips["postgres"] >= 1
                assert b'"title":"Renamed"' in renamed
                assert title.encode() not in renamed[:300]
                top = httpx.Response(200, content=renamed).json()["data"]["jobs"]["edges"][0]
                count = top["node"]["applications"]["totalCount"]
                candidate = f"{count + 1:024x}"
                await conn.execute(
                    "INSERT INTO applications (job_id, candidate_id, status, source, applied_at,"
                    " updated_at) VALUES ($1, $2, 'applied', 'test', now(), now())",
                    job_id, candidate,
                )  # fmt: skip
                await invalidate("Application", [])
                counted = httpx.Response(200, content=(await _board(http))[0]).json()
                edge = counted["data"]["jobs"]["edges"][0]["node"]
                assert edge["applications"]["totalCount"] == count + 1
    finally:
        await conn.execute("DELETE FROM applications WHERE job_id = $1 AND source = 'test'", job_id)
        await conn.execute("UPDATE jobs SET title = $2 WHERE id = $1", job_id, title)
        await invalidate("Job", [job_id])
        await invalidate("Application", [])
        await conn.close()
        await redis.aclose()
