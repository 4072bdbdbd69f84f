"""Cached decorators of the read ports: the same Protocols.

- `get_many` of companies, jobs and candidates: through the entity cache, by id.
- Root job pages and counts, and application counts per job or candidate: through the
  result cache (`datasources.cache.pages`), under the versions of the types they read.
- Everything else (other searches, edges, company by slug) goes straight to the wrapped
  repository. Slugs stay uncached: `Invalidator.entities_changed` drops entries by id,
  so a slug entry would outlive a renamed slug.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from redis.asyncio import Redis

from datasources.cache.codec import RecordCodec
from datasources.cache.entities import EntityCache, RedisGate
from datasources.cache.keys import CacheKeys, CacheStats
from datasources.cache.pages import CachedCounts, CachedPages
from datasources.cache.results import ResultCache
from datasources.ports import (
    ApplicationRepository,
    CandidateRepository,
    CompanyRepository,
    Datasources,
    JobRepository,
)
from domain.queries import (
    ApplicationFilter,
    CandidateFilter,
    CandidateOrder,
    CompanyFilter,
    CompanyOrder,
    JobFilter,
    JobOrder,
    Page,
    PageRequest,
)
from domain.records import Application, Candidate, Company, Job


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
    def __init__(
        self,
        inner: JobRepository,
        cache: EntityCache[int, Job],
        results: ResultCache | None = None,
    ) -> None:
        self.inner, self.cache = inner, cache
        self.pages = None if results is None else CachedPages(results, "jobs", ["Job"])
        self.counts = None if results is None else CachedCounts(results, "jobcount", ["Job"])

    async def get_many(self, ids: Sequence[int]) -> list[Job | None]:
        return await self.cache.get_many(ids, self.inner.get_many)

    async def search(
        self, f: JobFilter, order: JobOrder, page: PageRequest, fields: frozenset[str] | None = None
    ) -> Page[Job]:
        if self.pages is None:
            return await self.inner.search(f, order, page, fields)
        # Whole jobs from the entity cache carry at least `fields`; a miss reads only
        # those, so concurrent misses share a read only when they ask the same fields.
        return await self.pages.page(
            (f, order, page),
            lambda: self.inner.search(f, order, page, fields),
            self.get_many,
            _id,
            flight=repr(sorted(fields)) if fields is not None else "",
        )

    async def count(self, f: JobFilter) -> int:
        if self.counts is None:
            return await self.inner.count(f)

        async def read(_: list[int]) -> dict[int, int]:
            return {0: await self.inner.count(f)}

        return (await self.counts.counts((f,), [0], read))[0]

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


class CachedApplicationRepository:
    """Application counts per job and per candidate through the result cache, under the
    "Application" version (any application written invalidates them)."""

    def __init__(self, inner: ApplicationRepository, results: ResultCache) -> None:
        self.inner = inner
        self.by_job = CachedCounts(results, "appcount:job", ["Application"])
        self.by_candidate = CachedCounts(results, "appcount:cand", ["Application"])

    async def get_many(self, ids: Sequence[int], f: ApplicationFilter) -> list[Application | None]:
        return await self.inner.get_many(ids, f)

    async def applied_to(self, candidate_ids: Sequence[str]) -> dict[str, frozenset[int]]:
        return await self.inner.applied_to(candidate_ids)

    async def applicants(self, company_id: int) -> frozenset[str]:
        return await self.inner.applicants(company_id)

    async def for_jobs(
        self, job_ids: Sequence[int], f: ApplicationFilter, limit: int
    ) -> dict[int, Page[Application]]:
        return await self.inner.for_jobs(job_ids, f, limit)

    async def for_candidates(
        self, candidate_ids: Sequence[str], f: ApplicationFilter, limit: int
    ) -> dict[str, Page[Application]]:
        return await self.inner.for_candidates(candidate_ids, f, limit)

    async def count_for_jobs(self, job_ids: Sequence[int], f: ApplicationFilter) -> dict[int, int]:
        return await self.by_job.counts(
            (f,), job_ids, lambda missing: self.inner.count_for_jobs(missing, f)
        )

    async def count_for_candidates(
        self, candidate_ids: Sequence[str], f: ApplicationFilter
    ) -> dict[str, int]:
        return await self.by_candidate.counts(
            (f,), candidate_ids, lambda missing: self.inner.count_for_candidates(missing, f)
        )


def _id(record: Any) -> object:
    return record.id


@dataclass(frozen=True)
class EntityCacheConfig:
    """What `with_entity_cache` needs (gateway.settings.CacheSettings, without importing it)."""

    key_prefix: str = "hg"
    ttl_seconds: tuple[tuple[str, int], ...] = (("Company", 300), ("Job", 60), ("Candidate", 60))
    timeout: float = 0.25
    retry_seconds: float = 5.0
    lock_ms: int = 200
    failures_to_trip: int = 1
    result_ttl_seconds: int = 60  # 0: query results (pages, counts) are not cached


def with_entity_cache(
    ds: Datasources, redis: Redis, config: EntityCacheConfig, stats: CacheStats
) -> Datasources:
    """`ds` with companies, jobs and candidates read through one shared gate to `redis`.
    A type whose TTL is 0 (or absent) stays uncached."""
    gate = RedisGate(
        redis,
        stats,
        timeout=config.timeout,
        retry_seconds=config.retry_seconds,
        failures_to_trip=config.failures_to_trip,
    )
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
    ttl = config.result_ttl_seconds
    results = ResultCache(gate, keys, ttl_seconds=ttl) if ttl > 0 else None
    return replace(
        ds,
        companies=ds.companies
        if companies is None
        else CachedCompanyRepository(ds.companies, companies),
        jobs=ds.jobs if jobs is None else CachedJobRepository(ds.jobs, jobs, results),
        applications=(
            ds.applications
            if results is None
            else CachedApplicationRepository(ds.applications, results)
        ),
        candidates=(
            ds.candidates
            if candidates is None
            else CachedCandidateRepository(ds.candidates, candidates)
        ),
    )
