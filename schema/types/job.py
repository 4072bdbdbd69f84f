"""Job, and the job board connection.

Edges (`company`) are plain attributes filled by the list-level prefetch in
resolvers.jobs, so resolving a page does no per-item async work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from domain.records import Job
from resolvers.jobs import JobEdges, JobPage
from schema.enums import EmploymentType, JobStatus, RemotePolicy, Seniority
from schema.ids import job_cursor, to_global_id
from schema.types.common import MoneyType, PageInfo, SalaryRangeType
from schema.types.company import CompanyType


@strawberry.type(name="Job")
class JobType:
    id: strawberry.ID
    title: str
    description: str
    location: str
    city: str | None
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country code.")
    remote: RemotePolicy
    employment_type: EmploymentType
    seniority: Seniority
    experience_min: int | None
    experience_max: int | None
    salary: SalaryRangeType | None
    skills: list[str]
    status: JobStatus
    posted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    company: CompanyType | None

    @classmethod
    def from_record(cls, j: Job, edges: JobEdges) -> Self:
        company = edges.companies.get(j.company_id)
        salary = None
        if j.salary_currency is not None:
            salary = SalaryRangeType(
                min=MoneyType.of(j.salary_min, j.salary_currency),
                max=MoneyType.of(j.salary_max, j.salary_currency),
                currency=j.salary_currency,
            )
        return cls(
            id=strawberry.ID(to_global_id("Job", j.id)),
            title=j.title,
            description=j.description,
            location=j.location,
            city=j.city,
            country=j.country,
            remote=j.remote,
            employment_type=j.employment_type,
            seniority=j.seniority,
            experience_min=j.experience_min,
            experience_max=j.experience_max,
            salary=salary,
            skills=list(j.skills),
            status=j.status,
            posted_at=j.posted_at,
            created_at=j.created_at,
            updated_at=j.updated_at,
            company=CompanyType.from_record(company) if company is not None else None,
        )


@strawberry.type(name="JobEdge")
class JobEdge:
    cursor: str
    node: JobType


@strawberry.type(name="JobConnection")
class JobConnection:
    edges: list[JobEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: JobPage) -> Self:
        edges = [
            JobEdge(cursor=job_cursor(j.posted_at, j.id), node=JobType.from_record(j, page.edges))
            for j in page.jobs
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=False,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )
