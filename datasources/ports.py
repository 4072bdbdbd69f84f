"""Ports: what the resolvers need from the stores, as Protocols.

Batch reads return one entry per key, in key order (`None` for a missing key), or a
dict with an entry for every key, so they plug straight into a DataLoader. Every
method is one round trip to its store, whatever the number of keys.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from domain.analytics import (
    CandidateBucket,
    CandidateStatsQuery,
    Funnel,
    FunnelQuery,
    JobBucket,
    JobStatsQuery,
    SkillDemand,
    TimePoint,
    TimeseriesQuery,
)
from domain.api_keys import ApiKey
from domain.commands import (
    Actor,
    Changes,
    NewCandidate,
    NewCompany,
    NewJob,
    ProfilePatch,
    StatusChange,
)
from domain.enums import ApplicationStatus
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


class CompanyRepository(Protocol):
    async def get_many(self, ids: Sequence[int]) -> list[Company | None]: ...

    async def get_many_by_slug(self, slugs: Sequence[str]) -> list[Company | None]: ...

    async def search(
        self, f: CompanyFilter, order: CompanyOrder, page: PageRequest
    ) -> Page[Company]: ...

    async def count(self, f: CompanyFilter) -> int: ...


class JobRepository(Protocol):
    async def get_many(self, ids: Sequence[int]) -> list[Job | None]: ...

    async def search(
        self, f: JobFilter, order: JobOrder, page: PageRequest, fields: frozenset[str] | None = None
    ) -> Page[Job]:
        """A page of jobs; with `fields`, records that carry at least those fields (an
        adapter may read fewer columns) and must not be cached as whole jobs."""
        ...

    async def count(self, f: JobFilter) -> int: ...

    async def for_companies(
        self, company_ids: Sequence[int], f: JobFilter, limit: int
    ) -> dict[int, Page[Job]]:
        """The newest `limit` jobs matching `f` of each company."""
        ...

    async def matching_for(
        self, profiles: Sequence[dict[str, Any]], limit: int
    ) -> dict[str, list[Job]]:
        """Best open jobs per profile {pid, skills, remote, cities, country}."""
        ...


class ApplicationRepository(Protocol):
    """Every read applies the filter's scope fields (the viewer's) in the query itself."""

    async def get_many(
        self, ids: Sequence[int], f: ApplicationFilter
    ) -> list[Application | None]: ...

    async def applied_to(self, candidate_ids: Sequence[str]) -> dict[str, frozenset[int]]:
        """The ids of the companies each candidate applied to (empty set for none)."""
        ...

    async def applicants(self, company_id: int) -> frozenset[str]:
        """Ids of the candidates who applied to any job of the company."""
        ...

    async def for_jobs(
        self, job_ids: Sequence[int], f: ApplicationFilter, limit: int
    ) -> dict[int, Page[Application]]: ...

    async def for_candidates(
        self, candidate_ids: Sequence[str], f: ApplicationFilter, limit: int
    ) -> dict[str, Page[Application]]: ...

    async def count_for_jobs(
        self, job_ids: Sequence[int], f: ApplicationFilter
    ) -> dict[int, int]: ...

    async def count_for_candidates(
        self, candidate_ids: Sequence[str], f: ApplicationFilter
    ) -> dict[str, int]: ...


class CandidateRepository(Protocol):
    async def get_many(self, ids: Sequence[str]) -> list[Candidate | None]: ...

    async def search(
        self, f: CandidateFilter, order: CandidateOrder, page: PageRequest
    ) -> Page[Candidate]: ...

    async def count(self, f: CandidateFilter) -> int: ...

    async def matching_for(
        self, jobs: Sequence[tuple[int, Sequence[str]]], limit: int
    ) -> dict[int, list[str]]:
        """Ids of the best profiles per (job id, required skills), best first."""
        ...


class JobAnalytics(Protocol):
    """Job and application aggregates, each one statement computed by the store."""

    async def job_stats(self, q: JobStatsQuery) -> list[JobBucket]: ...

    async def postings_timeseries(self, q: TimeseriesQuery) -> list[TimePoint]: ...

    async def skill_demand(self, f: JobFilter) -> list[SkillDemand]: ...

    async def funnel(self, q: FunnelQuery) -> Funnel: ...


class CandidateAnalytics(Protocol):
    """Candidate aggregates, each one aggregation pipeline."""

    async def candidate_stats(self, q: CandidateStatsQuery) -> list[CandidateBucket]: ...

    async def skill_supply(self, f: CandidateFilter, skills: list[str] | None) -> dict[str, int]:
        """Candidates having each skill of `skills` (None: every skill); skills nobody
        has are left out."""
        ...


Probe = Callable[[], Awaitable[None]]
"""A cheap round trip to a store; raises when the store is unreachable."""


class EntityInvalidator(Protocol):
    """Tells the caches that entities changed (datasources.cache.keys.Invalidator)."""

    async def entities_changed(self, type_name: str, ids: Iterable[Any]) -> None: ...


@dataclass(frozen=True)
class Datasources:
    """Every port the request layer uses, built once by the lifespan.

    The writers and the invalidator are optional: a mutation whose writer is not
    configured fails with UPSTREAM_UNAVAILABLE, and without an invalidator a write
    leaves the caches to their TTLs (and to the event consumers).
    """

    companies: CompanyRepository
    jobs: JobRepository
    applications: ApplicationRepository
    candidates: CandidateRepository
    probes: Mapping[str, Probe]
    company_writer: CompanyWriter | None = None
    job_writer: JobWriter | None = None
    application_writer: ApplicationWriter | None = None
    candidate_writer: CandidateWriter | None = None
    invalidator: EntityInvalidator | None = None
    job_analytics: JobAnalytics | None = None
    candidate_analytics: CandidateAnalytics | None = None
    # The same ports reading from the primaries, when queries read from replicas
    # (gateway/replicas.py): what mutations and subscriptions read with.
    primary: Datasources | None = None


class ApiKeyLookup(Protocol):
    """Finds the live API key for a presented key string (None: unknown, wrong, revoked)."""

    async def lookup(self, presented: str) -> ApiKey | None: ...


# -- writes -------------------------------------------------------------------------------
# Every write method runs one transaction that also inserts the domain events it causes
# into its store's outbox (domain.events), and returns the record as committed. Expected
# failures are domain errors: NotFound, Conflict (and AlreadyApplied), InvalidTransition,
# InvalidInput. Authorization is the caller's (resolvers/), not the adapter's.


class CompanyWriter(Protocol):
    async def create(self, new: NewCompany, actor: Actor) -> Company:
        """CompanyCreated. Conflict when the slug is taken."""
        ...

    async def update(self, company_id: int, changes: Changes, actor: Actor) -> Company:
        """CompanyUpdated (payload: the changed field names). NotFound."""
        ...


class JobWriter(Protocol):
    async def post(self, new: NewJob, actor: Actor) -> Job:
        """A DRAFT job (OPEN with posted_at=now when `new.publish`): JobPosted.
        NotFound when the company does not exist."""
        ...

    async def update(self, job_id: int, changes: Changes, actor: Actor) -> Job:
        """JobUpdated. NotFound; Conflict when the job is CLOSED."""
        ...

    async def publish(self, job_id: int, actor: Actor) -> Job:
        """DRAFT -> OPEN (posted_at = now): JobPublished. Conflict unless DRAFT."""
        ...

    async def close(self, job_id: int, actor: Actor) -> Job:
        """DRAFT or OPEN -> CLOSED: JobClosed. Conflict when already CLOSED."""
        ...


class ApplicationWriter(Protocol):
    async def apply(self, job_id: int, candidate_id: str, source: str, actor: Actor) -> Application:
        """An APPLIED application, its first history row and ApplicationSubmitted.
        NotFound (job), Conflict (job not OPEN), AlreadyApplied (one per candidate and job)."""
        ...

    async def advance(
        self, application_id: int, to: ApplicationStatus, note: str | None, actor: Actor
    ) -> Application:
        """A legal move (domain.applications), locked against concurrent moves
        (SELECT ... FOR UPDATE), a history row and ApplicationStatusChanged.
        NotFound; InvalidTransition with the allowed moves."""
        ...

    async def history(self, application_ids: Sequence[int]) -> dict[int, list[StatusChange]]:
        """Every application's status changes, oldest first (empty list for none)."""
        ...


class CandidateWriter(Protocol):
    async def create(self, new: NewCandidate, actor: Actor) -> Candidate:
        """A profile at version 1: CandidateCreated. Conflict when the email is taken."""
        ...

    async def update_profile(
        self, candidate_id: str, patch: ProfilePatch, expected_version: int | None, actor: Actor
    ) -> Candidate:
        """Applies the patch and bumps `version` atomically with the outbox event
        CandidateProfileUpdated. NotFound; Conflict when `expected_version` is stale."""
        ...
