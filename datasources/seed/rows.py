"""Relational rows as named tuples: field order is the COPY column order.

`search` (a generated column) is never written; `id`s are explicit so foreign keys are
known without round trips.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class CompanyRow(NamedTuple):
    id: int
    slug: str
    name: str
    industry: str
    size_band: str | None
    headquarters: str | None
    website: str | None
    founded_year: int | None
    description: str | None
    created_at: datetime
    updated_at: datetime


class JobRow(NamedTuple):
    id: int
    company_id: int
    title: str
    description: str
    location: str
    city: str | None
    country: str
    remote: str
    employment_type: str
    seniority: str
    experience_min: int | None
    experience_max: int | None
    salary_min: int | None
    salary_max: int | None
    salary_currency: str | None
    skills: list[str]
    status: str
    posted_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ApplicationRow(NamedTuple):
    id: int
    job_id: int
    candidate_id: str
    status: str
    source: str
    applied_at: datetime
    updated_at: datetime
