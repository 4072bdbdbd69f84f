"""Domain records: immutable values that adapters produce and the schema renders.

They import no I/O library, so every layer can use them and unit tests build them freely.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, TypeVar

from domain.enums import (
    ApplicationStatus,
    CompanySize,
    EmploymentType,
    JobStatus,
    RemotePolicy,
    Seniority,
)


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str


@dataclass(frozen=True, slots=True)
class Company:
    id: int
    slug: str
    name: str
    industry: str
    size: CompanySize | None
    headquarters: str | None
    website: str | None
    founded_year: int | None
    description: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    company_id: int
    title: str
    description: str
    location: str
    city: str | None
    country: str
    remote: RemotePolicy
    employment_type: EmploymentType
    seniority: Seniority
    experience_min: int | None
    experience_max: int | None
    salary_min: int | None
    salary_max: int | None
    salary_currency: str | None
    skills: tuple[str, ...]
    status: JobStatus
    posted_at: datetime | None
    created_at: datetime
    updated_at: datetime


JOB_FIELDS = frozenset(f.name for f in fields(Job))


@dataclass(frozen=True, slots=True)
class Application:
    id: int
    job_id: int
    candidate_id: str
    status: ApplicationStatus
    source: str
    applied_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Location:
    city: str | None
    country: str | None


@dataclass(frozen=True, slots=True)
class Skill:
    name: str
    level: int
    years: float


@dataclass(frozen=True, slots=True)
class Experience:
    company: str
    title: str
    start: datetime
    end: datetime | None
    highlights: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Education:
    institution: str
    degree: str
    field: str | None
    start_year: int | None
    end_year: int | None


@dataclass(frozen=True, slots=True)
class Link:
    kind: str
    url: str


@dataclass(frozen=True, slots=True)
class Preferences:
    remote: bool
    locations: tuple[str, ...]
    salary_expectation: Money | None
    employment_types: tuple[EmploymentType, ...] = ()


@dataclass(frozen=True, slots=True)
class Candidate:
    id: str
    name: str
    email: str
    phone: str | None
    headline: str | None
    summary: str | None
    location: Location
    skills: tuple[Skill, ...]
    experience: tuple[Experience, ...]
    education: tuple[Education, ...]
    links: tuple[Link, ...]
    preferences: Preferences
    years_experience: int
    version: int
    created_at: datetime
    updated_at: datetime
    attributes: dict[str, Any] = field(default_factory=dict)


R = TypeVar("R")


def builder(cls: type[R]) -> Callable[..., R]:
    """A constructor of the frozen, slotted record `cls` for adapters' hot paths.

    A frozen dataclass's `__init__` sets each field through `object.__setattr__`, about
    0.5 µs a field here: for a page of 50 jobs and their companies, most of a millisecond.
    This sets the slots directly (the same frozen instance: equal, hashed and immutable
    as any other), taking every field by keyword, no defaults.
    """
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    env: dict[str, Any] = {"new": object.__new__, "cls": cls}
    body = []
    for i, name in enumerate(names):
        env[f"set{i}"] = getattr(cls, name).__set__
        body.append(f"    set{i}(o, {name})\n")
    source = f"def build(*, {', '.join(names)}):\n    o = new(cls)\n{''.join(body)}    return o\n"
    exec(compile(source, f"<builder {cls.__name__}>", "exec"), env)  # noqa: S102 (field names only)
    built: Callable[..., R] = env["build"]
    return built
