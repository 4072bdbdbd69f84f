"""Cache keys, record-shape versions, and invalidation: the one scheme every layer uses.

Keys, under a configurable prefix (tests use one per test):
- `{p}:e:{Type}:{shape}:{id}`: one entity, as stored. `shape` is a digest of the record
  class's fields and their types, so a deploy that changes a record's shape never reads
  an entry written by the old code: it simply misses.
- `{p}:l:{Type}:{shape}:{id}`: a miss lock, held for milliseconds by the process that
  reads that entity from its store, so that other processes wait for its entry.
- `{p}:v:{Type}`: the type's version, an integer bumped on every change to any entity of
  that type. A cached response records the versions of the types it touched; a bump makes
  those entries unreachable (version-based invalidation: O(1) per write, no scan and no
  index of which responses hold which entity, at the price of invalidating every cached
  response that touched the type, not only those that rendered the changed entity).
- `{p}:apq:{sha256}`: a persisted query's text.
- `{p}:r:{digest}`: a cached response.

`Invalidator.entities_changed(type, ids)` is what every write must call (mutations and
domain-event consumers): it deletes exactly those entity keys and bumps the type's
version, in one pipeline.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, is_dataclass
from enum import Enum
from typing import Any, get_args, get_type_hints

from redis.asyncio import Redis
from redis.exceptions import RedisError

from domain.records import Application, Candidate, Company, Job

log = logging.getLogger("hiregraph.cache")

RECORDS: dict[str, type] = {
    "Company": Company,
    "Job": Job,
    "Application": Application,
    "Candidate": Candidate,
}


def shape_version(record: type) -> str:
    """A digest of a record class's fields and their types, nested records and enum
    members included: any change to what an entry holds changes the digest."""
    seen: set[type] = set()

    def describe(cls: type) -> str:
        if cls in seen:
            return cls.__name__
        seen.add(cls)
        if isinstance(cls, type) and issubclass(cls, Enum):
            return f"{cls.__name__}{[m.value for m in cls]}"
        hints = get_type_hints(cls)
        names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
        parts = [f"{name}:{hints[name]!r}" for name in names]
        nested = [describe(t) for name in names for t in _named_types(hints[name])]
        return f"{cls.__name__}({','.join(parts)})" + "".join(nested)

    return hashlib.sha256(describe(record).encode()).hexdigest()[:10]


def _named_types(hint: Any) -> list[type]:
    """The dataclasses and enums a type hint mentions, at any depth."""
    if is_dataclass(hint) or (isinstance(hint, type) and issubclass(hint, Enum)):
        return [hint]  # type: ignore[list-item]
    return [t for arg in get_args(hint) for t in _named_types(arg)]


@dataclass(frozen=True, slots=True)
class CacheKeys:
    prefix: str = "hg"

    def entity(self, type_name: str, key: Any) -> str:
        return f"{self.prefix}:e:{type_name}:{_SHAPES[type_name]}:{key}"

    def lock(self, type_name: str, key: Any) -> str:
        """A short-lived miss lock on one entity (see datasources.cache.entities)."""
        return f"{self.prefix}:l:{type_name}:{_SHAPES[type_name]}:{key}"

    def version(self, type_name: str) -> str:
        return f"{self.prefix}:v:{type_name}"

    def apq(self, sha256_hex: str) -> str:
        return f"{self.prefix}:apq:{sha256_hex}"

    def response(self, digest: str) -> str:
        return f"{self.prefix}:r:{digest}"


_SHAPES = {name: shape_version(cls) for name, cls in RECORDS.items()}


@dataclass(slots=True)
class CacheStats:
    """Counters (the metrics issue exports them): what the cache did, and what it skipped."""

    hits: int = 0
    misses: int = 0
    writes: int = 0
    redis_errors: int = 0  # a read or write that fell through because Redis failed or was slow


class Invalidator:
    def __init__(
        self,
        redis: Redis,
        keys: CacheKeys,
        stats: CacheStats | None = None,
        *,
        timeout: float = 1.0,
    ) -> None:
        self.redis, self.keys, self.timeout = redis, keys, timeout
        self.stats = stats or CacheStats()

    async def entities_changed(self, type_name: str, ids: Iterable[Any]) -> None:
        """Drop these entities' cache entries and every cached response that touched the
        type. Raises RedisError when Redis cannot be told: a writer must know that the
        cache may serve the old value until its TTL (it may retry, or log and move on)."""
        pipe = self.redis.pipeline(transaction=False)
        entity_keys = [self.keys.entity(type_name, i) for i in ids]
        if entity_keys:
            pipe.delete(*entity_keys)
        pipe.incr(self.keys.version(type_name))
        try:
            async with asyncio.timeout(self.timeout):
                await pipe.execute()
        except (RedisError, OSError, TimeoutError):
            self.stats.redis_errors += 1
            log.warning("cache: could not invalidate %s %s", type_name, list(ids)[:10])
            raise

    async def versions(self, type_names: Sequence[str]) -> list[int]:
        """The current versions of these types (0 for a type never changed)."""
        async with asyncio.timeout(self.timeout):
            values = await self.redis.mget([self.keys.version(t) for t in type_names])
        return [int(v) if v is not None else 0 for v in values]
