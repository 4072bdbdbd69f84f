"""Mutations over HTTP through the whole app: the guard, the response cache and the
compiled executor stand aside, and the write reaches the caches through the real
Invalidator (a real Redis, a key prefix per test). Stores and writers are the
in-memory fakes, whose logs show what ran."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import jwt
import pytest
from redis.asyncio import Redis

from datasources.cache.keys import CacheKeys, CacheStats, Invalidator
from datasources.cache.responses import RedisResponseStore
from domain.viewer import Role
from gateway.app import create_app
from gateway.response_cache import ResponseCache
from gateway.settings import AuthSettings, Settings
from schema.ids import to_global_id
from tests import factories as f
from tests.stores import StoreUrls
from tests.writers import Writers, board

pytestmark = pytest.mark.e2e

SECRET = "mutations-suite-secret-0123456789abcdef"
BOARD = "{ jobs(first: 10) { edges { node { title status company { name } } } } }"
CLOSE = """mutation($id: ID!) { closeJob(input: {id: $id}) { __typename
  ... on JobPayload { job { title status company { name } } } ... on UserError { code } } }"""


def token(role: Role, **claims: Any) -> str:
    body = {"sub": "u1", "role": role.value, "exp": int(time.time()) + 300, **claims}
    return jwt.encode(body, SECRET, algorithm="HS256")


@dataclass
class App:
    http: httpx.AsyncClient
    writers: Writers
    log: f.CallLog
    stats: CacheStats

    async def post(
        self, query: str, variables: Any = None, role: Role = Role.ADMIN, **claims: Any
    ) -> Any:
        headers = {"authorization": f"Bearer {token(role, **claims)}"}
        body = {"query": query, "variables": variables}
        return await self.http.post("/graphql", json=body, headers=headers)


@pytest.fixture
async def app(stores: StoreUrls, redis_prefix: str) -> AsyncIterator[App]:
    s = Settings(
        expose_round_trips=False, gc_gen0_threshold=0, auth=AuthSettings(jwt_secret=SECRET)
    )
    assert s.compiled_operations  # the compiled executor is in the way, and must step aside
    application = create_app(s)
    ds, writers, log = board()
    redis = Redis.from_url(stores.redis, socket_timeout=0.5, socket_connect_timeout=0.5)
    keys, stats = CacheKeys(redis_prefix.rstrip(":")), CacheStats()
    application.state.datasources = replace(ds, invalidator=Invalidator(redis, keys, stats))
    f.install_guard(application, s)
    store = RedisResponseStore(redis, keys, stats)
    application.state.response_cache = ResponseCache(
        application.graphql.schema._schema, store, stats
    )
    transport = httpx.ASGITransport(app=application)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hg") as http:
            yield App(http, writers, log, stats)
    finally:
        await redis.aclose()


async def test_a_mutation_runs_every_time_and_is_never_stored(app: App) -> None:
    variables = {"id": to_global_id("Job", 2)}
    first = await app.post(CLOSE, variables)
    again = await app.post(CLOSE, variables)
    assert first.status_code == again.status_code == 200
    assert first.json()["data"]["closeJob"] == {
        "__typename": "JobPayload",
        "job": {
            "title": "Backend Engineer 2",
            "status": "CLOSED",
            "company": {"name": "Company 1"},
        },
    }
    assert again.json()["data"]["closeJob"] == {"__typename": "Conflict", "code": "CONFLICT"}
    assert [c[0] for c in app.writers.writes.calls] == ["job.close", "job.close"]
    assert first.headers["cache-control"] == "no-store"
    assert app.stats.writes == 0


async def test_a_write_makes_the_cached_board_miss(app: App) -> None:
    before = await app.post(BOARD)
    assert (await app.post(BOARD)).content == before.content  # a hit
    assert app.stats.hits == 1
    closed = await app.post(CLOSE, {"id": to_global_id("Job", 1)})
    assert closed.json()["data"]["closeJob"]["job"]["status"] == "CLOSED"
    after = await app.post(BOARD)
    titles = [e["node"]["title"] for e in after.json()["data"]["jobs"]["edges"]]
    assert titles == ["Backend Engineer 3"]  # job 1 closed: off the board
    assert app.stats.hits == 1  # the write bumped the Job version: a miss, not a stale hit


async def test_a_recruiter_is_refused_another_companys_job_over_http(app: App) -> None:
    job = {"id": to_global_id("Job", 3)}  # open, of company 2
    response = await app.post(CLOSE, job, role=Role.RECRUITER, company_id=1)
    assert response.status_code == 200
    assert response.json()["data"]["closeJob"] == {"__typename": "Forbidden", "code": "FORBIDDEN"}
    assert app.writers.writes.calls == []
