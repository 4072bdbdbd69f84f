"""Write specifications: what a mutation asks a store to do, validated before any I/O.

The schema layer builds these from GraphQL input; write adapters apply them in one
transaction together with the domain events they cause (the outbox). Field paths in
`FieldError` are the GraphQL input's (camelCase, e.g. `["input", "salaryMax"]`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.enums import ApplicationStatus, CompanySize, EmploymentType, RemotePolicy, Seniority
from domain.records import Education, Experience, Link, Location, Preferences, Skill


@dataclass(frozen=True, slots=True)
class FieldError:
    path: tuple[str, ...]
    message: str


class ValidationFailed(Exception):
    """Raised by command validation with every problem found, not just the first."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__("; ".join(f"{'.'.join(e.path)}: {e.message}" for e in errors))
        self.errors = tuple(errors)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change: recorded in history rows and event payloads."""

    subject: str | None  # "user:<sub>", "key:<id>" or None (a system process)


@dataclass(frozen=True, slots=True)
class NewCompany:
    slug: str
    name: str
    industry: str
    size: CompanySize | None = None
    headquarters: str | None = None
    website: str | None = None
    founded_year: int | None = None
    description: str | None = None


COMPANY_MUTABLE = frozenset(
    {"name", "industry", "size", "headquarters", "website", "founded_year", "description"}
)


@dataclass(frozen=True, slots=True)
class NewJob:
    company_id: int
    title: str
    description: str
    location: str
    country: str
    remote: RemotePolicy
    employment_type: EmploymentType
    seniority: Seniority
    city: str | None = None
    experience_min: int | None = None
    experience_max: int | None = None
    salary_min: int | None = None
    salary_max: int | None = None
    salary_currency: str | None = None
    skills: tuple[str, ...] = ()
    publish: bool = False  # post straight to OPEN (posted_at = now) instead of DRAFT


JOB_MUTABLE = frozenset(
    {
        "title",
        "description",
        "location",
        "city",
        "country",
        "remote",
        "employment_type",
        "seniority",
        "experience_min",
        "experience_max",
        "salary_min",
        "salary_max",
        "salary_currency",
        "skills",
    }
)


@dataclass(frozen=True, slots=True)
class Changes:
    """A patch: `values` maps record field names (snake_case) to new values; a key absent
    is left alone, a key mapped to None is cleared (where the field is nullable)."""

    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class NewCandidate:
    name: str
    email: str
    phone: str | None = None
    headline: str | None = None
    summary: str | None = None
    location: Location = field(default_factory=lambda: Location(None, None))
    skills: tuple[Skill, ...] = ()
    experience: tuple[Experience, ...] = ()
    education: tuple[Education, ...] = ()
    links: tuple[Link, ...] = ()
    preferences: Preferences = field(default_factory=lambda: Preferences(False, (), None))
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProfilePatch:
    """Patch semantics over a profile's parts. None means "leave alone".

    - scalars (`name`, `headline`, ...): set when present in `set_fields`.
    - `skills_upsert`: add or replace skills by name; `skills_remove`: names to drop.
    - `experience`, `education`, `links`: replace the whole list when not None.
    - `preferences`: replace when not None.
    - `attributes_set`: keys to set (values JSON-like, bounded in size and depth);
      `attributes_unset`: keys to remove.
    """

    set_fields: Mapping[str, Any] = field(default_factory=dict)
    skills_upsert: tuple[Skill, ...] = ()
    skills_remove: tuple[str, ...] = ()
    experience: tuple[Experience, ...] | None = None
    education: tuple[Education, ...] | None = None
    links: tuple[Link, ...] | None = None
    preferences: Preferences | None = None
    attributes_set: Mapping[str, Any] = field(default_factory=dict)
    attributes_unset: tuple[str, ...] = ()


PROFILE_SCALARS = frozenset({"name", "email", "phone", "headline", "summary", "location"})


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One row of an application's history."""

    from_status: ApplicationStatus | None
    to_status: ApplicationStatus
    at: datetime
    by: str | None
    note: str | None
