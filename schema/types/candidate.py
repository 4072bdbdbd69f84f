"""Candidate profile (MongoDB) and its nested parts.

Personal fields (`email`, `phone`, `attributes`, `preferences.salaryExpectation`) are
resolvers that ask the request's `personal` loader, batched over every profile of the
response: a viewer not allowed (`domain.policy.can_see_personal`) gets `null` and a
FORBIDDEN error at that path. Having `info` as a parameter also keeps them off the
compiled path (`schema.compiled.build`), so an operation selecting them runs here.
"""

from __future__ import annotations

from dataclasses import field as dc_field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry.scalars import JSON

from domain.errors import Forbidden
from domain.records import Candidate, Money, Preferences
from schema.enums import ApplicationStatus, EmploymentType
from schema.ids import to_global_id
from schema.info import Info
from schema.types.common import MoneyType
from schema.types.node import Node, prefetched

if TYPE_CHECKING:
    from schema.types.connections import ApplicationConnection
    from schema.types.job import JobType


@strawberry.type(name="Skill")
class SkillType:
    name: str
    level: int = strawberry.field(description="Self-assessed proficiency, 1 (basic) to 5.")
    years: float


@strawberry.type(name="Experience")
class ExperienceType:
    company: str
    title: str
    start: datetime
    end: datetime | None
    highlights: list[str]


@strawberry.type(name="Education")
class EducationType:
    institution: str
    degree: str
    field: str | None
    start_year: int | None
    end_year: int | None


@strawberry.type(name="Location")
class LocationType:
    city: str | None
    country: str | None


@strawberry.type(name="Link")
class LinkType:
    kind: str
    url: str


async def personal(info: Info, candidate_id: str, field: str) -> None:
    """Raise FORBIDDEN unless the viewer may read this profile's personal fields."""
    if not await info.context.loaders.personal.load(candidate_id):
        raise Forbidden(f"not allowed to read the candidate's {field}")


@strawberry.type(name="Preferences")
class PreferencesType:
    remote: bool
    locations: list[str]
    employment_types: list[EmploymentType]
    candidate_id: strawberry.Private[str]
    expectation: strawberry.Private[Money | None]

    @strawberry.field
    async def salary_expectation(self, info: Info) -> MoneyType | None:
        await personal(info, self.candidate_id, "salary expectation")
        return MoneyType.from_record(self.expectation)

    @classmethod
    def from_record(cls, p: Preferences, candidate_id: str) -> Self:
        return cls(
            remote=p.remote,
            locations=list(p.locations),
            employment_types=list(p.employment_types),
            candidate_id=candidate_id,
            expectation=p.salary_expectation,
        )


@strawberry.type(name="Candidate")
class CandidateType(Node):
    name: str
    headline: str | None
    summary: str | None
    location: LocationType
    skills: list[SkillType]
    experience: list[ExperienceType]
    education: list[EducationType]
    links: list[LinkType]
    preferences: PreferencesType
    years_experience: int
    version: int
    created_at: datetime
    updated_at: datetime
    record: strawberry.Private[Candidate]
    edges: strawberry.Private[dict[str, Any]] = dc_field(default_factory=dict)

    @strawberry.field
    def applications(
        self, info: Info, status: list[ApplicationStatus] | None = None, first: int = 10
    ) -> Annotated[ApplicationConnection, strawberry.lazy("schema.types.connections")] | None:
        """This candidate's applications, newest first. Null, with an UPSTREAM_* error,
        when PostgreSQL is unavailable (the profile itself is MongoDB's)."""
        result: ApplicationConnection = prefetched(self.edges, info)
        return result

    @strawberry.field
    def matching_jobs(
        self, info: Info, first: int = 10
    ) -> list[Annotated[JobType, strawberry.lazy("schema.types.job")]] | None:
        """Open jobs ranked by shared skills, then remote and location preferences.
        Null, with an UPSTREAM_* error, when PostgreSQL is unavailable."""
        result: list[JobType] = prefetched(self.edges, info)
        return result

    @strawberry.field
    def id(self) -> strawberry.ID:
        """Opaque global ID (encoded only when selected)."""
        return strawberry.ID(to_global_id("Candidate", self.record.id))

    @strawberry.field(description="Personal: null with FORBIDDEN unless allowed.")
    async def email(self, info: Info) -> str | None:
        await personal(info, self.record.id, "email")
        return self.record.email

    @strawberry.field(description="Personal: null with FORBIDDEN unless allowed.")
    async def phone(self, info: Info) -> str | None:
        await personal(info, self.record.id, "phone")
        return self.record.phone

    @strawberry.field(description="Free-form profile attributes. Personal, like email.")
    async def attributes(self, info: Info) -> JSON | None:
        await personal(info, self.record.id, "attributes")
        return JSON(self.record.attributes)

    @classmethod
    def from_record(cls, c: Candidate) -> Self:
        return cls(
            name=c.name,
            headline=c.headline,
            summary=c.summary,
            location=LocationType(city=c.location.city, country=c.location.country),
            skills=[SkillType(name=s.name, level=s.level, years=s.years) for s in c.skills],
            experience=[
                ExperienceType(
                    company=e.company,
                    title=e.title,
                    start=e.start,
                    end=e.end,
                    highlights=list(e.highlights),
                )
                for e in c.experience
            ],
            education=[
                EducationType(
                    institution=e.institution,
                    degree=e.degree,
                    field=e.field,
                    start_year=e.start_year,
                    end_year=e.end_year,
                )
                for e in c.education
            ],
            links=[LinkType(kind=lk.kind, url=lk.url) for lk in c.links],
            preferences=PreferencesType.from_record(c.preferences, c.id),
            years_experience=c.years_experience,
            version=c.version,
            created_at=c.created_at,
            updated_at=c.updated_at,
            record=c,
        )
