"""Automatic persisted queries over HTTP: Apollo's protocol, the guard's checks on the
resolved text, both executors, GET for CDNs, and Redis as the store (or not there).

The app runs in process over the fakes (`tests.factories`), as in test_security.py; the
store is the in-memory one, or a real Redis under this test's key prefix.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from redis.asyncio import Redis

from datasources.cache.apq import ApqStore, RedisApqStore
from datasources.cache.keys import CacheKeys
from domain.api_keys import ApiKeySpec, document_hash
from domain.viewer import Role
from gateway.app import create_app
from gateway.settings import ApqSettings, CacheSettings, LimitSettings, Settings
from tests import factories as f
from tests.e2e.conftest import Seeded
from tests.e2e.test_security import (
    _datasources,
    api_keys,
    real_gateway,
    real_settings,
    refused,
    settings,
)
from tests.stores import StoreUrls

pytestmark = pytest.mark.e2e

BOARD = "{ jobs(first: 5) { edges { node { title company { name } } } } }"
# 10,201 cost units (README, "Limits"): over PUBLIC's budget of 1,000.
EXPENSIVE = (
    "{ companies(first: 100) { edges { node { jobs(first: 100) { edges { node { title } } } } } } }"
)
CSRF = {"x-hiregraph-csrf": "1"}  # prod settings: a GET needs a preflight-forcing header


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(text: str, *, version: object = 1, digest: str | None = None) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": digest or sha(text)}}


@dataclass
class Gateway:
    http: httpx.AsyncClient
    log: f.CallLog
    compiled: list[str]  # the queries the compiled executor was asked to run

    async def hash_only(self, text: str, **extensions: Any) -> httpx.Response:
        body = {"extensions": persisted(text, **extensions)}
        return await self.http.post("/graphql", json=body)

    async def register(self, text: str, **extensions: Any) -> httpx.Response:
        body = {"query": text, "extensions": persisted(text, **extensions)}
        return await self.http.post("/graphql", json=body)

    async def get(self, text: str, **params: str) -> httpx.Response:
        query = {"extensions": orjson.dumps(persisted(text)).decode(), **params}
        return await self.http.get("/graphql", params=query, headers=CSRF)


@asynccontextmanager
async def gateway(
    store: ApqStore | None = None, s: Settings | None = None
) -> AsyncIterator[Gateway]:
    s = s or settings()
    app = create_app(s)
    app.state.datasources, log = _datasources()
    f.install_guard(app, s, store)
    compiled: list[str] = []
    executor = app.graphql.compiled  # type: ignore[attr-defined]
    execute = executor.execute

    async def spy(context: Any, query: str, *args: Any) -> Any:
        compiled.append(query)
        return await execute(context, query, *args)

    executor.execute = spy
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hg") as http:
        yield Gateway(http, log, compiled)


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


# -- the protocol -------------------------------------------------------------------------


async def test_an_unknown_hash_is_not_found_and_nothing_runs() -> None:
    store = f.MemoryApqStore()
    async with gateway(store) as gw:
        response = await gw.hash_only(BOARD)
    refused(response, 200, "PERSISTED_QUERY_NOT_FOUND")
    assert response.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert response.headers["cache-control"] == "private, no-cache, must-revalidate"
    assert store.calls == [("get", sha(BOARD))]  # looked up, nothing stored
    assert gw.log.calls == []


async def test_registered_with_its_text_then_run_by_hash_with_the_same_bytes() -> None:
    store = f.MemoryApqStore()
    async with gateway(store) as gw:
        full = await gw.http.post("/graphql", json={"query": BOARD})
        registered = await gw.register(BOARD)
        assert store.texts == {sha(BOARD): BOARD}
        by_hash = await gw.hash_only(BOARD)
    assert ok(full)["data"]["jobs"]["edges"]
    assert registered.content == full.content
    assert by_hash.content == full.content
    # The compiled executor answered all three: APQ requests are as fast as full ones.
    assert gw.compiled == [BOARD, BOARD, BOARD]


async def test_a_wrong_hash_is_refused_and_nothing_is_stored() -> None:
    store = f.MemoryApqStore()
    async with gateway(store) as gw:
        response = await gw.register(BOARD, digest=sha(BOARD + " "))
    extensions = refused(response, 400, "PERSISTED_QUERY_HASH_MISMATCH")
    assert extensions.pop("traceId")  # every error carries the request's trace id
    assert extensions == {"code": "PERSISTED_QUERY_HASH_MISMATCH"}
    assert store.calls == []
    assert gw.log.calls == []


@pytest.mark.parametrize("version", [2, True, None])
async def test_an_unknown_version_is_refused(version: object) -> None:
    store = f.MemoryApqStore({sha(BOARD): BOARD})
    async with gateway(store) as gw:
        refused(await gw.hash_only(BOARD, version=version), 400, "BAD_REQUEST")
    assert store.calls == []


async def test_a_hash_that_is_not_sha256_hex_is_refused() -> None:
    store = f.MemoryApqStore()
    async with gateway(store) as gw:
        refused(await gw.hash_only(BOARD, digest="apq:*"), 400, "BAD_REQUEST")
    assert store.calls == []


async def test_other_extensions_are_kept_and_the_compiled_path_declines_them() -> None:
    store = f.MemoryApqStore({sha(BOARD): BOARD})
    body = {"extensions": {**persisted(BOARD), "tracing": True}}
    async with gateway(store) as gw:
        full = await gw.http.post("/graphql", json={"query": BOARD})
        response = await gw.http.post("/graphql", json=body)
    assert response.content == full.content
    assert gw.compiled == [BOARD]  # only the plain request: Strawberry ran the other


async def test_disabled_apq_says_not_supported() -> None:
    s = settings(apq=ApqSettings(enabled=False))
    async with gateway(s=s) as gw:
        response = await gw.register(BOARD)
        plain = await gw.http.post("/graphql", json={"query": BOARD})
    refused(response, 200, "PERSISTED_QUERY_NOT_SUPPORTED")
    assert response.headers["cache-control"] == "private, no-cache, must-revalidate"
    assert ok(plain)["data"]


# -- the guard's checks apply to the resolved text --------------------------------------


async def test_a_persisted_query_over_the_cost_budget_is_refused() -> None:
    store = f.MemoryApqStore({sha(EXPENSIVE): EXPENSIVE})  # e.g. stored when budgets were higher
    async with gateway(store) as gw:
        by_hash = await gw.hash_only(EXPENSIVE)
        registering = await gw.register(EXPENSIVE + " ")
    assert refused(by_hash, 200, "COST_LIMIT")["budget"] == 1000
    refused(registering, 200, "COST_LIMIT")
    assert sha(EXPENSIVE + " ") not in store.texts  # refused texts are never stored
    assert gw.log.calls == []


async def test_static_limits_apply_to_the_resolved_text() -> None:
    s = settings(limits=LimitSettings(max_depth=3))
    store = f.MemoryApqStore({sha(BOARD): BOARD})
    async with gateway(store, s) as gw:
        refused(await gw.hash_only(BOARD), 200, "QUERY_TOO_DEEP")
    assert gw.log.calls == []


async def test_a_batch_resolves_each_operation() -> None:
    s = settings(limits=LimitSettings(batching_enabled=True))
    store = f.MemoryApqStore({sha(BOARD): BOARD})
    batch = [{"extensions": persisted(BOARD)}, {"query": "{ jobs(first: 1) { totalCount } }"}]
    async with gateway(store, s) as gw:
        response = await gw.http.post("/graphql", json=batch)
    assert response.status_code == 200, response.text
    first, second = response.json()
    assert first["data"]["jobs"]["edges"]
    assert second["data"]["jobs"]["totalCount"] == 2


# -- GET, for CDN caching -----------------------------------------------------------------


async def test_get_with_only_the_hash_runs_after_registering() -> None:
    store = f.MemoryApqStore()
    async with gateway(store) as gw:
        missed = await gw.get(BOARD)
        await gw.register(BOARD)
        response = await gw.get(BOARD)
        full = await gw.http.post("/graphql", json={"query": BOARD})
    refused(missed, 200, "PERSISTED_QUERY_NOT_FOUND")
    assert missed.headers["cache-control"] == "private, no-cache, must-revalidate"
    assert ok(response) == full.json()
    assert gw.compiled[-2:] == [BOARD, BOARD]  # the GET was compiled too


async def test_get_passes_operation_name_and_variables() -> None:
    text = "query Board($n: Int) { jobs(first: $n) { totalCount edges { node { title } } } }"
    store = f.MemoryApqStore({sha(text): text})
    async with gateway(store) as gw:
        response = await gw.get(text, operationName="Board", variables='{"n": 1}')
    assert len(ok(response)["data"]["jobs"]["edges"]) == 1


async def test_get_of_a_persisted_mutation_is_refused() -> None:
    text = 'mutation { applyToJob(jobId: "x") { __typename } }'
    store = f.MemoryApqStore({sha(text): text})
    async with gateway(store) as gw:
        refused(await gw.get(text), 405, "METHOD_NOT_ALLOWED")
    assert gw.log.calls == []


async def test_get_with_a_hash_still_needs_the_csrf_header() -> None:
    store = f.MemoryApqStore({sha(BOARD): BOARD})
    params = {"extensions": orjson.dumps(persisted(BOARD)).decode()}
    async with gateway(store) as gw:
        refused(await gw.http.get("/graphql", params=params), 400, "CSRF_PREVENTION")
    assert store.calls == []


# -- Redis as the store ---------------------------------------------------------------------


async def test_redis_stores_the_text_with_a_ttl(stores: StoreUrls, redis_prefix: str) -> None:
    redis = Redis.from_url(stores.redis, socket_timeout=0.5, socket_connect_timeout=0.5)
    keys = CacheKeys(redis_prefix.rstrip(":"))
    store = RedisApqStore(redis, keys, ttl_seconds=3600)
    try:
        async with gateway(store) as gw:
            refused(await gw.hash_only(BOARD), 200, "PERSISTED_QUERY_NOT_FOUND")
            ok(await gw.register(BOARD))
            assert await redis.get(keys.apq(sha(BOARD))) == BOARD.encode()
            assert 3500 < await redis.ttl(keys.apq(sha(BOARD))) <= 3600
            await redis.expire(keys.apq(sha(BOARD)), 60)
            by_hash = await gw.get(BOARD)
            assert ok(by_hash)["data"]["jobs"]["edges"]
            assert await redis.ttl(keys.apq(sha(BOARD))) > 3500  # a hit refreshes the TTL
            refused(
                await gw.register(BOARD, digest=sha("{ x }")), 400, "PERSISTED_QUERY_HASH_MISMATCH"
            )
            assert await redis.exists(keys.apq(sha("{ x }"))) == 0
    finally:
        await redis.aclose()
    assert store.stats.redis_errors == 0


async def test_redis_down_means_not_found_and_full_queries_still_run() -> None:
    redis = Redis.from_url("redis://127.0.0.1:1/0", socket_timeout=0.1, socket_connect_timeout=0.1)
    store = RedisApqStore(redis, CacheKeys("hg"), ttl_seconds=60)
    try:
        async with gateway(store) as gw:
            missed = await gw.hash_only(BOARD)
            registered = await gw.register(BOARD)  # the store is skipped, the query runs
            again = await gw.get(BOARD)
    finally:
        await redis.aclose()
    refused(missed, 200, "PERSISTED_QUERY_NOT_FOUND")
    assert ok(registered)["data"]["jobs"]["edges"]
    refused(again, 200, "PERSISTED_QUERY_NOT_FOUND")
    assert store.stats.redis_errors == 1  # then left alone for the retry period


# -- the lifespan's store, over the seeded stores -----------------------------------------


async def test_the_lifespan_serves_persisted_queries_from_redis(
    seeded: Seeded, redis_prefix: str
) -> None:
    s = real_settings(seeded, cache=CacheSettings(key_prefix=redis_prefix.rstrip(":")))
    params = {"extensions": orjson.dumps(persisted(BOARD)).decode()}
    async with real_gateway(s) as http:
        missed = await http.get("/graphql", params=params, headers=CSRF)
        body = {"query": BOARD, "extensions": persisted(BOARD)}
        registered = await http.post("/graphql", json=body)
        by_hash = await http.get("/graphql", params=params, headers=CSRF)
    refused(missed, 200, "PERSISTED_QUERY_NOT_FOUND")
    assert len(ok(registered)["data"]["jobs"]["edges"]) == 5
    assert ok(by_hash) == registered.json()
    redis = Redis.from_url(seeded.redis_url)
    try:
        assert await redis.get(CacheKeys(s.cache.key_prefix).apq(sha(BOARD))) == BOARD.encode()
    finally:
        await redis.aclose()


async def test_a_trusted_documents_key_runs_only_registered_texts_by_hash(
    seeded: Seeded, redis_prefix: str
) -> None:
    """APQ is no way around trusted documents: the resolved text is what is checked, and
    a text the key may not run is not stored on its behalf either."""
    s = real_settings(seeded, cache=CacheSettings(key_prefix=redis_prefix.rstrip(":")))
    spec = ApiKeySpec(name="apq-partner", role=Role.ANALYST, trusted_documents_only=True)
    other = "{ jobs(first: 1) { totalCount } }"
    async with api_keys(seeded) as repo, real_gateway(s) as http:
        key, plaintext = await repo.create(spec)
        await repo.add_documents(key.id, [(document_hash(BOARD), "board")])
        headers = {"x-api-key": plaintext}

        async def send(text: str, *, with_text: bool) -> httpx.Response:
            body: dict[str, Any] = {"extensions": persisted(text)}
            if with_text:
                body["query"] = text
            return await http.post("/graphql", json=body, headers=headers)

        refused(await send(other, with_text=True), 403, "PERSISTED_QUERY_REQUIRED")
        refused(await send(other, with_text=False), 200, "PERSISTED_QUERY_NOT_FOUND")
        ok(await http.post("/graphql", json={"query": other, "extensions": persisted(other)}))
        refused(await send(other, with_text=False), 403, "PERSISTED_QUERY_REQUIRED")
        ok(await send(BOARD, with_text=True))
        assert ok(await send(BOARD, with_text=False))["data"]["jobs"]["edges"]
