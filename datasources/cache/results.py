"""Cached query results (pages of ids, counts) under the entity types' versions.

Entities are cached by id and dropped by id (`Invalidator.entities_changed`). A query's
result (which ids a filter matches, in what order; how many applications a job has) is
not about one entity: any change to any entity of a type may change it. So a result is
stored under the versions of the types it reads, exactly as a cached response is
(`datasources.cache.responses`): `{p}:q:{name}:{digest}:{v1}.{v2}:{part}`. One Lua
script reads the versions and the entries (one round trip); a miss is written back at
the key decided at lookup time, so a write that bumps a version while the store is read
makes that entry unreachable: a result computed from old data is never served after
the write that changed it.

The price of version keys: any write to a type invalidates every cached result over
that type (a job posted empties the cached board pages, an application submitted the
cached counts). On a read-heavy board that is the right trade: no index of which
result holds which id, O(1) per write, never stale.

Concurrent identical misses in one process share one store read (single-flight, as in
`datasources.cache.entities`); a cancelled leader does not fail its followers.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from redis.asyncio import Redis

from datasources.cache.entities import RedisGate
from datasources.cache.keys import CacheKeys

T = TypeVar("T")

_LOOKUP = """
local versions = {}
for i, key in ipairs(KEYS) do versions[i] = redis.call('GET', key) or '0' end
local base = ARGV[1] .. ':' .. table.concat(versions, '.')
local out = {base}
for i = 2, #ARGV do out[i] = redis.call('GET', base .. ':' .. ARGV[i]) end
return out
"""


def digest(*spec: object) -> str:
    """A stable key for a query's specification (frozen records: their repr is exact)."""
    return hashlib.sha256(repr(spec).encode()).hexdigest()[:32]


class ResultCache:
    """Results of queries over `types`, in parts (a page is one part; counts, one per
    id). Every Redis failure degrades to a miss through the shared `RedisGate`."""

    def __init__(self, gate: RedisGate, keys: CacheKeys, *, ttl_seconds: int) -> None:
        self.gate, self.keys, self.ttl = gate, keys, ttl_seconds
        self._script = gate.redis.register_script(_LOOKUP)
        self._inflight: dict[str, asyncio.Task[Any]] = {}

    async def lookup(
        self, name: str, spec: str, types: Sequence[str], parts: Sequence[str]
    ) -> tuple[str, list[bytes | None]] | None:
        """(the versioned base key, each part's entry or None); None: Redis unavailable."""
        stem = f"{self.keys.prefix}:q:{name}:{spec}"
        version_keys = [self.keys.version(t) for t in types]

        async def run(redis: Redis) -> list[Any]:
            reply: list[Any] = await self._script(keys=version_keys, args=[stem, *parts])
            return reply

        reply = await self.gate.run(run)
        if reply is None:
            return None
        base = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
        values = [reply[i + 1] if i + 1 < len(reply) else None for i in range(len(parts))]
        return base, values

    async def store(self, base: str, entries: dict[str, bytes]) -> None:
        if not entries:
            return

        async def run(redis: Redis) -> bool:
            pipe = redis.pipeline(transaction=False)
            for part, value in entries.items():
                pipe.set(f"{base}:{part}", value, ex=self.ttl)
            await pipe.execute()
            return True

        if await self.gate.run(run):
            self.gate.stats.writes += len(entries)

    async def once(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        """`load()` once per key among concurrent callers in this process."""
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(load())
            self._inflight[key] = task
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        result: T = await asyncio.shield(task)
        return result
