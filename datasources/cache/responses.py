"""Cached responses in Redis: one round trip per lookup, and never an error to the caller.

A response's key is `CacheKeys.response(stem)` followed by the current versions of the
entity types it touched (`{p}:r:{stem}:{v1}.{v2}...`, types in sorted order). Reading
the versions and the entry takes one Lua script (EVALSHA), so a hit costs one round
trip. The key is decided at lookup time, before the operation runs: a write that bumps
a version while the operation runs makes the entry written afterwards unreachable, so
a response computed from old data can never be served after the write.

The script reads a key it is not given in KEYS (the response key is derived from the
versions inside it): fine on a single Redis or a replica set, not on Redis Cluster.

Redis is only a cache. A call that fails or takes longer than `timeout` (one
`asyncio.timeout` per call) is counted (`CacheStats.redis_errors`), and Redis is then
left alone for `retry_seconds`, so an outage costs one short timeout per retry period, not one per
request (as the rate limiter does, gateway/limits/rate.py).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from datasources.cache.cooldown import Cooldown
from datasources.cache.keys import CacheKeys, CacheStats

# ARGV[2]: the entry's first line (its ETag) as this process already holds it, or ''.
# When the stored entry starts with it, the reply says so instead of carrying the body.
_LOOKUP = """
local versions = {}
for i, key in ipairs(KEYS) do versions[i] = redis.call('GET', key) or '0' end
local key = ARGV[1] .. ':' .. table.concat(versions, '.')
local value = redis.call('GET', key)
if not value then return {key} end
local ttl = redis.call('TTL', key)
local held = ARGV[2]
if held ~= '' and string.sub(value, 1, #held + 1) == held .. '\\n' then
    return {key, '', ttl}
end
return {key, value, ttl}
"""

_HELD_ENTRIES = 256  # responses this process keeps to skip their transfer (LRU)...
_HELD_BYTES = 128 * 1024  # ...each at most this big: at most 32 MiB per process


@dataclass(frozen=True, slots=True)
class Lookup:
    key: str  # where a fresh response for these versions goes
    value: bytes | None  # the stored entry, None on a miss
    ttl: int  # seconds the entry has left (0 on a miss)


class RedisResponseStore:
    def __init__(
        self,
        redis: Redis,
        keys: CacheKeys,
        stats: CacheStats,
        *,
        retry_seconds: float = 5.0,
        timeout: float = 0.25,
        failures_to_trip: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis, self.keys, self.stats = redis, keys, stats
        self.timeout = timeout
        # The last entry seen per stem. Redis stays the authority: a copy is only used
        # when the lookup script has just found the same entry (same ETag, so the same
        # bytes) at the key of the current versions; it only saves the body's transfer.
        self._copies: OrderedDict[str, bytes] = OrderedDict()
        self._script = redis.register_script(_LOOKUP)
        self._cooldown = Cooldown(
            "response cache", "bypassing the cache", stats, retry_seconds, clock, failures_to_trip
        )

    @property
    def available(self) -> bool:
        return self._cooldown.available

    def _held(self, stem: str) -> bytes | None:
        entry = self._copies.get(stem)
        if entry is not None:
            self._copies.move_to_end(stem)
        return entry

    def _hold(self, stem: str, value: bytes) -> None:
        if len(value) > _HELD_BYTES:
            self._copies.pop(stem, None)
            return
        self._copies[stem] = value
        self._copies.move_to_end(stem)
        if len(self._copies) > _HELD_ENTRIES:
            self._copies.popitem(last=False)

    async def lookup(self, stem: str, types: Sequence[str]) -> Lookup | None:
        """The entry for `stem` at the types' current versions; None: Redis unavailable."""
        if not self.available:
            return None
        try:
            held = self._held(stem)
            etag = b"" if held is None else held.partition(b"\n")[0]
            async with asyncio.timeout(self.timeout):
                reply = await self._script(
                    keys=[self.keys.version(t) for t in types],
                    args=[self.keys.response(stem), etag],
                )
            self._cooldown.succeeded()
        except (RedisError, OSError, TimeoutError) as error:
            self._cooldown.failed("lookup", error)
            return None
        key = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
        if len(reply) < 3:
            return Lookup(key, None, 0)
        if reply[1] == b"" and held is not None:
            return Lookup(key, held, int(reply[2]))
        value = bytes(reply[1])
        self._hold(stem, value)
        return Lookup(key, value, int(reply[2]))

    async def store(self, key: str, value: bytes, ttl: int) -> None:
        if not self.available:
            return
        try:
            async with asyncio.timeout(self.timeout):
                await self.redis.set(key, value, ex=ttl)
        except (RedisError, OSError, TimeoutError) as error:
            self._cooldown.failed("store", error)
            return
        self.stats.writes += 1
