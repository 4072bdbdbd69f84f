"""Row -> record conversion for the relational side."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from domain.enums import (
    ApplicationStatus,
    CompanySize,
    EmploymentType,
    JobStatus,
    RemotePolicy,
    Seniority,
)
from domain.records import JOB_FIELDS, Application, Company, Job, builder

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


# Stored values that need converting on the way to a Job record (the rest are as stored).
_JOB_CONVERSIONS = {
    "remote": "_REMOTE[{v}]",
    "employment_type": "_EMPLOYMENT[{v}]",
    "seniority": "_SENIORITY[{v}]",
    "status": "_JOB_STATUS[{v}]",
    "skills": "tuple({v})",
}


@lru_cache(maxsize=64)
def partial_job_reader(names: tuple[str, ...]) -> Callable[[Sequence[Any]], Job]:
    """Rows whose leading columns are `names`, in order -> Jobs that carry only those fields.

    For projected reads (the job board selects 8 of 20 columns): a field left out is
    unset, so reading it raises AttributeError instead of returning a wrong value. Such
    records belong to the one read that asked for them and are never put in a loader's
    cache, where another edge could expect a whole job. Reads by position, which costs
    less than by name.
    """
    unknown = set(names) - JOB_FIELDS
    if unknown:
        raise ValueError(f"not Job fields: {sorted(unknown)}")
    env: dict[str, Any] = {
        "new": object.__new__, "Job": Job, "_REMOTE": _REMOTE, "_EMPLOYMENT": _EMPLOYMENT,
        "_SENIORITY": _SENIORITY, "_JOB_STATUS": _JOB_STATUS,
    }  # fmt: skip
    body = []
    for i, name in enumerate(names):
        env[f"set_{name}"] = getattr(Job, name).__set__
        value = _JOB_CONVERSIONS.get(name, "{v}").format(v=f"r[{i}]")
        body.append(f"    set_{name}(o, {value})\n")
    source = f"def read(r):\n    o = new(Job)\n{''.join(body)}    return o\n"
    exec(compile(source, "<partial job reader>", "exec"), env)  # noqa: S102 (field names only)
    read: Callable[[Sequence[Any]], Job] = env["read"]
    return read
