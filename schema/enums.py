"""GraphQL enums: the domain vocabularies, registered with Strawberry by member name.

`strawberry.enum` annotates the class in place, so schema types use the domain enums
directly and resolvers never convert between two enum families.
"""

from __future__ import annotations

import strawberry

from domain.enums import (
    ApplicationStatus,
    CompanySize,
    EmploymentType,
    JobStatus,
    RemotePolicy,
    Seniority,
)

strawberry.enum(JobStatus, description="Lifecycle of a job posting.")
strawberry.enum(RemotePolicy, description="Where the work happens.")
strawberry.enum(EmploymentType)
strawberry.enum(Seniority)
strawberry.enum(ApplicationStatus)
strawberry.enum(CompanySize, description="Head-count band.")

__all__ = [
    "ApplicationStatus",
    "CompanySize",
    "EmploymentType",
    "JobStatus",
    "RemotePolicy",
    "Seniority",
]
