"""Row -> record conversion for the relational side."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.enums import (
    ApplicationStatus,
    CompanySize,
    EmploymentType,
    JobStatus,
    RemotePolicy,
    Seniority,
)
from domain.records import Application, Company, Job, builder

# Enum lookups by stored value; a dict read is several times cheaper than Enum(value).
_SIZE = {m.value: m for m in CompanySize}
_REMOTE = {m.value: m for m in RemotePolicy}
_EMPLOYMENT = {m.value: m for m in EmploymentType}
_SENIORITY = {m.value: m for m in Seniority}
_JOB_STATUS = {m.value: m for m in JobStatus}
_APP_STATUS = {m.value: m for m in ApplicationStatus}

# Rows are turned into records by the page; see `builder` for why not the dataclass init.
_company = builder(Company)
_job = builder(Job)
_application = builder(Application)


def company_from_row(r: Mapping[str, Any]) -> Company:
    return _company(
        id=r["id"],
        slug=r["slug"],
        name=r["name"],
        industry=r["industry"],
        size=_SIZE[r["size_band"]] if r["size_band"] else None,
        headquarters=r["headquarters"],
        website=r["website"],
        founded_year=r["founded_year"],
        description=r["description"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


def job_from_row(r: Mapping[str, Any]) -> Job:
    return _job(
        id=r["id"],
        company_id=r["company_id"],
        title=r["title"],
        description=r["description"],
        location=r["location"],
        city=r["city"],
        country=r["country"],
        remote=_REMOTE[r["remote"]],
        employment_type=_EMPLOYMENT[r["employment_type"]],
        seniority=_SENIORITY[r["seniority"]],
        experience_min=r["experience_min"],
        experience_max=r["experience_max"],
        salary_min=r["salary_min"],
        salary_max=r["salary_max"],
        salary_currency=r["salary_currency"],
        skills=tuple(r["skills"]),
        status=_JOB_STATUS[r["status"]],
        posted_at=r["posted_at"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


def application_from_row(r: Mapping[str, Any]) -> Application:
    return _application(
        id=r["id"],
        job_id=r["job_id"],
        candidate_id=r["candidate_id"],
        status=_APP_STATUS[r["status"]],
        source=r["source"],
        applied_at=r["applied_at"],
        updated_at=r["updated_at"],
    )
