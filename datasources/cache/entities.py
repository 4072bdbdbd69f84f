"""The entity cache under the loaders: read-through Redis in front of the by-id reads.

Only by-id reads whose rows are the same for every viewer go through it (companies, jobs,
candidate profiles): the loaders apply the viewer's policy to what comes back, after the
cache, on every request. Applications stay uncached: their by-id read takes the viewer's
scope inside the SQL (the company scope is a join), so an unscoped entry could only be
served after re-checking a join the cache does not hold.

One batch (`EntityCache.get_many`):
1. In-process single-flight: ids another batch of this process is already loading are
   awaited, not loaded again. The rest are loaded by one task made with
   `asyncio.create_task` and awaited through `asyncio.shield`, so cancelling the request
   that started it (a client gone, a timeout) cancels neither the load nor its followers.
2. One `MGET` of the entries; hits are decoded.
3. Misses: one pipeline of `SET lock NX PX lock_ms`, one per missing id (the
   cross-process single-flight). The ids whose lock this process got are read from the
   store in ONE call and written back in one pipeline (`SET ... EX ttl`, locks deleted).
   Ids locked by another process are polled (value and lock, one round trip per poll)
   until their entry appears, their lock goes away, or `lock_ms` passes; whatever is
   still missing is then read from the store here: waiting never fails a request.
   Missing ids (`None`) are not cached: an entity created later must appear at once,
   and a loader asks for ids that came from lists, so unknown ids are rare.
4. Redis down or slow: every Redis call is bounded by `timeout`; any error counts in
   `CacheStats.redis_errors`, turns the call into "all misses" (reads) or nothing
   (writes), and makes the cache skip Redis for `retry_seconds` (skips count too), so
   a dead Redis costs one short timeout per retry period, never a failed request.

A write racing a load (the loader reads the old row, the writer commits and invalidates,
the loader then writes the old row back) can leave a stale entry until its TTL; TTLs
are short for that reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Hashable, Sequence
from functools import partial
from typing import Any, Generic, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from datasources import observe, roundtrips
from datasources.cache.codec import RecordCodec, Uncacheable
from datasources.cache.cooldown import Cooldown
from datasources.cache.keys import CacheKeys, CacheStats

log = logging.getLogger("hiregraph.cache")

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")
T = TypeVar("T")
Fetch = Callable[[list[K]], Awaitable[list[R | None]]]


async def _mget(redis: Redis, *, keys: list[str]) -> list[bytes | None]:
    """Entries as bytes: the cache's client never sets `decode_responses`."""
    values: list[Any] = await redis.mget(keys)
    return values


