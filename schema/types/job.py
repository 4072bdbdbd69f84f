"""Job.

No-argument edges (`company`) are plain attributes and argument edges are sync reads
of what the expander prefetched for the whole list, so resolving a page does no
per-item async work.
"""

from __future__ import annotations

from dataclasses import field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry

from domain.records import Job
from schema.enums import ApplicationStatus, EmploymentType, JobStatus, RemotePolicy, Seniority
from schema.ids import to_global_id
from schema.info import Info
from schema.types.common import MoneyType, SalaryRangeType
from schema.types.company import CompanyType
from schema.types.node import Node, prefetched

if TYPE_CHECKING:
    from schema.types.candidate import CandidateType
    from schema.types.connections import ApplicationConnection


@strawberry.type(name="Job")
class JobType(Node):
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
    record: strawberry.Private[Job]
    company: CompanyType | None = None
    edges: strawberry.Private[dict[str, Any]] = field(default_factory=dict)

    @strawberry.field
    def applications(
        self, info: Info, status: list[ApplicationStatus] | None = None, first: int = 10
    ) -> Annotated[ApplicationConnection, strawberry.lazy("schema.types.connections")]:
        """Applications to this job, newest first."""
        result: ApplicationConnection = prefetched(self.edges, info)
        return result

    @strawberry.field
    def matching_candidates(
        self, info: Info, first: int = 10
    ) -> list[Annotated[CandidateType, strawberry.lazy("schema.types.candidate")]] | None:
        """Profiles ranked by the summed level of this job's skills they have. Null, with
        an UPSTREAM_* error, when MongoDB is unavailable."""
        result: list[CandidateType] = prefetched(self.edges, info)
        return result

    @strawberry.field
    def id(self) -> strawberry.ID:
        """Opaque global ID (encoded only when selected)."""
        return strawberry.ID(to_global_id("Job", self.record.id))

    @classmethod
    def from_record(cls, j: Job) -> Self:
        salary = None
        if j.salary_currency is not None:
            salary = SalaryRangeType(
                min=MoneyType.of(j.salary_min, j.salary_currency),
                max=MoneyType.of(j.salary_max, j.salary_currency),
                currency=j.salary_currency,
            )
        return cls(
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
            record=j,
        )
