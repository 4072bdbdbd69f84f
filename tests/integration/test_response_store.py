"""The response store on a real Redis: a copy held in process only saves the transfer;
Redis decides, every time, whether (and which) entry is current."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from datasources.cache.keys import CacheKeys, CacheStats, Invalidator
from datasources.cache.responses import RedisResponseStore
from tests.stores import StoreUrls

pytestmark = pytest.mark.integration


@pytest.fixture
async def redis(stores: StoreUrls) -> AsyncIterator[Redis]:
    client = Redis.from_url(stores.redis)
    yield client
    await client.aclose()


async def test_a_held_copy_is_served_only_while_redis_holds_the_same_entry(
    redis: Redis, redis_prefix: str
) -> None:
    keys, stats = CacheKeys(redis_prefix.rstrip(":")), CacheStats()
    store = RedisResponseStore(redis, keys, stats)
    first = await store.lookup("stem", ["Job"])
    assert first is not None
    assert first.value is None
    entry = b'"etag-1"\n{"data":1}'
    await store.store(first.key, entry, 60)
    fetched = await store.lookup("stem", ["Job"])  # the body comes over the wire, is held
    assert fetched is not None
    assert fetched.value == entry
    watched: list[tuple[object, ...]] = []
    original = store._script

    async def spying(*, keys: list[str], args: list[object]) -> object:
        reply = await original(keys=keys, args=args)
        watched.append(tuple(reply))
        return reply

    store._script = spying  # type: ignore[assignment]
    again = await store.lookup("stem", ["Job"])
    assert again is not None
    assert again.value == entry  # the same bytes...
    assert watched[-1][1] == b""  # ...without the body on the wire
    # Redis now holds another entry at the same key: it is served, not the copy.
    await redis.set(first.key, b'"etag-2"\n{"data":2}', ex=60)
    changed = await store.lookup("stem", ["Job"])
    assert changed is not None
    assert changed.value == b'"etag-2"\n{"data":2}'
    # A write bumps the version: the copy is not served for the new key (a miss).
    await Invalidator(redis, keys).entities_changed("Job", [1])
    after_write = await store.lookup("stem", ["Job"])
    assert after_write is not None
    assert after_write.value is None


async def test_a_held_copy_is_never_served_without_redis(redis: Redis, redis_prefix: str) -> None:
    keys, stats = CacheKeys(redis_prefix.rstrip(":")), CacheStats()
    store = RedisResponseStore(redis, keys, stats)
    first = await store.lookup("stem", ["Job"])
    assert first is not None
    await store.store(first.key, b'"e"\n{}', 60)
    assert (await store.lookup("stem", ["Job"])) is not None  # held now
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.1)
    store.redis = dead
    store._script = dead.register_script("return 1")
    try:
        assert await store.lookup("stem", ["Job"]) is None  # unavailable: no answer at all
    finally:
        await dead.aclose()