class RedisGate:
    """Every cache call to Redis: bounded, counted, and skipped for a while after
    failures (the shared `Cooldown`); calls skipped meanwhile count as errors too.

    `run` returns None instead of raising; callers treat None as "Redis said nothing".
    """

    def __init__(
        self,
        redis: Redis,
        stats: CacheStats,
        *,
        timeout: float = 0.25,
        retry_seconds: float = 5.0,
        failures_to_trip: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis, self.stats, self.timeout = redis, stats, timeout
        # A single timeout on a saturated event loop is not an outage: trip after
        # `failures_to_trip` failures in a row (each still bounded by `timeout`).
        self._cooldown = Cooldown(
            "cache", "reading the stores", stats, retry_seconds, clock, failures_to_trip
        )

    @property
    def available(self) -> bool:
        return self._cooldown.available

    async def run(self, op: Callable[[Redis], Awaitable[T]]) -> T | None:
        if not self._cooldown.available:
            self.stats.redis_errors += 1
            return None
        roundtrips.count_redis()
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                result = await op(self.redis)
        except (RedisError, OSError, TimeoutError) as error:
            observe.sink.store_call("redis", "cache", time.perf_counter() - started, False)
            self._cooldown.failed("call", error)
            return None
        observe.sink.store_call("redis", "cache", time.perf_counter() - started, True)
        self._cooldown.succeeded()
        return result


class EntityCache(Generic[K, R]):
    """Read-through cache of one entity type; one per process, shared by all requests."""

    def __init__(
        self,
        gate: RedisGate,
        keys: CacheKeys,
        type_name: str,
        codec: RecordCodec[R],
        *,
        ttl_seconds: int,
        lock_ms: int = 200,
    ) -> None:
        self.gate, self.keys, self.type_name, self.codec = gate, keys, type_name, codec
        self.ttl, self.lock_ms = ttl_seconds, lock_ms
        self._token = uuid.uuid4().hex  # whose lock it is, for anyone debugging Redis
        self._inflight: dict[K, asyncio.Task[dict[K, R | None]]] = {}

    @property
    def stats(self) -> CacheStats:
        return self.gate.stats

    async def get_many(self, ids: Sequence[K], fetch: Fetch[K, R]) -> list[R | None]:
        """`fetch` reads ids from the store in one call (the wrapped repository's
        `get_many`); the result is in key order, `None` for a missing id."""
        tasks: list[asyncio.Task[dict[K, R | None]]] = []
        mine: list[K] = []
        for i in dict.fromkeys(ids):
            task = self._inflight.get(i)
            if task is None:
                mine.append(i)
            elif task not in tasks:
                tasks.append(task)
        if mine:
            task = asyncio.create_task(self._load(mine, fetch))
            for i in mine:
                self._inflight[i] = task
            task.add_done_callback(partial(self._done, ids=mine))
            tasks.append(task)
        found: dict[K, R | None] = {}
        for result in await asyncio.gather(*(asyncio.shield(t) for t in tasks)):
            found.update(result)
        return [found[i] for i in ids]

    def _done(self, task: asyncio.Task[dict[K, R | None]], *, ids: list[K]) -> None:
        for i in ids:
            if self._inflight.get(i) is task:
                del self._inflight[i]
        if not task.cancelled():
            task.exception()  # retrieved: a failure nobody awaited is not logged twice

    async def _load(self, ids: list[K], fetch: Fetch[K, R]) -> dict[K, R | None]:
        keys = [self.keys.entity(self.type_name, i) for i in ids]
        raw = await self.gate.run(partial(_mget, keys=keys))
        if raw is None:  # Redis unusable: straight to the store, nothing written
            self.stats.misses += len(ids)
            observe.sink.cache("entities", 0, len(ids))
            return dict(zip(ids, await fetch(ids), strict=True))
        found: dict[K, R | None] = {}
        missing: list[K] = []
        for i, blob in zip(ids, raw, strict=True):
            record = self._decode(blob) if blob is not None else None
            if record is None:
                missing.append(i)
            else:
                found[i] = record
        self.stats.hits += len(found)
        self.stats.misses += len(missing)
        observe.sink.cache("entities", len(found), len(missing))
        if missing:
            found.update(await self._load_missing(missing, fetch))
        return found

    def _poll_keys(self, ids: list[K]) -> list[str]:
        """Each id's entry, then each id's lock."""
        entries = [self.keys.entity(self.type_name, i) for i in ids]
        return entries + [self.keys.lock(self.type_name, i) for i in ids]

    def _decode(self, blob: bytes) -> R | None:
        try:
            return self.codec.decode(blob)
        except (ValueError, TypeError):  # not this shape after all: a miss, overwritten
            log.warning("cache: undecodable %s entry", self.type_name)
            return None

    async def _load_missing(self, ids: list[K], fetch: Fetch[K, R]) -> dict[K, R | None]:
        locks = [self.keys.lock(self.type_name, i) for i in ids]

        async def lock_all(r: Redis) -> list[Any]:
            pipe = r.pipeline(transaction=False)
            for lock in locks:
                pipe.set(lock, self._token, nx=True, px=self.lock_ms)
            return await pipe.execute()

        got = await self.gate.run(lock_all)
        if got is None:
            return dict(zip(ids, await fetch(ids), strict=True))
        leading = [i for i, ok in zip(ids, got, strict=True) if ok]
        waiting = [i for i, ok in zip(ids, got, strict=True) if not ok]
        parts = await asyncio.gather(
            self._read_through(leading, fetch, unlock=True),
            self._wait_for_others(waiting, fetch),
        )
        return {**parts[0], **parts[1]}

    async def _read_through(
        self, ids: list[K], fetch: Fetch[K, R], *, unlock: bool
    ) -> dict[K, R | None]:
        """One store call for `ids`, then one pipeline writing the entries found."""
        if not ids:
            return {}
        records = await fetch(ids)
        entries: dict[str, bytes] = {}
        for i, record in zip(ids, records, strict=True):
            if record is not None and self.ttl > 0:
                try:
                    entries[self.keys.entity(self.type_name, i)] = self.codec.encode(record)
                except Uncacheable as why:
                    log.info("cache: %s %s not cached: %s", self.type_name, i, why)
        locks = [self.keys.lock(self.type_name, i) for i in ids] if unlock else []

        async def write(r: Redis) -> list[Any]:
            pipe = r.pipeline(transaction=False)
            for key, blob in entries.items():
                pipe.set(key, blob, ex=self.ttl)
            if locks:
                pipe.delete(*locks)
            return await pipe.execute()

        if (entries or locks) and await self.gate.run(write) is not None:
            self.stats.writes += len(entries)
        return dict(zip(ids, records, strict=True))

    async def _wait_for_others(self, ids: list[K], fetch: Fetch[K, R]) -> dict[K, R | None]:
        """Another process holds these ids' locks: poll for its entries within `lock_ms`,
        then read whatever is still missing from the store (never fail for waiting)."""
        found: dict[K, R | None] = {}
        pending, unlocked = list(ids), list[K]()
        deadline = time.monotonic() + self.lock_ms / 1000
        pause = 0.005
        while pending and time.monotonic() < deadline:
            await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause *= 2
            polled = await self.gate.run(partial(_mget, keys=self._poll_keys(pending)))
            if polled is None:
                break
            still: list[K] = []
            for n, i in enumerate(pending):
                blob, lock = polled[n], polled[len(pending) + n]
                record = self._decode(blob) if blob is not None else None
                if record is not None:
                    found[i] = record
                elif lock is not None:
                    still.append(i)
                else:  # unlocked without an entry: a missing id, or the leader failed
                    unlocked.append(i)
            pending = still
        # One store call for everything the other process did not deliver in time.
        found.update(await self._read_through(unlocked + pending, fetch, unlock=False))
        return found
