"""GraphQL inputs and order enums."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from schema.enums import ApplicationStatus, EmploymentType, JobStatus, RemotePolicy, Seniority


@strawberry.enum(description="Job orders; every order ends with the job id as a tie-breaker.")
class JobOrderBy(Enum):
    POSTED_AT_DESC = "posted_at:desc"
    POSTED_AT_ASC = "posted_at:asc"
    SALARY_MAX_DESC = "salary_max:desc"
    SALARY_MAX_ASC = "salary_max:asc"
    RELEVANCE_DESC = strawberry.enum_value("relevance:desc", description="Needs filter.search.")
    RELEVANCE_ASC = "relevance:asc"


@strawberry.enum
class CompanyOrderBy(Enum):
    NAME_ASC = "name:asc"
    NAME_DESC = "name:desc"
    CREATED_AT_ASC = "created_at:asc"
    CREATED_AT_DESC = "created_at:desc"


@strawberry.enum
class CandidateOrderBy(Enum):
    UPDATED_AT_DESC = "updated_at:desc"
    UPDATED_AT_ASC = "updated_at:asc"
    YEARS_EXPERIENCE_DESC = "years_experience:desc"
    YEARS_EXPERIENCE_ASC = "years_experience:asc"


@strawberry.input(description="Jobs whose salary range overlaps [min, max] in `currency`.")
class SalaryFilter:
    currency: str
    min: int | None = None
    max: int | None = None


@strawberry.input
class JobFilter:
    search: str | None = strawberry.field(
        default=None, description="Full-text search over title and description (ranked)."
    )
    company_ids: list[strawberry.ID] | None = None
    locations: list[str] | None = strawberry.field(default=None, description="City names.")
    countries: list[str] | None = strawberry.field(
        default=None, description="ISO 3166-1 alpha-2 codes."
    )
    remote: list[RemotePolicy] | None = None
    employment_types: list[EmploymentType] | None = None
    seniorities: list[Seniority] | None = None
    salary: SalaryFilter | None = None
    skills_any: list[str] | None = None
    skills_all: list[str] | None = None
    posted_after: datetime | None = None
    posted_before: datetime | None = None
    status: list[JobStatus] | None = strawberry.field(
        default=None, description="Defaults to [OPEN]."
    )


@strawberry.input
class CompanyFilter:
    search: str | None = strawberry.field(default=None, description="Substring of the name.")
    industries: list[str] | None = None


@strawberry.input
class CandidateFilter:
    skills_all: list[str] | None = None
    skills_any: list[str] | None = None
    min_skill_level: int | None = strawberry.field(
        default=None, description="Applies to skillsAll and skillsAny (1-5)."
    )
    min_years_experience: int | None = None
    countries: list[str] | None = None
    cities: list[str] | None = None
    open_to_remote: bool | None = None
    search: str | None = strawberry.field(
        default=None, description="Word prefixes of name and headline."
    )


__all__ = ["ApplicationStatus"]
