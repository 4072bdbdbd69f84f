"""The response cache over HTTP: the app in process over the in-memory fakes (whose call
log shows whether an executor touched a store) and a real Redis, a key prefix per test."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import httpx
import jwt
import pytest
from redis.asyncio import Redis

from datasources.cache.keys import CacheKeys, CacheStats, Invalidator
from datasources.cache.responses import RedisResponseStore
from datasources.ports import Datasources
from domain.viewer import Role
from gateway.app import create_app
from gateway.response_cache import ResponseCache
from gateway.settings import AuthSettings, Settings
from schema.ids import to_global_id
from tests import factories as f
from tests.stores import StoreUrls

pytestmark = pytest.mark.e2e

SECRET = "response-cache-suite-secret-0123456789"
BOARD = (
    "{ jobs(first: 50, orderBy: POSTED_AT_DESC) { edges { node { title location "
    "salary { min { amount currency } max { amount currency } } company { name industry } "
    "applications { totalCount } } } } }"
)
DETAIL = (
    "query Detail($id: ID!) { job(id: $id) { title description seniority skills "
    "company { name website } applications(first: 5) { totalCount } } }"
)
EMAIL = f'{{ candidate(id: "{to_global_id("Candidate", f.cid(1))}") {{ name email }} }}'


def token(role: Role, sub: str = "u1", **claims: Any) -> str:
    body = {"sub": sub, "role": role.value, "exp": int(time.time()) + 300, **claims}
    return jwt.encode(body, SECRET, algorithm="HS256")


@dataclass
class Cached:
    http: httpx.AsyncClient
    log: f.CallLog
    ds: Datasources
    stats: CacheStats
    invalidator: Invalidator

    async def post(
        self, query: str, token: str | None = None, variables: Any = None, **headers: str
    ) -> httpx.Response:
        if token:
            headers["authorization"] = f"Bearer {token}"
        body = {"query": query, "variables": variables}
        return await self.http.post("/graphql", json=body, headers=headers)


@asynccontextmanager
async def cached(redis_url: str, prefix: str) -> AsyncIterator[Cached]:
    s = Settings(
        expose_round_trips=False, gc_gen0_threshold=0, auth=AuthSettings(jwt_secret=SECRET)
    )
    app = create_app(s)
    ds, log = f.fake_datasources(
        companies=[f.company(1), f.company(2)],
        jobs=[f.job(i, company_id=1 + i % 2) for i in range(1, 8)],
        candidates=[f.candidate(f.cid(1))],
        applications=[f.application(1, job_id=1, candidate_id=f.cid(1))],
    )
    app.state.datasources = ds
    f.install_guard(app, s)
    redis = Redis.from_url(redis_url, socket_timeout=0.1, socket_connect_timeout=0.1)
    keys, stats = CacheKeys(prefix), CacheStats()
    store = RedisResponseStore(redis, keys, stats)
    app.state.response_cache = ResponseCache(app.graphql.schema._schema, store, stats)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hg") as http:
            yield Cached(http, log, ds, stats, Invalidator(redis, keys, stats))
    finally:
        await redis.aclose()


@pytest.fixture
async def gw(stores: StoreUrls, redis_prefix: str) -> AsyncIterator[Cached]:
    async with cached(stores.redis, redis_prefix) as gateway:
        yield gateway


@pytest.mark.parametrize(
    ("query", "variables"), [(BOARD, None), (DETAIL, {"id": to_global_id("Job", 1)})]
)
async def test_a_hit_is_byte_identical_and_touches_no_store(
    gw: Cached, query: str, variables: Any
) -> None:
    miss = await gw.post(query, variables=variables)
    assert miss.status_code == 200
    assert "errors" not in miss.json(), miss.text
    assert gw.log.calls, "the miss ran an executor"
    gw.log.calls.clear()
    hit = await gw.post(query, variables=variables)
    assert hit.content == miss.content
    assert gw.log.calls == []
    assert (gw.stats.misses, gw.stats.hits, gw.stats.writes) == (1, 1, 1)
    for response in (miss, hit):
        assert response.headers["cache-control"] == "public, max-age=10"
        assert response.headers["etag"] == miss.headers["etag"]
        assert response.headers["content-type"] == "application/json"
        assert "ratelimit-remaining" in response.headers  # the guard's headers survive


async def test_if_none_match_gets_304_on_get_and_post(gw: Cached) -> None:
    first = await gw.post(BOARD)
    etag = first.headers["etag"]
    got = await gw.http.get(
        "/graphql", params={"query": BOARD}, headers={"if-none-match": f'W/"x", {etag}'}
    )
    assert got.status_code == 304
    assert got.content == b""
    assert got.headers["etag"] == etag
    posted = await gw.post(BOARD, **{"if-none-match": etag})
    assert posted.status_code == 304
    stale = await gw.post(BOARD, **{"if-none-match": '"other"'})
    assert stale.status_code == 200
    assert stale.content == first.content


async def test_a_fresh_response_matching_if_none_match_is_304(gw: Cached) -> None:
    etag = (await gw.post(BOARD)).headers["etag"]
    await gw.invalidator.entities_changed("Company", [])  # forces the next one to miss
    again = await gw.post(BOARD, **{"if-none-match": etag})
    assert again.status_code == 304
    assert gw.stats.misses == 2


async def test_scopes_never_share_an_entry(gw: Cached) -> None:
    viewers = [
        None,
        token(Role.RECRUITER, "r1", company_id=1),
        token(Role.RECRUITER, "r2", company_id=2),
        token(Role.CANDIDATE, "c1", candidate_id=f.cid(1)),
        token(Role.ANALYST, "a1"),
        token(Role.ADMIN, "ad1"),
    ]
    for i, viewer in enumerate(viewers, start=1):
        gw.log.calls.clear()
        response = await gw.post(BOARD, viewer)
        assert response.status_code == 200, response.text
        assert gw.log.calls, f"viewer {i} was served another scope's entry"
        assert gw.stats.misses == i
        expected = "public" if viewer is None else "private"
        assert response.headers["cache-control"].startswith(expected)
    # Another recruiter of company 1 shares company 1's entry.
    gw.log.calls.clear()
    await gw.post(BOARD, token(Role.RECRUITER, "r3", company_id=1))
    assert gw.log.calls == []


async def test_a_personal_field_is_cached_per_user(gw: Cached) -> None:
    first = await gw.post(EMAIL, token(Role.ADMIN, "ad1"))
    assert first.json()["data"]["candidate"]["email"], first.text
    assert first.headers["cache-control"].startswith("private")
    gw.log.calls.clear()
    other = await gw.post(EMAIL, token(Role.ADMIN, "ad2"))
    assert gw.log.calls, "another admin was served ad1's entry"
    assert other.status_code == 200
    gw.log.calls.clear()
    await gw.post(EMAIL, token(Role.ADMIN, "ad1"))
    assert gw.log.calls == []  # ad1's own entry


async def test_a_personal_field_without_an_identity_is_not_cached(gw: Cached) -> None:
    for _ in range(2):
        response = await gw.post(EMAIL)  # PUBLIC: no user to key it by
        assert response.headers["cache-control"] == "no-store"
    assert (gw.stats.hits, gw.stats.misses, gw.stats.writes) == (0, 0, 0)


async def test_invalidation_makes_the_next_request_miss(gw: Cached) -> None:
    before = await gw.post(BOARD)
    jobs: Any = gw.ds.jobs
    jobs.rows[1] = replace(jobs.rows[1], title="Staff Engineer")
    assert (await gw.post(BOARD)).content == before.content  # cached until told
    await gw.invalidator.entities_changed("Job", [1])
    gw.log.calls.clear()
    after = await gw.post(BOARD)
    assert gw.log.calls
    assert b"Staff Engineer" in after.content
    assert after.headers["etag"] != before.headers["etag"]


async def test_a_response_with_errors_is_not_cached(gw: Cached) -> None:
    query = "{ jobs(first: 1000) { totalCount } }"  # BAD_USER_INPUT
    for _ in range(2):
        response = await gw.post(query)
        assert response.json()["errors"], response.text
        assert response.headers["cache-control"] == "no-store"
        assert "etag" not in response.headers
    assert (gw.stats.hits, gw.stats.writes) == (0, 0)


async def test_uncacheable_operations_say_no_store(gw: Cached) -> None:
    response = await gw.post("{ __typename }")
    assert response.headers["cache-control"] == "no-store"
    assert gw.stats.misses == 0


async def test_redis_down_answers_from_the_executor_and_counts_it() -> None:
    async with cached("redis://127.0.0.1:1/0", "hg_down:") as gw:
        started = time.monotonic()
        for _ in range(3):
            response = await gw.post(BOARD)
            assert response.status_code == 200
            assert "errors" not in response.json()
            assert response.headers["cache-control"] == "public, max-age=10"
        assert time.monotonic() - started < 2
        assert gw.stats.redis_errors == 1  # then left alone for the retry period
        assert gw.stats.hits == 0
