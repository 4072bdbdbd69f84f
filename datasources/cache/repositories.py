"""Cached decorators of the entity ports: the same Protocols, `get_many` through the cache.

Everything else (searches, counts, edges, company by slug) goes straight to the wrapped
repository. Slugs stay uncached: `Invalidator.entities_changed` drops entries by id, so
a slug entry would outlive a renamed slug.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from redis.asyncio import Redis

from datasources.cache.codec import RecordCodec
from datasources.cache.entities import EntityCache, RedisGate
from datasources.cache.keys import CacheKeys, CacheStats
from datasources.ports import (
    CandidateRepository,
    CompanyRepository,
    Datasources,
    JobRepository,
)
from domain.queries import (
    CandidateFilter,
    CandidateOrder,
    CompanyFilter,
    CompanyOrder,
    JobFilter,
    JobOrder,
    Page,
    PageRequest,
)
from domain.records import Candidate, Company, Job


class CachedCompanyRepository:
    def __init__(self, inner: CompanyRepository, cache: EntityCache[int, Company]) -> None:
        self.inner, self.cache = inner, cache

    async def get_many(self, ids: Sequence[int]) -> list[Company | None]:
        return await self.cache.get_many(ids, self.inner.get_many)

    async def get_many_by_slug(self, slugs: Sequence[str]) -> list[Company | None]:
        return await self.inner.get_many_by_slug(slugs)

    async def search(
        self, f: CompanyFilter, order: CompanyOrder, page: PageRequest
    ) -> Page[Company]:
        return await self.inner.search(f, order, page)

    async def count(self, f: CompanyFilter) -> int:
        return await self.inner.count(f)


class CachedJobRepository:
    def __init__(self, inner: JobRepository, cache: EntityCache[int, Job]) -> None:
        self.inner, self.cache = inner, cache

    async def get_many(self, ids: Sequence[int]) -> list[Job | None]:
        return await self.cache.get_many(ids, self.inner.get_many)

    async def search(
        self, f: JobFilter, order: JobOrder, page: PageRequest, fields: frozenset[str] | None = None
    ) -> Page[Job]:
        return await self.inner.search(f, order, page, fields)

    async def count(self, f: JobFilter) -> int:
        return await self.inner.count(f)

    async def for_companies(
        self, company_ids: Sequence[int], f: JobFilter, limit: int
    ) -> dict[int, Page[Job]]:
        return await self.inner.for_companies(company_ids, f, limit)

    async def matching_for(
        self, profiles: Sequence[dict[str, Any]], limit: int
    ) -> dict[str, list[Job]]:
        return await self.inner.matching_for(profiles, limit)


class CachedCandidateRepository:
    def __init__(self, inner: CandidateRepository, cache: EntityCache[str, Candidate]) -> None:
        self.inner, self.cache = inner, cache

    async def get_many(self, ids: Sequence[str]) -> list[Candidate | None]:
        return await self.cache.get_many(ids, self.inner.get_many)

    async def search(
        self, f: CandidateFilter, order: CandidateOrder, page: PageRequest
    ) -> Page[Candidate]:
        return await self.inner.search(f, order, page)

    async def count(self, f: CandidateFilter) -> int:
        return await self.inner.count(f)

    async def matching_for(
        self, jobs: Sequence[tuple[int, Sequence[str]]], limit: int
    ) -> dict[int, list[str]]:
        return await self.inner.matching_for(jobs, limit)


@dataclass(frozen=True)
class EntityCacheConfig:
    """What `with_entity_cache` needs (gateway.settings.CacheSettings, without importing it)."""

    key_prefix: str = "hg"
    ttl_seconds: tuple[tuple[str, int], ...] = (("Company", 300), ("Job", 60), ("Candidate", 60))
    timeout: float = 0.1
    retry_seconds: float = 5.0
    lock_ms: int = 200


def with_entity_cache(
    ds: Datasources, redis: Redis, config: EntityCacheConfig, stats: CacheStats
) -> Datasources:
    """`ds` with companies, jobs and candidates read through one shared gate to `redis`.
    A type whose TTL is 0 (or absent) stays uncached."""
    gate = RedisGate(redis, stats, timeout=config.timeout, retry_seconds=config.retry_seconds)
    keys = CacheKeys(config.key_prefix)
    ttls = dict(config.ttl_seconds)

    def cache(type_name: str, cls: type[Any]) -> EntityCache[Any, Any] | None:
        ttl = ttls.get(type_name, 0)
        if ttl <= 0:
            return None
        codec = RecordCodec(cls)
        return EntityCache(gate, keys, type_name, codec, ttl_seconds=ttl, lock_ms=config.lock_ms)

    companies, jobs, candidates = (
        cache("Company", Company),
        cache("Job", Job),
        cache("Candidate", Candidate),
    )
    return replace(
        ds,
        companies=ds.companies
        if companies is None
        else CachedCompanyRepository(ds.companies, companies),
        jobs=ds.jobs if jobs is None else CachedJobRepository(ds.jobs, jobs),
        candidates=(
            ds.candidates
            if candidates is None
            else CachedCandidateRepository(ds.candidates, candidates)
        ),
    )
