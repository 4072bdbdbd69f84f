"""`HIREGRAPH_POSTGRES_READ_URL`: the "replica" is a second login role on the same server
(read-only grants), so each statement's session shows who ran it in `pg_stat_activity`:
a backend's `query_start` moves whenever it runs a statement. Queries and aggregates
must move the reader's backends; a mutation (its write and the reads of its payload)
must leave them alone and move the primary's."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest
from pymongo import ReadPreference
from sqlalchemy.engine import make_url

from datasources.postgres.engine import asyncpg_dsn
from domain.viewer import Role, Viewer
from gateway.app import create_app
from gateway.replicas import REPLICA_APPLICATION_NAME
from gateway.settings import AuthSettings, CacheSettings, ResponseCacheSettings, Settings
from schema.ids import to_global_id
from tests.conftest import _admin
from tests.e2e.conftest import Seeded
from tests.e2e.real_writes import UPDATE_JOB
from tests.e2e.test_authz import SECRET, token_for

pytestmark = pytest.mark.e2e

ADMIN = Viewer(Role.ADMIN, user_id="replica-admin")
ANALYST = Viewer(Role.ANALYST, user_id="replica-analyst")
DETAIL = "query($id: ID!) { job(id: $id) { id title company { name } } }"
STATS = "{ analytics { jobStats(groupBy: [COUNTRY], first: 5) { country count } } }"


@pytest.fixture
async def reader(seeded: Seeded) -> AsyncIterator[str]:
    """A login role that may only read the seeded database: the read URL's user."""
    role = f"hg_reader_{uuid.uuid4().hex[:10]}"
    database = make_url(seeded.postgres_url).database
    await _admin(seeded.postgres_url, f'CREATE ROLE "{role}" LOGIN')
    grants = f"""GRANT CONNECT ON DATABASE "{database}" TO "{role}";
        GRANT USAGE ON SCHEMA public TO "{role}";
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}";"""
    conn = await asyncpg.connect(asyncpg_dsn(seeded.postgres_url))
    try:
        await conn.execute(grants)
    finally:
        await conn.close()
    yield role
    await _admin(seeded.postgres_url, f'DROP OWNED BY "{role}"; DROP ROLE "{role}"')


@pytest.fixture
async def http(seeded: Seeded, reader: str) -> AsyncIterator[httpx.AsyncClient]:
    read_url = make_url(seeded.postgres_url).set(username=reader)
    settings = Settings(
        postgres_url=seeded.postgres_url, mongo_url=seeded.mongo_url, mongo_db=seeded.mongo_db,
        redis_url=seeded.redis_url, gc_gen0_threshold=0,
        postgres_read_url=read_url.render_as_string(hide_password=False),
        mongo_read_preference="secondaryPreferred",
        auth=AuthSettings(jwt_secret=SECRET),
        # No caches: every read reaches a store, so every read shows where it went.
        cache=CacheSettings(enabled=False), response_cache=ResponseCacheSettings(enabled=False),
    )  # fmt: skip
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hg") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


class Sessions:
    """The gateway's sessions on the seeded database, by role."""

    def __init__(self, conn: asyncpg.Connection, database: str) -> None:
        self.conn, self.database = conn, database

    async def now(self) -> datetime:
        now: datetime = await self.conn.fetchval("SELECT clock_timestamp()")
        return now

    async def since(self, role: str, moment: datetime) -> list[str]:
        """The last statements of `role`'s backends that ran after `moment`."""
        rows = await self.conn.fetch(
            "SELECT query FROM pg_stat_activity WHERE datname = $1 AND usename = $2"
            " AND pid <> pg_backend_pid() AND query_start > $3",
            self.database, role, moment,
        )  # fmt: skip
        return [r["query"] for r in rows]

    async def applications(self, role: str) -> set[str]:
        rows = await self.conn.fetch(
            "SELECT DISTINCT application_name FROM pg_stat_activity"
            " WHERE datname = $1 AND usename = $2",
            self.database, role,
        )  # fmt: skip
        return {r["application_name"] for r in rows}


@pytest.fixture
async def sessions(seeded: Seeded) -> AsyncIterator[Sessions]:
    conn = await asyncpg.connect(asyncpg_dsn(seeded.postgres_url))
    yield Sessions(conn, str(make_url(seeded.postgres_url).database))
    await conn.close()


async def _ask(http: httpx.AsyncClient, query: str, viewer: Viewer, **variables: Any) -> Any:
    headers = {"authorization": f"Bearer {token_for(viewer)}"}
    body = {"query": query, "variables": variables}
    response = await http.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.text
    return response.json()["data"]


async def test_queries_and_aggregates_read_from_the_replica_mutations_from_the_primary(
    http: httpx.AsyncClient, sessions: Sessions, reader: str, seeded: Seeded
) -> None:
    db = await asyncpg.connect(asyncpg_dsn(seeded.postgres_url))
    job_id, title = await db.fetchrow("SELECT id, title FROM jobs WHERE status = 'open' LIMIT 1")
    job = to_global_id("Job", job_id)
    try:
        before = await sessions.now()
        detail = await _ask(http, DETAIL, ADMIN, id=job)
        assert detail["job"]["title"] == title
        assert await sessions.since(reader, before)  # the job and its company: replica
        assert await sessions.since("postgres", before) == []  # none on the primary
        assert await sessions.applications(reader) == {REPLICA_APPLICATION_NAME}

        before = await sessions.now()
        await _ask(http, STATS, ANALYST)
        # the live GROUP BY, or the board-wide rollup's read when another test's worker
        # left a fresh snapshot in the shared database: either way, on the replica
        read = await sessions.since(reader, before)
        assert any("count(" in q.lower() or "job_stats_rollup" in q for q in read), read
        assert await sessions.since("postgres", before) == []

        before = await sessions.now()
        renamed = await _ask(http, UPDATE_JOB, ADMIN, input={"id": job, "title": "Primary"})
        payload = renamed["updateJob"]
        assert payload["job"]["title"] == "Primary"
        assert payload["job"]["company"]["name"]  # a read of the payload, after the write
        assert await sessions.since(reader, before) == []  # nothing ran on the replica
        on_primary = await sessions.since("postgres", before)
        assert any("companies" in q for q in on_primary), on_primary

        before = await sessions.now()  # and the next query is back on the replica
        assert (await _ask(http, DETAIL, ADMIN, id=job))["job"]["title"] == "Primary"
        assert await sessions.since(reader, before)
    finally:
        await db.execute("UPDATE jobs SET title = $2 WHERE id = $1", job_id, title)
        await db.close()


async def test_the_mongo_read_preference_applies_to_queries_only(
    http: httpx.AsyncClient,
) -> None:
    datasources = http.app.state.datasources  # type: ignore[attr-defined]
    assert datasources.candidates._collection.read_preference == ReadPreference.SECONDARY_PREFERRED
    assert datasources.primary.candidates._collection.read_preference == ReadPreference.PRIMARY
    assert "postgres_read" in datasources.probes
    ready = await http.get("/readyz")
    assert ready.status_code == 200, ready.text
