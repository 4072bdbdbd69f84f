"""PgIdempotencyStore against a real PostgreSQL: claims, replays, leases, purge."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from datasources.postgres.engine import create_engine
from datasources.postgres.idempotency import (
    Begun,
    ExpiredKeysPurge,
    InProgress,
    PgIdempotencyStore,
    Replay,
    Reused,
    StoredResponse,
    purge_expired,
)
from domain.errors import UpstreamUnavailable

pytestmark = pytest.mark.integration
TTL, LEASE = timedelta(hours=24), timedelta(seconds=60)
OK = StoredResponse(200, b'{"data":{"bump":1}}', "application/json")


def _engine(url: str, pool_size: int = 5) -> AsyncEngine:
    return create_engine(
        url, pool_size=pool_size, max_overflow=0, pool_timeout=5,
        connect_timeout=5, statement_timeout_ms=5000,
    )  # fmt: skip


@pytest.fixture
async def engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = _engine(pg_url, pool_size=12)
    yield engine
    await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine) -> PgIdempotencyStore:
    return PgIdempotencyStore(engine, ttl=TTL, lease=LEASE)


async def _rows(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        result = await conn.execute(
            text(
                "SELECT viewer, key, status, request_hash, response_status,"
                " expires_at - now() AS left FROM idempotency_keys ORDER BY viewer, key"
            )
        )
        return [dict(r._mapping) for r in result]


async def _expire(engine: AsyncEngine, key: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'"
                 " WHERE key = :key"),
            {"key": key},
        )  # fmt: skip


async def test_first_use_claims_then_retries_see_in_progress_or_reuse(
    store: PgIdempotencyStore, engine: AsyncEngine
) -> None:
    claim = await store.begin("user:a", "k1", "h1")
    assert isinstance(claim, Begun)
    assert await store.begin("user:a", "k1", "h1") == InProgress()
    assert await store.begin("user:a", "k1", "h2") == Reused()
    [row] = await _rows(engine)
    assert (row["status"], row["request_hash"]) == ("in_progress", "h1")
    # The claim lasts the lease, not the TTL.
    assert timedelta(seconds=50) < row["left"] <= LEASE


async def test_completed_key_replays_the_exact_response(
    store: PgIdempotencyStore, engine: AsyncEngine
) -> None:
    claim = await store.begin("user:a", "k1", "h1")
    assert isinstance(claim, Begun)
    body = b'{"data":{"bump":1},"errors":[{"message":"x"}]} \xff'  # bytes, not text
    response = StoredResponse(200, body, "application/json; charset=utf-8")
    assert await store.complete("user:a", "k1", claim, response) is True
    assert await store.begin("user:a", "k1", "h1") == Replay(response)
    assert await store.begin("user:a", "k1", "other") == Reused()
    [row] = await _rows(engine)
    assert row["status"] == "done"
    assert TTL - timedelta(minutes=1) < row["left"] <= TTL


async def test_abandoned_key_can_be_claimed_again(store: PgIdempotencyStore) -> None:
    claim = await store.begin("user:a", "k1", "h1")
    assert isinstance(claim, Begun)
    await store.abandon("user:a", "k1", claim)
    again = await store.begin("user:a", "k1", "h1")
    assert isinstance(again, Begun)
    assert again != claim


async def test_keys_are_per_viewer(store: PgIdempotencyStore) -> None:
    a = await store.begin("user:a", "same", "h1")
    b = await store.begin("key:b", "same", "h2")
    assert isinstance(a, Begun)
    assert isinstance(b, Begun)
    await store.complete("user:a", "same", a, OK)
    assert await store.begin("key:b", "same", "h2") == InProgress()


async def test_concurrent_claims_let_exactly_one_through(store: PgIdempotencyStore) -> None:
    outcomes = await asyncio.gather(*(store.begin("user:a", "k1", "h1") for _ in range(10)))
    assert sum(isinstance(o, Begun) for o in outcomes) == 1
    assert sum(o == InProgress() for o in outcomes) == 9


async def test_concurrent_claims_of_an_expired_key_let_exactly_one_through(
    store: PgIdempotencyStore, engine: AsyncEngine
) -> None:
    claim = await store.begin("user:a", "k1", "h1")
    assert isinstance(claim, Begun)
    await store.complete("user:a", "k1", claim, OK)
    await _expire(engine, "k1")
    outcomes = await asyncio.gather(*(store.begin("user:a", "k1", "h2") for _ in range(10)))
    assert sum(isinstance(o, Begun) for o in outcomes) == 1
    assert sum(o == InProgress() for o in outcomes) == 9


async def test_an_expired_response_is_ignored_and_overwritten(
    store: PgIdempotencyStore, engine: AsyncEngine
) -> None:
    claim = await store.begin("user:a", "k1", "h1")
    assert isinstance(claim, Begun)
    await store.complete("user:a", "k1", claim, OK)
    await _expire(engine, "k1")
    # Another request under the expired key is a new first use, not a reuse.
    fresh = await store.begin("user:a", "k1", "h2")
    assert isinstance(fresh, Begun)
    [row] = await _rows(engine)
    assert (row["status"], row["request_hash"], row["response_status"]) == (
        "in_progress", "h2", None,
    )  # fmt: skip


async def test_a_claim_past_its_lease_is_taken_over_and_cannot_touch_the_new_one(
    store: PgIdempotencyStore, engine: AsyncEngine
) -> None:
    stale = await store.begin("user:a", "k1", "h1")
    assert isinstance(stale, Begun)
    await _expire(engine, "k1")  # its process died: the lease ran out
    current = await store.begin("user:a", "k1", "h1")
    assert isinstance(current, Begun)
    assert await store.complete("user:a", "k1", stale, OK) is False
    await store.abandon("user:a", "k1", stale)
    assert await store.begin("user:a", "k1", "h1") == InProgress()  # still current's
    done = StoredResponse(200, b"{}", "application/json")
    assert await store.complete("user:a", "k1", current, done) is True
    assert await store.begin("user:a", "k1", "h1") == Replay(done)


async def test_purge_deletes_expired_rows_in_batches(
    store: PgIdempotencyStore, engine: AsyncEngine
) -> None:
    for i in range(7):
        claim = await store.begin("user:a", f"k{i}", "h")
        assert isinstance(claim, Begun)
        await store.complete("user:a", f"k{i}", claim, OK)
    await store.begin("user:a", "running", "h")
    for i in range(5):
        await _expire(engine, f"k{i}")
    await _expire(engine, "running")  # a dead claim is purged too
    assert await purge_expired(engine, batch_size=2) == 6
    assert [r["key"] for r in await _rows(engine)] == ["k5", "k6"]
    assert await store.purge_expired() == 0


async def test_an_unreachable_store_is_upstream_unavailable() -> None:
    engine = _engine("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    store = PgIdempotencyStore(engine, ttl=TTL, lease=LEASE)
    try:
        with pytest.raises(UpstreamUnavailable) as info:
            await store.begin("user:a", "k1", "h1")
        assert info.value.store == "postgres"
    finally:
        await engine.dispose()


async def test_the_worker_task_purges_until_told_to_stop(
    store: PgIdempotencyStore, engine: AsyncEngine
) -> None:
    for key in ("old", "new"):
        claim = await store.begin("user:a", key, "h")
        assert isinstance(claim, Begun)
        await store.complete("user:a", key, claim, OK)
    await _expire(engine, "old")
    stop = asyncio.Event()
    task = asyncio.create_task(ExpiredKeysPurge(engine, interval=0.05).run(stop))
    for _ in range(100):
        if [r["key"] for r in await _rows(engine)] == ["new"]:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 2)
    assert [r["key"] for r in await _rows(engine)] == ["new"]
