"""Per-request DataLoaders: the one place that batches and deduplicates store reads.

Built fresh for every HTTP request or WebSocket connection, never at module level, and
for one viewer: every batch function applies that viewer's scope (`domain.policy`)
before anything reaches a cache, so nothing one viewer loaded can be served to another
and nothing hidden is ever cached. Row scope goes into the store query (filters with
scope fields); a hidden entity is `None`, like a missing one. Edge loaders are keyed by
(parent key, arguments): one batch groups its keys by arguments and sends one query per
distinct argument set, so the number of round trips never grows with page size.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from datasources.ports import Datasources
from domain import policy
from domain.commands import StatusChange
from domain.errors import UpstreamUnavailable
from domain.policy import CandidateAccess
from domain.queries import ApplicationFilter, JobFilter, Page
from domain.records import Application, Candidate, Company, Job
from domain.viewer import Viewer
from resolvers.batching import Loader, grouped


@dataclass(frozen=True, slots=True)
class JobsArgs:
    filter: JobFilter
    first: int


@dataclass(frozen=True, slots=True)
class ApplicationsArgs:
    filter: ApplicationFilter
    first: int


def _profile(c: Candidate) -> dict[str, Any]:
    return {
        "pid": c.id,
        "skills": [s.name for s in c.skills],
        "remote": c.preferences.remote,
        "cities": [city.lower() for city in c.preferences.locations],
        "country": c.location.country,
    }


class Loaders:
    """One viewer's loaders for one request, each built on first use."""

    def __init__(self, ds: Datasources, viewer: Viewer) -> None:
        self._ds = ds
        self.viewer = viewer
        self._candidates = policy.candidate_access(viewer)

    @cached_property
    def company(self) -> Loader[int, Company | None]:
        return Loader(name="company", load_fn=self._ds.companies.get_many)

    @cached_property
    def company_by_slug(self) -> Loader[str, Company | None]:
        return Loader(name="company_by_slug", load_fn=self._ds.companies.get_many_by_slug)

    @cached_property
    def job(self) -> Loader[int, Job | None]:
        return Loader(name="job", load_fn=self._jobs)

    @cached_property
    def application(self) -> Loader[int, Application | None]:
        return Loader(name="application", load_fn=self._applications)

    @cached_property
    def candidate(self) -> Loader[str, Candidate | None]:
        return Loader(name="candidate", load_fn=self._candidate_profiles)

    @cached_property
    def applied_to(self) -> Loader[str, frozenset[int]]:
        """Candidate id -> the companies they applied to (recruiters' checks)."""
        return Loader(name="applied_to", load_fn=self._applied_to)

    @cached_property
    def personal(self) -> Loader[str, bool]:
        """Candidate id -> whether this viewer may read the profile's personal fields."""
        return Loader(name="personal", load_fn=self._personal)

    @cached_property
    def history(self) -> Loader[int, list[StatusChange]]:
        """Application id -> its status changes, oldest first (the writer's read).

        Only visible applications are ever rendered, so this needs no scope of its own."""
        return Loader(name="history", load_fn=self._history)

    @cached_property
    def jobs_of_company(self) -> Loader[tuple[int, JobsArgs], Page[Job]]:
        return Loader(name="jobs_of_company", load_fn=grouped(self._jobs_of_companies))

    @cached_property
    def applications_of_job(self) -> Loader[tuple[int, ApplicationsArgs], Page[Application]]:
        return Loader(name="applications_of_job", load_fn=grouped(self._applications_of_jobs))

    @cached_property
    def applications_of_candidate(
        self,
    ) -> Loader[tuple[str, ApplicationsArgs], Page[Application]]:
        return Loader(name="applications_of_job", load_fn=grouped(self._applications_of_candidates))

    @cached_property
    def application_count_of_job(self) -> Loader[tuple[int, ApplicationFilter], int]:
        return Loader(
            name="application_count_of_job", load_fn=grouped(self._application_counts_of_jobs)
        )

    @cached_property
    def application_count_of_candidate(self) -> Loader[tuple[str, ApplicationFilter], int]:
        return Loader(
            name="application_count_of_candidate",
            load_fn=grouped(self._application_counts_of_candidates),
        )

    @cached_property
    def matching_jobs(self) -> Loader[tuple[str, int], list[Job]]:
        return Loader(name="matching_jobs", load_fn=grouped(self._matching_jobs))

    @cached_property
    def matching_candidates(self) -> Loader[tuple[int, int], list[Candidate]]:
        return Loader(name="matching_candidates", load_fn=grouped(self._matching_candidates))

    # -- batch functions: the viewer's scope applies before anything is cached -----------

    async def _jobs(self, ids: list[int]) -> list[Job | None]:
        # Visibility is a function of the row alone: the fixed by-id SQL, then the rule.
        found = await self._ds.jobs.get_many(ids)
        return [j if j is not None and policy.can_see_job(self.viewer, j) else None for j in found]

    async def _applications(self, ids: list[int]) -> list[Application | None]:
        if (f := policy.application_filter(self.viewer, ApplicationFilter())) is None:
            return [None] * len(ids)
        return await self._ds.applications.get_many(ids, f)

    async def _candidate_profiles(self, ids: list[str]) -> list[Candidate | None]:
        access = self._candidates
        if access is CandidateAccess.NONE:
            return [None] * len(ids)
        if access is CandidateAccess.SELF:
            own = self.viewer.candidate_id
            found = await self._ds.candidates.get_many([own]) if own in ids else [None]
            return [found[0] if i == own else None for i in ids]
        if access is CandidateAccess.ALL:
            return await self._ds.candidates.get_many(ids)
        # APPLICANTS: profiles and the companies they applied to, concurrently.
        profiles, applied = await asyncio.gather(
            self._ds.candidates.get_many(ids), self.applied_to.load_many(ids)
        )
        return [
            p if p is not None and policy.can_see_candidate(self.viewer, i, companies) else None
            for i, p, companies in zip(ids, profiles, applied, strict=True)
        ]

    async def _history(self, ids: list[int]) -> list[list[StatusChange]]:
        writer = self._ds.application_writer
        if writer is None:
            raise UpstreamUnavailable("postgres", "application history is not available")
        found = await writer.history(ids)
        return [found.get(i, []) for i in ids]

    async def _applied_to(self, ids: list[str]) -> list[frozenset[int]]:
        found = await self._ds.applications.applied_to(ids)
        return [found[i] for i in ids]

    async def _personal(self, ids: list[str]) -> list[bool]:
        if policy.personal_needs_applications(self.viewer):
            applied = await self.applied_to.load_many(ids)  # primed by profile loads
        else:
            applied = [frozenset()] * len(ids)
        return [
            policy.can_see_personal(self.viewer, i, companies)
            for i, companies in zip(ids, applied, strict=True)
        ]

    async def _jobs_of_companies(self, ids: list[int], a: JobsArgs) -> dict[int, Page[Job]]:
        if (f := policy.job_filter(self.viewer, a.filter)) is None:
            return {i: Page([]) for i in ids}
        return await self._ds.jobs.for_companies(ids, f, a.first)

    async def _applications_of_jobs(
        self, ids: list[int], a: ApplicationsArgs
    ) -> dict[int, Page[Application]]:
        if (f := policy.application_filter(self.viewer, a.filter)) is None:
            return {i: Page([]) for i in ids}
        return await self._ds.applications.for_jobs(ids, f, a.first)

    async def _applications_of_candidates(
        self, ids: list[str], a: ApplicationsArgs
    ) -> dict[str, Page[Application]]:
        if (f := policy.application_filter(self.viewer, a.filter)) is None:
            return {i: Page([]) for i in ids}
        return await self._ds.applications.for_candidates(ids, f, a.first)

    async def _application_counts_of_jobs(
        self, ids: list[int], f: ApplicationFilter
    ) -> dict[int, int]:
        if (scoped := policy.application_filter(self.viewer, f)) is None:
            return dict.fromkeys(ids, 0)
        return await self._ds.applications.count_for_jobs(ids, scoped)

    async def _application_counts_of_candidates(
        self, ids: list[str], f: ApplicationFilter
    ) -> dict[str, int]:
        if (scoped := policy.application_filter(self.viewer, f)) is None:
            return dict.fromkeys(ids, 0)
        return await self._ds.applications.count_for_candidates(ids, scoped)

    # Matching needs the parents' profiles or skills: the parents are already in the
    # loaders' caches (the list that holds them was loaded or primed through them).
    async def _matching_jobs(self, ids: list[str], first: int) -> dict[str, list[Job]]:
        candidates = await self.candidate.load_many(ids)
        profiles = [_profile(c) for c in candidates if c is not None]
        found = await self._ds.jobs.matching_for(profiles, first)
        return {i: found.get(i, []) for i in ids}

    async def _matching_candidates(self, ids: list[int], first: int) -> dict[int, list[Candidate]]:
        if self._candidates is CandidateAccess.NONE:
            return {i: [] for i in ids}  # no ranking query for a viewer who sees no profile
        # Ranked over all profiles, then only the visible ones (through the candidate loader).
        jobs = [j for j in await self.job.load_many(ids) if j is not None]
        found = await self._ds.candidates.matching_for([(j.id, j.skills) for j in jobs], first)
        # One batch for every job's matches; profiles already loaded are cache hits.
        wanted = list(dict.fromkeys(c for cids in found.values() for c in cids))
        profiles = dict(zip(wanted, await self.candidate.load_many(wanted), strict=True))
        return {i: [p for c in found.get(i, []) if (p := profiles[c]) is not None] for i in ids}

    def prime_jobs(self, jobs: Sequence[Job]) -> None:
        self.job.prime_many({j.id: j for j in jobs})

    def prime_candidates(self, candidates: Sequence[Candidate]) -> None:
        self.candidate.prime_many({c.id: c for c in candidates})

    def prime_companies(self, companies: Sequence[Company]) -> None:
        self.company.prime_many({c.id: c for c in companies})

    def prime_applications(self, applications: Sequence[Application]) -> None:
        self.application.prime_many({a.id: a for a in applications})

    def forget(self, *names: str) -> None:
        """Drop what these loaders remembered (after a write changed it); loaders not
        built yet hold nothing."""
        for name in names:
            loader = self.__dict__.get(name)
            if loader is not None:
                loader.clear_all()
