"""GraphQL enums: the domain vocabularies, exposed by member name."""

from __future__ import annotations

import strawberry

from domain import enums

JobStatus = strawberry.enum(enums.JobStatus, description="Lifecycle of a job posting.")
RemotePolicy = strawberry.enum(enums.RemotePolicy, description="Where the work happens.")
EmploymentType = strawberry.enum(enums.EmploymentType)
Seniority = strawberry.enum(enums.Seniority)
ApplicationStatus = strawberry.enum(enums.ApplicationStatus)
CompanySize = strawberry.enum(enums.CompanySize, description="Head-count band.")
