"""`Idempotency-Key` over HTTP, through the real app and its lifespan (Postgres, Redis,
Mongo), with a test schema whose one mutation counts its executions: a replay must
leave the count alone, a re-execution must move it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
import strawberry
from starlette.types import Message
from strawberry.schema.config import BatchingConfig, StrawberryConfig

from datasources.postgres.engine import asyncpg_dsn, create_engine
from datasources.postgres.idempotency import PgIdempotencyStore
from domain.viewer import Role, Viewer
from gateway.app import create_app
from gateway.guard import Admission
from gateway.idempotency import Idempotency
from gateway.settings import AuthSettings, CacheSettings, LimitSettings, Settings
from tests.stores import StoreUrls, unique_name

pytestmark = pytest.mark.e2e
SECRET = "idempotency-suite-secret-0123456789abcdef"
TIMEOUT = 1.0  # the execution timeout: a stalled mutation becomes a 504
BUMP = "mutation Bump($by: Int!, $sleepMs: Int! = 0, $fail: Boolean! = false) {\n"
BUMP += "  bump(by: $by, sleepMs: $sleepMs, fail: $fail)\n}"


@dataclass
class Counter:
    executions: int = 0
    total: int = 0
    stall_next: float = 0.0  # seconds the next execution sleeps (past the timeout)


def counting_schema(counter: Counter) -> strawberry.Schema:
    @strawberry.type
    class Query:
        @strawberry.field
        def executions(self) -> int:
            return counter.executions

    @strawberry.type
    class Mutation:
        @strawberry.mutation
        async def bump(self, by: int, sleep_ms: int = 0, fail: bool = False) -> int:
            counter.executions += 1
            stall, counter.stall_next = counter.stall_next, 0.0
            await asyncio.sleep(stall + sleep_ms / 1000)
            if fail:
                raise RuntimeError("the mutation failed")
            counter.total += by
            return counter.total

    batching = BatchingConfig(max_operations=5)
    return strawberry.Schema(
        query=Query, mutation=Mutation, config=StrawberryConfig(batching_config=batching)
    )


@dataclass
class Env:
    http: httpx.AsyncClient
    counter: Counter
    pg_url: str
    app: Any

    async def post(
        self, body: Any, key: str | bytes | None = None, user: str | None = "u1", **headers: Any
    ) -> httpx.Response:
        if user is not None:
            headers["authorization"] = f"Bearer {token(user)}"
        if key is not None:
            headers["idempotency-key"] = key
        return await self.http.post("/graphql", json=body, headers=headers)

    async def bump(self, key: str | None, by: int = 1, **kw: Any) -> httpx.Response:
        user = kw.pop("user", "u1")
        return await self.post({"query": BUMP, "variables": {"by": by, **kw}}, key, user)

    async def rows(self) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(asyncpg_dsn(self.pg_url))
        try:
            return await conn.fetch(
                "SELECT viewer, key, status, response_status FROM idempotency_keys"
                " ORDER BY viewer, key"
            )
        finally:
            await conn.close()

    async def expire_all(self) -> None:
        conn = await asyncpg.connect(asyncpg_dsn(self.pg_url))
        try:
            await conn.execute("UPDATE idempotency_keys SET expires_at = now() - interval '1s'")
        finally:
            await conn.close()


def token(user: str) -> str:
    claims = {"sub": user, "role": Role.ADMIN.value, "exp": int(time.time()) + 300}
    return jwt.encode(claims, SECRET, algorithm="HS256")


@pytest.fixture
async def env(stores: StoreUrls, pg_url: str, redis_prefix: str) -> AsyncIterator[Env]:
    settings = Settings(
        postgres_url=pg_url, mongo_url=stores.mongo, mongo_db=unique_name("hg_idem"),
        redis_url=stores.redis, gc_gen0_threshold=0, auth=AuthSettings(jwt_secret=SECRET),
        cache=CacheSettings(key_prefix=f"{redis_prefix}cache"),
        limits=LimitSettings(
            batching_enabled=True, execution_timeout_seconds=TIMEOUT,
            rate_limit_key_prefix=f"{redis_prefix}rate",
        ),
    )  # fmt: skip
    counter = Counter()
    app = create_app(settings, schema=counting_schema(counter))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hg") as http:
            yield Env(http, counter, pg_url, app)


def error_code(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body.get("data") is None, body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def test_a_retry_replays_the_first_response_byte_for_byte(env: Env) -> None:
    first = await env.bump("order-1", by=5)
    assert first.status_code == 200, first.text
    assert first.json() == {"data": {"bump": 5}}
    assert "idempotent-replayed" not in first.headers
    assert env.counter.executions == 1
    assert [tuple(r) for r in await env.rows()] == [("user:u1", "order-1", "done", 200)]

    for _ in range(2):
        retry = await env.bump("order-1", by=5)
        assert retry.status_code == 200
        assert retry.content == first.content
        assert retry.headers["content-type"] == first.headers["content-type"]
        assert retry.headers["idempotent-replayed"] == "true"
    assert env.counter.executions == 1


async def test_the_same_key_for_another_request_is_refused(env: Env) -> None:
    assert (await env.bump("order-1", by=5)).status_code == 200
    assert error_code(await env.bump("order-1", by=6), 422) == "IDEMPOTENCY_KEY_REUSED"
    # The operation name is part of the request too.
    renamed = {"query": BUMP.replace("Bump(", "Bump2("), "variables": {"by": 5}}
    assert error_code(await env.post(renamed, "order-1"), 422) == "IDEMPOTENCY_KEY_REUSED"
    assert env.counter.executions == 1
    # Variables are compared as data, whatever order the client serialized them in.
    reordered = {"query": BUMP, "variables": {"sleepMs": 0, "by": 5}}
    same = await env.post({"query": BUMP, "variables": {"by": 5, "sleepMs": 0}}, "order-2")
    again = await env.post(reordered, "order-2")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == same.content
    assert env.counter.executions == 2


async def test_concurrent_requests_with_one_key_execute_once(env: Env) -> None:
    first, second = await asyncio.gather(
        env.bump("order-1", by=3, sleepMs=300), env.bump("order-1", by=3, sleepMs=300)
    )
    done, busy = (first, second) if first.status_code == 200 else (second, first)
    assert done.status_code == 200, done.text
    assert error_code(busy, 409) == "IDEMPOTENCY_IN_PROGRESS"
    assert busy.headers["retry-after"] == "1"
    assert env.counter.executions == 1
    later = await env.bump("order-1", by=3, sleepMs=300)
    assert later.headers["idempotent-replayed"] == "true"
    assert later.content == done.content
    assert env.counter.executions == 1


async def test_a_200_with_graphql_errors_is_stored(env: Env) -> None:
    failed = await env.bump("order-1", fail=True)
    assert failed.status_code == 200
    assert failed.json()["errors"][0]["message"] == "the mutation failed"
    retry = await env.bump("order-1", fail=True)
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.content == failed.content
    assert env.counter.executions == 1


async def test_a_5xx_releases_the_key_for_a_retry(env: Env) -> None:
    env.counter.stall_next = TIMEOUT + 1
    timed_out = await env.bump("order-1", by=2)
    assert error_code(timed_out, 504) == "TIMEOUT"
    assert await env.rows() == []
    retry = await env.bump("order-1", by=2)
    assert retry.status_code == 200
    assert "idempotent-replayed" not in retry.headers
    assert env.counter.executions == 2
    assert (await env.bump("order-1", by=2)).headers["idempotent-replayed"] == "true"
    assert env.counter.executions == 2


async def test_an_expired_key_executes_again(env: Env) -> None:
    assert (await env.bump("order-1", by=1)).json() == {"data": {"bump": 1}}
    await env.expire_all()
    again = await env.bump("order-1", by=1)
    assert again.json() == {"data": {"bump": 2}}
    assert "idempotent-replayed" not in again.headers
    assert env.counter.executions == 2
    # And it is stored afresh: a reuse with another request is refused again.
    assert error_code(await env.bump("order-1", by=9), 422) == "IDEMPOTENCY_KEY_REUSED"


async def test_keys_are_per_viewer(env: Env) -> None:
    mine = await env.bump("shared", by=1, user="u1")
    theirs = await env.bump("shared", by=1, user="u2")
    assert (mine.json(), theirs.json()) == ({"data": {"bump": 1}}, {"data": {"bump": 2}})
    assert env.counter.executions == 2
    assert (await env.bump("shared", by=1, user="u2")).content == theirs.content
    assert (await env.bump("shared", by=1, user="u1")).content == mine.content
    assert env.counter.executions == 2


async def test_an_anonymous_caller_cannot_use_a_key(env: Env) -> None:
    refused = await env.bump("order-1", user=None)
    assert error_code(refused, 400) == "IDEMPOTENCY_REQUIRES_AUTH"
    assert env.counter.executions == 0
    assert (await env.bump(None, user=None)).status_code == 200  # without the header


@pytest.mark.parametrize(
    "key",
    [b"", b"x" * 256, "clé".encode(), b"tab\there", b"del\x7f"],
    ids=["empty", "256 chars", "non-ascii", "control", "DEL"],
)
async def test_a_bad_key_is_refused(env: Env, key: bytes) -> None:
    refused = await env.bump(key)  # type: ignore[arg-type]
    assert error_code(refused, 400) == "BAD_IDEMPOTENCY_KEY"
    assert env.counter.executions == 0
    assert await env.rows() == []


async def test_the_longest_key_and_two_headers(env: Env) -> None:
    assert (await env.bump("~ " + "k" * 253)).status_code == 200
    assert [r["key"] for r in await env.rows()] == ["~ " + "k" * 253]
    headers = [("authorization", f"Bearer {token('u1')}"),
               ("idempotency-key", "a"), ("idempotency-key", "b")]  # fmt: skip
    two = await env.http.post("/graphql", json={"query": BUMP, "variables": {"by": 1}},
                              headers=headers)  # fmt: skip
    assert error_code(two, 400) == "BAD_IDEMPOTENCY_KEY"
    assert env.counter.executions == 1


async def test_a_query_ignores_the_header(env: Env) -> None:
    for key in ("order-1", "\x7f bad"):
        response = await env.post({"query": "{ executions }"}, key)
        assert response.status_code == 200, response.text
        assert "idempotent-replayed" not in response.headers
    await env.bump(None)
    response = await env.post({"query": "{ executions }"}, "order-1")
    assert response.json() == {"data": {"executions": 1}}  # executed, not replayed
    assert await env.rows() == []


async def test_a_batch_with_a_key_is_refused(env: Env) -> None:
    batch = [{"query": BUMP, "variables": {"by": 1}}, {"query": "{ executions }"}]
    assert error_code(await env.post(batch, "order-1"), 400) == "IDEMPOTENCY_BATCH_UNSUPPORTED"
    assert env.counter.executions == 0
    answered = await env.post(batch)
    assert answered.status_code == 200
    assert [r["data"] for r in answered.json()] == [{"bump": 1}, {"executions": 1}]


async def test_an_unreachable_store_refuses_instead_of_executing(env: Env) -> None:
    dead = create_engine(
        "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere", pool_size=1, max_overflow=0,
        pool_timeout=1, connect_timeout=1, statement_timeout_ms=1000,
    )  # fmt: skip
    ttl, lease = timedelta(hours=1), timedelta(seconds=60)
    env.app.state.idempotency = Idempotency(PgIdempotencyStore(dead, ttl=ttl, lease=lease))
    try:
        assert error_code(await env.bump("order-1"), 503) == "UPSTREAM_UNAVAILABLE"
        assert env.counter.executions == 0
    finally:
        await dead.dispose()


async def test_an_exception_during_execution_releases_the_key(env: Env) -> None:
    """The layer itself, for what HTTP cannot provoke: the executor raising."""
    idempotency: Idempotency = env.app.state.idempotency
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "headers": [(b"idempotency-key", b"order-1")]}
    payload = {"query": BUMP, "variables": {"by": 1}}
    admission = Admission(Viewer(Role.ADMIN, user_id="u1"), b"", payload)
    during: list[Any] = []

    async def crashing_executor() -> None:
        async with idempotency.guard(scope, admission, send) as guarded:
            during.append((guarded.answered, [tuple(r) for r in await env.rows()]))
            await guarded.send({"type": "http.response.start", "status": 200, "headers": []})
            raise RuntimeError("executor crashed")

    with pytest.raises(RuntimeError, match="executor crashed"):
        await crashing_executor()
    assert during == [(False, [("user:u1", "order-1", "in_progress", None)])]
    assert sent == []  # nothing half-sent
    assert await env.rows() == []
    # And the HTTP retry executes.
    assert (await env.bump("order-1")).json() == {"data": {"bump": 1}}
