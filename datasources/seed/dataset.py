"""`Dataset`: everything one (scale, seed) pair generates, as independent record streams.

Each entity draws from its own RNG stream (seeded from "<seed>/<entity>"), so the
streams can be consumed in any order or concurrently and still give identical records.
Only the small plan (companies, job plans, candidate ids) is built eagerly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Self

from datasources.seed.applications import application_rows
from datasources.seed.candidates import CandidateFactory
from datasources.seed.companies import CompanyDirectory, build_companies
from datasources.seed.jobs import job_rows
from datasources.seed.plan import CandidateIds, JobPlan, plan_jobs
from datasources.seed.pools import Pools, build_pools
from datasources.seed.postings import REAL_COMPANIES, REAL_JOB_PLANS, REAL_JOBS
from datasources.seed.rows import ApplicationRow, CompanyRow, JobRow
from datasources.seed.scale import Scale


@dataclass(frozen=True, slots=True)
class Dataset:
    seed: int
    scale: Scale
    pools: Pools
    companies: CompanyDirectory
    job_plans: tuple[JobPlan, ...]
    candidate_ids: CandidateIds

    @classmethod
    def build(cls, scale: Scale, seed: int = 42) -> Self:
        fixed_companies, fixed_jobs = len(REAL_COMPANIES), len(REAL_JOBS)
        if scale.companies < fixed_companies or scale.jobs < fixed_jobs:
            raise ValueError(
                f"a scale needs at least {fixed_companies} companies and {fixed_jobs} jobs "
                "(the real postings)"
            )
        if scale.jobs > fixed_jobs and scale.companies == fixed_companies:
            raise ValueError("generated jobs need at least one generated company to post them")
        pools = build_pools(seed)
        companies = build_companies(seed, scale.companies, pools, REAL_COMPANIES)
        plans = plan_jobs(seed, scale.jobs, companies, REAL_JOB_PLANS)
        return cls(
            seed, scale, pools, companies, tuple(plans), CandidateIds(seed, scale.candidates)
        )

    def company_rows(self) -> Iterator[CompanyRow]:
        return iter(self.companies.rows)

    def job_rows(self) -> Iterator[JobRow]:
        return job_rows(self.seed, self.job_plans, self.companies, REAL_JOBS)

    def candidate_documents(self) -> Iterator[dict[str, Any]]:
        return CandidateFactory(self.seed, self.candidate_ids, self.pools).documents()

    def application_rows(self) -> Iterator[ApplicationRow]:
        return application_rows(
            self.seed,
            self.job_plans,
            self.candidate_ids,
            self.scale.applications,
            len(REAL_JOBS),
        )
