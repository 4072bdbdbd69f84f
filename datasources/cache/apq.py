"""The automatic-persisted-query store: a query's text under its SHA-256, in Redis.

A cache, never a dependency: when Redis fails or is slow, `get` answers "not found" (the
client then resends the full query, which runs) and `put` is skipped, each after one
short timeout; after a failure Redis is left alone for `retry_seconds`, so an outage
costs one timeout per retry period rather than one per request (as the rate limiter).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from datasources import observe
from datasources.cache.cooldown import Cooldown
from datasources.cache.keys import CacheKeys, CacheStats


class ApqStore(Protocol):
    """Persisted-query texts by the SHA-256 hex of their exact UTF-8 text."""

    async def get(self, sha256_hex: str) -> str | None:
        """The text, or None when unknown or the store is unavailable."""
        ...

    async def put(self, sha256_hex: str, query: str) -> None:
        """Remember a text whose hash the caller has checked; never raises."""
        ...


class RedisApqStore:
    """`{prefix}:apq:{sha256}` -> text, with a sliding TTL: a read refreshes it (GETEX),
    so the queries clients keep sending never expire while abandoned ones (old client
    builds) leave after `ttl_seconds`.

    `redis` should be a client whose socket timeouts are the short APQ timeout (the
    lifespan builds one): a lookup sits on every hash-only request's path."""

    def __init__(
        self,
        redis: Redis,
        keys: CacheKeys,
        *,
        ttl_seconds: int,
        retry_seconds: float = 5.0,
        timeout: float = 0.25,
        failures_to_trip: int = 1,
        stats: CacheStats | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis, self.keys = redis, keys
        self.ttl_seconds, self.timeout = ttl_seconds, timeout
        self.stats = stats or CacheStats()
        self._cooldown = Cooldown(
            "apq", "persisted queries miss", self.stats, retry_seconds, clock, failures_to_trip
        )

    async def get(self, sha256_hex: str) -> str | None:
        if not self._cooldown.available:
            self.stats.misses += 1
            observe.sink.cache("apq", 0, 1)
            return None
        try:
            async with asyncio.timeout(self.timeout):
                value = await self.redis.getex(self.keys.apq(sha256_hex), ex=self.ttl_seconds)
            self._cooldown.succeeded()
        except (RedisError, OSError, TimeoutError) as error:
            self._cooldown.failed("lookup", error)
            self.stats.misses += 1
            observe.sink.cache("apq", 0, 1)
            return None
        if value is None:
            self.stats.misses += 1
            observe.sink.cache("apq", 0, 1)
            return None
        self.stats.hits += 1
        observe.sink.cache("apq", 1, 0)
        return value.decode() if isinstance(value, bytes) else str(value)

    async def put(self, sha256_hex: str, query: str) -> None:
        if not self._cooldown.available:
            return
        try:
            async with asyncio.timeout(self.timeout):
                key = self.keys.apq(sha256_hex)
                await self.redis.set(key, query.encode(), ex=self.ttl_seconds)
        except (RedisError, OSError, TimeoutError) as error:
            self._cooldown.failed("store", error)
            return
        self.stats.writes += 1


__all__ = ["ApqStore", "RedisApqStore"]
